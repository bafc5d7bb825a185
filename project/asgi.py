import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")
django_application = get_asgi_application()

from core.middleware import BodySizeLimitASGI  # noqa: E402  (needs the settings loaded above)

# Oversized bodies are refused before Django reads them (core/middleware.py).
application = BodySizeLimitASGI(django_application)
