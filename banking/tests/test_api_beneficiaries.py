"""The beneficiaries API and the statement endpoint: customers reach only their own, staff read
statements, the anonymous are asked to sign in, and a refused request changes nothing."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager

import pytest
from pypdf import PdfReader

from audit import actions
from audit.models import AuditEvent
from banking.iban import group_iban
from banking.models import Beneficiary
from banking.services import beneficiary_create
from banking.tests.factories import EXTERNAL_IBAN
from banking.tests.history import BEFORE_LABEL, INJECTION, LAST_LABEL, book_history
from core.testing.api import API, assert_error, client_for, obtain_tokens
from core.testing.spreadsheet import assert_spreadsheet_safe
from core.testing.users import TEST_PASSWORD

pytestmark = pytest.mark.django_db

BENEFICIARIES = f"{API}beneficiaries/"


def signed_in(user):
    return client_for(None, access=obtain_tokens(user, TEST_PASSWORD)["access"])


def beneficiary_rows() -> list[tuple]:
    return list(Beneficiary.objects.order_by("pk").values_list("pk", "customer_id", "name", "iban"))


@pytest.fixture
def nothing_changes(unchanged):
    @contextmanager
    def check():
        before = beneficiary_rows()
        with unchanged():
            yield
        assert beneficiary_rows() == before

    return check


@pytest.fixture
def landlord(alice):
    return beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)


# --- Beneficiaries ---------------------------------------------------------------------------------


def test_list_shows_only_your_own(alice, bob, landlord):
    beneficiary_create(customer=bob, name="Bob's landlord", iban=EXTERNAL_IBAN)
    response = signed_in(alice).get(BENEFICIARIES)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert body["results"] == [
        {"id": landlord.pk, "name": "Landlord", "iban": EXTERNAL_IBAN, "created_at": body["results"][0]["created_at"]}
    ]


def test_create_returns_201_and_audits(alice):
    response = signed_in(alice).post(BENEFICIARIES, {"name": "Gym", "iban": "gb82 west 1234 5698 7654 32"},
                                     format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["iban"]) == ("Gym", "GB82WEST12345698765432")
    assert Beneficiary.objects.get(pk=body["id"]).customer == alice
    assert AuditEvent.objects.filter(action=actions.BENEFICIARY_ADDED, target_id=str(body["id"])).exists()


@pytest.mark.parametrize(("body", "status", "code", "fields"), [
    ({"name": "X", "iban": "DE89370400440532013001"}, 422, "invalid_iban", None),
    ({"name": "X", "iban": EXTERNAL_IBAN.lower()}, 400, "validation_error", {"iban"}),  # already saved
    ({"name": " ", "iban": "GB82WEST12345698765432"}, 400, "validation_error", {"name"}),
    ({"iban": "GB82WEST12345698765432"}, 400, "validation_error", {"name"}),
    ({"name": "X", "iban": 12}, 422, "invalid_iban", None),
])
def test_create_refusals_change_nothing(alice, landlord, nothing_changes, body, status, code, fields):
    client = signed_in(alice)
    with nothing_changes():
        assert_error(client.post(BENEFICIARIES, body, format="json"), status, code, fields=fields)


def test_staff_cannot_save_beneficiaries(agnes, nothing_changes):
    client = signed_in(agnes)
    with nothing_changes():
        assert_error(client.post(BENEFICIARIES, {"name": "X", "iban": EXTERNAL_IBAN}, format="json"),
                     403, "permission_denied")
    assert signed_in(agnes).get(BENEFICIARIES).json()["results"] == []


def test_rename_and_delete_your_own(alice, landlord):
    client = signed_in(alice)
    response = client.patch(f"{BENEFICIARIES}{landlord.pk}/", {"name": "Mr Smith"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Mr Smith"
    assert client.get(f"{BENEFICIARIES}{landlord.pk}/").json()["name"] == "Mr Smith"
    assert client.delete(f"{BENEFICIARIES}{landlord.pk}/").status_code == 204
    assert not Beneficiary.objects.filter(pk=landlord.pk).exists()
    assert_error(client.delete(f"{BENEFICIARIES}{landlord.pk}/"), 404, "not_found")


def test_another_customers_beneficiary_is_not_found(bob, landlord, nothing_changes):
    client = signed_in(bob)
    url = f"{BENEFICIARIES}{landlord.pk}/"
    with nothing_changes():
        assert_error(client.get(url), 404, "not_found")
        assert_error(client.patch(url, {"name": "Mine"}, format="json"), 404, "not_found")
        assert_error(client.delete(url), 404, "not_found")
        assert_error(client.delete(f"{BENEFICIARIES}not-a-number/"), 404, "not_found")


def test_anonymous_is_401_for_beneficiaries(landlord, nothing_changes):
    client = client_for(None)
    with nothing_changes():
        assert_error(client.get(BENEFICIARIES), 401, "not_authenticated")
        assert_error(client.post(BENEFICIARIES, {"name": "X", "iban": EXTERNAL_IBAN}, format="json"),
                     401, "not_authenticated")
        assert_error(client.delete(f"{BENEFICIARIES}{landlord.pk}/"), 401, "not_authenticated")


def test_schema_documents_beneficiaries_and_statements(client):
    schema = client.get(f"{API}schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/beneficiaries/"]) >= {"get", "post"}
    assert set(paths["/api/v1/beneficiaries/{id}/"]) >= {"get", "patch", "delete"}
    statement = paths["/api/v1/accounts/{id}/statement/"]["get"]
    assert {parameter["name"] for parameter in statement["parameters"]} >= {"month", "format"}


# --- Statements ------------------------------------------------------------------------------------


@pytest.fixture
def history(alice, bob, open_account, agnes, vault, clearing):
    return book_history(customer=alice, other_customer=bob, open_account=open_account, agent=agnes)


def statement_url(account, month=LAST_LABEL, fmt="csv") -> str:
    return f"{API}accounts/{account.pk}/statement/?month={month}&format={fmt}"


def test_owner_downloads_a_csv_with_formulas_neutralised(alice, history):
    response = signed_in(alice).get(statement_url(history.checking))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="flux-{history.checking.iban}-{LAST_LABEL}.csv"'
    text = response.content.decode("utf-8-sig")
    rows = assert_spreadsheet_safe(text)  # every field quoted; no formula with `,` or `;` as separator
    references = [row[3] for row in rows[9:]]
    assert "'" + INJECTION in references and INJECTION not in references
    assert ["Closing balance", "1235.00"] in rows


def test_owner_downloads_a_pdf(alice, history):
    response = signed_in(alice).get(statement_url(history.checking, fmt="pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    # Grouped as the pages show them: the IBAN by fours, the amount by thousands (English).
    assert group_iban(history.checking.iban) in text and "1,235.00\u00a0EUR" in text


def test_staff_read_any_statement(agnes, history):
    response = signed_in(agnes).get(statement_url(history.checking, month=BEFORE_LABEL))
    assert response.status_code == 200
    assert ["Closing balance", "300.00"] in list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_another_customers_account_is_404(bob, history):
    assert_error(signed_in(bob).get(statement_url(history.checking)), 404, "not_found")
    assert_error(signed_in(bob).get(statement_url(history.checking, month="bad")), 404, "not_found")


def test_anonymous_is_401_for_statements(history):
    assert_error(client_for(None).get(statement_url(history.checking)), 401, "not_authenticated")


@pytest.mark.parametrize(("month", "fmt", "fields"), [
    ("2026-13", "csv", {"month"}), ("october", "pdf", {"month"}), ("2999-01", "csv", {"month"}),
    ("2026-10", "xlsx", {"format"}), ("", "", {"month", "format"}),
])
def test_bad_month_or_format_is_400(alice, history, month, fmt, fields):
    response = signed_in(alice).get(statement_url(history.checking, month=month, fmt=fmt))
    assert_error(response, 400, "validation_error", fields=fields)


def test_missing_parameters_are_400(alice, history):
    response = signed_in(alice).get(f"{API}accounts/{history.checking.pk}/statement/")
    assert_error(response, 400, "validation_error", fields={"month", "format"})
