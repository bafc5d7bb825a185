"""Audit event types: `<area>.<action>`, the NATS subject becomes `audit.<area>.<action>`."""

AUTH_LOGIN = "auth.login"
AUTH_LOGIN_FAILED = "auth.login_failed"
AUTH_LOGOUT = "auth.logout"
AUTH_PASSWORD_CHANGED = "auth.password_changed"

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"

BENEFICIARY_ADDED = "beneficiary.added"
BENEFICIARY_RENAMED = "beneficiary.renamed"
BENEFICIARY_DELETED = "beneficiary.deleted"

ACCOUNT_OPENED = "account.opened"
ACCOUNT_FROZEN = "account.frozen"
ACCOUNT_UNFROZEN = "account.unfrozen"
ACCOUNT_CLOSED = "account.closed"

TRANSACTION_POSTED = "transaction.posted"
TRANSACTION_PENDING = "transaction.pending"
TRANSACTION_APPROVED = "transaction.approved"
TRANSACTION_REJECTED = "transaction.rejected"
TRANSACTION_EXPIRED = "transaction.expired"
TRANSACTION_REVERSED = "transaction.reversed"

IMPORT_UPLOADED = "import.uploaded"
IMPORT_STARTED = "import.started"
