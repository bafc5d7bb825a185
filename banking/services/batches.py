"""Batch transfers: up to FLUX_BATCH_MAX_ITEMS transfers in one database transaction, each under
exactly the rules of a single transfer (banking/services/movements.py), their accounts locked once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from banking.ledger import Postings
from banking.locks import lock_accounts
from banking.models import Account, Transaction
from banking.services.movements import Movement, _apply, transfer_movement
from core.errors import ApplicationError, BatchRefused
from identity.models import User


@dataclass(frozen=True)
class BatchItem:
    """One transfer of a batch as the caller sent it."""

    source_account_id: int
    destination_iban: str
    amount: int
    reference: str = ""
    beneficiary_name: str = ""


@dataclass(frozen=True)
class BatchOutcome:
    """The result of one item, in the batch's order: a transaction (posted or pending) or a refusal."""

    transaction: Transaction | None = None
    error: ApplicationError | None = None


def transfer_batch_create(
    *, initiator: User, items: list[BatchItem | ApplicationError], atomic: bool = False, at: datetime | None = None
) -> list[BatchOutcome]:
    """Make a batch of transfers, each under every rule of transfer_create, in one database transaction.

    An item may already be an ApplicationError (the caller's validation refused it): it is refused
    as such. The checks that need no lock run first, item by item; then every account of the batch
    is locked once, in ascending primary-key order (so concurrent batches and single transfers never
    deadlock), and the items are applied in order against the locked rows: each sees the balances
    and holds the earlier items left, so a later item is refused insufficient_funds once earlier ones
    spent the money. Each applied item records its own audit event.

    Without `atomic`, a refused item leaves the others applied: every check of an item comes before
    it changes anything (movements._apply), so no savepoint is needed. The applied items are written
    together at the end (banking.ledger.Postings: five statements for the whole batch). With
    `atomic`, one refusal refuses the batch: BatchRefused (batch_refused, with every refused item's
    index, code and message) is raised before anything is written: no transaction, entry, hold or
    audit event exists.

    Errors: validation_error (no items, or more than FLUX_BATCH_MAX_ITEMS), batch_refused (atomic).
    """
    if not items or len(items) > settings.FLUX_BATCH_MAX_ITEMS:
        raise ApplicationError(
            "validation_error",
            f"Send between 1 and {settings.FLUX_BATCH_MAX_ITEMS} transfers.",
            fields={"transfers": [f"Send between 1 and {settings.FLUX_BATCH_MAX_ITEMS} transfers."]},
        )
    accounts_by_iban: dict[str, Account | None] = {}
    sources: dict[object, Account] = {}
    planned: list[Movement | ApplicationError] = []
    for item in items:
        if isinstance(item, ApplicationError):
            planned.append(item)
            continue
        try:
            planned.append(
                transfer_movement(
                    initiator=initiator,
                    source_account_id=item.source_account_id,
                    destination_iban=item.destination_iban,
                    amount=item.amount,
                    reference=item.reference,
                    beneficiary_name=item.beneficiary_name,
                    accounts_by_iban=accounts_by_iban,
                    sources=sources,
                )
            )
        except ApplicationError as error:
            planned.append(error)
    return movements_apply(initiator=initiator, planned=planned, atomic=atomic, at=at)


def movements_apply(
    *, initiator: User, planned: list[Movement | ApplicationError], atomic: bool = False, at: datetime | None = None
) -> list[BatchOutcome]:
    """Apply movements whose pre-lock checks passed (an ApplicationError stands for one refused
    before), in one database transaction: every account locked once in ascending order, each
    movement checked and staged in order, all written together (banking.ledger.Postings).
    The path of transfer_batch_create and of the bulk import (workspace/imports/)."""
    outcomes: list[BatchOutcome] = []
    with transaction.atomic():
        movements = [movement for movement in planned if isinstance(movement, Movement)]
        accounts = lock_accounts(
            [movement.source_id for movement in movements] + [movement.destination_id for movement in movements]
        )
        postings = Postings()
        for movement in planned:
            if isinstance(movement, ApplicationError):
                outcomes.append(BatchOutcome(error=movement))
                continue
            try:
                txn = _apply(movement, initiator=initiator, accounts=accounts, at=at, postings=postings)
            except ApplicationError as error:
                outcomes.append(BatchOutcome(error=error))
            else:
                outcomes.append(BatchOutcome(transaction=txn))
        if atomic:
            refused = [(index, outcome.error) for index, outcome in enumerate(outcomes) if outcome.error is not None]
            if refused:
                raise BatchRefused(refused)  # before anything is written
        postings.flush()
    return outcomes
