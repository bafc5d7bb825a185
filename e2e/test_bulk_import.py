"""An agent's bulk import in the browser: the format and its example, a file checked line by line,
the valid lines applied with the progress bar (in several small chunks), the report, and the same
file uploaded again applying nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from banking.models import Entry
from banking.tests.factories import fresh
from e2e.steps import sign_in
from workspace.imports import services as imports
from workspace.imports.reader import HEADER

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["desktop", "phone"])]


@pytest.fixture
def small_chunks(monkeypatch):
    """Two lines per request, so that the progress bar is seen moving through several chunks."""
    original = imports.import_apply_next

    def two_at_a_time(**kwargs):
        return original(**{**kwargs, "limit": 2})

    monkeypatch.setattr("workspace.views.imports.import_apply_next", two_at_a_time)


def test_agnes_imports_a_file_and_the_same_file_again(page: Page, live_server, agnes, alice_account, bob_account,
                                                      small_chunks, screenshot, tmp_path):
    lines = [",".join(HEADER)]
    lines += [f"deposit,{alice_account.iban},10.00,,Cash {n}" for n in range(5)]
    lines += [f"transfer,{bob_account.iban},9999.00,{alice_account.iban},Too much",
              "withdrawal,NL64FLUX0000000001,5,,Nobody"]
    path = tmp_path / "desk-operations.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    alice_before = fresh(alice_account).balance

    sign_in(page, "agnes", path="/login/?next=/agent/imports/")
    expect(page.get_by_role("heading", name="Bulk imports", level=1)).to_be_visible()
    expect(page.get_by_test_id("import-format")).to_contain_text(",".join(HEADER))
    expect(page.get_by_test_id("imports-empty")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("import-example").click()
    assert download.value.suggested_filename == "flux-import-example.csv"
    screenshot("upload")

    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("desk-operations.csv")
    expect(page.get_by_test_id("import-line")).to_have_count(7)
    expect(page.locator("[data-line='8'] [data-testid=import-line-message]")).to_contain_text(
        "No Flux customer account has the IBAN NL64FLUX0000000001")
    expect(page.get_by_test_id("import-progress-text")).to_have_text("1 of 7 lines have their result")
    assert fresh(alice_account).balance == alice_before  # checked, nothing applied yet
    screenshot("checked")

    page.get_by_role("button", name="Apply the 6 valid lines").click()
    expect(page.get_by_test_id("import-finished")).to_be_visible()
    expect(page.get_by_test_id("import-progress-text")).to_have_text("7 of 7 lines have their result")
    expect(page.get_by_test_id("import-progress-bar")).to_have_attribute("value", "100")
    expect(page.locator("[data-status=applied]")).to_have_count(5)
    expect(page.locator("[data-line='7'] [data-testid=import-line-message]")).to_contain_text(
        "There is not enough money available on this account.")
    assert fresh(alice_account).balance == alice_before + 50_00
    screenshot("applied")

    entries = Entry.objects.count()
    page.get_by_role("link", name="Bulk imports").first.click()
    expect(page.get_by_test_id("import-batch")).to_have_count(1)
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Apply the 6 valid lines").click()
    expect(page.get_by_test_id("import-finished")).to_be_visible()
    expect(page.locator("[data-status=already]")).to_have_count(5)
    expect(page.locator("[data-line='2'] [data-testid=import-line-message]")).to_contain_text(
        "Already applied by import")
    assert Entry.objects.count() == entries and fresh(alice_account).balance == alice_before + 50_00
    screenshot("again")
