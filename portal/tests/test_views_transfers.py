"""The transfer form: step 1, the confirmation, the result; one token moves money once; every
refusal is said on the form and changes nothing."""

from __future__ import annotations

import re
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from banking.models import Account, Transaction, TransactionStatus
from banking.services import account_freeze, transfer_create
from banking.services.beneficiaries import beneficiary_create
from banking.tests.factories import fund
from core.models import IdempotencyKey
from portal.views.transfers import REFUSAL_FIELDS, TransferForm

pytestmark = pytest.mark.django_db

URL = "/app/transfer/"
# A valid IBAN of another bank (the example IBAN of the Dutch banks' association).
EXTERNAL_IBAN = "NL91ABNA0417164300"


@pytest.fixture
def savings(open_account, alice):
    return open_account(alice, kind="savings")


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def form_token(client) -> str:
    page = client.get(URL).content.decode()
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def fields(token: str, source: Account, **overrides) -> dict:
    data = {
        "token": token,
        "source": str(source.pk),
        "destination_type": "iban",
        "destination_account": "",
        "beneficiary": "",
        "iban": EXTERNAL_IBAN,
        "amount": "12.50",
        "reference": "Books",
    }
    return {**data, **overrides}


def confirm(client, data: dict):
    return client.post(URL, {**data, "step": "confirm"})


def error_code(response) -> str:
    match = re.search(r'data-testid="form-error" data-code="([^"]*)"', response.content.decode())
    return match.group(1) if match else ""


# --- Who may use it ------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client, alice_account):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={URL}"
    response = client.post(URL, {"step": "confirm"})
    assert response.status_code == 302


@pytest.mark.parametrize("staff", ["agnes", "sam"])
def test_staff_get_a_403_and_cannot_send(client, request, staff, alice_account, unchanged):
    client.force_login(request.getfixturevalue(staff))
    assert client.get(URL).status_code == 403
    with unchanged():
        response = confirm(client, fields(str(uuid.uuid4()), alice_account))
    assert response.status_code == 403


def test_the_form_offers_own_active_accounts_and_mints_a_token(signed_in, alice, alice_account, savings,
                                                                bob_account, agnes, open_account):
    frozen = open_account(alice)
    account_freeze(actor=agnes, account_id=frozen.pk, reason="Check")
    page = signed_in.get(URL).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert uuid.UUID(token)
    assert f'<option value="{alice_account.pk}"' in page and f'<option value="{savings.pk}"' in page
    assert f'<option value="{frozen.pk}"' not in page
    assert f'<option value="{bob_account.pk}"' not in page
    assert 'value="own"' in page  # two active accounts: between them is offered
    assert form_token(signed_in) != token  # each rendering has its own


def test_without_an_active_account_the_form_says_so(signed_in, alice):
    response = signed_in.get(URL)
    assert b"You have no active account to send money from." in response.content


# --- The two steps -------------------------------------------------------------------------------


