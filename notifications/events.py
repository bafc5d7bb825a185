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


# What the notifications are written from: a transaction's parties and the facts they are told.
# Read alone, not the whole rows of the transaction, its two accounts and their two holders: model
# instances of every column were half of the notifier's CPU under load (py-spy, issue 11).
_USER_FIELDS = ("first_name", "last_name", "username")
TRANSACTION_FIELDS = (
    "kind", "amount", "currency", "reference", "external_iban", "beneficiary_name", "payer_name",
    *(f"{side}__{field}" for side in ("source", "destination")
      for field in ("iban", *(f"customer__{name}" for name in _USER_FIELDS))),
)


def concerns_customers(event: dict) -> bool:
    """Whether an event may make a notification (read without touching the database)."""
    return event.get("action") in TRANSACTION_ACTIONS or event.get("action") in ACCOUNT_KINDS


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def _target_ids(events: Iterable[dict], target_type: str) -> set[int]:
    return {int(event["target_id"]) for event in events
            if event.get("target_type") == target_type and str(event.get("target_id") or "").isdigit()}


def _occurred_at(event: dict) -> datetime:
    moment = parse_datetime(str(event.get("occurred_at") or ""))
    return moment if moment is not None else timezone.now()


def _transfer_params(txn: Transaction) -> dict:
    destination = txn.destination
    # Another bank's payee has no Flux name: the one the payer gave (as on their receipt).
    payee = display_name(destination.customer) if destination is not None and destination.customer \
        else txn.beneficiary_name
    return {
        "amount_minor": txn.amount,
        "currency": txn.currency,
        "payee": payee,
        "payee_iban": txn.external_iban or (destination.iban if destination is not None else ""),
        "reference": txn.reference,
    }


def _transaction_notifications(event: dict, txn: Transaction) -> list[Notification]:
    action, made = event["action"], []
    source, destination = txn.source, txn.destination
    payer = source.customer if source is not None else None
    payee = destination.customer if destination is not None else None
    common = {"event_id": int(event["event_id"]), "created_at": _occurred_at(event), "transaction": txn}
    if action in MONEY_IN_ACTIONS and txn.kind == TransactionKind.TRANSFER and payee is not None \
            and (payer is None or payer.pk != payee.pk):
        made.append(Notification(customer=payee, kind=NotificationKind.MONEY_IN, params={
            "amount_minor": txn.amount,
            "currency": txn.currency,
            "payer": display_name(payer) if payer is not None else "",
            "payer_iban": source.iban if source is not None else "",
            "reference": txn.reference,
        }, **common))
    if action in MONEY_IN_ACTIONS and txn.kind == TransactionKind.INCOMING_TRANSFER and payee is not None:
        # Money from another bank (a camt.053 credit, or suspense assigned to the account): the
        # payer as their bank named them. Placed in suspense, it reaches no customer (no payee).
        made.append(Notification(customer=payee, kind=NotificationKind.MONEY_IN, params={
            "amount_minor": txn.amount,
            "currency": txn.currency,
            "payer": txn.payer_name,
            "payer_iban": txn.external_iban,
            "reference": txn.reference,
        }, **common))
    if action in OUTCOME_KINDS and txn.kind in TRANSFER_KINDS and payer is not None:
        made.append(Notification(customer=payer, kind=OUTCOME_KINDS[action], params=_transfer_params(txn), **common))
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
    transactions = Transaction.objects.select_related("source__customer", "destination__customer").only(
        *TRANSACTION_FIELDS).in_bulk(_target_ids(transaction_events, "transaction")) if transaction_events else {}
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
