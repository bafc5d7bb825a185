"""The customer app's pages, under /app/."""

from django.urls import path  # noqa: F401

from portal.views import accounts, pwa, transfers

app_name = "portal"

urlpatterns: list = [
    path("", accounts.account_list, name="accounts"),
    path("accounts/<str:pk>/", accounts.account_detail, name="account"),
    path("transfer/", transfers.transfer, name="transfer"),
    path("transfer/<str:pk>/", transfers.transfer_result, name="transfer-result"),
    # The installable app: the offline page (the service worker's fallback) and the JWT hand-over.
    path("offline/", pwa.offline, name="offline"),
    path("token/", pwa.token, name="token"),
]