def test_step_one_leads_to_a_confirmation_that_moves_nothing(signed_in, alice_account, unchanged):
    data = fields(form_token(signed_in), alice_account)
    with unchanged():
        response = signed_in.post(URL, {**data, "step": "review"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirm transfer of 12.50 EUR to NL91 ABNA 0417 1643 00?" in page
    assert f'name="token" value="{data["token"]}"' in page  # the token travels on
    assert 'name="step" value="confirm"' in page and 'name="step" value="edit"' in page


def test_change_the_details_goes_back_to_the_form_with_the_values(signed_in, alice_account):
    data = fields(form_token(signed_in), alice_account, amount="33.10")
    page = signed_in.post(URL, {**data, "step": "edit"}).content.decode()
    assert 'value="33.10"' in page and f'name="token" value="{data["token"]}"' in page
    assert 'data-testid="form-error"' not in page


def test_confirming_between_own_accounts_posts_and_shows_the_result(signed_in, alice, alice_account, savings):
    data = fields(form_token(signed_in), alice_account, destination_type="own",
                  destination_account=str(savings.pk), iban="")
    review = signed_in.post(URL, {**data, "step": "review"})
    assert f"to {' '.join(re.findall('.{1,4}', savings.iban))}?" in review.content.decode()

    response = confirm(signed_in, data)

    txn = Transaction.objects.get(kind="transfer", source=alice_account)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:transfer-result", args=[txn.pk])
    assert (txn.status, txn.amount, txn.destination_id, txn.reference) == ("posted", 12_50, savings.pk, "Books")
    alice_account.refresh_from_db()
    savings.refresh_from_db()
    assert (alice_account.balance, savings.balance) == (1000_00 - 12_50, 12_50)
    result = signed_in.get(response["Location"]).content.decode()
    assert "Transfer sent" in result and 'data-status="posted"' in result
    assert reverse("portal:account", args=[alice_account.pk]) in result


def test_to_another_bank_by_typed_iban(signed_in, alice_account, clearing):
    response = confirm(signed_in, fields(form_token(signed_in), alice_account, iban="nl91 abna 0417 1643 00"))
    txn = Transaction.objects.get(source=alice_account, kind="external_transfer")
    assert response.status_code == 302
    assert txn.external_iban == EXTERNAL_IBAN and txn.destination == clearing


def test_to_a_saved_beneficiary(signed_in, alice, alice_account, bob_account):
    beneficiary = beneficiary_create(customer=alice, name="Bob", iban=bob_account.iban)
    page = signed_in.get(URL).content.decode()
    assert 'value="beneficiary"' in page and f'<option value="{beneficiary.pk}"' in page

    data = fields(form_token(signed_in), alice_account, destination_type="beneficiary",
                  beneficiary=str(beneficiary.pk), iban="")
    # "Bob" is not the holder's name (Bob Builder): the payee check asks alice to confirm she checked.
    refused = signed_in.post(URL, {**data, "step": "review"})
    assert refused.status_code == 400 and 'data-testid="payee-confirmed-error"' in refused.content.decode()
    data["payee_confirmed"] = "on"
    assert "Bob" in signed_in.post(URL, {**data, "step": "review"}).content.decode()
    confirm(signed_in, data)

    bob_account.refresh_from_db()
    assert bob_account.balance == 500_00 + 12_50


def test_another_customers_beneficiary_is_not_offered_nor_accepted(signed_in, bob, alice_account, unchanged):
    theirs = beneficiary_create(customer=bob, name="Carol", iban=EXTERNAL_IBAN)
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), alice_account, destination_type="beneficiary",
                                             beneficiary=str(theirs.pk), iban=""))
    assert response.status_code == 400


def test_at_the_threshold_the_result_says_pending_approval(signed_in, alice_account, settings):
    settings.FLUX_APPROVAL_THRESHOLD = Decimal("100.00")
    data = fields(form_token(signed_in), alice_account, amount="100.00")
    assert b"A transfer of this size waits for the bank" in signed_in.post(URL, {**data, "step": "review"}).content

    response = confirm(signed_in, data)

    txn = Transaction.objects.get(source=alice_account, kind="external_transfer")
    assert txn.status == TransactionStatus.PENDING
    page = signed_in.get(response["Location"]).content.decode()
    assert "Waiting for approval" in page and 'data-status="pending"' in page
    alice_account.refresh_from_db()
    assert (alice_account.balance, alice_account.available) == (1000_00, 900_00)


def test_step_two_of_a_large_transfer_says_the_amount_will_be_held_once_confirmed(signed_in, rich_account):
    # 12,000.00: above the approval threshold. Nothing is held yet at step 2: it will be, once
    # the customer confirms.
    data = fields(form_token(signed_in), rich_account, amount="12000.00")
    with_review = signed_in.post(URL, {**data, "step": "review"}).content.decode()
    rich_account.refresh_from_db()
    assert rich_account.held == 0
    assert "once you confirm, the amount will be held on your account until the bank decides" in with_review
    assert "the amount is held" not in with_review

    signed_in.cookies["django_language"] = "fr"
    french = signed_in.post(URL, {**data, "step": "review"}).content.decode()
    assert "une fois confirmé, le montant sera réservé sur votre compte" in french


def test_not_enough_money_is_said_at_step_one_before_confirming(signed_in, alice_account, unchanged):
    data = fields(form_token(signed_in), alice_account, amount="1000.01")
    with unchanged():
        response = signed_in.post(URL, {**data, "step": "review"})
    assert response.status_code == 422 and error_code(response) == "insufficient_funds"
    page = response.content.decode()
    assert 'id="transfer-amount-error"' in page and "There is not enough money available on this account." in page
    assert 'name="step" value="confirm"' not in page  # no confirmation offered
    assert f'name="token" value="{data["token"]}"' in page  # nothing ran: the same form, corrected, goes on

    corrected = signed_in.post(URL, {**data, "amount": "1000.00", "step": "review"})
    assert corrected.status_code == 200 and 'name="step" value="confirm"' in corrected.content.decode()


# --- Double submission -------------------------------------------------------------------------


def test_the_same_token_twice_moves_money_once_and_shows_the_same_result(signed_in, alice_account, savings):
    data = fields(form_token(signed_in), alice_account, destination_type="own",
                  destination_account=str(savings.pk), iban="")

    first = confirm(signed_in, data)
    second = confirm(signed_in, data)  # a double click, or back to the confirmation and again

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Transaction.objects.filter(kind="transfer").count() == 1
    savings.refresh_from_db()
    assert savings.balance == 12_50
    assert IdempotencyKey.objects.filter(key=f"portal-transfer:{uuid.UUID(data['token']).hex}").count() == 1


