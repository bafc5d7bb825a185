"""The sign-in and sign-out pages (session authentication), each attempt audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit import actions
from audit.models import AuditEvent
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity.tests.factories import CustomerFactory

LOGIN = "/login/"
LOGOUT = "/logout/"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_the_urls_are_named():
    assert reverse("login") == LOGIN
    assert reverse("logout") == LOGOUT


def test_the_sign_in_page_renders(client, db):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == ["identity/login.html", "base.html"]
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Sign out" not in html


def test_signing_in_redirects_home_and_is_audited(client, alice):
    response = client.post(LOGIN, {"username": "alice", "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert int(client.session["_auth_user_id"]) == alice.pk
    [event] = events(actions.AUTH_LOGIN)
    assert (event.actor, event.target_type, event.target_id, request_data(event, response)) == (
        alice,
        "user",
        str(alice.pk),
        {"channel": "web"},
    )


def test_the_home_page_shows_the_signed_in_user(client, alice):
    client.force_login(alice)

    # A customer's home is their accounts page (/ redirects there); the navigation is the same.
    html = client.get("/", follow=True).content.decode()

    assert alice.get_full_name() in html
    assert "Customer" in html
    assert "Sign out" in html
    assert "/staff/audit/" not in html


def test_a_supervisor_gets_the_staff_links(client, sam):
    client.force_login(sam)

    response = client.get("/", follow=True)  # staff land on their workspace
    html = response.content.decode()

    assert response.redirect_chain == [(reverse("workspace:home"), 302)]
    assert 'href="/staff/audit/"' in html
    assert 'href="/staff/nats/"' in html


def test_a_wrong_password_is_refused_with_a_clear_message_and_audited(client, alice):
    response = client.post(LOGIN, {"username": "alice", "password": "not-the-password"})

    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert events(actions.AUTH_LOGIN) == []
    [event] = events(actions.AUTH_LOGIN_FAILED)
    assert event.actor is None
    assert event.target_id == str(alice.pk)
    assert request_data(event, response) == {"username": "alice", "channel": "web"}


def test_an_unknown_user_is_refused_the_same_way(client, db):
    response = client.post(LOGIN, {"username": "nobody", "password": "whatever-it-is"})

    assert "Wrong username or password." in response.content.decode()
    [event] = events(actions.AUTH_LOGIN_FAILED)
    assert (event.target_id, request_data(event, response)) == ("", {"username": "nobody", "channel": "web"})


def test_an_inactive_user_cannot_sign_in(client, db):
    CustomerFactory(username="carol", is_active=False)

    response = client.post(LOGIN, {"username": "carol", "password": TEST_PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert len(events(actions.AUTH_LOGIN_FAILED)) == 1


def test_an_empty_form_is_not_a_sign_in_attempt(client, db):
    response = client.post(LOGIN, {"username": "", "password": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert AuditEvent.objects.count() == 0


def test_signing_in_returns_to_next(client, alice):
    response = client.post(f"{LOGIN}?next=/api/v1/docs/", {"username": "alice", "password": TEST_PASSWORD})

    assert response.url == "/api/v1/docs/"


def test_next_is_kept_in_the_form(client, db):
    html = client.get(f"{LOGIN}?next=/api/v1/docs/").content.decode()

    assert 'name="next" value="/api/v1/docs/"' in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
def test_next_never_leaves_the_site(client, alice, target):
    response = client.post(LOGIN, {"username": "alice", "password": TEST_PASSWORD, "next": target})

    assert response.url == reverse("home")


def test_a_signed_in_user_is_sent_home_from_the_sign_in_page(client, alice):
    client.force_login(alice)

    assert client.get(LOGIN).url == reverse("home")


def test_signing_out_needs_a_post(client, alice):
    client.force_login(alice)

    response = client.get(LOGOUT)

    assert response.status_code == 405
    assert int(client.session["_auth_user_id"]) == alice.pk
    assert events(actions.AUTH_LOGOUT) == []


def test_signing_out_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(LOGOUT).status_code == 403
    assert events(actions.AUTH_LOGOUT) == []


def test_signing_out_ends_the_session_and_is_audited(client, alice):
    client.force_login(alice)

    response = client.post(LOGOUT, follow=True)

    assert response.redirect_chain == [(reverse("login"), 302)]
    assert "_auth_user_id" not in client.session
    assert "You have signed out." in response.content.decode()
    [event] = events(actions.AUTH_LOGOUT)
    assert (event.actor, event.target_id, request_data(event)) == (alice, str(alice.pk), {"channel": "web"})


def test_signing_out_when_signed_out_records_nothing(client, db):
    response = client.post(LOGOUT)

    assert response.url == reverse("login")
    assert AuditEvent.objects.count() == 0


def test_the_role_badge_speaks_the_pages_language(client, sam):
    """The role's label is translated with the page (it said "Supervisor" on French pages)."""
    client.force_login(sam)
    client.cookies["django_language"] = "fr"

    html = client.get("/agent/", follow=True).content.decode()

    assert '<html lang="fr"' in html
    assert ">Superviseur</span>" in html and ">Supervisor</span>" not in html
