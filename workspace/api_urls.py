"""The workspace's API endpoints (staff), under /api/v1/."""

from django.urls import path

from workspace.api import imports

urlpatterns: list = [
    path("imports/", imports.ImportListCreateView.as_view(), name="import-list"),
    path("imports/<str:pk>/", imports.ImportDetailView.as_view(), name="import-detail"),
    path("imports/<str:pk>/lines/", imports.ImportLineListView.as_view(), name="import-lines"),
    path("imports/<str:pk>/apply/", imports.ImportApplyView.as_view(), name="import-apply"),
    path("imports/<str:pk>/report/", imports.ImportReportView.as_view(), name="import-report"),
]
