"""The approval queue: oldest first with who started each operation; approve, reject with a
reason; never one's own; an agent up to FLUX_AGENT_APPROVAL_LIMIT. Refusals change nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from banking.models import TransactionStatus
from banking.services import deposit_create, transaction_reverse, transfer_create, withdrawal_create
from banking.tests.factories import fund
from identity.tests.factories import AgentFactory
from workspace.tests.desk_support import client_for

pytestmark = pytest.mark.django_db

QUEUE = "/agent/approvals/"


@pytest.fixture
def ann(db):
    return AgentFactory(username="ann")


@pytest.fixture
def big_transfer(alice, alice_account, bob_account, sam, agnes):
    fund(alice_account, 20_000_00, agent=agnes, approver=sam)
    return transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=bob_account.iban,
                           amount=15_000_00, reference="Car")


def test_the_queue_lists_oldest_first_with_initiator_amount_and_accounts(agnes, ann, alice_account, big_transfer):
    later = withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=5_000_00)
    page = client_for(ann).get(QUEUE).content.decode()
    assert re.findall(r'data-transaction="(\d+)"', page) == [str(big_transfer.pk), str(later.pk)]
    assert "15,000.00" in page and "alice" in page and "agnes" in page and "Car" in page


def test_the_initiator_sees_no_buttons_on_their_own_and_a_post_is_refused(agnes, alice_account, unchanged):
    own = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=6_000_00)
    client = client_for(agnes)
    page = client.get(QUEUE).content.decode()
    assert 'data-testid="own-note"' in page and f"/agent/approvals/{own.pk}/approve/" not in page
    with unchanged():
        response = client.post(f"/agent/approvals/{own.pk}/approve/")
    assert response.status_code == 403
    assert "You started this operation: another member of staff decides it." in response.content.decode()
    with unchanged():
        assert client.post(f"/agent/approvals/{own.pk}/reject/", {"reason": "mine"}).status_code == 403


def test_another_agent_approves(agnes, ann, alice_account):
    pending = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=6_000_00)
    response = client_for(ann).post(f"/agent/approvals/{pending.pk}/approve/")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (TransactionStatus.POSTED, ann)
    alice_account.refresh_from_db()
    assert alice_account.balance == 7_000_00


def test_reject_needs_a_reason_then_releases_the_hold(ann, alice_account, big_transfer, unchanged):
    pending = big_transfer
    alice_account.refresh_from_db()
    assert alice_account.held == 15_000_00
    client = client_for(ann)
    with unchanged():
        response = client.post(f"/agent/approvals/{pending.pk}/reject/", {"reason": " "})
    assert response.status_code == 400 and b"Give a reason to reject." in response.content
    assert client.post(f"/agent/approvals/{pending.pk}/reject/", {"reason": "No ID shown"}).status_code == 302
    pending.refresh_from_db()
    alice_account.refresh_from_db()
    assert (pending.status, pending.decision_reason, alice_account.held) == (TransactionStatus.REJECTED,
                                                                             "No ID shown", 0)


def test_a_decided_transaction_is_refused_clearly(agnes, ann, sam, alice_account, unchanged):
    pending = deposit_create(initiator=agnes, account_id=alice_account.pk, amount=6_000_00)
    client_for(sam).post(f"/agent/approvals/{pending.pk}/approve/")
    with unchanged():
        response = client_for(ann).post(f"/agent/approvals/{pending.pk}/approve/")
    assert response.status_code == 409
    assert "This transaction is no longer waiting for a decision." in response.content.decode()


@override_settings(FLUX_AGENT_APPROVAL_LIMIT=Decimal("10000.00"))
def test_an_agent_above_the_limit_sees_no_approve_button_and_is_refused(ann, sam, big_transfer, unchanged):
    client = client_for(ann)
    page = client.get(QUEUE).content.decode()
    assert 'data-testid="limit-note"' in page and f"/agent/approvals/{big_transfer.pk}/approve/" not in page
    with unchanged():
        response = client.post(f"/agent/approvals/{big_transfer.pk}/approve/")
    assert response.status_code == 403
    assert "above your approval limit of 10,000.00" in response.content.decode()
    # A supervisor approves any amount.
    assert f"/agent/approvals/{big_transfer.pk}/approve/" in client_for(sam).get(QUEUE).content.decode()
    assert client_for(sam).post(f"/agent/approvals/{big_transfer.pk}/approve/").status_code == 302
    big_transfer.refresh_from_db()
    assert big_transfer.status == TransactionStatus.POSTED


def test_the_queue_query_count_does_not_grow_with_its_length(agnes, ann, alice_account, bob_account):
    for _ in range(2):
        deposit_create(initiator=agnes, account_id=alice_account.pk, amount=6_000_00)
    client = client_for(ann)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE)
    for account in (alice_account, bob_account) * 6:
        deposit_create(initiator=agnes, account_id=account.pk, amount=6_000_00)
    with CaptureQueriesContext(connection) as many:
        page = client.get(QUEUE).content.decode()
    assert page.count('data-testid="approval-row"') == 14
    assert len(many) == len(few) <= 8


def test_a_reversal_is_queued_with_its_original_and_its_initiator_cannot_decide_it(agnes, ann, alice_account,
                                                                                    unchanged):
    """Finding 3: an agent reversed her own cash withdrawal alone. At the desk the reversal waits in
    the queue, linked to the withdrawal; she gets no button and a forged POST is refused."""
    withdrawal = withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=300_00)
    reversal = transaction_reverse(actor=agnes, transaction_id=withdrawal.pk, reason="Counted wrong")
    client = client_for(agnes)

    page = client.get(QUEUE).content.decode()
    row = re.search(rf'<tr data-testid="approval-row" data-transaction="{reversal.pk}".*?</tr>', page, re.S).group(0)
    assert 'data-testid="reverses"' in row and f'href="/agent/transactions/{withdrawal.pk}/"' in row
    assert "300.00" in row and 'data-testid="own-note"' in row and "/approve/" not in row
    with unchanged():
        response = client.post(f"/agent/approvals/{reversal.pk}/approve/")
    assert response.status_code == 403
    with unchanged():
        assert client.post(f"/agent/approvals/{reversal.pk}/reject/", {"reason": "mine"}).status_code == 403

    assert f"/agent/approvals/{reversal.pk}/approve/" in client_for(ann).get(QUEUE).content.decode()
    assert client_for(ann).post(f"/agent/approvals/{reversal.pk}/approve/").status_code == 302
    reversal.refresh_from_db()
    alice_account.refresh_from_db()
    assert (reversal.status, reversal.decided_by, alice_account.balance) == (TransactionStatus.POSTED, ann, 1_000_00)


def test_an_empty_queue_says_so(agnes):
    assert b'data-testid="queue-empty"' in client_for(agnes).get(QUEUE).content
