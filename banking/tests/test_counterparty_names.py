"""Names in the history (issue 14): entries carry `counterparty_name`, derived when read (entries
are append-only), and a transfer keeps the `beneficiary_name` it was given."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from audit import actions
from audit.models import AuditEvent
from banking import services
from banking.models import Transaction
from banking.receipts import payee
from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.support import ACCOUNTS, DEPOSITS, cash, transfer
from core.testing.api import API, assert_error, idempotency_key, page, post
from core.testing.request_ids import request_data


def entries_of(client, account):
    return page(client.get(f"{ACCOUNTS}{account.pk}/entries/"))


def test_both_sides_of_a_flux_transfer_see_the_other_holders_name(api_client_for, alice, bob, alice_account,
                                                                   bob_account):
    assert transfer(api_client_for(alice), alice_account, bob_account, "10.00").status_code == 201
    paid = entries_of(api_client_for(alice), alice_account)[0]
    received = entries_of(api_client_for(bob), bob_account)[0]
    assert (paid["amount"], paid["counterparty"], paid["counterparty_name"]) == ("-10.00", bob_account.iban,
                                                                                 "Bob Builder")
    assert (received["counterparty"], received["counterparty_name"]) == (alice_account.iban, "Alice Liddell")


def test_the_holders_name_wins_over_a_close_name_the_payer_typed(api_client_for, alice, alice_account, bob_account):
    response = transfer(api_client_for(alice), alice_account, bob_account, "1.00", beneficiary_name="Bob Bilder")
    assert response.json()["payee_check"] == "close_match"
    assert entries_of(api_client_for(alice), alice_account)[0]["counterparty_name"] == "Bob Builder"


def test_after_a_no_match_the_payer_never_learns_the_holders_name(api_client_for, alice, bob, alice_account,
                                                                   bob_account):
    """The check refused to say whose account it is; paying it anyway must not say it either: the
    payer's history, the transaction's page and its receipt name the payee as the payer typed it."""
    response = transfer(api_client_for(alice), alice_account, bob_account, "1.00", beneficiary_name="Bobby")
    assert (response.json()["beneficiary_name"], response.json()["payee_check"]) == ("Bobby", "no_match")
    assert entries_of(api_client_for(alice), alice_account)[0]["counterparty_name"] == "Bobby"
    txn = Transaction.objects.get(pk=response.json()["id"])
    assert payee(txn).name == "Bobby"
    receipt = api_client_for(alice).get(f"{API}transactions/{txn.pk}/receipt/")
    text = "".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(receipt.content)).pages)
    assert "Bobby" in text and "Bob Builder" not in text
    # The payee still reads who paid them.
    assert entries_of(api_client_for(bob), bob_account)[0]["counterparty_name"] == "Alice Liddell"


def test_a_transfer_to_another_bank_keeps_the_name_it_was_given(api_client_for, alice, alice_account):
    response = transfer(api_client_for(alice), alice_account, EXTERNAL_IBAN, "5.00",
                        beneficiary_name="  Hans   Müller ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["beneficiary_name"], body["payee_check"]) == ("Hans Müller", "unavailable")
    assert Transaction.objects.get(pk=body["id"]).beneficiary_name == "Hans Müller"
    line = entries_of(api_client_for(alice), alice_account)[0]
    assert (line["counterparty"], line["counterparty_name"]) == (EXTERNAL_IBAN, "Hans Müller")


def test_without_a_name_a_saved_beneficiary_names_the_iban(api_client_for, alice, alice_account):
    client = api_client_for(alice)
    assert transfer(client, alice_account, EXTERNAL_IBAN, "5.00").status_code == 201
    assert entries_of(client, alice_account)[0]["counterparty_name"] == ""
    services.beneficiary_create(customer=alice, name="Landlord GmbH", iban=EXTERNAL_IBAN)
    assert entries_of(client, alice_account)[0]["counterparty_name"] == "Landlord GmbH"


def test_cash_is_named_cash_in_the_readers_language(api_client_for, agnes, alice, alice_account):
    assert cash(api_client_for(agnes), DEPOSITS, alice_account, "20.00").status_code == 201
    client = api_client_for(alice)
    assert entries_of(client, alice_account)[0]["counterparty_name"] == "Cash"
    french = page(client.get(f"{ACCOUNTS}{alice_account.pk}/entries/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert french[0]["counterparty_name"] == "Espèces"


@pytest.mark.parametrize("name", ["x" * 71, "Bob\x00Builder"])
def test_a_bad_beneficiary_name_is_refused_and_moves_nothing(api_client_for, alice, alice_account, bob_account,
                                                            name):
    before = Transaction.objects.count()
    response = transfer(api_client_for(alice), alice_account, bob_account, "1.00", beneficiary_name=name)
    assert_error(response, 400, "validation_error")
    assert "beneficiary_name" in response.json()["error"]["fields"]
    assert Transaction.objects.count() == before


def test_a_batch_item_keeps_its_beneficiary_name(api_client_for, alice, alice_account, bob_account):
    body = {"transfers": [
        {"source_account": alice_account.pk, "destination_iban": EXTERNAL_IBAN, "amount": "1.00",
         "beneficiary_name": "Hans Müller"},
        {"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "1.00"},
    ]}
    response = post(api_client_for(alice), f"{API}transfers/batch/", body, key=idempotency_key())
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [item["transaction"]["beneficiary_name"] for item in results] == ["Hans Müller", ""]
    names = [line["counterparty_name"] for line in entries_of(api_client_for(alice), alice_account)[:2]]
    assert names == ["Bob Builder", "Hans Müller"]


def test_names_cost_no_query_per_entry(api_client_for, alice, alice_account, bob_account):
    client = api_client_for(alice)
    transfer(client, alice_account, bob_account, "1.00")
    url = f"{ACCOUNTS}{alice_account.pk}/entries/"
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(4):
        transfer(client, alice_account, bob_account, "1.00")
        transfer(client, alice_account, EXTERNAL_IBAN, "1.00", beneficiary_name="Hans")
    with CaptureQueriesContext(connection) as many:
        lines = page(client.get(url))
    assert len(lines) >= 9 and {"Bob Builder", "Hans"} <= {line["counterparty_name"] for line in lines}
    assert len(many.captured_queries) == len(few.captured_queries)


# --- The payee check of a transfer made through the API (issue 14): computed by the service -----


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Bob Builder", "match"), ("builder bob", "match"), ("Bob Bilder", "close_match"), ("Carl Smith", "no_match"),
     ("", "")],
)
def test_an_api_transfer_keeps_what_the_check_says_of_its_name(api_client_for, alice, alice_account, bob_account,
                                                                name, expected):
    response = transfer(api_client_for(alice), alice_account, bob_account, "1.00", beneficiary_name=name)
    assert response.status_code == 201, response.content
    assert response.json()["payee_check"] == expected
    txn = Transaction.objects.get(pk=response.json()["id"])
    assert (txn.beneficiary_name, txn.payee_check) == (name, expected)
    data = request_data(AuditEvent.objects.get(action=actions.TRANSACTION_POSTED, target_id=str(txn.pk)), response)
    assert data.get("payee_check", "") == expected


def test_a_batch_item_keeps_its_check(api_client_for, alice, alice_account, bob_account):
    body = {"transfers": [
        {"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "1.00",
         "beneficiary_name": "Robert Smith"},
        {"source_account": alice_account.pk, "destination_iban": bob_account.iban, "amount": "1.00",
         "beneficiary_name": "Bob Builder"},
        {"source_account": alice_account.pk, "destination_iban": EXTERNAL_IBAN, "amount": "1.00",
         "beneficiary_name": "Hans"},
    ]}
    response = post(api_client_for(alice), f"{API}transfers/batch/", body, key=idempotency_key())
    checks = [item["transaction"]["payee_check"] for item in response.json()["results"]]
    assert checks == ["no_match", "match", "unavailable"]


def test_a_reversal_keeps_the_name(api_client_for, alice, agnes, sam, alice_account):
    response = transfer(api_client_for(alice), alice_account, EXTERNAL_IBAN, "5.00", beneficiary_name="Hans Müller")
    reversal = services.transaction_reverse(actor=agnes, transaction_id=response.json()["id"], reason="Mistake")
    services.transaction_approve(approver=sam, transaction_id=reversal.pk)
    lines = entries_of(api_client_for(alice), alice_account)
    assert [(line["kind"], line["counterparty_name"]) for line in lines[:2]] == [
        ("reversal", "Hans Müller"), ("external_transfer", "Hans Müller")]


def test_the_history_search_finds_a_name(api_client_for, alice, alice_account, bob_account):
    client = api_client_for(alice)
    transfer(client, alice_account, bob_account, "1.00", reference="Lunch")
    transfer(client, alice_account, EXTERNAL_IBAN, "2.00", reference="Flat", beneficiary_name="Hans Müller")
    transfer(client, alice_account, "NL91ABNA0417164300", "3.00", reference="Food")
    services.beneficiary_create(customer=alice, name="Grocer Jansen", iban="NL91ABNA0417164300")

    def search(q):
        return [line["reference"] for line in page(client.get(f"{ACCOUNTS}{alice_account.pk}/entries/", {"q": q}))]

    assert search("builder") == ["Lunch"]  # the holder's name
    assert search("hans") == ["Flat"]  # the name given with the transfer
    assert search("jansen") == ["Food"]  # a saved beneficiary's name
    assert search("nobody") == []
