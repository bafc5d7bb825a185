"""Money movements: transfers (within Flux and to other banks), cash deposits and withdrawals.

Each one locks the accounts it touches (ascending pk), checks the rules on the locked rows, then
either posts its entries or, at or above an approval threshold, is created `pending` with its
amount held on the source account until a second staff member decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from banking.access import account_for_user, account_visible_to
from banking.iban import is_flux_iban, parse_iban
from banking.ledger import Leg, Postings, ensure_available, ensure_open, internal_account
from banking.locks import lock_account_and_iban, lock_accounts
from banking.models import (
    Account,
    AccountKind,
    AccountStatus,
    PayeeCheck,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from banking.payees import check_against, holder_name_of
from banking.policies import cash_needs_approval, transfer_needs_approval
from core.db.atomic import atomic_joined
from core.errors import ApplicationError, NotFound, ValidationFailed
from core.idempotency import is_retryable
from core.ids import parse_id
from core.metrics import count_transactions
from core.request_id import current_request_id
from identity.models import User
from identity.permissions import require_staff

CASH_COUNTERPARTY = "Cash"


def legs_for(txn: Transaction, accounts: dict[int, Account]) -> list[Leg]:
    """The entries a transaction posts: the source is debited, the destination credited."""
    source, destination = accounts[txn.source_id], accounts[txn.destination_id]
    if txn.kind == TransactionKind.DEPOSIT:
        source_label, destination_label = destination.iban, CASH_COUNTERPARTY
    elif txn.kind == TransactionKind.WITHDRAWAL:
        source_label, destination_label = CASH_COUNTERPARTY, source.iban
    elif txn.kind == TransactionKind.EXTERNAL_TRANSFER:
        source_label, destination_label = txn.external_iban, source.iban
    elif txn.kind in (TransactionKind.INCOMING_TRANSFER, TransactionKind.RETURN):
        # From the clearing (or suspense) account: the customer reads the other bank's IBAN.
        source_label, destination_label = destination.iban, txn.external_iban
    else:
        source_label, destination_label = destination.iban, source.iban
    return [
        Leg(source, -txn.amount, source_label),
        Leg(destination, txn.amount, destination_label),
    ]


def _validate_amount(amount: int) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed({"amount": ["The amount must be a positive number of cents."]})
    return amount


def _validate_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if len(reference) > 140:
        raise ValidationFailed({"reference": ["Keep the reference to 140 characters."]})
    return reference


def validate_beneficiary_name(name: str) -> str:
    """The payee's name as the payer typed it: trimmed, inner spaces collapsed, at most 70
    characters (the SEPA creditor name), no control characters."""
    name = " ".join((name or "").split())
    if len(name) > 70:
        raise ValidationFailed({"beneficiary_name": ["Keep the name to 70 characters."]})
    if any(not character.isprintable() for character in name):
        raise ValidationFailed({"beneficiary_name": ["The name holds characters that cannot be sent."]})
    return name


def _validate_payee_check(value: str) -> str:
    if value and value not in PayeeCheck.values:
        raise ValidationFailed({"payee_check": ["Unknown payee check result."]})
    return value or ""


def _holder_name(account: Account) -> str:
    """The name of `account`'s holder: read with the account when it could be (the locked read's
    `holder_name`, or the customer joined), else asked (one query)."""
    if hasattr(account, "holder_name"):
        return (account.holder_name or "").strip()
    if Account.customer.is_cached(account):
        customer = account.customer
        return f"{customer.first_name} {customer.last_name}".strip() if customer else ""
    return holder_name_of(account.iban) or ""


def _server_payee_check(beneficiary_name: str, destination: Account | None) -> str:
    """What the verification of payee says of the name given with a transfer whose caller did not
    say it (the API, a batch): unavailable for another bank's IBAN (destination None), else the
    rule of banking.payees against the Flux account's holder, as the account was read."""
    if destination is None:
        return PayeeCheck.UNAVAILABLE
    return check_against(beneficiary_name, _holder_name(destination)).result


