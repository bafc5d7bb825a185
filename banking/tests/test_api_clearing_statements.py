"""POST clearing/statements/ (a camt.053 body, supervisors, idempotent) and GET clearing/statements/."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit import actions
from audit.models import AuditEvent
from banking.clearing.samples import V02, V08, camt053_xml, credit
from banking.models import Statement, Transaction, TransactionKind, TransactionStatus
from banking.tests.clearing import JEAN_IBAN, UNKNOWN_FLUX_IBAN, clearing_snapshot, sent_transfer
from banking.tests.factories import fresh
from core.testing.api import API, assert_error, idempotency_key, page
from core.testing.request_ids import request_data

pytestmark = pytest.mark.django_db

URL = f"{API}clearing/statements/"


def upload(client, content: bytes, *, key: str | None = "", content_type: str = "application/xml"):
    headers = {"Idempotency-Key": idempotency_key() if key == "" else key} if key is not None else {}
    return client.post(URL, data=content, content_type=content_type, headers=headers)


@pytest.fixture
def statement(alice, alice_account, bob_account) -> bytes:
    original = sent_transfer(alice, alice_account, 30_00)
    return camt053_xml([
        credit("25.00", debtor_name="Jean Dupont", debtor_iban=JEAN_IBAN, creditor_iban=bob_account.iban,
               remittance="Rent"),
        credit("7.00", creditor_iban=UNKNOWN_FLUX_IBAN),
        credit("30.00", end_to_end_id=str(original.pk), return_reason="AC04"),
    ], version=V08)


def test_a_supervisor_imports_a_statement_and_the_money_arrives(api_client_for, sam, bob_account, statement):
    before = bob_account.balance

    response = upload(api_client_for(sam), statement)

    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in ("entries", "credited", "returned", "suspense", "duplicates")} == {
        "entries": 3, "credited": 1, "returned": 1, "suspense": 1, "duplicates": 0}
    assert body["version"] == V08 and Statement.objects.filter(pk=body["id"]).exists()
    assert fresh(bob_account).balance == before + 25_00
    incoming = Transaction.objects.get(kind=TransactionKind.INCOMING_TRANSFER, destination=bob_account)
    assert (incoming.payer_name, incoming.status) == ("Jean Dupont", TransactionStatus.POSTED)
    event = AuditEvent.objects.get(action=actions.CLEARING_STATEMENT_IMPORTED)
    data = request_data(event, response)
    assert data["statement"] == body["id"] and data["credited"] == 1 and data["suspense"] == 1
    posted = AuditEvent.objects.get(action=actions.TRANSACTION_POSTED, target_id=str(incoming.pk))
    assert request_data(posted, response) == {
        "kind": "incoming_transfer", "status": "posted", "amount": "25.00", "currency": "EUR",
        "source": incoming.source.iban, "destination": bob_account.iban, "reference": "Rent",
        "payer_iban": JEAN_IBAN, "payer_name": "Jean Dupont"}
    returned = AuditEvent.objects.get(action=actions.TRANSACTION_RETURNED)
    assert request_data(returned, response)["status"] == "returned"


def test_the_same_key_replays_and_the_same_file_again_is_all_duplicates(api_client_for, sam, statement):
    client, key = api_client_for(sam), idempotency_key()
    first = upload(client, statement, key=key)
    snapshot = clearing_snapshot()

    replay = upload(client, statement, key=key)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert clearing_snapshot() == snapshot

    again = upload(client, statement, content_type="text/xml")
    assert again.status_code == 201, again.content
    assert (again.json()["duplicates"], again.json()["credited"], again.json()["returned"]) == (3, 0, 0)
    after = clearing_snapshot()
    for part in ("accounts", "entries", "transactions", "transaction_statuses", "suspense_items"):
        assert after[part] == snapshot[part], part


def test_the_same_key_with_another_file_is_refused(api_client_for, sam, statement, alice_account):
    client, key = api_client_for(sam), idempotency_key()
    assert upload(client, statement, key=key).status_code == 201
    other = camt053_xml([credit("1.00", creditor_iban=alice_account.iban)])
    assert_error(upload(client, other, key=key), 422, "idempotency_key_reused")


@pytest.mark.parametrize("content", [
    b"not xml",
    b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'><CstmrCdtTrfInitn/>"
    b"</Document>",
    b"",
])
def test_a_file_that_is_not_a_camt053_is_400_and_changes_nothing(api_client_for, api_unchanged, sam, content):
    client = api_client_for(sam)
    with api_unchanged():
        before = clearing_snapshot()
        assert_error(upload(client, content), 400, "validation_error", fields={"file"})
        assert clearing_snapshot() == before


def test_another_accounts_statement_is_400(api_client_for, api_unchanged, sam, alice_account):
    content = camt053_xml([credit("1.00", creditor_iban=alice_account.iban)], account_iban=JEAN_IBAN, version=V02)
    with api_unchanged():
        assert_error(upload(api_client_for(sam), content), 400, "validation_error", fields={"file"})


def test_only_supervisors_and_with_a_key_and_as_xml(api_client_for, api_unchanged, sam, agnes, alice, statement):
    with api_unchanged():
        for user in (agnes, alice):
            assert_error(upload(api_client_for(user), statement), 403, "permission_denied")
        assert_error(upload(api_client_for(None), statement), 401, "not_authenticated")
        assert_error(upload(api_client_for(sam), statement, key=None), 400, "idempotency_key_missing")
        assert_error(upload(api_client_for(sam), statement, content_type="application/json"), 415,
                     "unsupported_media_type")
    assert_error(api_client_for(agnes).get(URL), 403, "permission_denied")


def test_the_list_shows_each_statement_newest_first(api_client_for, sam, statement):
    client = api_client_for(sam)
    first = upload(client, statement).json()
    second = upload(client, statement).json()
    results = page(client.get(URL))
    assert [(row["id"], row["credited"], row["duplicates"]) for row in results] == [
        (second["id"], 0, 3), (first["id"], 1, 0)]
    assert "file" not in results[0]


def test_a_statement_larger_than_a_form_is_taken_whole(api_client_for, sam, alice_account, settings):
    # Django keeps request bodies of forms to DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); a statement is
    # read as a stream, up to FLUX_STATEMENT_MAX_BYTES.
    content = camt053_xml([credit("0.01", debtor_name=f"Payer {n}", debtor_iban=JEAN_IBAN,
                                  creditor_iban=alice_account.iban, remittance=f"Invoice number {n:06d}")
                           for n in range(2_500)])
    assert len(content) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = alice_account.balance

    response = upload(api_client_for(sam), content)

    assert response.status_code == 201, response.content[:300]
    assert response.json()["credited"] == 2_500
    assert fresh(alice_account).balance == before + 25_00


def test_a_statement_over_the_limit_is_413_and_changes_nothing(api_client_for, api_unchanged, sam, alice_account,
                                                                 settings):
    content = camt053_xml([credit("1.00", creditor_iban=alice_account.iban)])
    settings.FLUX_STATEMENT_MAX_BYTES = len(content) - 1
    with api_unchanged():
        assert_error(upload(api_client_for(sam), content), 413, "request_too_large")


def test_a_multipart_file_is_taken_too_and_its_content_is_what_the_key_remembers(
        api_client_for, sam, statement, alice_account):
    client, key = api_client_for(sam), idempotency_key()

    def send(content: bytes):
        return client.post(URL, {"file": SimpleUploadedFile("statement.xml", content, "application/xml")},
                           format="multipart", headers={"Idempotency-Key": key})

    first = send(statement)
    assert first.status_code == 201, first.content
    assert first.json()["credited"] == 1 and first.json()["returned"] == 1
    assert send(statement).json() == first.json()
    # Another file under the same name and key is another request.
    other = camt053_xml([credit("1.00", creditor_iban=alice_account.iban)])
    assert_error(send(other), 422, "idempotency_key_reused")
    assert Statement.objects.count() == 1
