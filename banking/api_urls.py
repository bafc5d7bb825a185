from django.urls import path

from banking.api import beneficiaries, clearing_runs, customer_events, customers, payees, statements, transfers, views

urlpatterns = [
    path("accounts/", views.AccountListCreateView.as_view(), name="account-list"),
    path("accounts/<str:pk>/", views.AccountDetailView.as_view(), name="account-detail"),
    path("accounts/<str:pk>/entries/", views.AccountEntryListView.as_view(), name="account-entries"),
    path("accounts/<str:pk>/freeze/", views.AccountFreezeView.as_view(), name="account-freeze"),
    path("accounts/<str:pk>/unfreeze/", views.AccountUnfreezeView.as_view(), name="account-unfreeze"),
    path("accounts/<str:pk>/close/", views.AccountCloseView.as_view(), name="account-close"),
    path("accounts/<str:pk>/overdraft/", views.AccountOverdraftView.as_view(), name="account-overdraft"),
    path("accounts/<str:pk>/statement/", statements.AccountStatementView.as_view(), name="account-statement"),
    path("beneficiaries/", beneficiaries.BeneficiaryListCreateView.as_view(), name="beneficiary-list"),
    path("beneficiaries/<str:pk>/", beneficiaries.BeneficiaryDetailView.as_view(), name="beneficiary-detail"),
    path("payees/check/", payees.PayeeCheckView.as_view(), name="payee-check"),
    path("transfers/", transfers.TransferListCreateView.as_view(), name="transfer-list"),
    path("transfers/batch/", transfers.TransferBatchCreateView.as_view(), name="transfer-batch"),
    path("deposits/", views.DepositCreateView.as_view(), name="deposit-create"),
    path("withdrawals/", views.WithdrawalCreateView.as_view(), name="withdrawal-create"),
    path("transactions/<str:pk>/", views.TransactionDetailView.as_view(), name="transaction-detail"),
    path("transactions/<str:pk>/approve/", views.TransactionApproveView.as_view(), name="transaction-approve"),
    path("transactions/<str:pk>/reject/", views.TransactionRejectView.as_view(), name="transaction-reject"),
    path("transactions/<str:pk>/receipt/", statements.TransactionReceiptView.as_view(), name="transaction-receipt"),
    path("transactions/<str:pk>/cancel/", views.TransactionCancelView.as_view(), name="transaction-cancel"),
    path("transactions/<str:pk>/reverse/", views.TransactionReverseView.as_view(), name="transaction-reverse"),
    path("approvals/", views.ApprovalListView.as_view(), name="approvals"),
    path("customers/", customers.CustomerListCreateView.as_view(), name="customer-list"),
    path("clearing/runs/", clearing_runs.ClearingRunListCreateView.as_view(), name="clearing-run-list"),
    path("clearing/runs/<str:pk>/file/", clearing_runs.ClearingRunFileView.as_view(), name="clearing-run-file"),
    path("customers/<str:pk>/events/", customer_events.CustomerEventListView.as_view(), name="customer-events"),
]
