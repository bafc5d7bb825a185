"""What each audit event tells which customer: the notifications an event makes (not saved yet).

The notifier reads the parties from the database (a transaction's accounts and their holders never
change), the facts of the moment from the event (a freeze's reason). Events no customer hears about
(sign-ins, staff work, a customer's own actions) make none; so does anything that names something
no longer there.

    transaction.posted / .approved, a transfer to another customer's account: `money_in` for the
        payee, naming the payer (their name, or the IBAN when the payer is no customer);
    transaction.posted / .approved, a transfer from another bank to a customer's account:
        `money_in` for the payee, naming the payer as their bank did (`payer_name`, `external_iban`);
    transaction.approved / .rejected / .expired / .returned, a transfer from a customer's account:
        `transfer_approved` / `_rejected` / `_expired` / `_returned` for that account's holder;
    account.frozen / .unfrozen: `account_frozen` / `account_unfrozen` for the holder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit import actions
from banking.models import Account, Transaction, TransactionKind
from notifications.models import Notification, NotificationKind

MONEY_IN_ACTIONS = {actions.TRANSACTION_POSTED, actions.TRANSACTION_APPROVED}
OUTCOME_KINDS = {
    actions.TRANSACTION_APPROVED: NotificationKind.TRANSFER_APPROVED,
    actions.TRANSACTION_REJECTED: NotificationKind.TRANSFER_REJECTED,
    actions.TRANSACTION_EXPIRED: NotificationKind.TRANSFER_EXPIRED,
    actions.TRANSACTION_RETURNED: NotificationKind.TRANSFER_RETURNED,
}
ACCOUNT_KINDS = {
    actions.ACCOUNT_FROZEN: NotificationKind.ACCOUNT_FROZEN,
    actions.ACCOUNT_UNFROZEN: NotificationKind.ACCOUNT_UNFROZEN,
}
TRANSACTION_ACTIONS = MONEY_IN_ACTIONS | set(OUTCOME_KINDS)
# Customers' transfers: between Flux accounts, and to another bank.
TRANSFER_KINDS = {TransactionKind.TRANSFER, TransactionKind.EXTERNAL_TRANSFER}


# What the notifications are written from: a transaction's facts and its two parties (IBAN,
# holder, the holder's name), read as plain values. Model instances of the transaction, its two
# accounts and their two holders (select_related) were a third of the notifier's CPU under load,
# their signals and the related-object plumbing included (py-spy, issue 11).
_USER_FIELDS = ("first_name", "last_name", "username")
_SIDES = ("source", "destination")
TRANSACTION_VALUES = (
    "id", "kind", "amount", "currency", "reference", "external_iban", "beneficiary_name", "payer_name",
    *(f"{side}__{field}" for side in _SIDES
      for field in ("iban", "customer_id", *(f"customer__{name}" for name in _USER_FIELDS))),
)


@dataclass(frozen=True)
class _Party:
    """One side of a transaction: its account's IBAN and, for a customer's account, its holder."""

    iban: str
    customer_id: int | None
    name: str  # the holder's display name ("" without a holder)


@dataclass(frozen=True)
class _Transfer:
    id: int
    kind: str
    amount: int
    currency: str
    reference: str
    external_iban: str
    beneficiary_name: str
    payer_name: str
    source: _Party | None
    destination: _Party | None


def concerns_customers(event: dict) -> bool:
    """Whether an event may make a notification (read without touching the database)."""
    return event.get("action") in TRANSACTION_ACTIONS or event.get("action") in ACCOUNT_KINDS


def _holder_name(first_name: str, last_name: str, username: str) -> str:
    """A holder's name as customers see it: their full name (AbstractUser.get_full_name), else
    their username."""
    return f"{first_name} {last_name}".strip() or username


def _party(row: dict, side: str) -> _Party | None:
    if row[f"{side}__iban"] is None:  # no such account (money from or to another bank)
        return None
    customer_id = row[f"{side}__customer_id"]
    name = _holder_name(*(row[f"{side}__customer__{field}"] for field in _USER_FIELDS)) if customer_id else ""
    return _Party(iban=row[f"{side}__iban"], customer_id=customer_id, name=name)


def _transfers(ids: set[int]) -> dict[int, _Transfer]:
    """The transactions `ids` with their parties, in one query."""
    transfers = {}
    for row in Transaction.objects.filter(pk__in=ids).values(*TRANSACTION_VALUES):
        transfers[row["id"]] = _Transfer(
            **{field: row[field] for field in ("id", "kind", "amount", "currency", "reference", "external_iban",
                                               "beneficiary_name", "payer_name")},
            source=_party(row, "source"), destination=_party(row, "destination"),
        )
    return transfers


def _target_ids(events: Iterable[dict], target_type: str) -> set[int]:
    return {int(event["target_id"]) for event in events
            if event.get("target_type") == target_type and str(event.get("target_id") or "").isdigit()}


def _occurred_at(event: dict) -> datetime:
    moment = parse_datetime(str(event.get("occurred_at") or ""))
    return moment if moment is not None else timezone.now()


def _transfer_params(txn: _Transfer) -> dict:
    destination = txn.destination
    # Another bank's payee has no Flux name: the one the payer gave (as on their receipt).
    payee = destination.name if destination is not None and destination.customer_id else txn.beneficiary_name
    return {
        "amount_minor": txn.amount,
        "currency": txn.currency,
        "payee": payee,
        "payee_iban": txn.external_iban or (destination.iban if destination is not None else ""),
        "reference": txn.reference,
    }


def _transaction_notifications(event: dict, txn: _Transfer) -> list[Notification]:
    action, made = event["action"], []
    source, destination = txn.source, txn.destination
    payer = source.customer_id if source is not None else None
    payee = destination.customer_id if destination is not None else None
    common = {"event_id": int(event["event_id"]), "created_at": _occurred_at(event), "transaction_id": txn.id}
    if action in MONEY_IN_ACTIONS and txn.kind == TransactionKind.TRANSFER and payee is not None \
            and payer != payee:
        made.append(Notification(customer_id=payee, kind=NotificationKind.MONEY_IN, params={
            "amount_minor": txn.amount,
            "currency": txn.currency,
            "payer": source.name if payer is not None else "",
            "payer_iban": source.iban if source is not None else "",
            "reference": txn.reference,
        }, **common))
    if action in MONEY_IN_ACTIONS and txn.kind == TransactionKind.INCOMING_TRANSFER and payee is not None:
        # Money from another bank (a camt.053 credit, or suspense assigned to the account): the
        # payer as their bank named them. Placed in suspense, it reaches no customer (no payee).
        made.append(Notification(customer_id=payee, kind=NotificationKind.MONEY_IN, params={
            "amount_minor": txn.amount,
            "currency": txn.currency,
            "payer": txn.payer_name,
            "payer_iban": txn.external_iban,
            "reference": txn.reference,
        }, **common))
    if action in OUTCOME_KINDS and txn.kind in TRANSFER_KINDS and payer is not None:
        made.append(Notification(customer_id=payer, kind=OUTCOME_KINDS[action], params=_transfer_params(txn),
                                 **common))
    return made


def _account_notification(event: dict, account: Account) -> Notification | None:
    if account.customer_id is None:
        return None
    data = event.get("data") or {}
    return Notification(
        customer_id=account.customer_id, kind=ACCOUNT_KINDS[event["action"]],
        params={"iban": account.iban, "reason": str(data.get("reason") or "")},
        event_id=int(event["event_id"]), created_at=_occurred_at(event),
    )


def notifications_for_events(events: list[dict]) -> list[Notification]:
    """The notifications `events` make, in the events' order (two queries however many events)."""
    events = [event for event in events if concerns_customers(event)]
    transaction_events = [event for event in events if event["action"] in TRANSACTION_ACTIONS]
    account_events = [event for event in events if event["action"] in ACCOUNT_KINDS]
    transactions = _transfers(_target_ids(transaction_events, "transaction")) if transaction_events else {}
    accounts = Account.objects.in_bulk(_target_ids(account_events, "account")) if account_events else {}
    made: list[Notification] = []
    for event in events:
        target_id = str(event.get("target_id") or "")
        if not target_id.isdigit():
            continue
        if event["action"] in TRANSACTION_ACTIONS and event.get("target_type") == "transaction":
            if txn := transactions.get(int(target_id)):
                made.extend(_transaction_notifications(event, txn))
        elif event["action"] in ACCOUNT_KINDS and event.get("target_type") == "account":
            if (account := accounts.get(int(target_id))) and (notification := _account_notification(event, account)):
                made.append(notification)
    return made
