"""The agent and supervisor workspace's pages, under /agent/."""

from django.urls import path  # noqa: F401

from workspace.views import (
    accounts,
    approvals,
    clearing,
    clearing_reconciliation,
    clearing_statements,
    clearing_suspense,
    counter,
    customers,
    home,
    imports,
    staff,
    transactions,
)

app_name = "workspace"

urlpatterns: list = [
    # The desk: search, customers, accounts, cash, transactions, approvals (workspace/views/*.py).
    path("", home.home, name="home"),
    path("search/", home.search, name="search"),
    path("customers/new/", customers.customer_new, name="customer-new"),
    path("customers/<str:pk>/", customers.customer_detail, name="customer"),
    path("customers/<str:pk>/contact/", customers.customer_contact, name="customer-contact"),
    path("customers/<str:pk>/unlock/", customers.customer_unlock, name="customer-unlock"),
    path("customers/<str:pk>/password-link/", customers.customer_password_link, name="customer-password-link"),
    path("customers/<str:pk>/accounts/new/", customers.account_new, name="account-new"),
    path("accounts/<str:pk>/", accounts.account_detail, name="account"),
    path("accounts/<str:pk>/cash/", counter.cash, name="cash"),
    path("accounts/<str:pk>/<slug:action>/", accounts.account_action, name="account-action"),
    path("transactions/<str:pk>/", transactions.transaction_detail, name="transaction"),
    path("transactions/<str:pk>/reverse/", transactions.transaction_reverse, name="transaction-reverse"),
    path("transactions/<str:pk>/receipt/", counter.receipt, name="receipt"),
    path("approvals/", approvals.approval_list, name="approvals"),
    path("approvals/<str:pk>/approve/", approvals.approve, name="approve"),
    path("approvals/<str:pk>/reject/", approvals.reject, name="reject"),
    # Agent management, supervisors only (workspace/views/staff.py).
    path("staff/", staff.staff_page, name="staff"),
    path("staff/<int:pk>/<slug:action>/", staff.staff_action, name="staff-action"),
    # Money with other banks, supervisors only (workspace/views/clearing.py).
    path("clearing/", clearing.clearing_runs, name="clearing"),
    path("clearing/runs/<str:pk>/file/", clearing.clearing_run_file, name="clearing-run-file"),
    # Money with other banks, supervisors only: suspense and reconciliation
    # (workspace/views/clearing_suspense.py, clearing_reconciliation.py).
    path("clearing/suspense/", clearing_suspense.suspense_list, name="suspense"),
    path("clearing/suspense/<str:pk>/assign/", clearing_suspense.suspense_assign_page, name="suspense-assign"),
    path("clearing/suspense/<str:pk>/send-back/", clearing_suspense.suspense_send_back_page, name="suspense-send-back"),
    path("clearing/reconciliation/", clearing_reconciliation.reconciliation_list, name="reconciliation"),
    path("clearing/reconciliation/<str:day>/", clearing_reconciliation.reconciliation_day_page,
         name="reconciliation-day"),
    # Bulk imports (workspace/views/imports.py).
    path("imports/", imports.import_list, name="imports"),
    path("imports/example.csv", imports.import_example, name="import-example"),
    path("imports/<str:pk>/", imports.import_detail, name="import"),
    path("imports/<str:pk>/apply/", imports.import_apply, name="import-apply"),
    path("imports/<str:pk>/report.csv", imports.import_report, name="import-report"),
    # camt.053 statements in, supervisors only (workspace/views/clearing_statements.py).
    path("clearing/statements/", clearing_statements.statement_list, name="clearing-statements"),
    path("clearing/statements/<str:pk>/", clearing_statements.statement_detail, name="clearing-statement"),
]
