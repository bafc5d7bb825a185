"""Audit event types: `<area>.<action>`, the NATS subject becomes `audit.<area>.<action>`."""

AUTH_LOGIN = "auth.login"
AUTH_LOGIN_FAILED = "auth.login_failed"
AUTH_LOGOUT = "auth.logout"
AUTH_PASSWORD_CHANGED = "auth.password_changed"
# A rotated JWT refresh token came back (stolen or replayed): its whole family was revoked
# (identity/tokens.py).
AUTH_TOKEN_REUSED = "auth.token_reused"
# The one-time link to choose a password (identity/password_links.py): mailed again by a member of
# staff (the first one goes with staff.created or customer.created), then used by its recipient.
AUTH_PASSWORD_LINK_SENT = "auth.password_link_sent"
AUTH_PASSWORD_SET = "auth.password_set"
# Too many failed sign-ins for one username: refused for FLUX_LOCKOUT_MINUTES (identity/lockout.py).
AUTH_LOCKED_OUT = "auth.locked_out"
AUTH_UNLOCKED = "auth.unlocked"
# Staff two-factor sign-in (TOTP): a device confirmed, or removed by a supervisor.
AUTH_2FA_ENROLLED = "auth.2fa_enrolled"
AUTH_2FA_RESET = "auth.2fa_reset"

# Agent management (supervisors).
STAFF_CREATED = "staff.created"
STAFF_DEACTIVATED = "staff.deactivated"
STAFF_REACTIVATED = "staff.reactivated"

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"

BENEFICIARY_ADDED = "beneficiary.added"
BENEFICIARY_RENAMED = "beneficiary.renamed"
BENEFICIARY_DELETED = "beneficiary.deleted"

ACCOUNT_OPENED = "account.opened"
ACCOUNT_FROZEN = "account.frozen"
ACCOUNT_UNFROZEN = "account.unfrozen"
ACCOUNT_CLOSED = "account.closed"
ACCOUNT_OVERDRAFT_CHANGED = "account.overdraft_changed"

TRANSACTION_POSTED = "transaction.posted"
TRANSACTION_PENDING = "transaction.pending"
TRANSACTION_APPROVED = "transaction.approved"
TRANSACTION_REJECTED = "transaction.rejected"
TRANSACTION_EXPIRED = "transaction.expired"
TRANSACTION_REVERSED = "transaction.reversed"
# The initiating customer (or staff) withdrew a pending transaction: hold released, nothing posted.
TRANSACTION_CANCELLED = "transaction.cancelled"
# Money with other banks (banking/clearing/): a transfer left in a clearing file; one came back.
TRANSACTION_SENT = "transaction.sent"
TRANSACTION_RETURNED = "transaction.returned"
CLEARING_RUN_CREATED = "clearing.run_created"
CLEARING_STATEMENT_IMPORTED = "clearing.statement_imported"
SUSPENSE_ASSIGNED = "suspense.assigned"
SUSPENSE_SENT_BACK = "suspense.sent_back"

IMPORT_UPLOADED = "import.uploaded"
IMPORT_STARTED = "import.started"
