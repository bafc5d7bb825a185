"""The agent and supervisor workspace's pages, under /agent/."""

from django.urls import path  # noqa: F401

from workspace.views import imports

app_name = "workspace"

urlpatterns: list = [
    # Bulk imports (workspace/views/imports.py).
    path("imports/", imports.import_list, name="imports"),
    path("imports/example.csv", imports.import_example, name="import-example"),
    path("imports/<str:pk>/", imports.import_detail, name="import"),
    path("imports/<str:pk>/apply/", imports.import_apply, name="import-apply"),
    path("imports/<str:pk>/report.csv", imports.import_report, name="import-report"),
]
