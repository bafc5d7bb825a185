"""The bulk import pages (/agent/imports/): upload, the validation report, chunks applied through
the page's JSON endpoint, the second upload applying nothing, refused files, the CSV report, and
who may reach them."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from banking.models import Entry
from banking.tests.factories import fresh
from core.testing.spreadsheet import assert_spreadsheet_safe
from workspace.imports.reader import EXAMPLE_CSV, HEADER
from workspace.imports.services import import_apply_next
from workspace.models import ImportBatch

HEADER_LINE = ",".join(HEADER)


def upload(client, content: bytes, name: str = "ops.csv"):
    return client.post(reverse("workspace:imports"), {"file": SimpleUploadedFile(name, content, "text/csv")})


def apply_all(client, batch: ImportBatch) -> dict:
    for _ in range(50):
        progress = client.post(reverse("workspace:import-apply", args=[batch.pk]),
                               HTTP_ACCEPT="application/json").json()
        if progress["finished"]:
            return progress
    raise AssertionError("the import never finished")


@pytest.fixture
def agnes_client(client, agnes):
    client.force_login(agnes)
    return client


@pytest.fixture
def good_and_bad(alice_account, bob_account) -> bytes:
    return "\r\n".join([
        HEADER_LINE,
        f"deposit,{alice_account.iban},100.00,,Cash in",
        f"transfer,{alice_account.iban},2000.00,{bob_account.iban},Too much",
        f"transfer,{bob_account.iban},50,{alice_account.iban},Refund",
        "deposit,NL64FLUX0000000001,10,,Nobody",
        f"deposit,{alice_account.iban},ten,,Typo",
    ]).encode()


def test_upload_check_apply_and_upload_again(agnes_client, alice_account, bob_account, good_and_bad):
    alice_before, bob_before = fresh(alice_account).balance, fresh(bob_account).balance

    response = upload(agnes_client, good_and_bad)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("workspace:import", args=[batch.pk])

    page = agnes_client.get(response.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Apply the 3 valid lines" in html
    assert "No Flux customer account has the IBAN NL64FLUX0000000001" in html
    assert fresh(alice_account).balance == alice_before  # checked, not applied

    progress = apply_all(agnes_client, batch)
    assert progress["counts"] == {"invalid": 2, "valid": 0, "applied": 2, "pending": 0, "refused": 1, "already": 0}
    assert progress["percent"] == 100
    assert fresh(alice_account).balance == alice_before + 100_00 + 50_00
    assert fresh(bob_account).balance == bob_before - 50_00

    html = agnes_client.get(reverse("workspace:import", args=[batch.pk])).content.decode()
    assert "Every line has its result." in html
    assert "There is not enough money available on this account." in html
    first_transaction = batch.lines.get(number=2).transaction_id
    assert reverse("workspace:transaction", args=[first_transaction]) in html  # each applied line links to it
    refused_only = agnes_client.get(reverse("workspace:import", args=[batch.pk]), {"status": "refused"})
    assert refused_only.content.decode().count('data-testid="import-line"') == 1

    entries = Entry.objects.count()
    upload(agnes_client, good_and_bad, name="same-file-again.csv")
    second = ImportBatch.objects.exclude(pk=batch.pk).get()
    progress = apply_all(agnes_client, second)
    assert progress["counts"]["already"] == 2 and progress["counts"]["applied"] == 0
    assert Entry.objects.count() == entries
    assert fresh(alice_account).balance == alice_before + 150_00
    assert "Already applied by import" in agnes_client.get(
        reverse("workspace:import", args=[second.pk])).content.decode()


def test_without_javascript_each_post_applies_one_chunk_and_comes_back(agnes_client, alice_account):
    content = (HEADER_LINE + "\r\n" + f"deposit,{alice_account.iban},1,,\r\n").encode()
    upload(agnes_client, content)
    batch = ImportBatch.objects.get()
    response = agnes_client.post(reverse("workspace:import-apply", args=[batch.pk]))
    assert response.status_code == 302 and response.url == reverse("workspace:import", args=[batch.pk])
    assert fresh(batch).finished_at is not None


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png", "not a CSV file"),
        (b"date,amount\r\n2026-01-01,3\r\n", "ops.csv", "The first line must be the header"),
    ],
)
def test_a_refused_file_shows_why_and_changes_nothing(agnes_client, alice_account, unchanged, content, name, message):
    with unchanged():
        response = upload(agnes_client, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_too_big_is_refused_before_it_is_read_whole(agnes_client, alice_account, unchanged):
    content = (HEADER_LINE + "\r\n" + "x" * (5 * 2**20)).encode()
    with unchanged():
        response = upload(agnes_client, content)
    assert response.status_code == 400 and "larger than 4 MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_report_downloads_as_csv(agnes_client, alice_account, good_and_bad):
    upload(agnes_client, good_and_bad)
    batch = ImportBatch.objects.get()
    apply_all(agnes_client, batch)
    response = agnes_client.get(reverse("workspace:import-report", args=[batch.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = assert_spreadsheet_safe(b"".join(response.streaming_content).decode())
    assert rows[0] == ["line", *HEADER, "result", "message", "transaction"]
    assert [(row[0], row[6]) for row in rows[1:]] == [
        ("2", "applied"), ("3", "refused"), ("4", "applied"), ("5", "invalid"), ("6", "invalid")]


def test_the_report_page_quotes_every_field_and_shows_formulas_as_text(agnes_client, alice_account):
    """Issue 10, finding 9: a reference `x;=1+1;y` must not become a formula cell in a spreadsheet
    that splits on `;`."""
    upload(agnes_client, f'{HEADER_LINE}\r\ndeposit,{alice_account.iban},5.00,,"x;=1+1;y"\r\n'.encode())
    batch = ImportBatch.objects.get()
    apply_all(agnes_client, batch)
    raw = b"".join(agnes_client.get(reverse("workspace:import-report", args=[batch.pk])).streaming_content).decode()
    assert "\"x;'=1+1;y\"" in raw
    rows = assert_spreadsheet_safe(raw)
    assert rows[1][5] == "x;'=1+1;y" and rows[1][6] == "applied"


def test_the_example_file_downloads_and_has_the_documented_shape(agnes_client):
    response = agnes_client.get(reverse("workspace:import-example"))
    assert response.status_code == 200 and response.content.decode() == EXAMPLE_CSV
    rows = list(csv.reader(io.StringIO(EXAMPLE_CSV)))
    assert rows[0] == HEADER and {row[0] for row in rows[1:]} == {"deposit", "withdrawal", "transfer"}
    page = agnes_client.get(reverse("workspace:imports")).content.decode()
    assert HEADER_LINE in page and reverse("workspace:import-example") in page


def test_another_staff_member_sees_the_report_but_does_not_apply(client, agnes, sam, alice_account, unchanged):
    client.force_login(agnes)
    upload(client, (HEADER_LINE + "\r\n" + f"deposit,{alice_account.iban},1,,\r\n").encode())
    batch = ImportBatch.objects.get()
    client.force_login(sam)
    page = client.get(reverse("workspace:import", args=[batch.pk])).content.decode()
    assert "Only the person who uploaded this file applies it." in page
    with unchanged():
        response = client.post(reverse("workspace:import-apply", args=[batch.pk]), HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("name", ["imports", "import-example", "import", "import-report"])
def test_customers_and_visitors_cannot_reach_imports(client, alice, agnes, alice_account, name):
    client.force_login(agnes)
    upload(client, (HEADER_LINE + "\r\n" + f"deposit,{alice_account.iban},1,,\r\n").encode())
    batch = ImportBatch.objects.get()
    args = [batch.pk] if name in ("import", "import-report") else []
    url = reverse(f"workspace:{name}", args=args)
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(alice)
    assert client.get(url).status_code == 403


def test_customers_cannot_upload_or_apply(client, alice, agnes, alice_account, unchanged):
    client.force_login(agnes)
    content = (HEADER_LINE + "\r\n" + f"deposit,{alice_account.iban},1,,\r\n").encode()
    upload(client, content)
    batch = ImportBatch.objects.get()
    client.force_login(alice)
    with unchanged():
        assert upload(client, content).status_code == 403
        assert client.post(reverse("workspace:import-apply", args=[batch.pk])).status_code == 403
    assert ImportBatch.objects.count() == 1


def test_an_unknown_batch_is_not_found(agnes_client):
    assert agnes_client.get(reverse("workspace:import", args=["999999"])).status_code == 404
    assert agnes_client.get(reverse("workspace:import", args=["nope"])).status_code == 404


def test_a_started_batch_resumes_by_itself_when_its_page_is_reloaded(agnes_client, alice_account):
    content = (HEADER_LINE + "\r\n" + "".join(f"deposit,{alice_account.iban},1,,n{n}\r\n" for n in range(3))).encode()
    upload(agnes_client, content)
    batch = ImportBatch.objects.get()
    url = reverse("workspace:import", args=[batch.pk])
    assert 'data-autostart="false"' in agnes_client.get(url).content.decode()  # not before the agent asks
    import_apply_next(actor=batch.uploaded_by, batch_id=batch.pk, limit=1)  # a chunk, then the tab closed
    html = agnes_client.get(url).content.decode()
    assert 'data-autostart="true"' in html and "Continue applying the valid lines" in html
    assert 'data-done="1"' in html and 'data-total="3"' in html


def test_the_report_speaks_the_language_of_the_page_that_shows_it(agnes_client, alice_account, bob_account,
                                                                   good_and_bad):
    """Line errors are stored when the file is checked and applied; the report is read later,
    maybe in the other language: each line says its problem in the language of the page."""
    upload(agnes_client, good_and_bad)  # checked in English
    batch = ImportBatch.objects.latest("pk")
    apply_all(agnes_client, batch)

    agnes_client.cookies["django_language"] = "fr"
    page = agnes_client.get(reverse("workspace:import", args=[batch.pk])).content.decode()

    messages = re.findall(r'data-testid="import-line-message">([^<]*)<', page)
    assert "Le disponible de ce compte est insuffisant." in messages  # the 2000.00 transfer, refused
    assert any(message.startswith("Aucun compte client Flux n’a l’IBAN NL64FLUX0000000001") for message in messages)
    assert not any("The " in message or "There " in message or "No Flux" in message for message in messages), messages

    agnes_client.cookies["django_language"] = "en"
    english = agnes_client.get(reverse("workspace:import", args=[batch.pk])).content.decode()
    assert "There is not enough money available on this account." in english


def test_stored_line_messages_are_said_in_the_readers_language():
    from django.utils import translation

    from workspace.imports.messages import for_people

    stored = ("The type must be deposit, withdrawal or transfer. The counterparty NL00X is not a valid IBAN. "
              "Keep the reference to 140 characters.")
    nested = ("Refused by import #3: There is not enough money available on this account. "
              "To try this line again, send it in a new file.")
    with translation.override("fr"):
        french = for_people(stored)
        assert "Le type doit être deposit, withdrawal ou transfer." in french
        assert "La référence doit faire au plus 140 caractères." in french
        assert "NL00X n’est pas un IBAN valide" in french
        assert for_people(nested) == ("Refusée par l’import n° 3 : Le disponible de ce compte est insuffisant. "
                                      "Pour réessayer cette ligne, envoyez-la dans un nouveau fichier.")
        assert for_people("Something a service said.") == "Something a service said."
    with translation.override("en"):
        assert for_people(stored) == stored
