"""The clearing page (/agent/clearing/, supervisors): what waits and its total, "Run clearing" with a
confirmation step, run once per form token, the runs with their files; English and French."""

from __future__ import annotations

import re
import uuid

import pytest

from banking.models import ClearingRun, TransactionStatus
from banking.services import transfer_create
from workspace.tests.desk_support import client_for

pytestmark = pytest.mark.django_db

PAGE = "/agent/clearing/"
DE_IBAN = "DE89370400440532013000"


@pytest.fixture
def waiting(alice, alice_account):
    return [transfer_create(initiator=alice, source_account_id=alice_account.pk, destination_iban=DE_IBAN,
                            amount=amount, reference="Rent") for amount in (10_00, 2_50)]


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_a_supervisor_sees_what_waits_confirms_and_runs_clearing_once(sam, waiting):
    client = client_for(sam)
    page = client.get(PAGE).content.decode()
    assert 'data-testid="clearing-no-runs"' in page and 'aria-current="page">Clearing runs</a>' in page
    waiting_card = re.search(r'data-testid="clearing-waiting" data-currency="EUR".*?</li>', page, re.S).group(0)
    assert "12.50\N{NO-BREAK SPACE}EUR" in waiting_card and "2 transfers to other banks" in waiting_card
    assert f'href="{PAGE}"' in page  # the desk nav item, for supervisors

    token = token_of(page)
    confirm = client.post(PAGE, {"token": token, "currency": "EUR"})
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert 'data-testid="clearing-confirm"' in body
    assert "Send 2 transfers, 12.50\N{NO-BREAK SPACE}EUR in all, to the other banks?" in body
    assert not ClearingRun.objects.exists()  # nothing sent before the confirmation

    done = client.post(PAGE, {"token": token, "currency": "EUR", "step": "confirm"}, follow=True)
    run = ClearingRun.objects.get()
    assert (run.count, run.total, run.created_by) == (2, 12_50, sam)
    page = done.content.decode()
    assert f"Clearing run #{run.pk} sent 2 transfers, 12.50\N{NO-BREAK SPACE}EUR." in page
    assert 'data-testid="clearing-nothing-waits"' in page and f'data-run="{run.pk}"' in page
    for txn in waiting:
        txn.refresh_from_db()
        assert txn.status == TransactionStatus.SENT

    # The same confirmation again (a double click, a reload) runs nothing more.
    client.post(PAGE, {"token": token, "currency": "EUR", "step": "confirm"})
    assert ClearingRun.objects.count() == 1

    file = client.get(f"{PAGE}runs/{run.pk}/file/")
    assert file.status_code == 200 and file["Content-Type"] == "application/xml"
    assert file["Content-Disposition"] == f'attachment; filename="{run.file_name}"'
    assert bytes(file.content) == bytes(run.file)
    assert client.get(f"{PAGE}runs/999999/file/").status_code == 404


def test_nothing_to_clear_is_said_and_nothing_changes(sam, alice_account):
    client = client_for(sam)
    page = client.get(PAGE).content.decode()
    assert 'data-testid="clearing-nothing-waits"' in page
    # Sent from a page that still offered it (another supervisor ran clearing meanwhile).
    response = client.post(PAGE, {"token": str(uuid.uuid4()), "currency": "EUR", "step": "confirm"})
    assert response.status_code == 422
    assert 'data-testid="clearing-error"' in response.content.decode()
    assert "No transfer to another bank in EUR is waiting to be sent." in response.content.decode()
    assert not ClearingRun.objects.exists()


def test_agents_and_customers_do_not_reach_the_page(agnes, alice, waiting):
    for user in (agnes, alice):
        client = client_for(user)
        assert client.get(PAGE).status_code in (302, 403, 404)
        response = client.post(PAGE, {"token": "2f1e6a3c-4b8d-4e0f-9a7b-1c2d3e4f5a6b", "currency": "EUR",
                                      "step": "confirm"})
        assert response.status_code in (302, 403, 404)
    assert not ClearingRun.objects.exists()
    assert 'href="/agent/clearing/"' not in client_for(agnes).get("/agent/").content.decode()


def test_the_page_speaks_french(sam, waiting):
    client = client_for(sam)
    client.cookies["django_language"] = "fr"
    page = client.get(PAGE).content.decode()
    assert "Compensation" in page
    assert "Lancer la compensation" in page
    assert "2 virements vers d’autres banques" in page
    assert "12,50\N{NO-BREAK SPACE}EUR" in page
    confirm = client.post(PAGE, {"token": token_of(page), "currency": "EUR"}).content.decode()
    assert "Envoyer 2 virements, 12,50\N{NO-BREAK SPACE}EUR au total, aux autres banques ?" in confirm
