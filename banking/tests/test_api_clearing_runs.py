"""The clearing runs API: POST clearing/runs/, GET clearing/runs/, GET clearing/runs/{id}/file/
(supervisors only)."""

from __future__ import annotations

import pytest
import xmlschema
from lxml import etree

from audit import actions
from audit.models import AuditEvent
from banking.clearing.pain001 import schema_path
from banking.models import ClearingRun, Transaction, TransactionStatus
from banking.tests.support import TRANSFERS, transfer
from core.testing.api import API, assert_error, idempotency_key, page, post

RUNS = f"{API}clearing/runs/"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
DE_IBAN = "DE89370400440532013000"


@pytest.fixture
def waiting(api_client_for, alice, alice_account) -> list[dict]:
    """Two transfers from Alice to another bank, posted, waiting to be sent."""
    client = api_client_for(alice)
    made = [transfer(client, alice_account, DE_IBAN, amount, reference="Rent", beneficiary_name="Zoë Ñúñez").json()
            for amount in ("10.00", "2.55")]
    assert [t["status"] for t in made] == ["posted", "posted"]
    return made


def test_a_supervisor_runs_clearing_and_downloads_the_file(api_client_for, sam, alice, waiting):
    client = api_client_for(sam)
    key = idempotency_key()
    response = post(client, RUNS, {}, key=key)
    assert response.status_code == 201, response.content
    body = response.json()
    run = ClearingRun.objects.get()
    assert set(body) == {"id", "created_at", "count", "total", "currency"}
    assert (body["id"], body["count"], body["total"], body["currency"]) == (run.pk, 2, "12.55", "EUR")

    # Replayed, not run again.
    again = post(client, RUNS, {}, key=key)
    assert again.status_code == 201 and again.json() == body and again["Idempotent-Replayed"] == "true"
    assert ClearingRun.objects.count() == 1

    # The customer sees it sent, and when.
    detail = api_client_for(alice).get(f"{API}transactions/{waiting[0]['id']}/").json()
    assert detail["status"] == "sent" and detail["sent_at"]
    sent = page(api_client_for(alice).get(TRANSFERS, {"status": "sent"}))
    assert {t["id"] for t in sent} == {t["id"] for t in waiting}

    listed = page(client.get(RUNS))
    assert listed == [body]

    file = client.get(f"{RUNS}{run.pk}/file/")
    assert file.status_code == 200
    assert file["Content-Type"] == "application/xml"
    assert file["Content-Disposition"] == f'attachment; filename="flux-pain001-{run.pk}.xml"'
    xmlschema.XMLSchema(str(schema_path())).validate(file.content.decode())
    tree = etree.fromstring(file.content)
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert tree.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "12.55"
    assert [n.text for n in tree.iterfind(".//p:CdtTrfTxInf/p:Cdtr/p:Nm", NS)] == ["Zoe Nunez", "Zoe Nunez"]


def test_nothing_to_clear_is_422_and_changes_nothing(api_client_for, api_unchanged, sam, alice_account):
    client = api_client_for(sam)
    with api_unchanged():
        response = post(client, RUNS, {}, key=idempotency_key())
    assert_error(response, 422, "nothing_to_clear")
    assert not ClearingRun.objects.exists()
    assert not AuditEvent.objects.filter(action=actions.CLEARING_RUN_CREATED).exists()


def test_a_run_needs_an_idempotency_key_and_a_known_currency(api_client_for, sam, waiting):
    client = api_client_for(sam)
    assert_error(post(client, RUNS, {}), 400, "idempotency_key_missing")
    assert_error(post(client, RUNS, {"currency": "XYZ"}, key=idempotency_key()), 400, "validation_error",
                 fields={"currency"})
    assert not ClearingRun.objects.exists()
    assert not Transaction.objects.filter(status=TransactionStatus.SENT).exists()


@pytest.mark.parametrize("who", ["agnes", "alice"])
def test_only_supervisors_see_and_run_clearing(request, api_client_for, api_unchanged, sam, who, waiting):
    run_id = post(api_client_for(sam), RUNS, {}, key=idempotency_key()).json()["id"]
    waiting_more = transfer(api_client_for(request.getfixturevalue("alice")),
                            Transaction.objects.get(pk=waiting[0]["id"]).source, DE_IBAN, "1.00")
    assert waiting_more.status_code == 201
    client = api_client_for(request.getfixturevalue(who))
    with api_unchanged():
        assert_error(post(client, RUNS, {}, key=idempotency_key()), 403, "permission_denied")
    assert_error(client.get(RUNS), 403, "permission_denied")
    assert_error(client.get(f"{RUNS}{run_id}/file/"), 403, "permission_denied")
    assert_error(api_client_for(None).get(RUNS), 401, "not_authenticated")


def test_an_unknown_run_file_is_404(api_client_for, sam):
    assert_error(api_client_for(sam).get(f"{RUNS}999999/file/"), 404, "not_found")
    assert_error(api_client_for(sam).get(f"{RUNS}nope/file/"), 404, "not_found")
