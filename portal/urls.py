"""The customer app's pages, under /app/."""

from django.urls import path  # noqa: F401

from portal.views import pwa

app_name = "portal"

urlpatterns: list = [
    # The installable app: the offline page (the service worker's fallback) and the JWT hand-over.
    path("offline/", pwa.offline, name="offline"),
    path("token/", pwa.token, name="token"),
]
