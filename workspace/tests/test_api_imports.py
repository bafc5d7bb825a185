"""Bulk imports over the API (/api/v1/imports/): a text/csv body, the report, chunks applied until
finished, the same file again applying nothing, refused files leaving nothing behind, and who may."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from banking.models import Entry
from banking.tests.factories import fresh
from core.testing.api import bearer_client as client_for
from core.testing.spreadsheet import assert_spreadsheet_safe
from workspace.imports.reader import HEADER
from workspace.models import ImportBatch, ImportLine

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/imports/"
HEADER_LINE = ",".join(HEADER)



def send(client: APIClient, content: bytes, name: str = "ops.csv"):
    return client.generic("POST", f"{IMPORTS}?file_name={name}", content, content_type="text/csv")


def apply_all(client: APIClient, batch_id: int) -> dict:
    for _ in range(20):
        response = client.post(f"{IMPORTS}{batch_id}/apply/")
        assert response.status_code == 200, response.content
        if response.json()["finished"]:
            return response.json()
    raise AssertionError("the import never finished")


@pytest.fixture
def operations(alice_account, bob_account) -> bytes:
    return "\r\n".join([
        HEADER_LINE,
        f"deposit,{alice_account.iban},100.00,,Cash in",
        f"transfer,{bob_account.iban},50,{alice_account.iban},Refund",
        f"deposit,{alice_account.iban},ten,,Typo",
    ]).encode()


def test_send_read_apply_and_send_again(agnes, alice_account, bob_account, operations):
    client = client_for(agnes)
    alice_before, bob_before = fresh(alice_account).balance, fresh(bob_account).balance
    created = send(client, operations)
    assert created.status_code == 201, created.content
    batch = created.json()
    assert batch["file_name"] == "ops.csv" and batch["line_count"] == 3 and batch["uploaded_by"] == agnes.pk
    assert batch["progress"]["counts"]["valid"] == 2 and batch["progress"]["counts"]["invalid"] == 1
    assert fresh(alice_account).balance == alice_before  # nothing applied yet

    lines = client.get(f"{IMPORTS}{batch['id']}/lines/").json()["results"]
    assert [line["number"] for line in lines] == [2, 3, 4]  # file lines; the header is line 1
    assert lines[0]["amount"] == "100.00" and lines[2]["status"] == "invalid" and lines[2]["message"]
    invalid = client.get(f"{IMPORTS}{batch['id']}/lines/?status=invalid").json()["results"]
    assert [line["number"] for line in invalid] == [4]

    progress = apply_all(client, batch["id"])
    assert progress["counts"]["applied"] == 2 and progress["percent"] == 100
    assert fresh(alice_account).balance == alice_before + 100_00 + 50_00
    assert fresh(bob_account).balance == bob_before - 50_00

    report = client.get(f"{IMPORTS}{batch['id']}/report/")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    rows = assert_spreadsheet_safe(report.content.decode())
    assert rows[0][:2] == ["line", "type"] and [row[-3] for row in rows[1:]] == ["applied", "applied", "invalid"]

    entries = Entry.objects.count()
    again = send(client, operations).json()
    assert apply_all(client, again["id"])["counts"]["already"] == 2
    assert Entry.objects.count() == entries and fresh(alice_account).balance == alice_before + 150_00

    listed = client.get(IMPORTS).json()["results"]
    assert [b["id"] for b in listed] == [again["id"], batch["id"]]


@pytest.mark.parametrize(
    "content",
    [b"", b"type,account,amount,counterparty,reference\r\n", b"not,a,flux,file\r\n1,2,3,4\r\n", b"\xff\xfe\x00"],
)
def test_a_refused_file_is_400_and_stores_nothing(agnes, content):
    client = client_for(agnes)
    events = AuditEvent.objects.count()
    response = send(client, content)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error" and "file" in response.json()["error"]["fields"]
    assert not ImportBatch.objects.exists() and not ImportLine.objects.exists()
    assert AuditEvent.objects.count() == events


def test_json_is_not_a_csv_file(agnes):
    response = client_for(agnes).post(IMPORTS, {"a": 1}, format="json")
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"


def test_a_file_over_the_upload_cap_is_413_unread(agnes, settings):
    settings.FLUX_API_MAX_UPLOAD_BYTES = 1000
    response = send(client_for(agnes), HEADER_LINE.encode() + b"\r\n" + b"x" * 2000)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"
    assert not ImportBatch.objects.exists()


def test_only_the_uploader_applies(agnes, sam, operations, alice_account):
    batch = send(client_for(agnes), operations).json()
    before, entries, events = fresh(alice_account).balance, Entry.objects.count(), AuditEvent.objects.count()
    response = client_for(sam).post(f"{IMPORTS}{batch['id']}/apply/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert fresh(alice_account).balance == before
    assert Entry.objects.count() == entries and AuditEvent.objects.count() == events
    assert ImportBatch.objects.get(pk=batch["id"]).started_at is None


def test_customers_and_strangers_are_refused(alice, agnes, operations):
    batch = send(client_for(agnes), operations).json()
    customer = client_for(alice)
    for response in (customer.get(IMPORTS), send(customer, operations), customer.get(f"{IMPORTS}{batch['id']}/"),
                     customer.post(f"{IMPORTS}{batch['id']}/apply/")):
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    assert ImportBatch.objects.count() == 1
    assert APIClient().get(IMPORTS).status_code == 401


@pytest.mark.parametrize("pk", ["999999", "abc", "99999999999999999999999"])
def test_an_unknown_batch_is_404(agnes, pk):
    client = client_for(agnes)
    for response in (client.get(f"{IMPORTS}{pk}/"), client.get(f"{IMPORTS}{pk}/lines/"),
                     client.post(f"{IMPORTS}{pk}/apply/"), client.get(f"{IMPORTS}{pk}/report/")):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_bad_status_filter_is_400(agnes, operations):
    client = client_for(agnes)
    batch = send(client, operations).json()
    response = client.get(f"{IMPORTS}{batch['id']}/lines/?status=lost")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]


@pytest.mark.parametrize(("name", "stored"),
                         [("a%01b.csv", "ab.csv"), ("%0A%0D", "import.csv"), ("x" * 300, "x" * 255)])
def test_the_file_name_is_kept_printable_and_short(agnes, operations, name, stored):
    response = client_for(agnes).generic("POST", f"{IMPORTS}?file_name={name}", operations, content_type="text/csv")
    assert response.status_code == 201, response.content
    assert response.json()["file_name"] == stored == ImportBatch.objects.get().file_name


def test_the_list_reads_every_batchs_progress_at_once(agnes, operations, django_assert_max_num_queries):
    client = client_for(agnes)
    for n in range(6):
        assert send(client, operations, name=f"ops-{n}.csv").status_code == 201
    with django_assert_max_num_queries(3):  # the user, the page of batches, their progress
        listed = client.get(IMPORTS).json()["results"]
    assert len(listed) == 6 and all(b["progress"]["counts"]["valid"] == 2 for b in listed)