def test_the_same_token_for_other_details_is_refused_and_a_new_token_offered(signed_in, alice_account, unchanged):
    data = fields(form_token(signed_in), alice_account)
    confirm(signed_in, data)

    with unchanged():
        response = confirm(signed_in, {**data, "amount": "99.00"})

    page = response.content.decode()
    assert response.status_code == 422 and error_code(response) == "idempotency_key_reused"
    assert "This form was already used for another operation" in page
    new_token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert new_token != data["token"]
    confirm(signed_in, {**data, "amount": "99.00", "token": new_token})
    assert Transaction.objects.filter(source=alice_account, kind="external_transfer").count() == 2


def test_an_amount_with_a_decimal_comma_as_typed_in_french(signed_in, alice_account):
    confirm(signed_in, fields(form_token(signed_in), alice_account, amount="12,5"))
    assert Transaction.objects.get(source=alice_account, kind="external_transfer").amount == 12_50


# Amounts typed as Flux shows them in the page's language (issue 14's walk): "1 234,50" in French,
# with the space, no-break space or narrow no-break space a page may print; "1,234.50" in English.
@pytest.mark.parametrize(("language", "typed"), [
    ("fr", "1 234,50"), ("fr", "1\u00a0234,50"), ("fr", "1\u202f234,50"), ("fr", "1.234,50"),
    ("en", "1,234.50"), ("en", "1 234.50"),
])
def test_an_amount_in_the_display_format_of_the_language(signed_in, rich_account, language, typed):
    signed_in.cookies["django_language"] = language
    data = fields(form_token(signed_in), rich_account, amount=typed)

    review = signed_in.post(URL, {**data, "step": "review"})
    assert review.status_code == 200 and 'name="step" value="confirm"' in review.content.decode()
    confirm(signed_in, data)

    assert Transaction.objects.get(source=rich_account, kind="external_transfer").amount == 1234_50


@pytest.mark.parametrize(("language", "typed", "said"), [
    ("fr", "1.234", "« 1.234 » se lit de deux façons"),  # 1 234 or 1,234?
    ("fr", "1,000", "Saisissez un montant supérieur à zéro"),  # three decimals in French
    ("en", "1.234", "Enter an amount greater than zero"),  # three decimals in English
])
def test_an_amount_that_reads_two_ways_or_has_three_decimals_is_refused(signed_in, alice_account, unchanged,
                                                                       language, typed, said):
    signed_in.cookies["django_language"] = language
    with unchanged():
        response = signed_in.post(URL, {**fields(form_token(signed_in), alice_account, amount=typed), "step": "review"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="transfer-amount-error"' in page and said in page.replace("&nbsp;", "\u00a0").replace("\u00a0", " ")


def token_on(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def test_a_refused_transfer_offers_a_new_token_to_correct_it(signed_in, alice_account):
    data = fields(form_token(signed_in), alice_account, amount="5000.00")
    refused = confirm(signed_in, data)
    assert refused.status_code == 422 and error_code(refused) == "insufficient_funds"
    new_token = token_on(refused)
    assert new_token != data["token"]  # the old one holds the refusal now
    response = confirm(signed_in, {**data, "amount": "50.00", "token": new_token})
    assert response.status_code == 302
    assert Transaction.objects.get(source=alice_account, kind="external_transfer").amount == 50_00


def test_the_refused_confirmation_sent_again_is_refused_again_after_the_money_arrives(
    signed_in, agnes, sam, alice_account, unchanged
):
    """Issue 10, finding 12, on the page: back to the confirmation and confirm again, once the money
    is there, shows the same refusal rather than paying behind the customer's back; the form
    shown with it carries a new token, with which the customer may knowingly try again."""
    data = fields(form_token(signed_in), alice_account, amount="5000.00")
    assert error_code(confirm(signed_in, data)) == "insufficient_funds"
    fund(alice_account, 4_500_00, agent=agnes, approver=sam)  # 5500.00 now

    with unchanged():
        again = confirm(signed_in, data)
    assert again.status_code == 422 and error_code(again) == "insufficient_funds"
    assert "There is not enough money available on this account." in again.content.decode()
    assert not Transaction.objects.filter(source=alice_account, kind="external_transfer").exists()

    knowingly = confirm(signed_in, {**data, "token": token_on(again)})
    assert knowingly.status_code == 302
    alice_account.refresh_from_db()
    assert alice_account.balance == 500_00


# --- Refusals: said on the form, nothing changed ------------------------------------------------


def test_each_refusal_said_next_to_a_field_names_a_field_of_the_form():
    fields = set(TransferForm(accounts=[], beneficiaries=[]).fields)
    assert {field for field in REFUSAL_FIELDS.values() if field} <= fields


def test_insufficient_funds(signed_in, alice_account, unchanged):
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), alice_account, amount="1000.01"))
    assert response.status_code == 422 and error_code(response) == "insufficient_funds"
    page = response.content.decode()
    assert "There is not enough money available on this account." in page
    assert 'id="transfer-amount-error"' in page and 'value="1000.01"' in page


