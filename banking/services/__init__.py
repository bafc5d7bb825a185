"""Every operation that changes banking state. Views, API views, commands and tests call these."""

from banking.services.accounts import account_close, account_freeze, account_open, account_unfreeze
from banking.services.approvals import pending_expire, transaction_approve, transaction_reject
from banking.services.beneficiaries import beneficiary_create, beneficiary_delete, beneficiary_rename
from banking.services.movements import deposit_create, transfer_create, withdrawal_create
from banking.services.reversals import transaction_reverse

__all__ = [
    "account_close",
    "account_freeze",
    "account_open",
    "account_unfreeze",
    "beneficiary_create",
    "beneficiary_delete",
    "beneficiary_rename",
    "deposit_create",
    "pending_expire",
    "transaction_approve",
    "transaction_reject",
    "transaction_reverse",
    "transfer_create",
    "withdrawal_create",
]
