"""The four-eyes journey of issue 5, on a desktop: agnes onboards a customer (the page shows no
password: the customer is mailed a link) and pays in cash above the cash threshold (pending); she
cannot approve her own deposit, neither from the queue (no button) nor by posting the approval
anyway, nor through the API; sam approves it; the customer chooses a password through the link,
signs in and transfers above the approval threshold on /app/transfer/ (pending); sam approves it;
the balances on the customer's workspace page are those the API gives.

And issue 10's reversal journey: agnes reverses her own cash withdrawal; the reversal waits in the
queue next to the withdrawal, she cannot approve it, the customer is not credited until sam does."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from banking.models import Account, Transaction, TransactionStatus
from banking.services import withdrawal_create
from core.money import decimal_to_minor, format_minor, parse_amount
from core.templatetags.money import format_money
from core.testing.users import TEST_PASSWORD
from e2e.steps import confirm_in_dialog, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.parametrize("viewport", ["desktop"])]

DEPOSIT = "15000.00"
TRANSFER = "12000.00"
CHLOE_PASSWORD = "chloe-chose-this-herself-2026"


def grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def approval_row(page: Page, txn: Transaction):
    return page.locator(f"[data-testid=approval-row][data-transaction='{txn.pk}']")


def api_headers(page: Page, username: str) -> dict:
    """A bearer token for `username` from the API's auth/token/."""
    token = page.request.post("/api/v1/auth/token/", data={"username": username, "password": TEST_PASSWORD})
    assert token.ok, token.text()
    return {"Authorization": f"Bearer {token.json()['access']}"}


def api_account(page: Page, username: str, account: Account) -> dict:
    """The account as the REST API shows it to `username`."""
    answer = page.request.get(f"/api/v1/accounts/{account.pk}/", headers=api_headers(page, username))
    assert answer.ok, answer.text()
    return answer.json()


def test_agnes_onboards_and_deposits_sam_approves_the_customer_transfers_sam_approves(
    page: Page, live_server, agnes, sam, bob_account, mailoutbox, screenshot
):
    # The thresholds this journey crosses (defaults in the settings).
    assert parse_amount(DEPOSIT) >= decimal_to_minor(settings.FLUX_CASH_APPROVAL_THRESHOLD)
    assert parse_amount(TRANSFER) >= decimal_to_minor(settings.FLUX_APPROVAL_THRESHOLD)
    bob_before = Account.objects.get(pk=bob_account.pk).balance

    # 1. agnes onboards Chloé with a first account.
    sign_in(page, "agnes", path="/login/?next=/agent/customers/new/")
    expect(page.get_by_role("heading", name="Onboard a customer")).to_be_visible()
    page.get_by_label("Username").fill("chloe")
    page.get_by_label("First name").fill("Chloé")
    page.get_by_label("Last name").fill("Martin")
    page.get_by_label("Email").fill("chloe@example.test")
    screenshot("onboarding")
    page.get_by_role("button", name="Create the customer and the account").click()
    expect(page.get_by_test_id("customer-created")).to_be_visible()
    expect(page.get_by_test_id("password-link-sent")).to_contain_text("chloe@example.test")
    expect(page.get_by_test_id("new-password")).to_have_count(0)
    [mail] = mailoutbox
    assert mail.to == ["chloe@example.test"]
    link = re.search(r"https?://\S+/account/password/\S+/", mail.body).group(0)
    assert link not in page.content()
    account = Account.objects.get(customer__username="chloe")
    expect(page.get_by_test_id("new-iban")).to_have_text(grouped(account.iban))
    screenshot("customer-created")

    # 2. ... and pays 15,000.00 in cash on it: above the cash threshold, so it waits.
    page.get_by_role("link", name="Cash deposit on the new account").click()
    expect(page.get_by_label("Deposit (cash in)")).to_be_checked()
    page.get_by_label("Amount").fill(DEPOSIT)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("needs-approval")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("receipt")).to_have_attribute("data-status", "pending")
    deposit = Transaction.objects.get(kind="deposit", destination=account)
    assert deposit.status == TransactionStatus.PENDING and deposit.initiated_by == agnes
    assert Account.objects.get(pk=account.pk).balance == 0
    screenshot("deposit-pending")

    # 3. agnes cannot approve her own deposit: no button in the queue; posting it anyway, or through
    #    the API, is refused.
    page.goto("/agent/approvals/")
    row = approval_row(page, deposit)
    expect(row.get_by_test_id("own-note")).to_be_visible()
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    status = page.evaluate(
        """async (url) => {
             const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
             const response = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token}});
             return response.status;
           }""",
        f"/agent/approvals/{deposit.pk}/approve/",
    )
    assert status == 403
    answer = page.request.post(f"/api/v1/transactions/{deposit.pk}/approve/", headers=api_headers(page, "agnes"))
    assert answer.status == 403 and answer.json()["error"]["code"] == "permission_denied"  # the API's rule too
    deposit.refresh_from_db()
    assert deposit.status == TransactionStatus.PENDING and deposit.decided_by is None
    screenshot("own-deposit-not-approvable")
    sign_out(page)

    # 4. sam approves it.
    sign_in(page, "sam", path="/login/?next=/agent/approvals/")
    row = approval_row(page, deposit)
    expect(row).to_contain_text("agnes")
    row.get_by_role("button", name="Approve").click()
    confirm_in_dialog(page, "Approve")
    expect(approval_row(page, deposit)).to_have_count(0)
    deposit.refresh_from_db()
    assert deposit.status == TransactionStatus.POSTED and deposit.decided_by == sam
    assert Account.objects.get(pk=account.pk).balance == parse_amount(DEPOSIT)
    sign_out(page)

    # 5. Chloé chooses her password through the link, signs in and sends 12,000.00 to Bob: it waits.
    page.goto(link)
    page.get_by_label("New password", exact=True).fill(CHLOE_PASSWORD)
    page.get_by_label("New password confirmation").fill(CHLOE_PASSWORD)
    page.get_by_role("button", name="Save my password").click()
    expect(page.get_by_text("Your password is set.")).to_be_visible()
    sign_in(page, "chloe", CHLOE_PASSWORD)
    expect(page).to_have_url(re.compile(r"/app/$"))
    page.goto("/app/transfer/")
    page.get_by_label("From").select_option(str(account.pk))
    page.get_by_label("IBAN", exact=True).fill(bob_account.iban)
    page.get_by_label("Amount").fill(TRANSFER)
    page.get_by_label("Reference (optional)").fill("Car")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm the transfer").click()
    expect(page.get_by_test_id("transfer-result")).to_have_attribute("data-status", "pending")
    transfer = Transaction.objects.get(kind="transfer", source=account)
    assert transfer.status == TransactionStatus.PENDING
    held = Account.objects.get(pk=account.pk)
    assert (held.balance, held.available) == (parse_amount(DEPOSIT), parse_amount(DEPOSIT) - parse_amount(TRANSFER))
    screenshot("transfer-pending")
    sign_out(page)

    # 6. sam approves the transfer.
    sign_in(page, "sam", path="/login/?next=/agent/approvals/")
    row = approval_row(page, transfer)
    expect(row).to_contain_text("chloe")
    screenshot("queue")
    row.get_by_role("button", name="Approve").click()
    confirm_in_dialog(page, "Approve")
    expect(approval_row(page, transfer)).to_have_count(0)
    transfer.refresh_from_db()
    assert transfer.status == TransactionStatus.POSTED and transfer.decided_by == sam

    # 7. sam finds Chloé by part of her IBAN; the balances on her page are the API's.
    page.goto("/agent/")
    page.get_by_label("Name, email, phone or IBAN").fill(account.iban[-6:])  # results come as typed
    expect(page.get_by_test_id("search-result")).to_have_count(1)
    page.get_by_test_id("search-result").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("Chloé Martin")
    api = api_account(page, "sam", account)
    expected = parse_amount(DEPOSIT) - parse_amount(TRANSFER)
    assert api["balance"] == format_minor(expected) == "3000.00"
    assert Decimal(api["available"]) == Decimal(api["balance"])
    balance_cell = page.locator(f"[data-testid=customer-account][data-iban='{account.iban}'] "
                                "[data-testid=account-balance]")
    expect(balance_cell).to_have_text(format_money(parse_amount(api["balance"]), api["currency"]))
    assert api_account(page, "sam", bob_account)["balance"] == format_minor(bob_before + parse_amount(TRANSFER))
    screenshot("customer-page")


