"""Reconciliation on a built day: the statement's entries against the clearing account's movements
(money in placed from the statement, our transfers sent), matched and unmatched on each side, the
balance check, the difference and what explains it; the clearing account's balance and what makes
it up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from banking.clearing.reconciliation import (
    clearing_position,
    reconciliation_day,
    reconciliation_days,
)
from banking.ledger import internal_account
from banking.models import AccountKind, StatementEntryOutcome, TransactionKind, TransactionStatus
from banking.services import transaction_approve, transaction_reverse, transfer_create
from banking.tests.clearing_factories import make_entry, make_statement, mark_sent, place_in_suspense, post_incoming
from banking.tests.factories import EXTERNAL_IBAN, fresh

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2026, 11, 20)
OPENING = 10_000_00


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


def out(alice, account, amount: int, reference: str):
    return transfer_create(initiator=alice, source_account_id=account.pk, destination_iban=EXTERNAL_IBAN,
                           amount=amount, reference=reference)


@pytest.fixture
def day(sam, alice, alice_account, bob_account, clearing):
    """DAY's statement: a credit to Bob, a credit to suspense, the return of one of our transfers,
    two of our transfers booked (one sent that day, one the day before), a fee nobody matches, and
    a duplicate of the credit. On the Flux side also: a transfer sent on DAY (just after midnight,
    local time) not booked yet, one sent three days before still not booked, one not sent at all."""
    internal_account(AccountKind.SUSPENSE, "EUR")
    t0 = out(alice, alice_account, 40_00, "t0 returned")
    mark_sent([t0], by=sam, at=at(DAY - dt.timedelta(days=2)))
    earlier = make_statement(by=sam, opening=OPENING - 40_00, closing=OPENING, closing_date=DAY - dt.timedelta(days=1))
    make_entry(earlier, amount=-40_00, outcome=StatementEntryOutcome.BOOKED, booking_date=DAY - dt.timedelta(days=1),
               transaction=t0)
    t1 = out(alice, alice_account, 100_00, "t1 sent and booked on DAY")
    t2 = out(alice, alice_account, 70_00, "t2 sent the day before")
    t3 = out(alice, alice_account, 60_00, "t3 sent on DAY, in transit")
    t4 = out(alice, alice_account, 30_00, "t4 sent three days before, in transit")
    t5 = out(alice, alice_account, 20_00, "t5 waiting for the next run")
    mark_sent([t2], by=sam, at=at(DAY - dt.timedelta(days=1), 18))
    mark_sent([t1], by=sam, at=at(DAY, 9))
    # 00:30 in Paris on DAY is 23:30 UTC the day before: DAY all the same (local time).
    mark_sent([t3], by=sam, at=dt.datetime(2026, 11, 19, 23, 30, tzinfo=dt.UTC))
    mark_sent([t4], by=sam, at=at(DAY - dt.timedelta(days=3)))

    statement = make_statement(by=sam, opening=OPENING, closing=OPENING + 415_00, closing_date=DAY)
    credit = post_incoming(by=sam, destination=bob_account, amount=300_00, payer_name="ACME SA")
    make_entry(statement, amount=300_00, outcome=StatementEntryOutcome.CREDITED, booking_date=DAY, transaction=credit)
    item = place_in_suspense(by=sam, amount=250_00, statement=statement, booking_date=DAY)
    returned = post_incoming(by=sam, destination=alice_account, amount=40_00, kind=TransactionKind.RETURN,
                             return_of=t0)
    t0.status = TransactionStatus.RETURNED
    t0.save(update_fields=["status"])
    make_entry(statement, amount=40_00, outcome=StatementEntryOutcome.RETURNED, booking_date=DAY, transaction=returned,
               return_reason="AC04")
    make_entry(statement, amount=-100_00, outcome=StatementEntryOutcome.BOOKED, booking_date=DAY, transaction=t1)
    make_entry(statement, amount=-70_00, outcome=StatementEntryOutcome.BOOKED, booking_date=DAY, transaction=t2)
    fee = make_entry(statement, amount=-5_00, outcome=StatementEntryOutcome.UNMATCHED, booking_date=DAY,
                     note="Bank fee")
    again = make_statement(by=sam)
    make_entry(again, amount=300_00, outcome=StatementEntryOutcome.DUPLICATE, booking_date=DAY)
    return {"statement": statement, "fee": fee, "item": item, "credit": credit,
            **{f"t{n}": t for n, t in enumerate([t0, t1, t2, t3, t4, t5])}}


def test_the_statement_side_counts_the_days_entries_once_and_checks_the_balances(day):
    figure = reconciliation_day(day=DAY)
    side = figure.statement
    assert (side.entries, side.credits, side.debits, side.net) == (6, 590_00, -175_00, 415_00)
    assert side.statement_id == day["statement"].pk
    assert (side.opening_balance, side.closing_balance, side.balance_check) == (OPENING, OPENING + 415_00, True)
    assert figure.previous_closing_balance == OPENING and figure.opening_matches_previous is True


def test_a_closing_balance_that_does_not_add_up_fails_the_check(day):
    day["statement"].closing_balance = OPENING + 414_99
    day["statement"].save(update_fields=["closing_balance"])
    assert reconciliation_day(day=DAY).statement.balance_check is False


def test_the_flux_side_is_the_money_placed_from_the_days_entries_and_the_transfers_sent_that_day(day):
    flux = reconciliation_day(day=DAY).flux
    assert (flux.money_in.count, flux.money_in.amount) == (3, 590_00)
    assert (flux.sent.count, flux.sent.amount) == (2, -160_00)  # t1 and t3 (local date)
    assert flux.net == 430_00


def test_matched_and_unmatched_on_each_side_and_the_difference_explained(day):
    figure = reconciliation_day(day=DAY)
    assert (figure.matched.count, figure.matched.amount) == (5, 420_00)
    assert figure.mismatches == []
    assert [e.pk for e in figure.unmatched_statement_entries] == [day["fee"].pk]
    assert (figure.unmatched_statement.count, figure.unmatched_statement.amount) == (1, -5_00)
    assert [(t.pk, t.age_days) for t in figure.in_transit_transfers] == [(day["t4"].pk, 3), (day["t3"].pk, 0)]
    assert (figure.in_transit.count, figure.in_transit.amount) == (2, -90_00)
    assert (figure.booked_sent_other_day.count, figure.booked_sent_other_day.amount) == (1, -70_00)
    assert (figure.sent_not_booked_that_day.count, figure.sent_not_booked_that_day.amount) == (1, -60_00)
    assert figure.difference == 415_00 - 430_00
    assert figure.unexplained == 0


def test_a_booked_amount_that_differs_from_our_transfer_is_a_mismatch_left_unexplained(sam, day):
    statement = make_statement(by=sam, closing_date=DAY + dt.timedelta(days=1))
    t5 = day["t5"]
    mark_sent([t5], by=sam, at=at(DAY + dt.timedelta(days=1)))
    entry = make_entry(statement, amount=-19_00, outcome=StatementEntryOutcome.BOOKED,
                       booking_date=DAY + dt.timedelta(days=1), transaction=t5)
    figure = reconciliation_day(day=DAY + dt.timedelta(days=1))
    assert [(e.pk, e.flux_amount) for e in figure.mismatches] == [(entry.pk, -20_00)]
    assert figure.difference == 1_00 and figure.unexplained == 1_00
    assert figure.statement.balance_check is None  # no balances on that statement


def test_a_day_without_anything_is_all_zero(day):
    figure = reconciliation_day(day=DAY + dt.timedelta(days=30))
    assert figure.statement.entries == 0 and figure.statement.balance_check is None
    assert figure.flux.net == 0 and figure.difference == 0 and figure.unexplained == 0
    # Every transfer sent before is still in transit then, unless booked.
    assert figure.in_transit.count == 2


def test_another_currency_sees_none_of_it(day):
    figure = reconciliation_day(day=DAY, currency="USD")
    assert figure.statement.entries == 0 and figure.flux.net == 0 and figure.in_transit.count == 0


def test_the_day_figure_costs_a_fixed_number_of_queries(sam, day, bob_account):
    with CaptureQueriesContext(connection) as few:
        reconciliation_day(day=DAY)
    for n in range(5):
        credit = post_incoming(by=sam, destination=bob_account, amount=1_00 + n)
        make_entry(day["statement"], amount=1_00 + n, outcome=StatementEntryOutcome.CREDITED, booking_date=DAY,
                   transaction=credit)
    with CaptureQueriesContext(connection) as more:
        reconciliation_day(day=DAY)
    assert len(more) == len(few) <= 13


def test_recent_days_newest_first_with_their_summary_and_a_next_page(day):
    days, more = reconciliation_days()
    assert [d.date for d in days] == [DAY - dt.timedelta(days=n) for n in range(4)] and more is False
    figure = reconciliation_day(day=DAY)
    summary = days[0]
    assert (summary.statement_entries, summary.statement_net, summary.flux_net, summary.difference) == (
        6, figure.statement.net, figure.flux.net, figure.difference)
    assert summary.balance_check is True and summary.unmatched_statement == 1
    assert days[1].statement_net == -40_00 and days[1].flux_net == -70_00  # t0 booked, t2 sent
    first, more = reconciliation_days(limit=1)
    assert [d.date for d in first] == [DAY] and more is True
    rest, more = reconciliation_days(before=DAY, limit=2)
    assert [d.date for d in rest] == [DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=2)] and more is True


def test_the_clearing_account_balance_is_made_up_of_waiting_in_transit_booked_and_money_in(day, clearing):
    position = clearing_position()
    assert position.balance == fresh(clearing).balance
    assert (position.waiting.count, position.waiting.amount) == (1, 20_00)  # t5
    assert (position.sent_not_booked.count, position.sent_not_booked.amount) == (2, 90_00)  # t3, t4
    assert (position.booked.count, position.booked.amount) == (3, 210_00)  # t0, t1, t2
    assert (position.money_in.count, position.money_in.amount) == (3, 590_00)
    assert position.balance == 20_00 + 90_00 + 210_00 - 590_00
    assert position.other == 0


def test_a_movement_on_the_clearing_account_none_of_these_explains_shows_as_other(day, agnes, sam, clearing):
    reversal = transaction_reverse(actor=agnes, transaction_id=day["credit"].pk, reason="Credited by mistake")
    transaction_approve(approver=sam, transaction_id=reversal.pk)
    position = clearing_position()
    assert position.other == 300_00 and position.balance == fresh(clearing).balance


def test_a_second_statement_of_the_day_continues_from_the_first(day, sam):
    """Two statements closing on DAY (an intraday one, then the end of day): the day opens with the
    first's opening balance and closes with the latest's closing balance."""
    later = make_statement(by=sam, opening=OPENING + 415_00, closing=OPENING + 405_00, closing_date=DAY)
    make_entry(later, amount=-10_00, outcome=StatementEntryOutcome.UNMATCHED, booking_date=DAY, note="Bank fee")
    side = reconciliation_day(day=DAY).statement
    assert (side.opening_balance, side.closing_balance, side.net) == (OPENING, OPENING + 405_00, 405_00)
    assert side.balance_check is True
    assert [s.balance_check for s in reconciliation_days()[0] if s.date == DAY] == [True]
    later.closing_balance = OPENING + 415_00  # as if the fee were not on it
    later.save(update_fields=["closing_balance"])
    assert reconciliation_day(day=DAY).statement.balance_check is False
