"""The agent and supervisor workspace's pages, under /agent/."""

from django.urls import path  # noqa: F401

app_name = "workspace"

urlpatterns: list = []