@dataclass(frozen=True)
class Movement:
    """A movement whose pre-lock checks passed (amount, reference, access, IBAN, currency): what
    `_apply` needs to check the locked accounts and then post it or create it pending."""

    kind: TransactionKind
    source_id: int
    destination_id: int
    amount: int
    currency: str
    reference: str
    needs_approval: bool
    hold: bool
    external_iban: str = ""
    beneficiary_name: str = ""
    payee_check: str = ""
    # Money from another bank: the payer as their bank named them (Transaction.payer_name).
    payer_name: str = ""


def ensure_open_for(initiator: User, *, source: Account, destination: Account) -> None:
    """Both accounts take money (banking.ledger.ensure_open), said so that a payer learns nothing
    of another customer's account: its status stays unsaid ("the payment cannot be made to this
    account"), under the same code (account_frozen or account_closed) as any other refusal.
    The source is the initiator's own (or staff's to see), so its status is said in full."""
    if source.status == AccountStatus.FROZEN:
        raise ApplicationError("account_frozen", _("The account %(iban)s is frozen: no money can go in or out of it.")
                               % {"iban": source.iban})
    ensure_open(source)
    if destination.status != AccountStatus.ACTIVE and not (
            initiator.is_bank_staff or destination.customer_id == initiator.pk or destination.is_internal):
        code = "account_frozen" if destination.status == AccountStatus.FROZEN else "account_closed"
        raise ApplicationError(code, _("The payment cannot be made to this account."))
    ensure_open(destination)


def _apply(
    movement: Movement, *, initiator: User, accounts: dict[int, Account], at: datetime | None, postings: Postings
) -> Transaction:
    """Check one movement against its locked accounts, then stage it in `postings`, posted or
    pending, with its audit event (written at postings.flush()). Runs in the caller's atomic block
    on accounts it locked (banking.locks).

    Every check comes before the movement changes anything, so a refusal leaves nothing behind,
    even without a savepoint: a batch relies on it, and on `accounts` being shared, so that each
    item sees the balances and holds the earlier items left (Postings changes them in memory)."""
    now = at or timezone.now()
    source, destination = accounts[movement.source_id], accounts[movement.destination_id]
    ensure_open_for(initiator, source=source, destination=destination)
    if not movement.needs_approval or movement.hold:
        # The source is debited now (posted) or has the amount held (pending): the same test.
        ensure_available(source, movement.amount)
    txn = Transaction(
        kind=movement.kind,
        amount=movement.amount,
        currency=movement.currency,
        source=source,
        destination=destination,
        external_iban=movement.external_iban,
        reference=movement.reference,
        beneficiary_name=movement.beneficiary_name,
        payee_check=movement.payee_check,
        payer_name=movement.payer_name,
        initiated_by=initiator,
        created_at=now,
    )
    if movement.needs_approval:
        if movement.hold:
            postings.hold(source, movement.amount)
            txn.hold_amount = movement.amount
        txn.status = TransactionStatus.PENDING
        txn.expires_at = now + timedelta(days=settings.FLUX_PENDING_TTL_DAYS)
        postings.add(txn, None, at=now, actor=initiator, action=actions.TRANSACTION_PENDING)
    else:
        txn.status = TransactionStatus.POSTED
        txn.posted_at = now
        postings.add(txn, legs_for(txn, accounts), at=now, actor=initiator, action=actions.TRANSACTION_POSTED)
    return txn


def _create(
    movement: Movement, *, initiator: User, at: datetime | None, accounts: dict[int, Account] | None = None
) -> Transaction:
    """Lock both accounts (unless the caller has: `accounts`), check them, and post or create
    pending. Runs in the caller's atomic block."""
    if accounts is None:
        accounts = lock_accounts([movement.source_id, movement.destination_id])
    postings = Postings()
    txn = _apply(movement, initiator=initiator, accounts=accounts, at=at, postings=postings)
    postings.flush()
    return txn


