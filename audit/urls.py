"""The staff dashboards' pages and their JSON and event-stream endpoints, under /staff/."""

from django.urls import path

from audit import views

urlpatterns = [
    path("audit/", views.audit_log, name="staff-audit"),
    path("audit/stream/", views.audit_stream, name="staff-audit-stream"),
    path("audit/verify.json", views.audit_verify, name="staff-audit-verify"),
    path("nats/", views.nats_dashboard, name="staff-nats"),
    path("nats/status.json", views.nats_status_json, name="staff-nats-status"),
    path("performance/", views.performance, name="staff-performance"),
    path("performance/status.json", views.performance_json, name="staff-performance-status"),
]