def test_a_frozen_destination(signed_in, agnes, alice_account, bob_account, unchanged):
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Check")
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), alice_account, iban=bob_account.iban))
    assert response.status_code == 409 and error_code(response) == "account_frozen"
    # Bob's account is not Alice's business: only that the payment cannot be made to it.
    assert b"The payment cannot be made to this account." in response.content
    assert "frozen" not in re.sub(r"<[^>]*>", "", response.content.decode()).lower()


def test_a_source_frozen_since_the_form_was_shown(signed_in, agnes, alice_account, unchanged):
    data = fields(form_token(signed_in), alice_account)
    account_freeze(actor=agnes, account_id=alice_account.pk, reason="Check")
    with unchanged():
        response = confirm(signed_in, data)
    assert response.status_code == 409 and error_code(response) == "account_frozen"


def test_the_same_account(signed_in, alice_account, unchanged):
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), alice_account, iban=alice_account.iban))
    assert response.status_code == 422 and error_code(response) == "same_account"
    assert b"The money cannot go to the account it comes from." in response.content


def test_an_unknown_flux_iban(signed_in, alice_account, settings, unchanged):
    from schwifty import IBAN

    unknown = str(IBAN.generate(settings.FLUX_IBAN_COUNTRY, bank_code=settings.FLUX_IBAN_BANK_CODE,
                                account_code="0000000001"))
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), alice_account, iban=unknown))
    assert response.status_code == 422 and error_code(response) == "unknown_account"


@pytest.mark.parametrize("step", ["review", "confirm"])
@pytest.mark.parametrize("iban", ["NL91ABNA0417164301", "XX00", ""])
def test_an_invalid_iban_is_refused_at_either_step(signed_in, alice_account, unchanged, step, iban):
    with unchanged():
        response = signed_in.post(URL, {**fields(form_token(signed_in), alice_account, iban=iban), "step": step})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="transfer-iban-error"' in page and "This is not a valid IBAN" in page
    assert "Confirm transfer" not in page


@pytest.mark.parametrize("amount", ["0", "-5", "1e3", "12.345", "1,2345", "1,000,00", "abc", ""])
def test_a_bad_amount(signed_in, alice_account, unchanged, amount):
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), alice_account, amount=amount))
    assert response.status_code == 400
    assert b'id="transfer-amount-error"' in response.content


def test_another_customers_account_as_source(signed_in, alice_account, bob_account, unchanged):
    with unchanged():
        response = confirm(signed_in, fields(form_token(signed_in), bob_account))
    assert response.status_code == 400
    assert b'id="transfer-source-error"' in response.content


def test_a_missing_or_forged_token(signed_in, alice_account, unchanged):
    with unchanged():
        assert confirm(signed_in, fields("", alice_account)).status_code == 400
        assert confirm(signed_in, fields("not-a-uuid", alice_account)).status_code == 400


def test_the_result_of_another_customers_transfer_is_not_found(client, bob, alice, alice_account, bob_account):
    txn = transfer_create(initiator=bob, source_account_id=bob_account.pk, destination_iban=EXTERNAL_IBAN,
                          amount=1_00)
    client.force_login(alice)
    assert client.get(reverse("portal:transfer-result", args=[txn.pk])).status_code == 404


# --- Double submission at the same instant (PostgreSQL: real row locks and concurrency) ----------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (real concurrency)")
def test_the_same_token_sent_at_once_from_many_tabs_moves_money_once(alice, alice_account, savings):
    clients = [Client() for _ in range(8)]
    for client in clients:
        client.force_login(alice)
    data = fields(form_token(clients[0]), alice_account, destination_type="own",
                  destination_account=str(savings.pk), iban="")
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = confirm(clients[i], data)
            results[i] = (response.status_code, response.get("Location"))
        except BaseException as exc:  # noqa: BLE001 - reported below, never lost in a thread
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    txn = Transaction.objects.get(kind="transfer")
    assert results == [(302, reverse("portal:transfer-result", args=[txn.pk]))] * len(clients)
    savings.refresh_from_db()
    assert savings.balance == 12_50
