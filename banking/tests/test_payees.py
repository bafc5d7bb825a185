"""Verification of payee (issue 14): the matching rule, GET payees/check/, its rate limit, and
that another customer's name is never given beyond a close match."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from banking.models import PayeeCheck
from banking.payees import compare_names, name_words
from banking.tests.factories import EXTERNAL_IBAN
from core.testing.api import API, assert_error
from identity.tests.factories import CustomerFactory

CHECK = f"{API}payees/check/"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Alice Martin", PayeeCheck.MATCH),
        ("martin alice", PayeeCheck.MATCH),
        ("ALICE   MARTIN", PayeeCheck.MATCH),
        ("Alice Marten", PayeeCheck.CLOSE_MATCH),
        ("Alise Martin", PayeeCheck.CLOSE_MATCH),
        ("Martin Alise", PayeeCheck.CLOSE_MATCH),
        ("Alice Mratin", PayeeCheck.CLOSE_MATCH),
        ("Bob Smith", PayeeCheck.NO_MATCH),
        ("Alice", PayeeCheck.NO_MATCH),
        ("", PayeeCheck.NO_MATCH),
    ],
)
def test_names_are_compared_without_case_or_word_order(typed, expected):
    assert compare_names(typed, "Alice Martin") == expected


def test_a_typo_that_changes_the_words_order_is_still_close():
    # Sorted, "bilder bob" would face "bob builder"; the nearest order of the typed words is used.
    assert compare_names("Bob Bilder", "Bob Builder") == PayeeCheck.CLOSE_MATCH
    assert compare_names("Bob Smith", "Bob Builder") == PayeeCheck.NO_MATCH


def test_accents_and_punctuation_do_not_count():
    assert name_words("Élodie  d'Arc-Müller") == ["arc", "d", "elodie", "muller"]
    assert compare_names("elodie d arc muller", "Élodie d'Arc-Müller") == PayeeCheck.MATCH
    assert compare_names("Zoë Çelik", "zoe celik") == PayeeCheck.MATCH


@pytest.fixture
def martin(open_account, vault, clearing):
    customer = CustomerFactory(username="amartin", first_name="Alice", last_name="Martin")
    return open_account(customer)


def check(client, iban, name):
    return client.get(CHECK, {"iban": iban, "name": name})


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("Alice Martin", {"result": "match"}),
        ("martin alice", {"result": "match"}),
        ("Alice Mártin", {"result": "match"}),
        ("Alice Marten", {"result": "close_match", "name": "Alice Martin"}),
        ("Bob Smith", {"result": "no_match"}),
    ],
)
def test_the_check_answers_for_a_flux_iban(api_client_for, bob, martin, name, body):
    response = check(api_client_for(bob), martin.iban, name)
    assert response.status_code == 200, response.content
    assert response.json() == body


def test_a_grouped_lower_case_iban_is_accepted(api_client_for, bob, martin):
    grouped = " ".join(martin.iban[i : i + 4] for i in range(0, len(martin.iban), 4)).lower()
    assert check(api_client_for(bob), grouped, "Alice Martin").json() == {"result": "match"}


def test_another_banks_iban_is_unavailable(api_client_for, bob):
    assert check(api_client_for(bob), EXTERNAL_IBAN, "Anyone").json() == {"result": "unavailable"}


def test_a_no_match_never_reveals_the_holders_name(api_client_for, bob, martin):
    response = check(api_client_for(bob), martin.iban, "Bob Smith")
    assert response.json() == {"result": "no_match"}
    assert b"Martin" not in response.content and b"Alice" not in response.content


def test_a_flux_iban_nobody_holds_is_a_plain_no_match(api_client_for, bob, vault):
    # The bank's own cash vault: a Flux IBAN with no customer. Nothing says it is not a customer's.
    assert check(api_client_for(bob), vault.iban, "Cash Vault").json() == {"result": "no_match"}


def test_an_invalid_iban_is_refused(api_client_for, bob):
    assert_error(check(api_client_for(bob), "NL00FLUX0000000001", "Alice Martin"), 422, "invalid_iban")


def test_a_name_is_required(api_client_for, bob, martin):
    response = check(api_client_for(bob), martin.iban, "  ")
    assert_error(response, 400, "validation_error")
    assert "name" in response.json()["error"]["fields"]


def test_signing_in_is_required(api_client_for, martin):
    assert_error(check(api_client_for(None), martin.iban, "Alice Martin"), 401, "not_authenticated")


def test_the_check_has_its_own_rate_limit(api_client_for, bob, alice, martin, monkeypatch):
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {"payee_check": "3/min", "user": "1000/min", "anon": "1000/min", "auth": "1000/min"})
    try:
        client = api_client_for(bob)
        for _ in range(3):
            assert check(client, martin.iban, "Alice Martin").status_code == 200
        response = check(client, martin.iban, "Alice Martin")
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
        # Per user: alice has her own count, and the rest of the API is not limited by it.
        assert check(api_client_for(alice), martin.iban, "Alice Martin").status_code == 200
        assert client.get(f"{API}accounts/").status_code == 200
    finally:
        cache.clear()
