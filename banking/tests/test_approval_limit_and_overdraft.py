"""The agent approval limit (FLUX_AGENT_APPROVAL_LIMIT), enforced in transaction_approve so the
pages and the API obey it alike; the supervisor-only overdraft change (service and API); and
customer_onboard (a customer and a first account, both or neither)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from banking.models import Account, TransactionStatus
from banking.services import (
    account_set_overdraft_limit,
    customer_onboard,
    deposit_create,
    transaction_approve,
    transfer_create,
    withdrawal_create,
)
from core.errors import ApplicationError
from identity.models import User
from identity.tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(db):
    """A second agent, so that agnes's operations have an agent other than their initiator."""
    return AgentFactory(username="ann")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- The agent approval limit -------------------------------------------------------------------


@override_settings(FLUX_AGENT_APPROVAL_LIMIT=Decimal("100.00"), FLUX_CASH_APPROVAL_THRESHOLD=Decimal("50.00"))
def test_an_agent_approves_up_to_the_limit_included(agnes, ann, alice_account):
    txn = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=100_00)
    assert txn.status == TransactionStatus.PENDING
    approved = transaction_approve(approver=ann, transaction_id=txn.pk)
    assert approved.status == TransactionStatus.POSTED
    alice_account.refresh_from_db()
    assert alice_account.balance == 1_000_00 + 100_00


@override_settings(FLUX_AGENT_APPROVAL_LIMIT=Decimal("100.00"), FLUX_CASH_APPROVAL_THRESHOLD=Decimal("50.00"))
def test_an_agent_above_the_limit_is_refused_and_nothing_changes(agnes, ann, alice_account, unchanged):
    txn = withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=100_01)
    with unchanged(), pytest.raises(ApplicationError) as refusal:
        transaction_approve(approver=ann, transaction_id=txn.pk)
    assert refusal.value.code == "approval_limit_exceeded"
    assert refusal.value.status == 403
    assert "100.00" in refusal.value.message


@override_settings(FLUX_AGENT_APPROVAL_LIMIT=Decimal("100.00"), FLUX_CASH_APPROVAL_THRESHOLD=Decimal("50.00"))
def test_a_supervisor_approves_any_amount(agnes, sam, alice_account):
    txn = withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=900_00)
    transaction_approve(approver=sam, transaction_id=txn.pk)
    alice_account.refresh_from_db()
    assert (alice_account.balance, alice_account.held) == (100_00, 0)


def test_the_default_limit_is_fifty_thousand(settings):
    assert Decimal(settings.FLUX_AGENT_APPROVAL_LIMIT) == Decimal("50000.00")


@override_settings(FLUX_AGENT_APPROVAL_LIMIT=Decimal("100.00"), FLUX_APPROVAL_THRESHOLD=Decimal("50.00"))
def test_the_api_obeys_the_limit(alice, ann, sam, alice_account, bob_account, unchanged):
    txn = transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                          amount=200_00)
    url = f"/api/v1/transactions/{txn.pk}/approve/"
    with unchanged():
        response = api(ann).post(url, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "approval_limit_exceeded"
    response = api(sam).post(url, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "posted"


@override_settings(FLUX_AGENT_APPROVAL_LIMIT=Decimal("100.00"), FLUX_CASH_APPROVAL_THRESHOLD=Decimal("50.00"))
def test_one_s_own_is_refused_before_the_limit_is_considered(agnes, alice_account, unchanged):
    txn = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=60_00)
    with unchanged(), pytest.raises(ApplicationError) as refusal:
        transaction_approve(approver=agnes, transaction_id=txn.pk)
    assert refusal.value.code == "permission_denied"


# --- The overdraft limit ------------------------------------------------------------------------


def test_a_supervisor_changes_the_overdraft_limit_audited(sam, alice_account):
    account = account_set_overdraft_limit(actor=sam, account_id=alice_account.pk, overdraft_limit=250_00,
                                          reason="Regular income")
    assert account.overdraft_limit == 250_00
    assert Account.objects.get(pk=alice_account.pk).overdraft_limit == 250_00
    event = AuditEvent.objects.filter(action=actions.ACCOUNT_OVERDRAFT_CHANGED).get()
    assert (event.actor, event.target_id) == (sam, str(alice_account.pk))
    assert event.data == {"iban": alice_account.iban, "reason": "Regular income", "from": "0.00", "to": "250.00"}


@pytest.mark.parametrize(
    ("who", "limit", "reason", "code"),
    [
        ("agnes", 100_00, "why", "permission_denied"),
        ("alice", 100_00, "why", "permission_denied"),
        ("sam", -1, "why", "validation_error"),
        ("sam", 100_00, "  ", "validation_error"),
    ],
)
def test_overdraft_refusals_change_nothing(request, alice_account, unchanged, who, limit, reason, code):
    actor = request.getfixturevalue(who)
    with unchanged(), pytest.raises(ApplicationError) as refusal:
        account_set_overdraft_limit(actor=actor, account_id=alice_account.pk, overdraft_limit=limit, reason=reason)
    assert refusal.value.code == code


def test_the_limit_cannot_go_below_the_overdraft_in_use(sam, agnes, alice_account, unchanged):
    account_set_overdraft_limit(actor=sam, account_id=alice_account.pk, overdraft_limit=500_00, reason="r")
    withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=1_200_00)  # pending, held
    with unchanged(), pytest.raises(ApplicationError) as refusal:
        account_set_overdraft_limit(actor=sam, account_id=alice_account.pk, overdraft_limit=100_00, reason="r")
    assert refusal.value.code == "insufficient_funds"


