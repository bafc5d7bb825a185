from django.apps import AppConfig


class ThemeConfig(AppConfig):
    """The Tailwind CSS build (django-tailwind): sources in static_src/, output in static/css/dist/."""

    name = "theme"
