"""The customer page (profile, accounts, transactions, audit events), contact details edited at
the desk, onboarding (a customer and a first account, both or neither) and another account."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit import actions
from audit.models import AuditEvent
from banking.models import Account
from banking.services import account_freeze, transfer_create
from identity.models import User
from workspace.tests.desk_support import client_for

pytestmark = pytest.mark.django_db

NEW = "/agent/customers/new/"


def onboarding(**overrides) -> dict:
    return {"username": "carol", "first_name": "Carol", "last_name": "Jones", "email": "carol@example.test",
            "phone": "", "address": "", "kind": "checking", "currency": "EUR", **overrides}


def test_the_customer_page_shows_accounts_transactions_and_audit_events(agnes, alice, alice_account, bob_account):
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=25_00, reference="Rent share")
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Not alice's: must not show")
    page = client_for(agnes).get(f"/agent/customers/{alice.pk}/").content.decode()
    assert alice_account.iban in page.replace(" ", "") and "975.00" in page
    assert "Rent share" in page
    assert 'data-action="account.opened"' in page and 'data-action="transaction.posted"' in page
    assert "account.frozen" not in page  # bob's account's event is not about alice
    # Alice's account opened, its opening deposit, the transfer; nothing of bob's own deposit.
    assert re.findall(r'data-action="([a-z._]+)"', page) == [
        actions.TRANSACTION_POSTED, actions.TRANSACTION_POSTED, actions.ACCOUNT_OPENED]


def test_the_customers_events_are_readable_and_paginated(agnes, alice, alice_account, bob_account):
    transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                    amount=25_00, reference="Rent share")
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Card reported stolen")
    for _ in range(25):
        AuditEvent.objects.create(occurred_at=alice.date_joined, actor=alice, actor_username="alice",
                                  action=actions.AUTH_LOGIN, target_type="user", target_id=str(alice.pk),
                                  data={"channel": "web"})
    client = client_for(agnes)

    first = client.get(f"/agent/customers/{alice.pk}/").content.decode()

    # Words, the amount, the reason and who, not bare codes.
    assert len(re.findall(r'data-testid="audit-event"', first)) == 20
    assert 'data-testid="event-label">Account frozen<' in first
    assert 'data-testid="event-reason">Reason: Card reported stolen<' in first
    assert re.search(r'data-testid="event-label">Transaction posted</span>\s*<span[^>]*data-testid="event-amount">'
                     r'· 25\.00\xa0EUR<', first)
    assert "· by agnes" in first
    assert 'data-testid="events-pages"' in first and "Page 1 of 2" in first
    second = client.get(f"/agent/customers/{alice.pk}/", {"events": "2"}).content.decode()
    assert "Page 2 of 2" in second
    total = 25 + 4  # the sign-ins, the account opened, its deposit, the transfer, the freeze
    assert len(re.findall(r'data-testid="audit-event"', second)) == total - 20


def test_the_customers_events_in_french(agnes, alice, alice_account):
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Carte volée")
    client = client_for(agnes)
    client.cookies["django_language"] = "fr"

    page = client.get(f"/agent/customers/{alice.pk}/").content.decode()

    assert 'data-testid="event-label">Compte gelé<' in page
    assert 'data-testid="event-amount">· 1\xa0000,00\xa0EUR<' in page  # the opening deposit
    assert re.search(r"Motif\s: Carte volée<", page)


def test_a_staff_page_is_404_for_a_non_customer_id(agnes, sam):
    assert client_for(agnes).get(f"/agent/customers/{sam.pk}/").status_code == 404
    assert client_for(agnes).get("/agent/customers/nope/").status_code == 404


def test_staff_edit_the_contact_details_audited_as_themselves(agnes, alice):
    response = client_for(agnes).post(f"/agent/customers/{alice.pk}/contact/",
                                      {"email": "alice.new@example.test", "phone": "+31 6 1234 5678", "address": ""})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.email, alice.phone) == ("alice.new@example.test", "+31 6 1234 5678")
    event = AuditEvent.objects.get(action=actions.CUSTOMER_UPDATED)
    assert (event.actor, event.target_id) == (agnes, str(alice.pk))


def test_a_taken_email_is_refused_on_the_contact_form(agnes, alice, bob, unchanged):
    with unchanged():
        response = client_for(agnes).post(f"/agent/customers/{alice.pk}/contact/",
                                          {"email": bob.email, "phone": "", "address": ""})
    assert response.status_code == 400
    assert "Another user has this email address." in response.content.decode()
    alice.refresh_from_db()
    assert alice.email != bob.email


def test_onboarding_creates_the_customer_and_account_and_mails_a_link_instead_of_showing_a_password(
    agnes, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agnes).post(NEW, onboarding())
    assert response.status_code == 201
    page = response.content.decode()
    carol = User.objects.get(username="carol")
    account = Account.objects.get(customer=carol)
    assert account.iban in page.replace(" ", "")
    # The agent sees no password: carol has none until she chooses hers through the link.
    assert 'data-testid="new-password"' not in page and not carol.has_usable_password()
    assert "A link to choose their password is on its way to carol@example.test. It works once, for 3 days" in page
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    [mail] = mailoutbox
    assert mail.to == ["carol@example.test"]
    link = re.search(r"http://testserver(/account/password/\S+/)", mail.body).group(1)
    assert link not in page
    customer_page = client_for(agnes).get(f"/agent/customers/{carol.pk}/").content.decode()
    assert 'data-testid="customer-no-password"' in customer_page
    assert "A supervisor can send a new link." in customer_page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("username", "alice", "This username is taken."),
    ("email", "alice@example.test", "A user with this email already exists."),
])
def test_onboarding_a_duplicate_is_refused_clearly_and_creates_nothing(agnes, alice, unchanged, field, value, message):
    users = User.objects.count()
    with unchanged():
        response = client_for(agnes).post(NEW, onboarding(**{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'id="onboard-{field}-error"' in page
    assert User.objects.count() == users


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Account.objects.count(), AuditEvent.objects.count()


def test_onboarding_overdraft_is_a_supervisors_field(agnes, sam):
    assert "overdraft_limit" not in client_for(agnes).get(NEW).content.decode()
    assert 'name="overdraft_limit"' in client_for(sam).get(NEW).content.decode()
    response = client_for(sam).post(NEW, onboarding(username="dan", email="dan@example.test", overdraft_limit="500.00"))
    assert response.status_code == 201
    assert Account.objects.get(customer__username="dan").overdraft_limit == 500_00


def test_an_agent_posting_an_overdraft_by_hand_onboards_nobody(agnes, unchanged):
    """Issue 10, finding 1: the field is not on an agent's form, but a hand-made POST carrying it
    is refused (it used to be dropped silently): no customer, no account, no audit event."""
    before = counts()
    with unchanged():
        response = client_for(agnes).post(NEW, onboarding(overdraft_limit="1000000.00"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Only a supervisor may set an overdraft limit." in page
    assert 'name="overdraft_limit"' not in page  # the form shown again still does not offer it
    assert counts() == before
    assert not User.objects.filter(username="carol").exists()


def test_an_agent_onboards_with_an_empty_overdraft_field(agnes):
    """What an agent's browser could send if the field were ever rendered empty: no overdraft."""
    assert client_for(agnes).post(NEW, onboarding(overdraft_limit="")).status_code == 201
    assert Account.objects.get(customer__username="carol").overdraft_limit == 0