def test_agnes_cannot_approve_the_reversal_of_her_own_withdrawal_sam_does(
    page: Page, live_server, agnes, sam, alice_account, screenshot
):
    withdrawal = withdrawal_create(initiator=agnes, account_id=alice_account.pk, amount=300_00,
                                   reference="Cash for the market")
    balance = Account.objects.get(pk=alice_account.pk).balance

    # agnes asks for the reversal of her own withdrawal on its page: it waits.
    sign_in(page, "agnes", path=f"/login/?next=/agent/transactions/{withdrawal.pk}/")
    page.get_by_label("Reason").fill("Counted wrong")
    page.get_by_role("button", name="Ask for the reversal").click()
    expect(page.get_by_test_id("reversal-pending")).to_be_visible()
    expect(page.get_by_test_id("reverse-form")).to_have_count(0)
    reversal = Transaction.objects.get(reverses=withdrawal)
    assert reversal.status == TransactionStatus.PENDING
    assert Account.objects.get(pk=alice_account.pk).balance == balance  # alice is not credited yet
    screenshot("reversal-pending")

    # In the queue, next to the withdrawal it reverses; no button for agnes, a forged POST is refused.
    page.goto("/agent/approvals/")
    row = approval_row(page, reversal)
    expect(row.get_by_test_id("reverses")).to_contain_text(f"#{withdrawal.pk}")
    expect(row.get_by_test_id("own-note")).to_be_visible()
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    status = page.evaluate(
        """async (url) => {
             const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
             const response = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token}});
             return response.status;
           }""",
        f"/agent/approvals/{reversal.pk}/approve/",
    )
    assert status == 403
    reversal.refresh_from_db()
    assert reversal.status == TransactionStatus.PENDING
    screenshot("reversal-queue")
    sign_out(page)

    # sam approves it: alice gets her 300.00 back.
    sign_in(page, "sam", path="/login/?next=/agent/approvals/")
    row = approval_row(page, reversal)
    row.get_by_role("link", name=f"#{withdrawal.pk}").click()
    expect(page.get_by_test_id("reversal-link")).to_have_text(f"#{reversal.pk}")
    page.goto("/agent/approvals/")
    approval_row(page, reversal).get_by_role("button", name="Approve").click()
    confirm_in_dialog(page, "Approve")
    expect(approval_row(page, reversal)).to_have_count(0)
    reversal.refresh_from_db()
    assert reversal.status == TransactionStatus.POSTED and reversal.decided_by == sam
    assert Account.objects.get(pk=alice_account.pk).balance == balance + 300_00
    page.goto(f"/agent/transactions/{withdrawal.pk}/")
    expect(page.get_by_test_id("transaction-status")).to_contain_text("reversed by")