def test_the_overdraft_api_is_for_supervisors(sam, agnes, alice_account, unchanged):
    url = f"/api/v1/accounts/{alice_account.pk}/overdraft/"
    with unchanged():
        refused = api(agnes).post(url, {"overdraft_limit": "100.00", "reason": "r"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    with unchanged():
        invalid = api(sam).post(url, {"overdraft_limit": "1e3", "reason": "r"}, format="json")
    assert invalid.status_code == 400
    response = api(sam).post(url, {"overdraft_limit": "100.00", "reason": "Good customer"}, format="json")
    assert response.status_code == 200
    assert response.json()["overdraft_limit"] == "100.00"
    assert response.json()["available"] == "1100.00"


def test_the_overdraft_endpoint_is_in_the_schema(client):
    schema = client.get("/api/v1/schema/").content.decode()
    assert "/api/v1/accounts/{id}/overdraft/" in schema


# --- Onboarding -------------------------------------------------------------------------------


def test_onboarding_creates_a_customer_and_a_first_account_and_mails_the_link_after_commit(
    agnes, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        customer, account = customer_onboard(
            actor=agnes, username="carol", first_name="Carol", last_name="Jones", email="carol@example.test",
            kind="savings",
        )
    assert customer.is_customer and not customer.has_usable_password()
    assert (account.customer, account.kind, account.currency, account.balance) == (customer, "savings", "EUR", 0)
    recorded = set(AuditEvent.objects.values_list("action", flat=True))
    assert recorded >= {actions.CUSTOMER_CREATED, actions.ACCOUNT_OPENED}
    assert [mail.to for mail in mailoutbox] == [["carol@example.test"]]


def test_an_onboarding_that_fails_mails_nothing(agnes, mailoutbox, django_capture_on_commit_callbacks, unchanged):
    """The customer is created, then the account is refused: both roll back, and so does the mail."""
    with unchanged(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ApplicationError):
            customer_onboard(actor=agnes, username="carol", first_name="C", last_name="J", email="c@example.test",
                             kind="checking", currency="XYZ")
    assert callbacks == [] and mailoutbox == []


def test_onboarding_a_taken_email_creates_nothing(agnes, alice, unchanged):
    users = User.objects.count()
    with unchanged(), pytest.raises(ApplicationError) as refusal:
        customer_onboard(actor=agnes, username="carol", first_name="C", last_name="J", email=alice.email,
                         kind="checking")
    assert set(refusal.value.fields) == {"email"}
    assert User.objects.count() == users


def test_onboarding_with_a_bad_account_leaves_no_customer_behind(agnes, unchanged):
    with unchanged(), pytest.raises(ApplicationError) as refusal:
        customer_onboard(actor=agnes, username="carol", first_name="C", last_name="J", email="c@example.test",
                         kind="checking", currency="XYZ")
    assert set(refusal.value.fields) == {"currency"}
    assert not User.objects.filter(username="carol").exists()
