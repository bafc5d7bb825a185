"""GET /api/v1/transfers/: the transfers a caller may see, newest first, with filters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.support import DEPOSITS, TRANSFERS, cash, transfer
from core.testing.api import API, assert_error, page

pytestmark = pytest.mark.django_db

TRANSACTIONS = f"{API}transactions/"


@pytest.fixture
def transfers(api_client_for, alice, bob, alice_account, bob_account, carol_account):
    """alice → bob 10.00 "Rent", bob → alice 25.00 "Refund", alice → external 3.00, bob → carol 7.00."""
    as_alice, as_bob = api_client_for(alice), api_client_for(bob)
    made = [
        transfer(as_alice, alice_account, bob_account, "10.00", reference="Rent"),
        transfer(as_bob, bob_account, alice_account, "25.00", reference="Refund"),
        transfer(as_alice, alice_account, EXTERNAL_IBAN, "3.00", reference="Books"),
        transfer(as_bob, bob_account, carol_account, "7.00", reference="Cinema"),
    ]
    assert all(r.status_code == 201 for r in made), [r.content for r in made]
    return [r.json()["id"] for r in made]


def ids(client, query: str = "") -> list[int]:
    return [item["id"] for item in page(client.get(f"{TRANSFERS}{query}"))]


def test_a_customer_sees_the_transfers_from_and_to_their_accounts_newest_first(
    api_client_for, alice, carol, transfers
):
    rent, refund, books, cinema = transfers
    assert ids(api_client_for(alice)) == [books, refund, rent]
    assert ids(api_client_for(carol)) == [cinema]


def test_staff_see_every_transfer_and_no_cash(api_client_for, agnes, alice_account, transfers):
    agent = api_client_for(agnes)
    assert cash(agent, DEPOSITS, alice_account, "40.00").status_code == 201
    assert ids(agent) == list(reversed(transfers))


def test_the_body_is_the_transaction_shape(api_client_for, alice, alice_account, transfers):
    item = page(api_client_for(alice).get(TRANSFERS))[0]
    assert item["id"] == transfers[2]
    assert item["kind"] == "external_transfer" and item["status"] == "posted"
    assert item["amount"] == "3.00" and item["currency"] == "EUR"
    assert item["source_iban"] == alice_account.iban and item["destination_iban"] == EXTERNAL_IBAN


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?direction=out&account={alice}", ["books", "rent"]),
        ("?direction=in&account={alice}", ["refund"]),
        ("?account={alice}", ["books", "refund", "rent"]),
        ("?min=10&max=25", ["refund", "rent"]),
        ("?min=10.01", ["refund"]),
        ("?q=rent", ["rent"]),
        ("?q=DE89 3704", ["books"]),
        ("?status=posted", ["books", "refund", "rent"]),
        ("?from=2000-01-01&to=2999-12-31", ["books", "refund", "rent"]),
        ("?to=2000-01-01", []),
    ],
)
def test_filters(api_client_for, alice, alice_account, transfers, query, expected):
    names = dict(zip(["rent", "refund", "books", "cinema"], transfers, strict=True))
    client = api_client_for(alice)
    assert ids(client, query.format(alice=alice_account.pk)) == [names[n] for n in expected]


def test_another_customers_account_filters_to_nothing(api_client_for, carol, alice_account, transfers):
    assert ids(api_client_for(carol), f"?account={alice_account.pk}") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?direction=in", "direction"),
        ("?direction=sideways&account=1", "direction"),
        ("?account=abc", "account"),
        ("?account=0", "account"),
        ("?min=1e3", "min"),
        ("?max=-5", "max"),
        ("?status=lost", "status"),
        ("?from=yesterday", "from"),
        ("?cursor=nonsense", "cursor"),
    ],
)
def test_bad_filters_are_400_with_the_field_named(api_client_for, alice, transfers, query, field):
    assert_error(api_client_for(alice).get(f"{TRANSFERS}{query}"), 400, "validation_error", fields={field})


def test_pages_follow_the_cursor(api_client_for, alice, transfers):
    client = api_client_for(alice)
    first = client.get(f"{TRANSFERS}?page_size=2").json()
    assert [t["id"] for t in first["results"]] == [transfers[2], transfers[1]]
    second = client.get(first["next"]).json()
    assert [t["id"] for t in second["results"]] == [transfers[0]] and second["next"] is None


def test_anonymous_is_401(api_client_for):
    assert_error(api_client_for(None).get(TRANSFERS), 401, "not_authenticated")


def test_the_status_filter_keeps_one_status(settings, api_client_for, alice, alice_account, bob_account,
                                             transfers):
    settings.FLUX_APPROVAL_THRESHOLD = Decimal("20.00")
    client = api_client_for(alice)
    waiting = transfer(client, alice_account, bob_account, "30.00", reference="Big")
    assert waiting.status_code == 201 and waiting.json()["status"] == "pending"
    assert ids(client, "?status=pending") == [waiting.json()["id"]]
    assert waiting.json()["id"] not in ids(client, "?status=posted")
    assert ids(client)[0] == waiting.json()["id"]


def test_the_list_shows_each_standing_reversal_without_a_query_per_row(
    api_client_for, alice, agnes, sam, transfers, django_assert_max_num_queries
):
    """reversed_by and reversal_status come from the list's own query (selectors.with_reversal): a
    first version read them row by row and made a 50-row page of the benchmark 15 times slower."""
    rent, refund, books, _cinema = transfers
    agent, supervisor = api_client_for(agnes), api_client_for(sam)
    pending = agent.post(f"{TRANSACTIONS}{rent}/reverse/", {"reason": "Mistake"}, format="json").json()
    posted = agent.post(f"{TRANSACTIONS}{books}/reverse/", {"reason": "Returned"}, format="json").json()
    assert supervisor.post(f"{TRANSACTIONS}{posted['id']}/approve/").status_code == 200
    rejected = agent.post(f"{TRANSACTIONS}{refund}/reverse/", {"reason": "Oops"}, format="json").json()
    rejection = supervisor.post(f"{TRANSACTIONS}{rejected['id']}/reject/", {"reason": "No"}, format="json")
    assert rejection.status_code == 200
    client = api_client_for(alice)
    client.get(TRANSFERS)  # signed in and warmed up

    with django_assert_max_num_queries(4):  # the user, the blacklist check, the page, nothing per row
        listed = {item["id"]: item for item in page(client.get(TRANSFERS))}

    assert (listed[rent]["reversed_by"], listed[rent]["reversal_status"]) == (pending["id"], "pending")
    assert (listed[books]["reversed_by"], listed[books]["reversal_status"]) == (posted["id"], "posted")
    assert (listed[refund]["reversed_by"], listed[refund]["reversal_status"]) == (None, None)  # rejected
