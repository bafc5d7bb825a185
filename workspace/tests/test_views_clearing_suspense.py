"""The desk's suspense and reconciliation pages (supervisors): the list with its status badges, assign
by IBAN and send back, each through a confirmation and once per token; refusals on the form
changing nothing; the reconciliation days and one day's figure; agents get 403; French."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from audit.models import AuditEvent
from banking.iban import generate_flux_iban
from banking.ledger import internal_account
from banking.models import AccountKind, StatementEntryOutcome, Transaction, TransactionKind, TransactionStatus
from banking.services import account_freeze
from banking.tests.clearing_factories import make_entry, make_statement, place_in_suspense
from banking.tests.factories import fresh
from workspace.tests.desk_support import client_for, form_token

pytestmark = pytest.mark.django_db

LIST = "/agent/clearing/suspense/"
RECONCILIATION = "/agent/clearing/reconciliation/"
DAY = dt.date(2026, 11, 20)


@pytest.fixture
def item(sam, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    return place_in_suspense(by=sam, amount=250_00, booking_date=DAY)


def assign(client, item, iban: str, *, token: str | None = None):
    url = f"{LIST}{item.pk}/assign/"
    token = token or form_token(client, url)
    confirm = client.post(url, {"token": token, "iban": iban})
    return url, token, confirm


def test_the_list_shows_open_items_with_payer_reason_and_actions(sam, item):
    page = client_for(sam).get(LIST).content.decode()
    assert re.findall(r'data-item="(\d+)" data-status="(\w+)"', page) == [(str(item.pk), "open")]
    assert "Jean Dupont" in page and "250.00" in page and "No Flux account has this IBAN" in page
    assert f"{LIST}{item.pk}/assign/" in page and f"{LIST}{item.pk}/send-back/" in page


def test_empty_states(sam, clearing):
    assert 'data-testid="suspense-empty"' in client_for(sam).get(LIST).content.decode()
    assert 'data-testid="reconciliation-empty"' in client_for(sam).get(RECONCILIATION).content.decode()


def test_agents_get_403(agnes, item):
    client = client_for(agnes)
    for url in (LIST, f"{LIST}{item.pk}/assign/", f"{LIST}{item.pk}/send-back/", RECONCILIATION,
                f"{RECONCILIATION}2026-11-20/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{LIST}{item.pk}/assign/", {"iban": "x"}).status_code == 403


def test_assign_by_iban_confirms_then_posts_once(sam, item, bob_account):
    client = client_for(sam)
    before = fresh(bob_account).balance
    url, token, confirm = assign(client, item, bob_account.iban.lower())
    page = confirm.content.decode()
    assert confirm.status_code == 200 and 'data-testid="confirm-account"' in page and "Bob Builder" in page
    assert fresh(bob_account).balance == before  # nothing moves before the confirmation
    done = client.post(url, {"token": token, "iban": bob_account.iban, "step": "confirm"})
    assert done.status_code == 302 and done["Location"] == LIST
    again = client.post(url, {"token": token, "iban": bob_account.iban, "step": "confirm"})  # a double click
    assert again.status_code == 302
    assert fresh(bob_account).balance == before + 250_00
    assert AuditEvent.objects.filter(action="suspense.assigned").count() == 1
    resolved = client.get(f"{LIST}?status=resolved").content.decode()
    assert f'data-item="{item.pk}" data-status="resolved"' in resolved


def test_assign_above_the_threshold_says_it_waits_and_shows_waiting_for_approval(sam, bob_account, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    big = place_in_suspense(by=sam, amount=20_000_00)
    client = client_for(sam)
    url, token, confirm = assign(client, big, bob_account.iban)
    assert 'data-testid="needs-approval"' in confirm.content.decode()
    client.post(url, {"token": token, "iban": bob_account.iban, "step": "confirm"})
    page = client.get(f"{LIST}?status=pending").content.decode()
    assert f'data-item="{big.pk}" data-status="pending"' in page and "Waiting for approval" in page
    assert fresh(bob_account).balance == 500_00


def test_a_wrong_iban_or_a_frozen_account_is_said_on_the_form_and_nothing_moves(sam, agnes, item, bob_account,
                                                                                  unchanged):
    client = client_for(sam)
    with unchanged():
        _, _, unknown = assign(client, item, generate_flux_iban())
        assert unknown.status_code == 400 and "No open Flux account has this IBAN" in unknown.content.decode()
        _, _, invalid = assign(client, item, "NL00 1234")
        assert invalid.status_code == 400 and 'aria-invalid="true"' in invalid.content.decode()
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Fraud check")
    with unchanged():
        url, token, _ = assign(client, item, bob_account.iban)
        refused = client.post(url, {"token": token, "iban": bob_account.iban, "step": "confirm"})
        assert refused.status_code == 409 and "frozen" in refused.content.decode()


def test_send_back_confirms_then_posts_a_transfer_for_the_next_clearing_run(sam, item):
    client = client_for(sam)
    url = f"{LIST}{item.pk}/send-back/"
    form = client.get(url).content.decode()
    assert "Returned to sender: Invoice 42" in form and "FR14 2004" in form
    token = form_token(client, url)
    confirm = client.post(url, {"token": token, "reason": "Unknown customer"})
    assert 'data-testid="confirm-form"' in confirm.content.decode()
    assert not Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER).exists()
    done = client.post(url, {"token": token, "reason": "Unknown customer", "step": "confirm"})
    assert done.status_code == 302
    txn = Transaction.objects.get(kind=TransactionKind.EXTERNAL_TRANSFER)
    assert txn.status == TransactionStatus.POSTED and txn.clearing_run_id is None


def test_send_back_without_the_payers_iban_offers_no_form(sam, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    nameless = place_in_suspense(by=sam, amount=10_00, debtor_iban="")
    page = client_for(sam).get(f"{LIST}{nameless.pk}/send-back/").content.decode()
    assert 'data-testid="iban-error"' in page and 'data-testid="resolve-form"' not in page


def test_reconciliation_pages_show_the_days_and_one_days_sides(sam, item):
    statement = make_statement(by=sam, opening=0, closing=240_00, closing_date=DAY)  # off by 5.00
    make_entry(statement, amount=-5_00, outcome=StatementEntryOutcome.UNMATCHED, booking_date=DAY, note="Bank fee")
    client = client_for(sam)
    days = client.get(RECONCILIATION).content.decode()
    assert 'data-date="2026-11-20" data-difference="-500"' in days and 'data-check="off"' in days
    assert 'data-testid="clearing-position"' in days
    day = client.get(f"{RECONCILIATION}2026-11-20/").content.decode()
    assert 'data-difference="-500" data-unexplained="0"' in day
    assert "Bank fee" in day and 'data-check="off"' in day and 'data-testid="unmatched-entry"' in day
    assert client.get(f"{RECONCILIATION}not-a-day/").status_code == 404


def test_the_pages_speak_french(sam, item):
    client = client_for(sam)
    client.cookies["django_language"] = "fr"
    page = client.get(LIST).content.decode()
    assert "Compte d’attente" in page and "Ouvert" in page and "Affecter…" in page
    assert "Rapprochement" in client.get(RECONCILIATION).content.decode()


def test_a_pending_assignment_shows_in_the_approval_queue_with_its_payer_and_account_and_is_approved_there(
        sam, agnes, bob_account, clearing):
    internal_account(AccountKind.SUSPENSE, "EUR")
    big = place_in_suspense(by=sam, amount=20_000_00, debtor_name="ACME SA")
    url, token, _ = assign(client_for(sam), big, bob_account.iban)
    client_for(sam).post(url, {"token": token, "iban": bob_account.iban, "step": "confirm"})
    txn = Transaction.objects.get(kind=TransactionKind.INCOMING_TRANSFER, status=TransactionStatus.PENDING)
    queue = client_for(agnes).get("/agent/approvals/").content.decode()
    row = queue.split(f'data-transaction="{txn.pk}"')[1].split("</tr>")[0]
    assert "ACME SA" in row and "FR14 2004" in row
    assert f"→ <span class=\"font-mono\">{' '.join(bob_account.iban[i:i + 4] for i in range(0, 18, 4))}" in row
    detail = client_for(agnes).get(f"/agent/transactions/{txn.pk}/").content.decode()
    assert 'data-testid="transaction-payer"' in detail and "Bob Builder" in detail
    assert client_for(agnes).post(f"/agent/approvals/{txn.pk}/approve/").status_code == 302
    assert fresh(bob_account).balance == 500_00 + 20_000_00
