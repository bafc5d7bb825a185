"""GET /api/v1/transactions/{id}/receipt/: a PDF proof of payment, read back with pypdf."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from banking.services import transaction_cancel, transfer_create
from banking.tests.factories import EXTERNAL_IBAN, pending_transfer
from core.testing.api import API, assert_error

pytestmark = pytest.mark.django_db


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def receipt(client, txn_id, **headers):
    return client.get(f"{API}transactions/{txn_id}/receipt/", headers=headers)


def text_of(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_receipt_names_parties_amount_bank_and_times(api_client_for, alice, bob, rich_account, bob_account):
    txn = transfer_create(initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban,
                          amount=4_482_98, reference="Kitchen works, invoice 118")

    response = receipt(api_client_for(alice), txn.pk, **{"Accept-Language": "en"})

    text = text_of(response)
    assert 'filename="flux-receipt-' in response["Content-Disposition"]
    assert "4,482.98 EUR" in text
    assert alice.get_full_name() in text and bob.get_full_name() in text
    assert grouped(rich_account.iban) in text and grouped(bob_account.iban) in text
    assert "Flux" in text and "BIC FLUXNL2AXXX" in text
    assert f"Transaction {txn.pk}" in text
    assert "Posted" in text and "Kitchen works, invoice 118" in text
    assert str(txn.created_at.year) in text


def test_the_receipt_in_french_groups_thousands_the_french_way(api_client_for, alice, rich_account, bob_account):
    txn = transfer_create(initiator=alice, source_account_id=rich_account.pk, destination_iban=bob_account.iban,
                          amount=4_482_98)
    text = text_of(receipt(api_client_for(alice), txn.pk, **{"Accept-Language": "fr"}))
    assert "4\xa0482,98\xa0EUR" in text or "4 482,98 EUR" in text
    assert "Reçu de paiement" in text


def test_the_bic_comes_from_the_settings(api_client_for, alice, alice_account, bob_account, settings):
    settings.FLUX_BIC = "FLUXNL3BXXX"
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=1_00)
    assert "FLUXNL3BXXX" in text_of(receipt(api_client_for(alice), txn.pk))


def test_a_transfer_to_another_bank_and_a_cancelled_one(api_client_for, alice, rich_account, clearing):
    txn = pending_transfer(alice, rich_account, _External(), 12_000_00, reference="Car")
    transaction_cancel(actor=alice, transaction_id=txn.pk)
    text = text_of(receipt(api_client_for(alice), txn.pk, **{"Accept-Language": "en"}))
    assert grouped(EXTERNAL_IBAN) in text and "Cancelled" in text and "12,000.00 EUR" in text


class _External:
    iban = EXTERNAL_IBAN


def test_parties_and_staff_only(api_client_for, alice, bob, carol, carol_account, agnes, sam, alice_account,
                                bob_account):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=7_00)
    for user in (alice, bob, agnes, sam):
        text_of(receipt(api_client_for(user), txn.pk))
    assert_error(receipt(api_client_for(carol), txn.pk), 404, "not_found")
    assert_error(receipt(api_client_for(alice), 999999999), 404, "not_found")
    assert_error(receipt(api_client_for(None), txn.pk), 401, "not_authenticated")
