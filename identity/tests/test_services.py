"""Identity services: onboarding customers, signing in and out, each audited."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from audit import actions
from audit.models import AuditEvent
from core.errors import ApplicationError
from core.testing.users import TEST_PASSWORD
from identity.models import Role, User
from identity.services import customer_create, token_logout, token_obtain
from identity.tests.factories import CustomerFactory

STRONG_PASSWORD = "correct-horse-battery-staple-42"


def onboard(actor, **overrides):
    arguments = {
        "username": "carol",
        "first_name": "Carol",
        "last_name": "Customer",
        "email": "carol@example.test",
    } | overrides
    return customer_create(actor=actor, **arguments)


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()


@pytest.fixture
def nothing_created(unchanged):
    """The ledger snapshot (audit events included) and the user count stay as they were."""

    @contextmanager
    def check():
        users = User.objects.count()
        with unchanged():
            yield
        assert User.objects.count() == users

    return check


# --- Onboarding -------------------------------------------------------------------------------


def test_staff_onboard_a_customer_without_a_password_and_the_link_is_mailed(
    agnes, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        customer = onboard(
            agnes,
            username="  carol ",
            first_name=" Carol ",
            email="Carol@Example.TEST",
            phone=" +33 6 12 34 56 78 ",
            address="1 rue de la Paix",
        )

    customer.refresh_from_db()
    assert customer.role == Role.CUSTOMER and customer.is_customer and not customer.is_bank_staff
    assert (customer.username, customer.first_name, customer.email, customer.phone) == (
        "carol",
        "Carol",
        "carol@example.test",
        "+33 6 12 34 56 78",
    )
    # Nobody knows a password: there is none until carol chooses hers through the link.
    assert not customer.has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["carol@example.test"] and "/account/password/" in mail.body
    event = last_event()
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        actions.CUSTOMER_CREATED,
        agnes,
        "customer",
        str(customer.pk),
    )
    assert event.data == {"username": "carol", "email": "carol@example.test", "password_link": True}


def test_a_given_password_is_used_and_no_link_is_mailed(sam, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer = onboard(sam, password=STRONG_PASSWORD)

    assert isinstance(customer, User) and customer.check_password(STRONG_PASSWORD)
    assert mailoutbox == []
    assert last_event().data["password_link"] is False


def test_customers_cannot_onboard_customers(alice, nothing_created):
    with nothing_created(), pytest.raises(ApplicationError) as excinfo:
        onboard(alice)
    assert excinfo.value.code == "permission_denied"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "ALICE"}, "username"),  # taken, whatever the case
        ({"email": "not-an-email"}, "email"),
        ({"email": "ALICE@example.test"}, "email"),  # taken, whatever the case
        ({"first_name": "  "}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"password": "short"}, "password"),
        ({"password": "1234567890123"}, "password"),  # entirely numeric
        ({"password": "password123"}, "password"),  # too common
    ],
)
def test_onboarding_validates(agnes, alice, nothing_created, overrides, field):
    with nothing_created(), pytest.raises(ApplicationError) as excinfo:
        onboard(agnes, **overrides)

    assert excinfo.value.code == "validation_error"
    assert field in excinfo.value.fields


def test_onboarding_reports_every_invalid_field_at_once(agnes, nothing_created):
    with nothing_created(), pytest.raises(ApplicationError) as excinfo:
        onboard(agnes, username="", email="nope", first_name="", last_name="", password="x")

    assert set(excinfo.value.fields) == {"username", "email", "first_name", "last_name", "password"}


# --- Signing in -------------------------------------------------------------------------------


def test_token_obtain_issues_a_pair_and_audits_the_login(alice):
    tokens = token_obtain(username="alice", password=TEST_PASSWORD)

    assert set(tokens) == {"access", "refresh"}
    assert str(AccessToken(tokens["access"])["user_id"]) == str(alice.pk)
    assert str(RefreshToken(tokens["refresh"])["user_id"]) == str(alice.pk)
    alice.refresh_from_db()
    assert alice.last_login is not None
    event = last_event()
    assert (event.action, event.actor, event.target_type, event.target_id, event.data) == (
        actions.AUTH_LOGIN,
        alice,
        "user",
        str(alice.pk),
        {"channel": "api"},
    )


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong-password"), ("nobody", TEST_PASSWORD)])
def test_a_failed_sign_in_is_refused_and_audited(alice, username, password):
    with pytest.raises(ApplicationError) as excinfo:
        token_obtain(username=username, password=password)

    assert excinfo.value.code == "not_authenticated"
    event = last_event()
    assert event.action == actions.AUTH_LOGIN_FAILED and event.actor is None and event.target_type == "user"
    assert event.target_id == (str(alice.pk) if username == "alice" else "")
    assert event.data == {"username": username, "channel": "api"}
    alice.refresh_from_db()
    assert alice.last_login is None


def test_an_inactive_user_cannot_sign_in(db):
    CustomerFactory(username="dormant", is_active=False)

    with pytest.raises(ApplicationError) as excinfo:
        token_obtain(username="dormant", password=TEST_PASSWORD)
    assert excinfo.value.code == "not_authenticated"


# --- Signing out ------------------------------------------------------------------------------


def test_logout_revokes_the_refresh_token(alice):
    refresh = token_obtain(username="alice", password=TEST_PASSWORD)["refresh"]

    token_logout(user=alice, refresh=refresh)

    with pytest.raises(TokenError):
        RefreshToken(refresh)
    event = last_event()
    assert (event.action, event.actor, event.target_id) == (actions.AUTH_LOGOUT, alice, str(alice.pk))
    with pytest.raises(ApplicationError) as excinfo:
        token_logout(user=alice, refresh=refresh)
    assert excinfo.value.code == "validation_error" and "refresh" in excinfo.value.fields


def test_logout_refuses_someone_elses_token(alice, bob, unchanged):
    refresh = token_obtain(username="alice", password=TEST_PASSWORD)["refresh"]

    with unchanged(), pytest.raises(ApplicationError) as excinfo:
        token_logout(user=bob, refresh=refresh)

    assert excinfo.value.code == "validation_error"
    RefreshToken(refresh)  # still valid


@pytest.mark.parametrize("refresh", ["", "garbage", "a.b.c"])
def test_logout_refuses_a_malformed_token(alice, unchanged, refresh):
    with unchanged(), pytest.raises(ApplicationError) as excinfo:
        token_logout(user=alice, refresh=refresh)
    assert excinfo.value.code == "validation_error"


def test_logout_refuses_an_access_token(alice, unchanged):
    access = token_obtain(username="alice", password=TEST_PASSWORD)["access"]

    with unchanged(), pytest.raises(ApplicationError) as excinfo:
        token_logout(user=alice, refresh=access)
    assert excinfo.value.code == "validation_error"
