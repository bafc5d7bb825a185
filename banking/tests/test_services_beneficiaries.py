"""Beneficiaries: a customer's saved IBANs. Each rule, and each refusal changing nothing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from audit import actions
from audit.tests.support import assert_audited, last_event
from banking.models import Beneficiary
from banking.services import account_close, beneficiary_create, beneficiary_delete, beneficiary_rename
from banking.tests.factories import EXTERNAL_IBAN
from core.testing.assertions import refused

pytestmark = pytest.mark.django_db


def beneficiary_rows() -> list[tuple]:
    return list(Beneficiary.objects.order_by("pk").values_list("pk", "customer_id", "name", "iban"))


@pytest.fixture
def nothing_changes(unchanged):
    """The ledger and audit trail (the shared `unchanged`) and every beneficiary stay as they were."""

    @contextmanager
    def check():
        before = beneficiary_rows()
        with unchanged():
            yield
        assert beneficiary_rows() == before

    return check


def test_create_normalises_the_iban_and_audits(alice):
    beneficiary = beneficiary_create(customer=alice, name="  Landlord   Ltd ", iban="de89 3704 0044 0532 0130 00")
    assert (beneficiary.customer, beneficiary.name, beneficiary.iban) == (alice, "Landlord Ltd", EXTERNAL_IBAN)
    event = last_event()
    assert_audited(event, actor=alice, action=actions.BENEFICIARY_ADDED, target_type="beneficiary",
                   target_id=beneficiary.pk)
    assert event.data == {"name": "Landlord Ltd", "iban": EXTERNAL_IBAN}


def test_create_takes_another_customers_flux_account(alice, bob_account):
    beneficiary = beneficiary_create(customer=alice, name="Bob", iban=bob_account.iban.lower())
    assert beneficiary.iban == bob_account.iban


def test_two_customers_may_save_the_same_iban(alice, bob):
    beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)
    beneficiary_create(customer=bob, name="Same landlord", iban=EXTERNAL_IBAN)
    assert Beneficiary.objects.filter(iban=EXTERNAL_IBAN).count() == 2


@pytest.mark.parametrize("iban", ["DE89370400440532013001", "XX00", "NL91 ABNA 0417 1643 0", "", "   "])
def test_invalid_iban_is_refused(alice, nothing_changes, iban):
    with nothing_changes(), refused("invalid_iban"):
        beneficiary_create(customer=alice, name="Someone", iban=iban)


def test_duplicate_iban_is_refused_naming_the_saved_one(alice, nothing_changes):
    beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)
    with nothing_changes(), refused("validation_error") as excinfo:
        beneficiary_create(customer=alice, name="Landlord again", iban=EXTERNAL_IBAN.lower())
    assert "Landlord" in excinfo.value.fields["iban"][0]


@pytest.mark.parametrize("name", ["", "   ", "x" * 71])
def test_empty_or_long_name_is_refused(alice, nothing_changes, name):
    with nothing_changes(), refused("validation_error") as excinfo:
        beneficiary_create(customer=alice, name=name, iban=EXTERNAL_IBAN)
    assert "name" in excinfo.value.fields


def test_own_account_is_refused(alice, alice_account, nothing_changes):
    with nothing_changes(), refused("validation_error") as excinfo:
        beneficiary_create(customer=alice, name="Me", iban=alice_account.iban)
    assert "iban" in excinfo.value.fields


def test_flux_iban_without_an_open_account_is_refused(alice, bob, open_account, agnes, vault, nothing_changes):
    from banking.iban import generate_flux_iban

    closed = open_account(bob)
    account_close(actor=agnes, account_id=closed.pk, reason="Customer left")
    for iban in (generate_flux_iban(), closed.iban, vault.iban):
        with nothing_changes(), refused("unknown_account"):
            beneficiary_create(customer=alice, name="Nobody", iban=iban)


def test_staff_keep_no_beneficiaries(agnes, nothing_changes):
    with nothing_changes(), refused("permission_denied"):
        beneficiary_create(customer=agnes, name="Landlord", iban=EXTERNAL_IBAN)


def test_rename_audits_old_and_new_names(alice):
    beneficiary = beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)
    renamed = beneficiary_rename(customer=alice, beneficiary_id=beneficiary.pk, name="Mr Smith")
    assert Beneficiary.objects.get(pk=beneficiary.pk).name == renamed.name == "Mr Smith"
    event = last_event()
    assert_audited(event, actor=alice, action=actions.BENEFICIARY_RENAMED, target_type="beneficiary",
                   target_id=beneficiary.pk)
    assert event.data == {"old_name": "Landlord", "name": "Mr Smith", "iban": EXTERNAL_IBAN}


def test_rename_refusals_change_nothing(alice, bob, nothing_changes):
    beneficiary = beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)
    with nothing_changes():
        with refused("not_found"):
            beneficiary_rename(customer=bob, beneficiary_id=beneficiary.pk, name="Mine now")
        with refused("not_found"):
            beneficiary_rename(customer=alice, beneficiary_id="nope", name="Mine now")
        with refused("validation_error"):
            beneficiary_rename(customer=alice, beneficiary_id=beneficiary.pk, name=" ")


def test_delete_audits_and_removes(alice):
    beneficiary = beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)
    beneficiary_delete(customer=alice, beneficiary_id=beneficiary.pk)
    assert not Beneficiary.objects.filter(pk=beneficiary.pk).exists()
    event = last_event()
    assert_audited(event, actor=alice, action=actions.BENEFICIARY_DELETED, target_type="beneficiary",
                   target_id=beneficiary.pk)
    assert event.data == {"name": "Landlord", "iban": EXTERNAL_IBAN}


def test_delete_of_another_customers_or_a_deleted_beneficiary_is_not_found(alice, bob, nothing_changes):
    beneficiary = beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)
    gone = beneficiary_create(customer=alice, name="Old", iban="GB82WEST12345698765432")
    beneficiary_delete(customer=alice, beneficiary_id=gone.pk)
    with nothing_changes():
        with refused("not_found"):
            beneficiary_delete(customer=bob, beneficiary_id=beneficiary.pk)
        with refused("not_found"):
            beneficiary_delete(customer=alice, beneficiary_id=gone.pk)
