"""Verification of payee on the customer pages (issue 14): the session endpoint the forms call as
the customer types, and the transfer form's rule: a name that does not match the holder's needs
"I have checked the details", and what the check said is recorded with the transfer and its audit
event."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from audit import actions
from audit.models import AuditEvent
from banking.models import Transaction

pytestmark = pytest.mark.django_db

CHECK = "/app/payee-check/"
URL = "/app/transfer/"
EXTERNAL_IBAN = "NL91ABNA0417164300"


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_the_page_endpoint_answers_with_the_session(signed_in, bob_account):
    assert signed_in.get(CHECK, {"iban": bob_account.iban, "name": "builder bob"}).json() == {"result": "match"}
    assert signed_in.get(CHECK, {"iban": bob_account.iban, "name": "Bob Bilder"}).json() == {
        "result": "close_match", "name": "Bob Builder"}
    answer = signed_in.get(CHECK, {"iban": bob_account.iban, "name": "Carol Danvers"})
    assert answer.json() == {"result": "no_match"} and b"Builder" not in answer.content
    assert signed_in.get(CHECK, {"iban": EXTERNAL_IBAN, "name": "X"}).json() == {"result": "unavailable"}
    refused = signed_in.get(CHECK, {"iban": "NL00FLUX0000000001", "name": "X"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_iban")


def test_the_page_endpoint_needs_a_session_and_is_rate_limited(signed_in, bob_account, monkeypatch):
    anonymous = type(signed_in)()
    assert anonymous.get(CHECK, {"iban": bob_account.iban, "name": "Bob"}).status_code in (401, 403)
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {"payee_check": "2/min", "user": "1000/min", "anon": "1000/min", "auth": "1000/min"})
    try:
        for _ in range(2):
            assert signed_in.get(CHECK, {"iban": bob_account.iban, "name": "Bob"}).status_code == 200
        throttled = signed_in.get(CHECK, {"iban": bob_account.iban, "name": "Bob"})
        assert (throttled.status_code, throttled.json()["error"]["code"]) == (429, "throttled")
    finally:
        cache.clear()


def form(source, **overrides) -> dict:
    return {
        "token": str(uuid.uuid4()), "source": str(source.pk), "destination_type": "iban",
        "destination_account": "", "beneficiary": "", "iban": "", "amount": "12.50", "reference": "Books",
        "beneficiary_name": "",
    } | overrides


def test_a_wrong_name_needs_the_confirmation_then_is_recorded(signed_in, alice, alice_account, bob_account):
    data = form(alice_account, iban=bob_account.iban, beneficiary_name="Carol Danvers")
    refused = signed_in.post(URL, {**data, "step": "review"})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert 'data-initial-result="no_match"' in page and 'data-testid="payee-confirmed-error"' in page
    assert "Builder" not in page  # a no_match never names the holder
    # Sending the confirmation step without the box is refused too, and moves nothing.
    assert signed_in.post(URL, {**data, "step": "confirm"}).status_code == 400
    assert not Transaction.objects.filter(reference="Books").exists()

    data["payee_confirmed"] = "on"
    review = signed_in.post(URL, {**data, "step": "review"})
    assert review.status_code == 200
    assert re.search(r'data-testid="confirm-payee-check" data-result="no_match"', review.content.decode())
    done = signed_in.post(URL, {**data, "step": "confirm"})
    assert done.status_code == 302
    txn = Transaction.objects.get(reference="Books")
    assert (txn.payee_check, txn.beneficiary_name) == ("no_match", "Carol Danvers")
    event = AuditEvent.objects.get(action=actions.TRANSACTION_POSTED, target_id=str(txn.pk))
    assert event.data["payee_check"] == "no_match"


@pytest.mark.parametrize(("name", "result"), [("Builder Bob", "match"), ("Bob Bilder", "close_match")])
def test_a_matching_or_close_name_needs_no_confirmation(signed_in, alice_account, bob_account, name, result):
    data = form(alice_account, iban=bob_account.iban, beneficiary_name=name)
    review = signed_in.post(URL, {**data, "step": "review"})
    assert review.status_code == 200
    assert f'data-result="{result}"' in review.content.decode()
    assert signed_in.post(URL, {**data, "step": "confirm"}).status_code == 302
    assert Transaction.objects.get(reference="Books").payee_check == result


def test_another_bank_is_unavailable_and_keeps_the_name(signed_in, alice_account):
    data = form(alice_account, iban=EXTERNAL_IBAN, beneficiary_name="Hans Müller")
    review = signed_in.post(URL, {**data, "step": "review"})
    assert review.status_code == 200 and "Hans Müller · NL91 ABNA 0417 1643 00" in review.content.decode()
    assert signed_in.post(URL, {**data, "step": "confirm"}).status_code == 302
    txn = Transaction.objects.get(reference="Books")
    assert (txn.payee_check, txn.beneficiary_name) == ("unavailable", "Hans Müller")
    history = signed_in.get(f"/app/accounts/{alice_account.pk}/").content.decode()
    assert re.search(r'data-testid="entry-counterparty-name">Hans Müller<', history)
    assert re.search(r'data-testid="entry-counterparty">NL91 ABNA 0417 1643 00<', history)


def test_without_a_name_no_check_runs(signed_in, alice_account, bob_account):
    data = form(alice_account, iban=bob_account.iban)
    assert signed_in.post(URL, {**data, "step": "confirm"}).status_code == 302
    assert Transaction.objects.get(reference="Books").payee_check == ""


def test_the_forms_carry_the_live_check(signed_in, alice_account):
    for url in (URL, "/app/beneficiaries/"):
        page = signed_in.get(url).content.decode()
        assert 'data-url="/app/payee-check/"' in page and 'x-ref="payeeName"' in page


def test_the_check_speaks_french(signed_in, alice_account, bob_account):
    signed_in.cookies["django_language"] = "fr"
    page = signed_in.get(URL).content.decode()
    assert "Nom du bénéficiaire" in page and "Vouliez-vous dire {name} ?" in page
    data = form(alice_account, iban=bob_account.iban, beneficiary_name="Carol Danvers")
    refused = signed_in.post(URL, {**data, "step": "review"}).content.decode()
    assert "cochez « J’ai vérifié les coordonnées »" in refused
    confirm_page = signed_in.post(URL, {**data, "payee_confirmed": "on", "step": "review"}).content.decode()
    assert "Vérification du nom" in confirm_page


def test_the_form_counts_its_check_against_the_same_rate(signed_in, alice_account, bob_account, monkeypatch,
                                                         unchanged):
    """Step 1 says match or not (and a close match's name): it is no way around the check's rate."""
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {"payee_check": "2/min", "user": "1000/min", "anon": "1000/min", "auth": "1000/min"})
    try:
        data = form(alice_account, iban=bob_account.iban, beneficiary_name="Bob Bilder")
        with unchanged():
            assert signed_in.get(CHECK, {"iban": bob_account.iban, "name": "Bob"}).status_code == 200
            assert signed_in.post(URL, {**data, "step": "review"}).status_code == 200
            refused = signed_in.post(URL, {**data, "step": "review"})
            assert refused.status_code == 400
            page = refused.content.decode()
            assert "Too many requests" in page and "Bob Builder" not in page
            assert signed_in.post(URL, {**data, "step": "confirm"}).status_code == 400
    finally:
        cache.clear()