def transfer_movement(
    *,
    initiator: User,
    source_account_id: int,
    destination_iban: str,
    amount: int,
    reference: str = "",
    beneficiary_name: str = "",
    payee_check: str = "",
    accounts_by_iban: dict[str, Account | None] | None = None,
    sources: dict[object, Account] | None = None,
) -> Movement:
    """The checks of a transfer that need no lock (shared by transfer_create and transfer_batch_create).

    `accounts_by_iban` caches the Flux destinations already read and `sources` the source accounts
    the initiator may use (a batch reads each once: one query less per item). A `beneficiary_name`
    without the caller's `payee_check` (the API, a batch) is checked here, against the destination
    holder's name as the account was read (banking.payees), and the answer kept with the transfer.
    Errors: validation_error, not_found, invalid_iban, unknown_account, same_account,
    currency_mismatch."""
    amount = _validate_amount(amount)
    reference = _validate_reference(reference)
    beneficiary_name = validate_beneficiary_name(beneficiary_name)
    payee_check = _validate_payee_check(payee_check)
    source = sources.get(source_account_id) if sources is not None else None
    if source is None:
        source = account_for_user(initiator, source_account_id)  # not_found: not cached, asked again
        if sources is not None:
            sources[source_account_id] = source
    if source.is_internal:
        raise ApplicationError("unknown_account", "Transfers start from a customer account.")
    iban = parse_iban(destination_iban)
    external_iban = ""
    if is_flux_iban(iban):
        if accounts_by_iban is not None and str(iban) in accounts_by_iban:
            destination = accounts_by_iban[str(iban)]
        else:
            destination = Account.objects.filter(iban=str(iban)).select_related("customer").first()
            if accounts_by_iban is not None:
                accounts_by_iban[str(iban)] = destination
        if destination is None or destination.is_internal:
            raise ApplicationError("unknown_account", f"No Flux account has the IBAN {iban}.")
        if destination.pk == source.pk:
            raise ApplicationError("same_account", "The source and destination are the same account.")
        if destination.currency != source.currency:
            raise ApplicationError(
                "currency_mismatch",
                f"The source account is in {source.currency}, the destination in {destination.currency}.",
            )
        kind = TransactionKind.TRANSFER
        if beneficiary_name and not payee_check:
            payee_check = _server_payee_check(beneficiary_name, destination)
    else:
        destination = internal_account(AccountKind.CLEARING, source.currency)
        external_iban = str(iban)
        kind = TransactionKind.EXTERNAL_TRANSFER
        if beneficiary_name and not payee_check:
            payee_check = _server_payee_check(beneficiary_name, None)
    return Movement(
        kind=kind,
        source_id=source.pk,
        destination_id=destination.pk,
        amount=amount,
        currency=source.currency,
        reference=reference,
        needs_approval=transfer_needs_approval(amount),
        hold=True,
        external_iban=external_iban,
        beneficiary_name=beneficiary_name,
        payee_check=payee_check,
    )


