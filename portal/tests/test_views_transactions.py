"""The customer's transfers waiting for approval (overview and account page), cancelling one
(a confirmation page, then once per token), a transaction's page and its PDF receipt."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from audit import actions
from audit.models import AuditEvent
from banking.models import TransactionStatus
from banking.services import (
    deposit_create,
    pending_expire,
    transaction_approve,
    transaction_cancel,
    transaction_reverse,
    transfer_create,
)
from banking.tests.factories import fresh, pending_transfer
from core.idempotency import IdempotencyKey

pytestmark = pytest.mark.django_db


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def token_on(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def client_factory():
    return Client


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


# --- Waiting for approval ------------------------------------------------------------------------


def test_the_overview_and_the_account_list_pending_transfers(signed_in, alice, alice_account, rich_account,
                                                             bob_account):
    txn = pending_transfer(alice, rich_account, bob_account, 12_345_67, reference="Car")

    for url in (reverse("portal:accounts"), reverse("portal:account", args=[rich_account.pk])):
        page = signed_in.get(url).content.decode()
        assert 'data-testid="pending"' in page, url
        assert "Waiting for approval" in page
        assert f'data-transaction-id="{txn.pk}"' in page
        assert "12,345.67" in page and grouped(bob_account.iban) in page
        assert "Waiting for approval since" in page
        assert reverse("portal:transaction-cancel", args=[txn.pk]) in page
    # Not on the page of the account it does not leave from.
    page = signed_in.get(reverse("portal:account", args=[alice_account.pk])).content.decode()
    assert 'data-testid="pending"' not in page


def test_nothing_waiting_shows_no_section(signed_in, alice, alice_account, rich_account, bob_account):
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban, amount=5_00)
    page = signed_in.get(reverse("portal:accounts")).content.decode()
    assert 'data-testid="pending"' not in page


def test_the_payee_does_not_see_it_as_waiting(client, alice, bob, rich_account, bob_account):
    pending_transfer(alice, rich_account, bob_account)
    client.force_login(bob)
    assert 'data-testid="pending"' not in client.get(reverse("portal:accounts")).content.decode()


def test_the_list_is_in_french(signed_in, alice, rich_account, bob_account):
    pending_transfer(alice, rich_account, bob_account, 12_345_67)
    page = signed_in.get(reverse("portal:accounts"), headers={"accept-language": "fr"}).content.decode()
    assert "En attente d" in page and "12\xa0345,67" in page


# --- Cancel ----------------------------------------------------------------------------------------


def test_cancel_asks_then_cancels_once(signed_in, alice, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account, 12_000_00, reference="Car")
    url = reverse("portal:transaction-cancel", args=[txn.pk])

    with unchanged():
        confirm = signed_in.get(url)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Cancel this transfer?" in page and grouped(bob_account.iban) in page and "12,000.00" in page
    token = token_on(confirm)

    response = signed_in.post(url, {"token": token, "step": "confirm"})

    assert response.status_code == 302 and response["Location"] == reverse("portal:account", args=[rich_account.pk])
    txn.refresh_from_db()
    assert txn.status == TransactionStatus.CANCELLED and txn.decided_by == alice
    account = fresh(rich_account)
    assert account.held == 0 and account.balance == 30_000_00
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_CANCELLED, target_id=str(txn.pk)).count() == 1
    after = signed_in.get(response["Location"]).content.decode()
    assert "The transfer is cancelled" in after and 'data-testid="pending"' not in after

    # The same token again (a double click, a reload): the first answer, nothing more.
    again = signed_in.post(url, {"token": token, "step": "confirm"})
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action=actions.TRANSACTION_CANCELLED).count() == 1
    assert IdempotencyKey.objects.filter(key=f"portal-cancel:{uuid.UUID(token).hex}").count() == 1


def test_cancelling_what_is_no_longer_pending_says_so(signed_in, alice, sam, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    url = reverse("portal:transaction-cancel", args=[txn.pk])
    token = token_on(signed_in.get(url))
    transaction_approve(approver=sam, transaction_id=txn.pk)

    with unchanged():
        response = signed_in.post(url, {"token": token, "step": "confirm"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "no longer waiting for a decision" in page and 'data-testid="cancel-confirm"' not in page
    assert fresh(rich_account).balance == 20_000_00


def test_another_customer_gets_404_and_the_payee_cannot_cancel(client, alice, bob, carol, rich_account,
                                                               bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    url = reverse("portal:transaction-cancel", args=[txn.pk])
    with unchanged():
        client.force_login(carol)
        assert client.get(url).status_code == 404
        assert client.post(url, {"token": str(uuid.uuid4()), "step": "confirm"}).status_code == 404
        client.force_login(bob)
        page = client.get(url).content.decode()
        assert 'data-testid="cancel-confirm"' not in page
        assert client.post(url, {"token": str(uuid.uuid4()), "step": "confirm"}).status_code == 403
    assert fresh(rich_account).held == 10_000_00


def test_a_missing_token_cancels_nothing(signed_in, alice, rich_account, bob_account, unchanged):
    txn = pending_transfer(alice, rich_account, bob_account)
    with unchanged():
        response = signed_in.post(reverse("portal:transaction-cancel", args=[txn.pk]), {"step": "confirm"})
    assert response.status_code == 400


# --- The transaction page -------------------------------------------------------------------------


def test_each_history_line_links_to_its_transaction(signed_in, alice, alice_account, bob_account):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=42_00, reference="Lunch")
    page = signed_in.get(reverse("portal:account", args=[alice_account.pk])).content.decode()
    assert reverse("portal:transaction", args=[txn.pk]) in page


def test_the_page_shows_parties_amount_history_and_reference(signed_in, client_factory, alice, bob, rich_account,
                                                               bob_account, sam):
    reference = "Invoice 2026-118, second instalment of the kitchen works, thank you"
    txn = pending_transfer(alice, rich_account, bob_account, 12_500_00, reference=reference)
    transaction_approve(approver=sam, transaction_id=txn.pk)

    response = signed_in.get(reverse("portal:transaction", args=[txn.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "-12,500.00" in page and reference in page
    assert alice.get_full_name() in page and bob.get_full_name() in page
    assert grouped(rich_account.iban) in page and grouped(bob_account.iban) in page
    events = re.findall(r'data-testid="timeline-step" data-event="([a-z_]+)"', page)
    assert events == ["created", "pending", "approved", "posted"]
    assert reverse("portal:transaction-receipt", args=[txn.pk]) in page
    # The payee sees it too, as money in.
    payee_client = client_factory()
    payee_client.force_login(bob)
    bob_page = payee_client.get(reverse("portal:transaction", args=[txn.pk]))
    assert bob_page.status_code == 200 and "+12,500.00" in bob_page.content.decode()


def test_a_cancelled_transfer_shows_who_cancelled(signed_in, alice, rich_account, bob_account):
    txn = pending_transfer(alice, rich_account, bob_account)
    transaction_cancel(actor=alice, transaction_id=txn.pk)
    page = signed_in.get(reverse("portal:transaction", args=[txn.pk])).content.decode()
    assert re.findall(r'data-event="([a-z_]+)"', page) == ["created", "pending", "cancelled"]
    assert "Cancelled by you" in page


def test_a_transfer_not_approved_in_time_shows_voided(signed_in, alice, rich_account, bob_account):
    txn = pending_transfer(alice, rich_account, bob_account)
    assert pending_expire(now=txn.expires_at) == 1
    page = signed_in.get(reverse("portal:transaction", args=[txn.pk])).content.decode()
    assert 'data-status="voided"' in page
    assert 'data-testid="transaction-status">Voided<' in page
    assert re.findall(r'data-event="([a-z_]+)"', page) == ["created", "pending", "expired"]
    assert "Expired without a decision" in page


def test_the_reversal_and_its_original_are_linked(signed_in, alice, agnes, sam, alice_account, bob_account):
    original = transfer_create(initiator=alice, source_account_id=alice_account.pk,
                               destination_iban=bob_account.iban, amount=40_00)
    reversal = transaction_reverse(actor=agnes, transaction_id=original.pk, reason="Paid twice")
    transaction_approve(approver=sam, transaction_id=reversal.pk)

    page = signed_in.get(reverse("portal:transaction", args=[original.pk])).content.decode()
    assert reverse("portal:transaction", args=[reversal.pk]) in page and 'data-testid="transaction-reversal"' in page
    assert re.findall(r'data-event="([a-z_]+)"', page)[-2:] == ["reversal_requested", "reversed"]
    page = signed_in.get(reverse("portal:transaction", args=[reversal.pk])).content.decode()
    assert 'data-testid="transaction-original"' in page


def test_another_customers_transaction_is_not_found(client, carol, alice, alice_account, bob_account):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=1_00)
    client.force_login(carol)
    for name in ("portal:transaction", "portal:transaction-receipt"):
        assert client.get(reverse(name, args=[txn.pk])).status_code == 404


# --- The receipt from the page ----------------------------------------------------------------------


def test_the_receipt_from_the_page_is_a_pdf(signed_in, alice, bob, alice_account, bob_account):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=42_50, reference="Lunch")
    response = signed_in.get(reverse("portal:transaction-receipt", args=[txn.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "42.50 EUR" in text and "Lunch" in text and grouped(bob_account.iban) in text
    assert str(txn.pk) in text


def test_a_deposit_receipt_names_the_cash_vault(signed_in, agnes, alice_account):
    deposit = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=20_00)
    with translation.override("en"):
        text = pdf_text(signed_in.get(reverse("portal:transaction-receipt", args=[deposit.pk])).content)
    assert "Flux (Cash vault)" in text
