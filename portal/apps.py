from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer app: the pages a customer uses on a phone (an installable PWA that keeps
    working offline), the session-to-token hand-over and the sync feed its offline store reads.
    (DESIGN.md calls this area `pwa/`; that module name belongs to django-pwa.)"""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Customer app"
