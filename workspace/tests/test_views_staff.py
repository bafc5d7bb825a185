"""Agent management (/agent/staff/): supervisors list, create, deactivate and reactivate agents,
reset their two-factor sign-in and unlock a lockout; agents and customers get a 403 page."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity.models import Role, User
from identity.tests.factories import AgentFactory

STAFF = "/agent/staff/"


def action_url(user, action: str) -> str:
    return f"{STAFF}{user.pk}/{action}/"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


@pytest.fixture
def supervisor_client(client, sam):
    client.force_login(sam)
    return client


def lock_out(username: str) -> None:
    for n in range(5):
        Client().post("/login/", {"username": username, "password": f"wrong-{n}"})


def test_a_signed_out_visitor_is_sent_to_sign_in(client, db):
    assert client.get(STAFF).url == "/login/?next=/agent/staff/"


@pytest.mark.parametrize("who", ["agnes", "alice"])
def test_agents_and_customers_get_a_403_page_and_change_nothing(request, client, who, agnes, unchanged):
    client.force_login(request.getfixturevalue(who))

    with unchanged():
        page = client.get(STAFF)
        create = client.post(STAFF, {"username": "eve", "first_name": "Eve", "last_name": "Stone",
                                     "email": "eve@example.com"})
        deactivate = client.post(action_url(agnes, "deactivate"))

    assert [page.status_code, create.status_code, deactivate.status_code] == [403, 403, 403]
    assert "No access" in page.content.decode()
    assert not User.objects.filter(username="eve").exists()
    agnes.refresh_from_db()
    assert agnes.is_active


def test_the_list_shows_staff_with_their_state(supervisor_client, agnes, sam, alice):
    TOTPDevice.objects.create(user=sam, name="Flux", confirmed=True)
    lock_out("agnes")

    response = supervisor_client.get(STAFF)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-username="agnes"' in html and 'data-username="sam"' in html
    assert 'data-username="alice"' not in html
    assert "Locked out" in html and "Two-factor set up" in html and "No two-factor yet" in html
    assert f'action="{action_url(agnes, "unlock")}"' in html
    assert f'action="{action_url(sam, "reset-2fa")}"' in html
    assert f'action="{action_url(sam, "deactivate")}"' not in html  # not yourself


def test_creating_an_agent_shows_no_password_and_mails_them_a_link(supervisor_client, sam, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    """Finding 3: the supervisor was shown the new agent's password and could sign in as them."""
    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor_client.post(STAFF, {"username": "eve", "first_name": "Eve", "last_name": "Stone",
                                                  "email": "Eve@Example.com", "password": "i-would-know-it-2026"})

    assert response.status_code == 302 and response.url == STAFF
    page = supervisor_client.get(STAFF).content.decode()
    assert "Eve Stone (eve) is an agent. A link to choose their password is on its way to eve@example.com" in page
    assert 'data-testid="staff-password"' not in page and "i-would-know-it-2026" not in page
    eve = User.objects.get(username="eve")
    assert (eve.role, eve.email, eve.get_full_name()) == (Role.AGENT, "eve@example.com", "Eve Stone")
    # The page has no password field: whatever was posted is not a password of eve's.
    assert not eve.has_usable_password() and not eve.check_password("i-would-know-it-2026")
    [event] = events(actions.STAFF_CREATED)
    assert (event.actor, event.target_id, request_data(event, response)) == (
        sam, str(eve.pk), {"username": "eve", "role": "agent", "email": "eve@example.com", "password_link": True})
    [mail] = mailoutbox
    link = re.search(r"http://testserver(/account/password/\S+/)", mail.body).group(1)
    assert mail.to == ["eve@example.com"] and link not in page
    row = re.search(r'data-username="eve".*?</li>', page, re.S).group(0)
    assert 'data-testid="no-password-yet"' in row and action_url(eve, "resend-password-link") in row
    # Eve chooses hers, and she alone can sign in with it.
    eve_browser = Client()
    form_url = eve_browser.get(link)["Location"]
    chosen = "eve-chose-this-herself-2026"
    assert eve_browser.post(form_url, {"new_password1": chosen, "new_password2": chosen}).status_code == 302
    assert Client().post("/login/", {"username": "eve", "password": chosen}).status_code == 302
    row = re.search(r'data-username="eve".*?</li>', supervisor_client.get(STAFF).content.decode(), re.S).group(0)
    assert 'data-testid="no-password-yet"' not in row and "resend-password-link" not in row


