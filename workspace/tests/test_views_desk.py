"""The desk's home and search, and who may open each workspace page: staff (agents and
supervisors) through, customers a 403 page, signed-out visitors the sign-in page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from banking.services import deposit_create
from banking.tests.factories import AccountFactory
from identity.tests.factories import CustomerFactory
from workspace.tests.desk_support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(alice, alice_account, agnes, sam):
    """Every GET page of the desk (bulk imports and agent management are other modules')."""
    deposit = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=10_00)
    return [
        "/agent/",
        "/agent/?q=alice",
        "/agent/search/?q=ali",
        "/agent/customers/new/",
        f"/agent/customers/{alice.pk}/",
        f"/agent/customers/{alice.pk}/accounts/new/",
        f"/agent/accounts/{alice_account.pk}/",
        f"/agent/accounts/{alice_account.pk}/cash/",
        f"/agent/transactions/{deposit.pk}/",
        f"/agent/transactions/{deposit.pk}/receipt/",
        "/agent/approvals/",
    ]


@pytest.mark.parametrize("who", ["agnes", "sam"])
def test_staff_open_every_page(request, pages, who):
    client = client_for(request.getfixturevalue(who))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if "/search/" not in url:  # the search's fragment is a list, not a page
            assert b"Keyboard shortcuts" in response.content, url


def test_a_customer_gets_the_403_page(pages, alice):
    client = client_for(alice)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"No access" in response.content


def test_a_signed_out_visitor_is_sent_to_sign_in(client, pages):
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_a_customer_cannot_post_an_action(alice, alice_account, unchanged):
    client = client_for(alice)
    with unchanged():
        assert client.post(f"/agent/accounts/{alice_account.pk}/freeze/", {"reason": "x"}).status_code == 403
        assert client.post(f"/agent/accounts/{alice_account.pk}/cash/", {}).status_code == 403


def test_the_home_shows_the_number_waiting_and_supervisor_links(agnes, sam, alice_account):
    deposit_create(initiator=agnes, account_id=alice_account.pk, amount=6_000_00)  # pending
    agent_page = client_for(agnes).get("/agent/").content.decode()
    assert 'data-testid="pending-count">1<' in agent_page
    assert "Audit dashboard" not in agent_page and "Manage agents" not in agent_page
    supervisor_page = client_for(sam).get("/agent/").content.decode()
    assert "Audit dashboard" in supervisor_page and "NATS dashboard" in supervisor_page
    assert "/agent/staff/" in supervisor_page


def test_search_finds_by_part_of_the_iban_name_email_and_phone(agnes, alice, alice_account, bob, bob_account):
    alice.phone = "+33 6 12 34 56 78"
    alice.save(update_fields=["phone"])
    client = client_for(agnes)
    # "+33" matches no IBAN, so bob (whose random IBAN may hold "12", "34" and "56") is never found.
    for query in (alice_account.iban[-6:], alice_account.iban[4:12].lower(), "alic", alice.email, "+33 6 12 34"):
        page = client.get("/agent/search/", {"q": query}).content.decode()
        assert f"/agent/customers/{alice.pk}/" in page, query
        assert f"/agent/customers/{bob.pk}/" not in page, query


def test_search_states_short_query_and_no_match(agnes, alice):
    client = client_for(agnes)
    assert b'data-testid="search-empty"' in client.get("/agent/search/", {"q": "a"}).content
    nothing = client.get("/agent/search/", {"q": "zzzz-nobody"}).content.decode()
    assert 'data-testid="search-none"' in nothing and "zzzz-nobody" in nothing


def test_search_results_are_escaped(agnes):
    CustomerFactory(username="mallory", first_name="<script>x</script>")
    page = client_for(agnes).get("/agent/search/", {"q": "mallory"}).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_search_query_count_does_not_grow_with_the_results(agnes):
    for n in range(3):
        AccountFactory(customer=CustomerFactory(username=f"walker{n}", last_name="Walker"))
    client = client_for(agnes)
    client.get("/agent/search/", {"q": "walker"})  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get("/agent/search/", {"q": "walker"})
    for n in range(3, 15):
        AccountFactory(customer=CustomerFactory(username=f"walker{n}", last_name="Walker"))
    with CaptureQueriesContext(connection) as many:
        page = client.get("/agent/search/", {"q": "walker"}).content.decode()
    assert page.count('data-testid="search-result"') == 15
    assert len(many) == len(few) <= 6
