"""The accounts overview and an account's history, as the customer pages show them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from banking.models import Entry
from banking.services import account_freeze, transfer_create
from portal.views.accounts import PAGE_SIZE

pytestmark = pytest.mark.django_db

ENTRY_ID = re.compile(r'data-entry-id="(\d+)"')


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def entry_ids(response) -> list[int]:
    return [int(pk) for pk in ENTRY_ID.findall(response.content.decode())]


def move(alice, source, destination, count: int, *, amount: int = 1_00, reference: str = "Pocket money", at=None):
    for n in range(count):
        transfer_create(
            initiator=alice, source_account_id=source.pk, destination_iban=destination.iban,
            amount=amount, reference=f"{reference} {n}", at=at,
        )


# --- Who may see -------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in_and_back(client, alice_account):
    for url in (reverse("portal:accounts"), reverse("portal:account", args=[alice_account.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("staff", ["agnes", "sam"])
def test_staff_get_a_403_page(client, request, staff, alice_account):
    client.force_login(request.getfixturevalue(staff))
    for url in (reverse("portal:accounts"), reverse("portal:account", args=[alice_account.pk])):
        response = client.get(url)
        assert response.status_code == 403
        assert b"These pages are for customers" in response.content
        assert alice_account.iban.encode() not in response.content


def test_another_customers_account_is_not_found(client, bob, alice_account, bob_account):
    client.force_login(bob)
    assert client.get(reverse("portal:account", args=[alice_account.pk])).status_code == 404
    assert client.get(reverse("portal:account", args=[alice_account.pk]) + "?partial=1").status_code == 404
    assert client.get(reverse("portal:account", args=[10**9])).status_code == 404
    assert client.get("/app/accounts/not-a-number/").status_code == 404


def test_home_sends_customers_to_their_accounts_staff_to_the_workspace_and_shows_visitors_the_home_page(
    client, alice, agnes
):
    assert client.get("/").status_code == 200
    client.force_login(agnes)
    assert client.get("/")["Location"] == reverse("workspace:home")
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:accounts")


def test_the_navigation_offers_accounts_and_transfer_to_customers_only(client, alice, agnes, alice_account):
    client.force_login(alice)
    page = client.get(reverse("portal:accounts")).content.decode()
    assert f'href="{reverse("portal:accounts")}"' in page
    assert f'href="{reverse("portal:transfer")}"' in page
    client.force_login(agnes)
    page = client.get("/", follow=True).content.decode()
    assert f'href="{reverse("portal:transfer")}"' not in page


# --- The overview -------------------------------------------------------------------------------


def test_the_overview_lists_the_customers_own_accounts(client, alice, alice_account, bob_account, open_account, agnes):
    savings = open_account(alice, kind="savings")
    account_freeze(actor=agnes, account_id=savings.pk, reason="Court order")
    client.force_login(alice)

    response = client.get(reverse("portal:accounts"))

    page = response.content.decode()
    assert response.status_code == 200
    assert grouped(alice_account.iban) in page
    assert grouped(savings.iban) in page
    assert bob_account.iban not in page and grouped(bob_account.iban) not in page
    assert "1,000.00" in page  # balance and available
    assert "Savings account" in page
    assert "Frozen: no payments in or out" in page
    assert reverse("portal:account", args=[alice_account.pk]) in page


def test_the_overview_has_an_empty_state(client, alice):
    client.force_login(alice)
    response = client.get(reverse("portal:accounts"))
    assert response.status_code == 200
    assert b'data-testid="accounts-empty"' in response.content
    assert b"You have no accounts yet." in response.content


def test_held_money_lowers_available_not_balance(client, alice, alice_account, bob_account, settings):
    from decimal import Decimal

    settings.FLUX_APPROVAL_THRESHOLD = Decimal("100.00")
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=300_00)
    client.force_login(alice)
    page = client.get(reverse("portal:account", args=[alice_account.pk])).content.decode()
    assert re.search(r'data-testid="account-balance">1,000\.00', page)
    assert re.search(r'data-testid="account-available">700\.00', page)
    assert "300.00 EUR is held" in page


# --- The history ---------------------------------------------------------------------------------


@pytest.fixture
def second_account(open_account, alice):
    return open_account(alice)


def test_the_history_shows_the_newest_entries_first(client, alice, alice_account, second_account):
    move(alice, alice_account, second_account, 3)
    client.force_login(alice)

    response = client.get(reverse("portal:account", args=[alice_account.pk]))

    ids = entry_ids(response)
    expected = list(Entry.objects.filter(account=alice_account).order_by("-id").values_list("id", flat=True))
    assert ids == expected and len(ids) == 4  # three transfers out and the opening deposit
    page = response.content.decode()
    assert "Pocket money 2" in page
    assert "-1.00" in page and "+1,000.00" in page
    assert grouped(second_account.iban) in page  # the counterparty
    assert 'data-next-url=""' in page  # one page: nothing more to load


def test_an_account_without_movements_has_an_empty_state(client, alice, second_account):
    client.force_login(alice)
    response = client.get(reverse("portal:account", args=[second_account.pk]))
    assert response.status_code == 200
    assert b"No movements on this account yet." in response.content


def test_the_cursor_walks_the_whole_history_once_in_fragments(client, alice, alice_account, second_account):
    move(alice, alice_account, second_account, PAGE_SIZE * 2 + 3)
    client.force_login(alice)
    url = reverse("portal:account", args=[alice_account.pk])

    first = client.get(url)
    seen = entry_ids(first)
    next_url = re.search(r'data-next-url="([^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert len(seen) == PAGE_SIZE and "cursor=" in next_url
    pages = 1
    while next_url:
        fragment = client.get(next_url + "&partial=1")
        assert fragment.status_code == 200
        assert b"<html" not in fragment.content  # only the entries
        seen += entry_ids(fragment)
        next_url = fragment["X-Next-Page"]
        pages += 1

    assert pages == 3
    assert seen == list(Entry.objects.filter(account=alice_account).order_by("-id").values_list("id", flat=True))


def test_the_next_page_without_javascript_is_a_whole_page(client, alice, alice_account, second_account):
    move(alice, alice_account, second_account, PAGE_SIZE + 1)
    client.force_login(alice)
    first = client.get(reverse("portal:account", args=[alice_account.pk]))
    next_url = re.search(r'href="([^"]*cursor=[^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")

    second = client.get(next_url)

    assert second.status_code == 200
    assert b"<html" in second.content and b"Back to the newest" in second.content
    assert len(entry_ids(second)) == 2  # the last transfer out and the opening deposit
    assert not set(entry_ids(second)) & set(entry_ids(first))


def test_a_bad_cursor_is_a_400_with_a_way_back(client, alice, alice_account):
    client.force_login(alice)
    response = client.get(reverse("portal:account", args=[alice_account.pk]) + "?cursor=not-a-cursor")
    assert response.status_code == 400
    assert b"This link to a page of the history is not valid." in response.content


def test_search_by_text_amount_and_dates(client, alice, alice_account, second_account):
    long_ago = timezone.now() - timedelta(days=60)
    move(alice, alice_account, second_account, 1, amount=7_00, reference="Rent", at=long_ago)
    move(alice, alice_account, second_account, 1, amount=25_00, reference="Groceries")
    move(alice, alice_account, second_account, 1, amount=90_00, reference="Bike")
    client.force_login(alice)
    url = reverse("portal:account", args=[alice_account.pk])

    def refs(**params) -> list[str]:
        page = client.get(url, params).content.decode()
        return re.findall(r'data-testid="entry-reference">([^<]*)<', page)

    assert refs(q="groc") == ["Groceries 0"]
    assert refs(min="20", max="100") == ["Bike 0", "Groceries 0"]
    assert refs(max="10") == ["Rent 0"]
    assert refs(to=(timezone.now() - timedelta(days=30)).date().isoformat()) == ["Rent 0"]
    assert "Opening deposit" in refs(**{"from": timezone.now().date().isoformat()})
    assert refs(q="nothing like this") == []
    assert b"Nothing matches this search." in client.get(url, {"q": "nothing like this"}).content


def test_search_amounts_typed_in_the_display_format_of_the_language(client, alice, alice_account, second_account):
    move(alice, alice_account, second_account, 1, amount=25_00, reference="Groceries")
    move(alice, alice_account, second_account, 1, amount=250_00, reference="Bike")
    client.force_login(alice)
    client.cookies["django_language"] = "fr"
    url = reverse("portal:account", args=[alice_account.pk])

    page = client.get(url, {"min": "200,00", "max": "1\u202f000"}).content.decode()
    assert re.findall(r'data-testid="entry-reference">([^<]*)<', page) == ["Bike 0", "Opening deposit"]
    # The opening deposit of 1 000,00 EUR, its amount typed as the page shows it.
    page = client.get(url, {"min": "1\u202f000,00", "max": "1.000,00"}).content.decode()
    assert re.findall(r'data-testid="entry-reference">([^<]*)<', page) == ["Opening deposit"]
    assert client.get(url, {"min": "1.234"}).status_code == 400  # 1 234 or 1,234? not guessed


def test_a_bad_search_is_a_400_with_the_error_next_to_the_field(client, alice, alice_account):
    client.force_login(alice)
    response = client.get(reverse("portal:account", args=[alice_account.pk]), {"min": "12.345", "from": "yesterday"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="search-min-error"' in page and 'id="search-from-error"' in page
    assert "Correct the search above" in page
    assert entry_ids(response) == []


def test_the_search_travels_with_the_cursor(client, alice, alice_account, second_account):
    move(alice, alice_account, second_account, PAGE_SIZE + 5, reference="Coffee")
    move(alice, alice_account, second_account, 3, reference="Tea")
    client.force_login(alice)
    first = client.get(reverse("portal:account", args=[alice_account.pk]), {"q": "coffee"})
    next_url = re.search(r'data-next-url="([^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "q=coffee" in next_url

    rest = client.get(next_url + "&partial=1")

    assert len(entry_ids(first)) + len(entry_ids(rest)) == PAGE_SIZE + 5
    assert b"Tea" not in rest.content and b"Tea" not in first.content
    assert rest["X-Next-Page"] == ""


@pytest.mark.parametrize("partial", [False, True])
def test_queries_per_page_do_not_grow_with_the_history(
    client, alice, open_account, second_account, django_assert_max_num_queries, partial
):
    short = open_account(alice, balance=5_000_00)
    long = open_account(alice, balance=5_000_00)
    move(alice, short, second_account, 4)  # 5 entries with the opening deposit
    move(alice, long, second_account, 199)  # 200 entries
    client.force_login(alice)
    counts = {}
    for name, account in (("short", short), ("long", long)):
        url = reverse("portal:account", args=[account.pk]) + ("?partial=1" if partial else "")
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts[name] = len(queries)
    assert counts["short"] == counts["long"]
    assert len(entry_ids(response)) == PAGE_SIZE


def test_amounts_follow_the_language(client, alice, alice_account):
    client.force_login(alice)
    english = client.get(reverse("portal:accounts"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(reverse("portal:accounts"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert re.search(r'data-testid="account-balance">1,000\.00 ', english)
    assert re.search(r'data-testid="account-balance">1\s000,00 ', french)


def test_a_frozen_account_shows_nothing_available_and_the_reason(client, alice, agnes, alice_account):
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Card reported stolen")
    client.force_login(alice)

    for url in (reverse("portal:accounts"), reverse("portal:account", args=[alice_account.pk])):
        page = client.get(url).content.decode()
        assert "Frozen: no payments in or out" in page
        assert re.search(r'data-testid="account-balance">1,000\.00 ', page)  # the money is still there
        assert re.search(r'data-testid="account-available">0\.00 ', page)  # but none of it can go out
        assert "The bank has frozen this account" in page
        assert 'data-testid="account-frozen-reason">Reason given: Card reported stolen<' in page


def test_a_frozen_account_in_french(client, alice, agnes, alice_account):
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Carte déclarée volée")
    client.force_login(alice)
    client.cookies["django_language"] = "fr"

    page = client.get(reverse("portal:account", args=[alice_account.pk])).content.decode()

    assert "La banque a gelé ce compte" in page
    assert "Motif indiqué : Carte déclarée volée" in page
    assert re.search(r'data-testid="account-available">0,00 ', page)
