from django.urls import path

from audit.api import customer_events, views

urlpatterns = [
    path("audit/events/", views.AuditEventListView.as_view(), name="audit-events"),
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
    path("customers/<str:pk>/events/", customer_events.CustomerEventListView.as_view(), name="customer-events"),
]