def test_open_another_account(agnes, alice, alice_account):
    response = client_for(agnes).post(f"/agent/customers/{alice.pk}/accounts/new/", {"kind": "savings",
                                                                                      "currency": "USD"})
    new = Account.objects.filter(customer=alice).exclude(pk=alice_account.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/agent/accounts/{new.pk}/"
    assert (new.kind, new.currency) == ("savings", "USD")


def test_another_account_overdraft_is_a_supervisors_field(agnes, sam, alice):
    url = f"/agent/customers/{alice.pk}/accounts/new/"
    assert "overdraft_limit" not in client_for(agnes).get(url).content.decode()
    assert 'name="overdraft_limit"' in client_for(sam).get(url).content.decode()
    response = client_for(sam).post(url, {"kind": "checking", "currency": "EUR", "overdraft_limit": "750,00"})
    assert response.status_code == 302
    assert Account.objects.get(customer=alice).overdraft_limit == 750_00


def test_an_agent_posting_an_overdraft_by_hand_opens_no_account(agnes, alice, unchanged):
    before = counts()
    with unchanged():
        response = client_for(agnes).post(f"/agent/customers/{alice.pk}/accounts/new/",
                                          {"kind": "checking", "currency": "EUR", "overdraft_limit": "1000000.00"})
    assert response.status_code == 403
    assert "Only a supervisor may set an overdraft limit." in response.content.decode()
    assert counts() == before
    assert not Account.objects.filter(customer=alice).exists()


def test_open_another_account_refuses_an_unknown_currency(agnes, alice, alice_account, unchanged):
    with unchanged():
        response = client_for(agnes).post(f"/agent/customers/{alice.pk}/accounts/new/", {"kind": "savings",
                                                                                          "currency": "XYZ"})
    assert response.status_code == 400
    assert 'id="account-currency-error"' in response.content.decode()


# --- A locked-out customer ------------------------------------------------------------------------


def lock_out(settings, customer) -> None:
    for _ in range(settings.FLUX_LOCKOUT_FAILURES):
        Client().post("/login/", {"username": customer.username, "password": "wrong-password"})


def test_a_supervisor_sees_a_lockout_and_unlocks_the_customer(settings, sam, alice):
    lock_out(settings, alice)
    page = client_for(sam).get(f"/agent/customers/{alice.pk}/").content.decode()
    assert 'data-testid="customer-locked-out"' in page and f"/agent/customers/{alice.pk}/unlock/" in page
    response = client_for(sam).post(f"/agent/customers/{alice.pk}/unlock/")
    assert response.status_code == 302 and response.url == f"/agent/customers/{alice.pk}/"
    event = AuditEvent.objects.get(action=actions.AUTH_UNLOCKED)
    assert event.actor_id == sam.pk and event.target_id == str(alice.pk)
    assert 'data-testid="customer-locked-out"' not in client_for(sam).get(response.url).content.decode()


def test_an_agent_sees_the_lockout_but_cannot_unlock(settings, agnes, alice):
    lock_out(settings, alice)
    client = client_for(agnes)
    page = client.get(f"/agent/customers/{alice.pk}/").content.decode()
    assert 'data-testid="customer-locked-out"' in page and "/unlock/" not in page
    events = AuditEvent.objects.count()
    assert client.post(f"/agent/customers/{alice.pk}/unlock/").status_code == 403
    assert AuditEvent.objects.count() == events
    assert 'data-testid="customer-locked-out"' in client.get(f"/agent/customers/{alice.pk}/").content.decode()


def test_no_lockout_no_banner_and_unlocking_says_so(sam, alice):
    client = client_for(sam)
    assert 'data-testid="customer-locked-out"' not in client.get(f"/agent/customers/{alice.pk}/").content.decode()
    events = AuditEvent.objects.count()
    page = client.post(f"/agent/customers/{alice.pk}/unlock/", follow=True).content.decode()
    assert "is not locked out" in page and AuditEvent.objects.count() == events