def test_a_supervisor_sends_a_new_link_and_the_old_one_stops_working(supervisor_client, sam, mailoutbox,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        supervisor_client.post(STAFF, {"username": "eve", "first_name": "Eve", "last_name": "Stone",
                                       "email": "eve@example.com"})
        eve = User.objects.get(username="eve")
        response = supervisor_client.post(action_url(eve, "resend-password-link"), follow=True)

    assert "A new link to choose a password is on its way to eve@example.com" in response.content.decode()
    first, second = (re.search(r"http://testserver(/account/password/\S+/)", m.body).group(1) for m in mailoutbox)
    assert Client().get(first).status_code == 400 and Client().get(second).status_code == 302
    [event] = events(actions.AUTH_PASSWORD_LINK_SENT)
    assert (event.actor, event.target_id) == (sam, str(eve.pk))


@pytest.mark.parametrize("fields, field, message", [
    ({"username": "agnes"}, "username", "This username is taken."),
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"first_name": ""}, "first_name", "This field is required."),
    ({"username": "has space"}, "username", "Use letters, digits"),
])
def test_a_refused_agent_is_explained_and_nothing_is_created(supervisor_client, agnes, unchanged, fields, field,
                                                            message):
    data = {"username": "eve", "first_name": "Eve", "last_name": "Stone", "email": "eve@example.com", **fields}
    users = User.objects.count()

    with unchanged():
        response = supervisor_client.post(STAFF, data)

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert message.split(".")[0] in response.content.decode().replace("&#x27;", "'")
    assert User.objects.count() == users


def test_deactivate_then_reactivate(supervisor_client, sam, agnes):
    agent_client = Client()
    agent_client.force_login(agnes)
    refresh = APIClient().post("/api/v1/auth/token/", {"username": "agnes", "password": TEST_PASSWORD},
                               format="json").json()["refresh"]

    response = supervisor_client.post(action_url(agnes, "deactivate"), follow=True)

    assert "can no longer sign in" in response.content.decode()
    agnes.refresh_from_db()
    assert not agnes.is_active
    assert not agent_client.get("/").wsgi_request.user.is_authenticated  # their session no longer signs in
    assert agent_client.get("/agent/imports/").status_code == 302
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json").status_code == 401
    assert Client().post("/login/", {"username": "agnes", "password": TEST_PASSWORD}).status_code == 200
    [event] = events(actions.STAFF_DEACTIVATED)
    assert (event.actor, event.target_id) == (sam, str(agnes.pk))

    supervisor_client.post(action_url(agnes, "reactivate"))

    agnes.refresh_from_db()
    assert agnes.is_active
    assert len(events(actions.STAFF_REACTIVATED)) == 1
    assert Client().post("/login/", {"username": "agnes", "password": TEST_PASSWORD}).status_code == 302


def test_deactivating_twice_or_yourself_is_refused_and_changes_nothing(supervisor_client, sam, agnes, unchanged):
    supervisor_client.post(action_url(agnes, "deactivate"))

    with unchanged():
        again = supervisor_client.post(action_url(agnes, "deactivate"), follow=True)
        yourself = supervisor_client.post(action_url(sam, "deactivate"), follow=True)

    assert "already inactive" in again.content.decode()
    assert "cannot deactivate yourself" in yourself.content.decode()
    sam.refresh_from_db()
    assert sam.is_active


def test_customers_are_not_managed_here(supervisor_client, alice, unchanged):
    with unchanged():
        response = supervisor_client.post(action_url(alice, "deactivate"))

    assert response.status_code == 404
    alice.refresh_from_db()
    assert alice.is_active


def test_reset_two_factor(supervisor_client, sam, agnes):
    TOTPDevice.objects.create(user=agnes, name="Flux", confirmed=True)

    response = supervisor_client.post(action_url(agnes, "reset-2fa"), follow=True)

    assert "set up two-factor sign-in again" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=agnes).exists()
    [event] = events(actions.AUTH_2FA_RESET)
    assert (event.actor, event.target_id) == (sam, str(agnes.pk))


def test_reset_without_a_device_is_refused(supervisor_client, agnes, unchanged):
    with unchanged():
        response = supervisor_client.post(action_url(agnes, "reset-2fa"), follow=True)

    assert "has not set up two-factor sign-in" in response.content.decode()


def test_unlock_after_a_lockout(supervisor_client, sam, agnes):
    lock_out("agnes")
    assert Client().post("/login/", {"username": "agnes", "password": TEST_PASSWORD}).status_code == 429

    response = supervisor_client.post(action_url(agnes, "unlock"), follow=True)

    assert "is unlocked" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="agnes").exists()
    [event] = events(actions.AUTH_UNLOCKED)
    assert (event.actor, event.target_id) == (sam, str(agnes.pk))
    assert Client().post("/login/", {"username": "agnes", "password": TEST_PASSWORD}).status_code == 302


def test_unlocking_someone_not_locked_is_refused(supervisor_client, agnes, unchanged):
    with unchanged():
        response = supervisor_client.post(action_url(agnes, "unlock"), follow=True)

    assert "is not locked out" in response.content.decode()


def test_an_unknown_action_or_member_is_a_404(supervisor_client, agnes):
    assert supervisor_client.post(action_url(agnes, "promote")).status_code == 404
    assert supervisor_client.post(f"{STAFF}999999/deactivate/").status_code == 404
    assert supervisor_client.get(action_url(agnes, "deactivate")).status_code == 405


def test_the_page_lists_many_agents(supervisor_client):
    AgentFactory.create_batch(3)

    response = supervisor_client.get(STAFF)

    assert response.content.decode().count('data-testid="staff-member"') == 5 - 1  # 3 + sam
