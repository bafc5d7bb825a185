"""Every operation that changes banking state. Views, API views, commands and tests call these."""

from banking.services.accounts import (
    account_close,
    account_freeze,
    account_open,
    account_set_overdraft_limit,
    account_unfreeze,
)
from banking.services.approvals import pending_expire, transaction_approve, transaction_cancel, transaction_reject
from banking.services.batches import movements_apply, transfer_batch_create
from banking.services.beneficiaries import beneficiary_create, beneficiary_delete, beneficiary_rename
from banking.services.movements import (
    cash_movement,
    deposit_create,
    transfer_create,
    transfer_movement,
    transfer_posted_at_once,
    withdrawal_create,
)
from banking.services.onboarding import customer_onboard
from banking.services.reversals import transaction_reverse

__all__ = [
    "account_close",
    "account_freeze",
    "account_open",
    "account_set_overdraft_limit",
    "account_unfreeze",
    "beneficiary_create",
    "beneficiary_delete",
    "beneficiary_rename",
    "cash_movement",
    "customer_onboard",
    "deposit_create",
    "movements_apply",
    "pending_expire",
    "transaction_approve",
    "transaction_cancel",
    "transaction_reject",
    "transaction_reverse",
    "transfer_batch_create",
    "transfer_create",
    "transfer_movement",
    "transfer_posted_at_once",
    "withdrawal_create",
]
