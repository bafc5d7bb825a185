"""The statements page: months with activity per account, downloads, and the money in / out chart."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from banking.tests.history import BEFORE_LABEL, INJECTION, LAST_LABEL, LAST_MONTH, THIS_LABEL, book_history
from core.testing.spreadsheet import assert_spreadsheet_safe
from core.testing.users import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:statements")
DOWNLOAD = reverse("portal:statement-download")


def signed_in(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


@pytest.fixture
def history(alice, bob, open_account, agnes, vault, clearing):
    return book_history(customer=alice, other_customer=bob, open_account=open_account, agent=agnes)


def test_signed_out_visitors_go_to_the_sign_in_page(client, history):
    for url in (PAGE, f"{DOWNLOAD}?account={history.checking.pk}&month={LAST_LABEL}&format=csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_staff_are_refused(client, agnes, history):
    signed_in(client, agnes)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{DOWNLOAD}?account={history.checking.pk}&month={LAST_LABEL}&format=csv").status_code == 403


def test_page_lists_the_months_with_activity_of_your_accounts(client, alice, history, django_assert_max_num_queries):
    signed_in(client, alice)
    with django_assert_max_num_queries(8):
        response = client.get(PAGE)
    html = response.content.decode()
    checking = html.split(f'data-account-id="{history.checking.pk}"')[1].split("</li>")[0]
    assert re.findall(r'<option value="([0-9-]+)"', checking) == [THIS_LABEL, LAST_LABEL, BEFORE_LABEL]
    assert LAST_MONTH.strftime("%B %Y") in checking
    savings = html.split(f'data-account-id="{history.savings.pk}"')[1].split("</li>")[0]
    assert re.findall(r'<option value="([0-9-]+)"', savings) == [LAST_LABEL]
    assert f'data-account-id="{history.other.pk}"' not in html


def test_chart_data_and_table_carry_the_same_figures(client, alice, history):
    html = signed_in(client, alice).get(PAGE).content.decode()
    data = json.loads(re.search(r'<script id="money-in-out-EUR" type="application/json">(.*?)</script>', html).group(1))
    assert len(data) == 12
    october = next(month for month in data if month["month"] == LAST_LABEL)
    assert (october["money_in"], october["money_out"]) == ("1225.00", "90.00")
    row = html.split(f'data-month="{LAST_LABEL}"')[1].split("</tr>")[0]
    assert "1,225.00\u00a0EUR" in row and "90.00\u00a0EUR" in row
    assert 'x-data="moneyChart"' in html and "vendor/chart.umd.min.js" in html


def test_empty_states(client, alice):
    html = signed_in(client, alice).get(PAGE).content.decode()
    assert 'data-testid="statements-empty"' in html and 'data-testid="chart-empty"' in html


def test_download_your_csv(client, alice, history):
    response = signed_in(client, alice).get(f"{DOWNLOAD}?account={history.checking.pk}&month={LAST_LABEL}&format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="flux-{history.checking.iban}-{LAST_LABEL}.csv"'
    rows = assert_spreadsheet_safe(response.content.decode("utf-8-sig"))
    assert ["Closing balance", "1235.00"] in rows
    assert "'" + INJECTION in [row[3] for row in rows[9:]]


def test_download_your_pdf(client, alice, history):
    response = signed_in(client, alice).get(f"{DOWNLOAD}?account={history.checking.pk}&month={LAST_LABEL}&format=pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_another_customers_account_is_404(client, bob, history):
    signed_in(client, bob)
    assert client.get(f"{DOWNLOAD}?account={history.checking.pk}&month={LAST_LABEL}&format=csv").status_code == 404
    assert client.get(f"{DOWNLOAD}?account=nope&month={LAST_LABEL}&format=csv").status_code == 404


def test_a_bad_month_shows_the_page_with_the_problem(client, alice, history):
    response = signed_in(client, alice).get(f"{DOWNLOAD}?account={history.checking.pk}&month=2026-13&format=doc")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the month as YYYY-MM" in html and "Choose csv or pdf." in html
