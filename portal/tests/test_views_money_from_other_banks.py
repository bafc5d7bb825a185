"""What Alice sees of a camt.053 statement: a credit from another bank named after its payer (history,
transaction page, receipt), and a transfer of hers that came back (the return and the original)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from banking.clearing.samples import camt053_xml, credit
from banking.clearing.statements import statement_import
from banking.models import Transaction, TransactionKind
from banking.tests.clearing import JEAN_IBAN, sent_transfer

pytestmark = pytest.mark.django_db


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


@pytest.fixture
def imported(sam, alice, alice_account):
    original = sent_transfer(alice, alice_account, 40_00, reference="Invoice 7", beneficiary_name="Hans Meier")
    statement_import(initiator=sam, content=camt053_xml([
        credit("25.00", debtor_name="Jean Dupont", debtor_iban=JEAN_IBAN, creditor_iban=alice_account.iban,
               remittance="Rent March"),
        credit("40.00", end_to_end_id=str(original.pk), return_reason="AC04"),
    ]))
    return {
        "incoming": Transaction.objects.get(kind=TransactionKind.INCOMING_TRANSFER),
        "return": Transaction.objects.get(kind=TransactionKind.RETURN),
        "original": Transaction.objects.get(pk=original.pk),
    }


def test_the_history_names_the_payer(client, alice, alice_account, imported):
    client.force_login(alice)
    page = client.get(reverse("portal:account", args=[alice_account.pk])).content.decode()
    assert "Jean Dupont" in page and "Rent March" in page and "+25.00" in page
    assert "Transfer from another bank" in page
    assert "Returned transfer" in page and "Hans Meier" in page


def test_the_transaction_page_and_receipt_of_a_credit_from_another_bank(client, alice, alice_account, imported):
    client.force_login(alice)
    txn = imported["incoming"]

    page = client.get(reverse("portal:transaction", args=[txn.pk])).content.decode()

    assert 'data-testid="transaction-status">Posted<' in page
    assert "Transfer from another bank" in page
    payer = page.split('data-testid="transaction-payer"')[1].split("</dd>")[0]
    assert "Jean Dupont" in payer and grouped(JEAN_IBAN) in payer
    payee = page.split('data-testid="transaction-payee"')[1].split("</dd>")[0]
    assert "Alice Liddell" in payee and grouped(alice_account.iban) in payee
    assert "+25.00" in page
    receipt = client.get(reverse("portal:transaction-receipt", args=[txn.pk]))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.content)).pages)
    assert "Jean Dupont" in text and "Transfer from another bank" in text and "Alice Liddell" in text
    assert "External clearing" not in text


def test_a_return_and_the_transfer_it_credits_back(client, alice, imported):
    client.force_login(alice)
    back, original = imported["return"], imported["original"]

    page = client.get(reverse("portal:transaction", args=[back.pk])).content.decode()
    assert "Returned transfer" in page and "Hans Meier" in page and "+40.00" in page
    assert f'href="{reverse("portal:transaction", args=[original.pk])}" data-testid="transaction-returned-original"' \
        in page

    page = client.get(reverse("portal:transaction", args=[original.pk])).content.decode()
    assert 'data-testid="transaction-status">Returned by the other bank<' in page
    assert 'data-event="returned"' in page
    assert f'href="{reverse("portal:transaction", args=[back.pk])}" data-testid="transaction-return"' in page


def test_in_french(client, alice, imported):
    client.force_login(alice)
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("portal:transaction", args=[imported["original"].pk]),
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Retourné par l’autre banque" in page and "Recrédité par" in page
    page = client.get(reverse("portal:transaction", args=[imported["incoming"].pk]),
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Virement d’une autre banque" in page
