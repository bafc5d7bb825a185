"""The desk's statement upload (/agent/clearing/statements/, supervisors): upload and confirm, the
result entry by entry, the list; a refused file changes nothing; a resent form imports once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from banking.clearing.samples import V02, camt053_xml, credit
from banking.models import Statement
from banking.tests.clearing import JEAN_IBAN, UNKNOWN_FLUX_IBAN, clearing_snapshot, sent_transfer
from banking.tests.factories import fresh
from workspace.tests.desk_support import client_for, form_token

pytestmark = pytest.mark.django_db

URL = reverse("workspace:clearing-statements")


def upload(client, content: bytes, *, token: str | None = None, confirm: bool = True):
    data = {"file": SimpleUploadedFile("statement.xml", content, "application/xml"),
            "token": token or form_token(client, URL)}
    if confirm:
        data["confirm"] = "on"
    return client.post(URL, data)


@pytest.fixture
def statement(alice, alice_account, bob_account) -> bytes:
    original = sent_transfer(alice, alice_account, 30_00)
    return camt053_xml([
        credit("25.00", debtor_name="Jean Dupont", debtor_iban=JEAN_IBAN, creditor_iban=bob_account.iban,
               remittance="Rent March"),
        credit("7.00", debtor_name="Nobody Known", creditor_iban=UNKNOWN_FLUX_IBAN),
        credit("30.00", end_to_end_id=str(original.pk), return_reason="AC04"),
    ], version=V02)


def test_sam_uploads_a_statement_and_sees_each_entry(sam, bob_account, statement):
    client, before = client_for(sam), bob_account.balance

    response = upload(client, statement)

    assert response.status_code == 302
    imported = Statement.objects.get()
    assert response.url == reverse("workspace:clearing-statement", args=[imported.pk])
    assert fresh(bob_account).balance == before + 25_00
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="count-credited">1<' in html and 'data-testid="count-suspense">1<' in html
    assert 'data-outcome="credited"' in html and "Jean Dupont" in html and "Rent March" in html
    assert 'data-outcome="suspense" class="bg-amber-50' in html and "No Flux account has this IBAN" in html
    assert 'data-outcome="returned"' in html
    listing = client.get(URL).content.decode()
    assert f"#{imported.pk} {imported.statement_id}" in listing


def test_the_page_in_french(sam, statement):
    client = client_for(sam)
    client.cookies["django_language"] = "fr"
    response = upload(client, statement)
    html = client.get(response.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Crédité" in html or "Créditée" in html
    assert "Relevés de la banque correspondante" in client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_the_same_form_sent_twice_imports_once(sam, statement):
    client = client_for(sam)
    token = form_token(client, URL)
    first = upload(client, statement, token=token)
    snapshot = clearing_snapshot()
    second = upload(client, statement, token=token)
    assert second.status_code == 302 and second.url == first.url
    assert clearing_snapshot() == snapshot


@pytest.mark.parametrize("content", [b"<html/>", b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'/>"])
def test_a_file_that_is_not_a_statement_is_refused_on_the_form(sam, content, alice_account):
    client = client_for(sam)
    before = clearing_snapshot()
    response = upload(client, content)
    assert response.status_code == 400
    assert 'data-testid="file-error"' in response.content.decode()
    assert clearing_snapshot() == before


def test_without_the_confirmation_nothing_is_imported(sam, statement):
    client = client_for(sam)
    before = clearing_snapshot()
    assert upload(client, statement, confirm=False).status_code == 400
    assert clearing_snapshot() == before


def test_agents_may_not(agnes, statement):
    client = client_for(agnes)
    assert client.get(URL).status_code == 403
    before = clearing_snapshot()
    assert client.post(URL, {"file": SimpleUploadedFile("s.xml", statement), "confirm": "on",
                             "token": "5b0f2c5e-5d1e-4c59-9a55-0a4f8f0f3f11"}).status_code == 403
    assert clearing_snapshot() == before


def test_the_desk_transaction_page_names_the_payer_and_the_account_credited(sam, bob_account, statement):
    client = client_for(sam)
    imported = Statement.objects.get(pk=int(upload(client, statement).url.rstrip("/").rsplit("/", 1)[1]))
    incoming = imported.statement_entries.get(position=1).transaction
    html = client.get(reverse("workspace:transaction", args=[incoming.pk])).content.decode()
    payer = html.split('data-testid="transaction-payer">')[1].split("</span>")[0]
    assert "Jean Dupont" in payer and "FR76 3000" in payer
    grouped = " ".join(bob_account.iban[i : i + 4] for i in range(0, len(bob_account.iban), 4))
    payee = html.split(">To<")[1].split("</dd>")[0]
    assert grouped in payee and "FR76" not in payee
