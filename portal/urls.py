"""The customer app's pages, under /app/."""

from django.urls import path  # noqa: F401

app_name = "portal"

urlpatterns: list = []
