"""The customer app's API endpoints, under /api/v1/."""

from django.urls import path  # noqa: F401

from portal.api import sync

urlpatterns: list = [
    path("sync/", sync.SyncView.as_view(), name="sync"),
]
