"""A customer's own contact details and password: customer_update_contact and password_change."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from audit import actions
from audit.models import AuditEvent
from audit.tests.support import assert_audited, last_event
from core.testing.assertions import refused
from core.testing.users import TEST_PASSWORD
from identity.models import User
from identity.services import customer_update_contact, password_change
from identity.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def contact(user: User) -> tuple[str, str, str]:
    user = User.objects.get(pk=user.pk)
    return user.email, user.phone, user.address


def test_update_saves_normalised_values_and_audits_field_names(alice):
    customer_update_contact(customer=alice, email=" Alice@New.Example ", phone="+33  6 12 34 56 78",
                            address="  1 rue de la Paix \n\n 75002 Paris ")
    assert contact(alice) == ("alice@new.example", "+33 6 12 34 56 78", "1 rue de la Paix\n75002 Paris")
    event = last_event()
    assert_audited(event, actor=alice, action=actions.CUSTOMER_UPDATED, target_type="customer", target_id=alice.pk)
    assert event.data == {"changed": ["address", "email", "phone"]}


def test_update_without_change_writes_nothing(alice):
    customer_update_contact(customer=alice, email=alice.email, phone=alice.phone, address=alice.address)
    assert not AuditEvent.objects.filter(action=actions.CUSTOMER_UPDATED).exists()


@pytest.mark.parametrize(("email", "phone", "address", "fields"), [
    ("not-an-email", "", "", {"email"}),
    ("bob@example.test", "", "", {"email"}),  # bob's address, in another case below
    ("BOB@example.test", "", "", {"email"}),
    ("alice@example.test", "call me", "", {"phone"}),
    ("alice@example.test", "+1", "", {"phone"}),
    ("alice@example.test", "", "x" * 501, {"address"}),
    ("", "=cmd", "", {"email", "phone"}),
])
def test_refusals_change_nothing(alice, bob, unchanged, email, phone, address, fields):
    before = contact(alice)
    with unchanged(), refused("validation_error") as excinfo:
        customer_update_contact(customer=alice, email=email, phone=phone, address=address)
    assert set(excinfo.value.fields) == fields
    assert contact(alice) == before


def test_staff_have_no_contact_details_here(agnes, unchanged):
    with unchanged(), refused("permission_denied"):
        customer_update_contact(customer=agnes, email="agnes@new.example")


def test_password_change_keeps_this_session_revokes_refresh_tokens_and_audits(alice, client):
    client.login(username="alice", password=TEST_PASSWORD)
    refresh = RefreshToken.for_user(alice)
    request = RequestFactory().post("/app/profile/password/")
    request.session = client.session
    request.user = alice
    password_change(request=request, user=alice, new_password="a-brand-new-secret-2026")
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-secret-2026") and not alice.check_password(TEST_PASSWORD)
    assert request.session[SESSION_KEY] == str(alice.pk)
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    assert_audited(last_event(), actor=alice, action=actions.AUTH_PASSWORD_CHANGED, target_type="user",
                   target_id=alice.pk)


def test_another_customer_is_untouched(alice, bob):
    other = CustomerFactory()
    customer_update_contact(customer=alice, email="alice@new.example")
    assert contact(bob)[0] == "bob@example.test" and User.objects.get(pk=other.pk).email == other.email