def transfer_create(
    *,
    initiator: User,
    source_account_id: int,
    destination_iban: str,
    amount: int,
    reference: str = "",
    beneficiary_name: str = "",
    payee_check: str = "",
    at: datetime | None = None,
) -> Transaction:
    """Move `amount` minor units from a customer account to a Flux IBAN or another bank's IBAN.

    A customer may only send from their own accounts (others are not_found). Between Flux
    accounts both sides post at once; to another bank the customer is debited and the clearing
    account credited. At or above FLUX_APPROVAL_THRESHOLD the transfer is pending and its amount
    held. `beneficiary_name` is the payee's name as the payer gave it, `payee_check` what the
    verification of payee (banking.payees) told the payer (the portal's form says it; without it,
    as through the API, it is checked here from the locked read, no statement more): both stored
    with the transaction, in the same INSERT. A no_match is not refused: the payer was warned.
    `at` back-dates the booking (demo data only).

    Errors: not_found, invalid_iban, unknown_account, same_account, currency_mismatch,
    account_frozen, account_closed, insufficient_funds, validation_error (reference,
    beneficiary_name).
    """
    _validate_amount(amount)
    _validate_reference(reference)
    validate_beneficiary_name(beneficiary_name)
    try:
        iban = parse_iban(destination_iban)
    except ApplicationError:
        iban = None  # refused by transfer_movement, after the source's checks as always
    if iban is None or not is_flux_iban(iban):
        movement = transfer_movement(
            initiator=initiator, source_account_id=source_account_id, destination_iban=destination_iban,
            amount=amount, reference=reference, beneficiary_name=beneficiary_name, payee_check=payee_check,
        )
        with atomic_joined():
            return _create(movement, initiator=initiator, at=at)
    with atomic_joined():
        # Between Flux accounts, one locked read finds the source and the destination (ascending
        # pk, as banking.locks always locks), instead of three reads (the source's access check,
        # the destination by IBAN, then the lock): 2 ms of a transfer's 15 (issue 11). A source
        # the initiator may not use is not_found, its lock released by the rollback.
        source_id = parse_id(source_account_id)
        # With a payee's name to check, the holder's name comes in the same locked read.
        accounts = lock_account_and_iban(source_id, str(iban), holder_names=bool(beneficiary_name and not payee_check))
        source = accounts.get(source_id)
        if source is None or not account_visible_to(initiator, source):
            raise NotFound("Account not found.")
        destination = next((account for account in accounts.values() if account.iban == str(iban)), None)
        movement = transfer_movement(
            initiator=initiator, source_account_id=source_account_id, destination_iban=destination_iban,
            amount=amount, reference=reference, beneficiary_name=beneficiary_name, payee_check=payee_check,
            accounts_by_iban={str(iban): destination},
            sources={source_account_id: source},
        )
        return _create(movement, initiator=initiator, at=at, accounts=accounts)


# What flux_transfer_posted (banking/migrations/0010_transfer_posted_function.py) is called with.
_TRANSFER_POSTED_SQL = "SELECT flux_transfer_posted(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"


def transfer_posted_at_once(
    *,
    initiator: User,
    key: str,
    fingerprint: str,
    source_account_id: object,
    destination_iban: str,
    amount: int,
    reference: str,
    beneficiary_name: str = "",
    at: datetime,
    answer: dict,
) -> dict | None:
    """The common transfer (a customer's, between two Flux accounts, below the approval threshold,
    no payee name to check) in one PostgreSQL call, idempotency key included: what
    core.idempotency.run_once around transfer_create does for it, in one round trip instead of six
    and without building its rows in Python (issue 11: 2.3 ms less CPU per transfer,
    benchmarks/transfer_function_probe.py).

    `answer` is the body to keep under `key` (the API's, created and posted at `at`) without what
    the locked rows say, which the function adds: id, currency, source_iban, destination_account,
    destination_iban. Returns that body once the transfer is posted and committed with its key.

    Returns None, having written nothing, whenever the case is not that plain one: not on
    PostgreSQL, staff, a payee's name to check (banking.payees, in Python), another bank's IBAN,
    an amount to approve, a reference or amount the Python path would refuse, or, found under the
    lock, the key already used, an account missing or not the caller's, frozen, closed or
    internal, another currency, not enough money, or a deadlock.
    The caller then goes the usual way (run_once, transfer_create), which replays, applies or
    refuses it in its own words. Both ways write the same rows (banking/tests/test_transfer_function.py).
    """
    if connection.vendor != "postgresql" or initiator.is_bank_staff or beneficiary_name:
        return None
    try:
        if _validate_amount(amount) != amount or _validate_reference(reference) != reference:
            return None
        source_id = parse_id(source_account_id)
        iban = parse_iban(destination_iban)
    except ApplicationError:
        return None
    if not is_flux_iban(iban) or transfer_needs_approval(amount):
        return None
    request_id = current_request_id() or None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                _TRANSFER_POSTED_SQL,
                [initiator.pk, initiator.get_username(), key, fingerprint, source_id, str(iban), amount, reference,
                 at, json.dumps(answer), request_id],
            )
            (body,) = cursor.fetchone()
    except OperationalError as exc:
        if connection.in_atomic_block or not is_retryable(exc):
            raise
        return None  # a deadlock or serialisation failure, rolled back: run_once retries it
    if body is None:
        return None
    count_transactions([(TransactionKind.TRANSFER, TransactionStatus.POSTED)])
    return json.loads(body) if isinstance(body, str) else body


