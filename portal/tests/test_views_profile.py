"""The profile page: contact details and the password change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit import actions
from audit.models import AuditEvent
from core.testing.users import TEST_PASSWORD
from identity.models import User

pytestmark = pytest.mark.django_db

PROFILE = reverse("portal:profile")
PASSWORD = reverse("portal:password-change")
NEW_PASSWORD = "a-brand-new-secret-2026"


def signed_in(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def contact(user) -> tuple:
    return User.objects.filter(pk=user.pk).values_list("email", "phone", "address", "password").get()


def test_signed_out_and_staff(client, agnes):
    for url in (PROFILE,):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert client.post(PASSWORD, {}).status_code == 302
    signed_in(client, agnes)
    before = contact(agnes)
    assert client.get(PROFILE).status_code == 403
    assert client.post(PROFILE, {"email": "agnes@new.example"}).status_code == 403
    assert client.post(PASSWORD, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD,
                                  "new_password2": NEW_PASSWORD}).status_code == 403
    assert contact(agnes) == before


def test_profile_shows_and_saves_contact_details(client, alice):
    signed_in(client, alice)
    html = client.get(PROFILE).content.decode()
    assert 'value="alice@example.test"' in html
    response = client.post(PROFILE, {"email": "alice@new.example", "phone": "+33 6 12 34 56 78",
                                     "address": "1 rue de la Paix"}, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert contact(alice)[:3] == ("alice@new.example", "+33 6 12 34 56 78", "1 rue de la Paix")
    assert "Your contact details are saved." in response.content.decode()
    assert AuditEvent.objects.filter(action=actions.CUSTOMER_UPDATED, actor=alice).count() == 1


def test_bad_contact_details_are_refused(client, alice, bob, unchanged):
    signed_in(client, alice)
    before = contact(alice)
    with unchanged():
        response = client.post(PROFILE, {"email": "BOB@example.test", "phone": "call me", "address": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Another user has this email address." in html and "Enter a phone number" in html
    assert contact(alice) == before


def test_wrong_old_password_changes_nothing(client, alice, unchanged):
    signed_in(client, alice)
    before = contact(alice)
    with unchanged():
        response = client.post(PASSWORD, {"old_password": "wrong", "new_password1": NEW_PASSWORD,
                                          "new_password2": NEW_PASSWORD})
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert contact(alice) == before


def test_password_change_keeps_the_session(client, alice):
    signed_in(client, alice)
    response = client.post(PASSWORD, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD,
                                      "new_password2": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert "Your password is changed." in response.content.decode()
    assert client.get(PROFILE).status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action=actions.AUTH_PASSWORD_CHANGED, actor=alice).exists()
    client.logout()
    assert not client.login(username="alice", password=TEST_PASSWORD)
    assert client.login(username="alice", password=NEW_PASSWORD)
