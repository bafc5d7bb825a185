"""identity.selectors: one customer by id; the staff list and one member of staff (with `has_2fa` and
`locked_out`)."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.errors import NotFound
from identity.selectors import customer_get, staff_list, staff_member_get
from identity.tests.test_is_locked_out import fail


def shown(member) -> tuple:
    return member.pk, member.username, member.has_2fa, member.locked_out


def test_one_member_of_staff_as_the_list_shows_them(client, agnes, sam, alice, django_assert_num_queries):
    TOTPDevice.objects.create(user=agnes, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=sam, name="unfinished", confirmed=False)
    fail(client, "agnes", 5)

    with django_assert_num_queries(2):  # the member, and their lockout
        agent = staff_member_get(member_id=agnes.pk)
    supervisor = staff_member_get(member_id=str(sam.pk))

    assert shown(agent) == (agnes.pk, "agnes", True, True)
    assert shown(supervisor) == (sam.pk, "sam", False, False)
    assert [shown(member) for member in staff_list()] == [shown(agent), shown(supervisor)]


@pytest.mark.parametrize("member_id", ["customer", 10**9, "abc", "0", -1, 2**63])
def test_anyone_else_is_not_found(alice, agnes, member_id):
    if member_id == "customer":
        member_id = alice.pk

    with pytest.raises(NotFound) as refused:
        staff_member_get(member_id=member_id)

    assert refused.value.code == "not_found"


def test_a_customer_by_id(alice, bob, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert customer_get(customer_id=alice.pk) == alice
    assert customer_get(customer_id=str(bob.pk)) == bob


@pytest.mark.parametrize("customer_id", ["agent", "supervisor", 10**9, "abc", "0", -1, 2**63, None])
def test_staff_and_unknown_ids_are_not_customers(alice, agnes, sam, customer_id):
    customer_id = {"agent": agnes.pk, "supervisor": sam.pk}.get(customer_id, customer_id)

    with pytest.raises(NotFound) as refused:
        customer_get(customer_id=customer_id)

    assert refused.value.code == "not_found"  # a malformed id is parse_id's plain "Not found."
