from django.urls import path

from identity.api import profile, staff, views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="token-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/contact/", profile.MeContactView.as_view(), name="me-contact"),
    path("me/password/", profile.MePasswordView.as_view(), name="me-password"),
    path("customers/<str:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    # Agent management (supervisors).
    path("staff/", staff.StaffListCreateView.as_view(), name="staff-list"),
    path("staff/<str:pk>/deactivate/", staff.StaffDeactivateView.as_view(), name="staff-deactivate"),
    path("staff/<str:pk>/reactivate/", staff.StaffReactivateView.as_view(), name="staff-reactivate"),
    path("staff/<str:pk>/reset-2fa/", staff.StaffResetTwoFactorView.as_view(), name="staff-reset-2fa"),
    path("staff/<str:pk>/resend-password-link/", staff.StaffResendPasswordLinkView.as_view(),
         name="staff-resend-password-link"),
    path("users/<str:pk>/unlock/", staff.UserUnlockView.as_view(), name="user-unlock"),
]
