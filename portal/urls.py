"""The customer app's pages, under /app/."""

from django.urls import path  # noqa: F401

from portal.views import accounts, beneficiaries, notifications, profile, pwa, statements, transactions, transfers

app_name = "portal"

urlpatterns: list = [
    path("", accounts.account_list, name="accounts"),
    path("accounts/<str:pk>/", accounts.account_detail, name="account"),
    path("transfer/", transfers.transfer, name="transfer"),
    path("transfer/<str:pk>/", transfers.transfer_result, name="transfer-result"),
    path("transactions/<str:pk>/", transactions.transaction_detail, name="transaction"),
    path("transactions/<str:pk>/cancel/", transactions.transaction_cancel, name="transaction-cancel"),
    path("transactions/<str:pk>/receipt/", transactions.transaction_receipt, name="transaction-receipt"),
    path("beneficiaries/", beneficiaries.beneficiary_list, name="beneficiaries"),
    path("beneficiaries/<str:pk>/rename/", beneficiaries.beneficiary_rename, name="beneficiary-rename"),
    path("beneficiaries/<str:pk>/delete/", beneficiaries.beneficiary_delete, name="beneficiary-delete"),
    path("statements/", statements.statement_page, name="statements"),
    path("statements/download/", statements.statement_download, name="statement-download"),
    path("profile/", profile.profile, name="profile"),
    path("profile/password/", profile.password_change, name="password-change"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read-all/", notifications.notification_read_all, name="notifications-read-all"),
    path("notifications/stream/", notifications.notification_events, name="notifications-stream"),
    path("notifications/<str:pk>/read/", notifications.notification_read, name="notification-read"),
    # The installable app: the offline page (the service worker's fallback) and the JWT hand-over.
    path("offline/", pwa.offline, name="offline"),
    path("token/", pwa.token, name="token"),
]
