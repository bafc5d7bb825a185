"""Reconciliation: the clearing account against the correspondent's statements, a figure per day
and currency. Every amount is signed as the statement sees it: money in +, money out −, in minor
units.

Statement side (day D): the statements' entries booked on D in the currency, duplicates left out
(an entry uploaded twice counts once): how many, the credits, the debits and the net. The day's
balances are the opening balance of the first statement uploaded whose closing date is D and the
closing balance of the latest (a second statement of the day continues from the first): the
balance check holds when that opening + the day's net == that closing (None without a statement
closing on D, or without both balances).

Flux side (day D): the clearing account's movements that crossed to the correspondent on D:
- money in: the transactions that D's statement entries posted (CREDITED: to a customer; RETURNED:
  the return of one of our transfers; SUSPENSE: the placement in suspense), each for what it
  took from the clearing account (its clearing entry, negated);
- sent: our transfers to other banks whose clearing file left on D (`sent_at`, local date), each
  for minus its amount.

Matched: a statement entry of D whose `transaction` is a Flux movement (CREDITED, RETURNED,
SUSPENSE: the transaction it posted; BOOKED: our sent transfer it books); a matched pair whose two
amounts differ is a mismatch. Unmatched, statement side: D's entries that Flux could not match
(UNMATCHED: fees, debits of no transfer of ours). Unmatched, Flux side: our transfers sent on or
before D that no statement has booked on or before D (in transit), with their age in days.

The difference is statement net − Flux net. It is explained by the unmatched statement entries,
by D's bookings of transfers sent on another day, and by the transfers sent on D not booked on D;
what is left (`unexplained`) is the mismatches: zero when everything reconciles.

The clearing account itself (now, whatever the day): its balance is what waits to be sent (posted
transfers to other banks in no clearing file yet, not reversed) + what was sent and not yet
booked by the correspondent + what the correspondent booked of ours − the money in placed from
statements. What none of these explains (`other`: a reversal of a placed credit, say) is zero when
the account reconciles.

Every figure is a handful of aggregate queries, however many entries a day has; the lists are
capped at LIST_LIMIT rows (their counts and totals are not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from banking.models import (
    Account,
    AccountKind,
    Entry,
    Statement,
    StatementEntry,
    StatementEntryOutcome,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

LIST_LIMIT = 200
# The outcomes whose transaction took money from the clearing account (money in).
PLACING_OUTCOMES = (StatementEntryOutcome.CREDITED, StatementEntryOutcome.RETURNED, StatementEntryOutcome.SUSPENSE)
MATCHING_OUTCOMES = (*PLACING_OUTCOMES, StatementEntryOutcome.BOOKED)


@dataclass(frozen=True)
class Total:
    count: int = 0
    amount: int = 0  # signed, as the statement sees it


@dataclass
class StatementSide:
    entries: int
    credits: int
    debits: int  # negative or zero
    net: int
    statement_id: int | None
    opening_balance: int | None
    closing_balance: int | None
    balance_check: bool | None  # opening + net == closing; None without the day's balances


@dataclass
class FluxSide:
    money_in: Total
    sent: Total  # amount negative or zero
    net: int


@dataclass
class DayFigure:
    date: dt.date
    currency: str
    statement: StatementSide
    flux: FluxSide
    matched: Total
    mismatches: list[StatementEntry]  # each with `flux_amount`
    unmatched_statement: Total
    unmatched_statement_entries: list[StatementEntry]
    in_transit: Total  # Flux side unmatched, as of the end of the day
    in_transit_transfers: list[Transaction]  # each with `sent_on` and `age_days`
    booked_sent_other_day: Total
    sent_not_booked_that_day: Total
    difference: int
    unexplained: int
    previous_closing_balance: int | None = None
    opening_matches_previous: bool | None = None


@dataclass
class DaySummary:
    date: dt.date
    currency: str
    statement_entries: int
    statement_net: int
    flux_net: int
    difference: int
    balance_check: bool | None
    unmatched_statement: int


@dataclass
class ClearingPosition:
    currency: str
    account_iban: str | None
    balance: int
    waiting: Total  # credited on the clearing account, in no file yet
    sent_not_booked: Total
    booked: Total
    money_in: Total
    other: int  # balance − (waiting + sent_not_booked + booked − money_in)


def _total(row: dict, count: str = "count", amount: str = "amount", *, sign: int = 1) -> Total:
    return Total(count=row.get(count) or 0, amount=sign * (row.get(amount) or 0))


def _clearing_account(currency: str) -> Account | None:
    return Account.objects.filter(kind=AccountKind.CLEARING, currency=currency).first()


def _day_entries(day: dt.date, currency: str) -> QuerySet[StatementEntry]:
    return StatementEntry.objects.filter(booking_date=day, currency=currency).exclude(
        outcome=StatementEntryOutcome.DUPLICATE)


def _booked_entry(**lookups) -> QuerySet[StatementEntry]:
    return StatementEntry.objects.filter(transaction=OuterRef("pk"), outcome=StatementEntryOutcome.BOOKED, **lookups)


def _external_transfers(currency: str) -> QuerySet[Transaction]:
    return Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER, currency=currency)


def _with_flux_amount(entries: QuerySet[StatementEntry], clearing: Account | None) -> QuerySet[StatementEntry]:
    """Each entry with `flux_amount`: its Flux movement's amount as the statement sees it (money in:
    its transaction's clearing entry negated; BOOKED: minus our transfer's amount), None without one."""
    clearing_entry = Entry.objects.filter(
        transaction=OuterRef("transaction"), account_id=clearing.pk if clearing else None
    ).values("amount")[:1]
    return entries.annotate(
        flux_amount=Case(
            When(transaction__isnull=True, then=Value(None)),
            When(outcome__in=PLACING_OUTCOMES, then=-Subquery(clearing_entry)),
            When(outcome=StatementEntryOutcome.BOOKED, then=-F("transaction__amount")),
            default=Value(None),
            output_field=IntegerField(),
        )
    )


def reconciliation_day(*, day: dt.date, currency: str = "EUR") -> DayFigure:
    """The figure of `day` (a booking date) in `currency`: the two sides, what matched, what did not,
    the difference and what explains it (module docstring)."""
    clearing = _clearing_account(currency)
    entries = _day_entries(day, currency)
    unmatched_q = Q(outcome=StatementEntryOutcome.UNMATCHED) | Q(transaction__isnull=True)

    side = entries.aggregate(
        count=Count("pk"),
        credits=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0),
        debits=Coalesce(Sum("amount", filter=Q(amount__lt=0)), 0),
        unmatched_count=Count("pk", filter=unmatched_q),
        unmatched_amount=Coalesce(Sum("amount", filter=unmatched_q), 0),
    )
    # The day's statements, in upload order: the first one's opening, the latest one's closing (a
    # second statement the same day, or the same file again, continues from the first).
    day_statements = list(Statement.objects.filter(closing_date=day, currency=currency).defer("file").order_by("id"))
    first, statement = (day_statements[0], day_statements[-1]) if day_statements else (None, None)
    net = side["credits"] + side["debits"]
    opening = first.opening_balance if first else None
    closing = statement.closing_balance if statement else None
    balance_check = None if opening is None or closing is None else opening + net == closing
    previous = (
        Statement.objects.filter(closing_date__lt=day, currency=currency, closing_balance__isnull=False)
        .order_by("-closing_date", "-id").first()
    )

    matched_entries = _with_flux_amount(entries.filter(outcome__in=MATCHING_OUTCOMES, transaction__isnull=False),
                                        clearing)
    matched = matched_entries.aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
    money_in = matched_entries.filter(outcome__in=PLACING_OUTCOMES).aggregate(
        count=Count("pk"), amount=Coalesce(Sum("flux_amount"), 0))
    mismatches = list(
        matched_entries.filter(Q(flux_amount__isnull=True) | ~Q(flux_amount=F("amount"))).order_by("pk")[:LIST_LIMIT]
    )

    sent_today = _external_transfers(currency).filter(sent_at__date=day)
    sent = sent_today.aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
    not_booked_that_day = sent_today.exclude(Exists(_booked_entry(booking_date=day))).aggregate(
        count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
    booked_other_day = entries.filter(outcome=StatementEntryOutcome.BOOKED, transaction__isnull=False).exclude(
        transaction__sent_at__date=day).aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))

    in_transit_qs = _external_transfers(currency).filter(sent_at__date__lte=day).exclude(
        Exists(_booked_entry(booking_date__lte=day)))
    in_transit = in_transit_qs.aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
    in_transit_rows = list(in_transit_qs.order_by("sent_at", "pk")[:LIST_LIMIT])
    for txn in in_transit_rows:
        txn.sent_on = timezone.localtime(txn.sent_at).date()
        txn.age_days = (day - txn.sent_on).days

    flux = FluxSide(money_in=_total(money_in), sent=_total(sent, sign=-1), net=money_in["amount"] - sent["amount"])
    difference = net - flux.net
    unmatched = Total(side["unmatched_count"], side["unmatched_amount"])
    booked_sent_other_day = _total(booked_other_day)
    sent_not_booked = _total(not_booked_that_day, sign=-1)
    # difference = unmatched + booked of other days' sending − (sent on D, not booked on D) + mismatches
    unexplained = difference - unmatched.amount - booked_sent_other_day.amount + sent_not_booked.amount
    return DayFigure(
        date=day,
        currency=currency,
        statement=StatementSide(
            entries=side["count"], credits=side["credits"], debits=side["debits"], net=net,
            statement_id=statement.pk if statement else None, opening_balance=opening, closing_balance=closing,
            balance_check=balance_check,
        ),
        flux=flux,
        matched=_total(matched),
        mismatches=mismatches,
        unmatched_statement=unmatched,
        unmatched_statement_entries=list(entries.filter(unmatched_q).order_by("pk")[:LIST_LIMIT]),
        in_transit=_total(in_transit, sign=-1),
        in_transit_transfers=in_transit_rows,
        booked_sent_other_day=booked_sent_other_day,
        sent_not_booked_that_day=sent_not_booked,
        difference=difference,
        unexplained=unexplained,
        previous_closing_balance=previous.closing_balance if previous else None,
        opening_matches_previous=(
            None if previous is None or opening is None else previous.closing_balance == opening
        ),
    )


def reconciliation_days(*, currency: str = "EUR", before: dt.date | None = None,
                        limit: int = 30) -> tuple[list[DaySummary], bool]:
    """The `limit` most recent days (before `before`, if given) on which a statement booked an entry
    or a clearing file left, newest first, each summed up; and whether older days exist. Five
    grouped queries for the whole page."""
    entries = StatementEntry.objects.filter(currency=currency).exclude(outcome=StatementEntryOutcome.DUPLICATE)
    sent = _external_transfers(currency).filter(sent_at__isnull=False).annotate(day=TruncDate("sent_at"))
    statements = Statement.objects.filter(currency=currency, closing_date__isnull=False)
    if before is not None:
        entries, sent = entries.filter(booking_date__lt=before), sent.filter(day__lt=before)
        statements = statements.filter(closing_date__lt=before)
    days = set(entries.order_by("-booking_date").values_list("booking_date", flat=True).distinct()[: limit + 1])
    days |= set(sent.order_by("-day").values_list("day", flat=True).distinct()[: limit + 1])
    days |= set(statements.order_by("-closing_date").values_list("closing_date", flat=True).distinct()[: limit + 1])
    ordered = sorted(days, reverse=True)
    page, more = ordered[:limit], len(ordered) > limit
    if not page:
        return [], False

    unmatched_q = Q(outcome=StatementEntryOutcome.UNMATCHED) | Q(transaction__isnull=True)
    by_day = {
        row["booking_date"]: row
        for row in entries.filter(booking_date__in=page).values("booking_date").annotate(
            count=Count("pk"), net=Coalesce(Sum("amount"), 0), unmatched=Count("pk", filter=unmatched_q))
    }
    clearing = _clearing_account(currency)
    money_in = {
        row["booking_date"]: row["amount"]
        for row in _with_flux_amount(
            entries.filter(booking_date__in=page, outcome__in=PLACING_OUTCOMES, transaction__isnull=False), clearing
        ).values("booking_date").annotate(amount=Coalesce(Sum("flux_amount"), 0))
    }
    sent_by_day = {
        row["day"]: row["amount"]
        for row in sent.filter(day__in=page).values("day").annotate(amount=Coalesce(Sum("amount"), 0))
    }
    opening_statements: dict[dt.date, Statement] = {}
    closing_statements: dict[dt.date, Statement] = {}
    for statement in statements.filter(closing_date__in=page).order_by("id"):
        opening_statements.setdefault(statement.closing_date, statement)  # the first uploaded opens the day
        closing_statements[statement.closing_date] = statement  # the latest uploaded closes it

    summaries = []
    for day in page:
        row = by_day.get(day, {})
        statement_net = row.get("net", 0)
        flux_net = money_in.get(day, 0) - sent_by_day.get(day, 0)
        first, statement = opening_statements.get(day), closing_statements.get(day)
        check = None
        if statement is not None and first.opening_balance is not None and statement.closing_balance is not None:
            check = first.opening_balance + statement_net == statement.closing_balance
        summaries.append(DaySummary(
            date=day, currency=currency, statement_entries=row.get("count", 0), statement_net=statement_net,
            flux_net=flux_net, difference=statement_net - flux_net, balance_check=check,
            unmatched_statement=row.get("unmatched", 0),
        ))
    return summaries, more


def clearing_position(*, currency: str = "EUR") -> ClearingPosition:
    """The clearing account's balance now and what makes it up (module docstring)."""
    clearing = _clearing_account(currency)
    transfers = _external_transfers(currency)
    waiting = transfers.filter(status=TransactionStatus.POSTED, clearing_run__isnull=True).exclude(
        Exists(Transaction.objects.filter(reverses=OuterRef("pk"), status=TransactionStatus.POSTED))
    ).aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
    booked = Exists(_booked_entry())
    sent = transfers.filter(sent_at__isnull=False).aggregate(
        not_booked_count=Count("pk", filter=~Q(booked)),
        not_booked=Coalesce(Sum("amount", filter=~Q(booked)), 0),
        booked_count=Count("pk", filter=Q(booked)),
        booked=Coalesce(Sum("amount", filter=Q(booked)), 0),
    )
    money_in = {"count": 0, "amount": 0}
    if clearing is not None:
        placed = StatementEntry.objects.filter(transaction=OuterRef("transaction"), outcome__in=PLACING_OUTCOMES)
        money_in = Entry.objects.filter(account=clearing).filter(Exists(placed)).aggregate(
            count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
        money_in["amount"] = -money_in["amount"]
    balance = clearing.balance if clearing else 0
    waiting_total = _total(waiting)
    not_booked = Total(sent["not_booked_count"], sent["not_booked"])
    booked_total = Total(sent["booked_count"], sent["booked"])
    money_in_total = _total(money_in)
    return ClearingPosition(
        currency=currency,
        account_iban=clearing.iban if clearing else None,
        balance=balance,
        waiting=waiting_total,
        sent_not_booked=not_booked,
        booked=booked_total,
        money_in=money_in_total,
        other=balance - (waiting_total.amount + not_booked.amount + booked_total.amount - money_in_total.amount),
    )
