from django.urls import path

from identity.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="token-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("customers/", views.CustomerListCreateView.as_view(), name="customer-list"),
    path("customers/<str:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
]
