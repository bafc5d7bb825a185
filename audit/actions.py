"""Audit event types: `<area>.<action>`, the NATS subject becomes `audit.<area>.<action>`."""

AUTH_LOGIN = "auth.login"
AUTH_LOGIN_FAILED = "auth.login_failed"
AUTH_LOGOUT = "auth.logout"

CUSTOMER_CREATED = "customer.created"

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