def cash_movement(
    *,
    kind: TransactionKind,
    initiator: User,
    account_id: object,
    amount: int,
    reference: str = "",
    accounts: dict[object, Account] | None = None,
    vaults: dict[str, Account] | None = None,
) -> Movement:
    """The checks of a cash deposit or withdrawal that need no lock (shared by deposit_create,
    withdrawal_create and the bulk import): cash across the counter, the customer account against
    the cash vault of its currency. `accounts` caches the accounts already read, `vaults` the cash
    vault of each currency.
    Errors: permission_denied, validation_error, not_found, unknown_account."""
    require_staff(initiator)
    amount = _validate_amount(amount)
    reference = _validate_reference(reference)
    account = accounts.get(account_id) if accounts is not None else None
    if account is None:
        account = account_for_user(initiator, account_id)
        if accounts is not None:
            accounts[account_id] = account
    if account.is_internal:
        raise ApplicationError("unknown_account", "Cash goes in and out of customer accounts only.")
    vault = vaults.get(account.currency) if vaults is not None else None
    if vault is None:
        vault = internal_account(AccountKind.CASH, account.currency)
        if vaults is not None:
            vaults[account.currency] = vault
    paying_in = kind == TransactionKind.DEPOSIT
    return Movement(
        kind=kind,
        source_id=vault.pk if paying_in else account.pk,
        destination_id=account.pk if paying_in else vault.pk,
        amount=amount,
        currency=account.currency,
        reference=reference,
        needs_approval=cash_needs_approval(amount),
        # A pending withdrawal holds the customer's money; a pending deposit holds nothing
        # (the cash is not the customer's until approved).
        hold=not paying_in,
    )


def _cash(
    *, kind: TransactionKind, initiator: User, account_id: int, amount: int, reference: str, at: datetime | None
) -> Transaction:
    movement = cash_movement(kind=kind, initiator=initiator, account_id=account_id, amount=amount,
                             reference=reference)
    with atomic_joined():
        return _create(movement, initiator=initiator, at=at)


def deposit_create(
    *, initiator: User, account_id: int, amount: int, reference: str = "", at: datetime | None = None
) -> Transaction:
    """Cash paid in at the counter: the cash vault is debited, the customer credited.

    Staff only. At or above FLUX_CASH_APPROVAL_THRESHOLD it waits for another staff member.
    Errors: permission_denied, validation_error, not_found, unknown_account, account_frozen,
    account_closed.
    """
    return _cash(
        kind=TransactionKind.DEPOSIT, initiator=initiator, account_id=account_id, amount=amount,
        reference=reference, at=at,
    )


def withdrawal_create(
    *, initiator: User, account_id: int, amount: int, reference: str = "", at: datetime | None = None
) -> Transaction:
    """Cash paid out at the counter: the customer is debited, the cash vault credited.

    Staff only. At or above FLUX_CASH_APPROVAL_THRESHOLD it is pending and the amount held.
    Errors: permission_denied, validation_error, not_found, unknown_account, account_frozen,
    account_closed, insufficient_funds.
    """
    return _cash(
        kind=TransactionKind.WITHDRAWAL, initiator=initiator, account_id=account_id, amount=amount,
        reference=reference, at=at,
    )
