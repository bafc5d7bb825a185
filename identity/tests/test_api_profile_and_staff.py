"""The API's account-holder and agent-management endpoints: me/contact/, me/password/,
PATCH customers/{id}/, staff/ and users/{id}/unlock/. The rules are the pages' (identity services);
these tests check the API's shapes, its refusals and that a refusal changes nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from core.testing.api import API, assert_error, obtain_tokens
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity.models import Role, User

pytestmark = pytest.mark.django_db

CONTACT = f"{API}me/contact/"
PASSWORD = f"{API}me/password/"
STAFF = f"{API}staff/"
TOKEN = f"{API}auth/token/"
REFRESH = f"{API}auth/token/refresh/"


def user_row(user: User) -> tuple:
    return User.objects.filter(pk=user.pk).values_list("email", "phone", "address", "password", "is_active").get()


def audit_count() -> int:
    return AuditEvent.objects.count()


# --- me/contact/ -------------------------------------------------------------------------------


def test_a_customer_reads_and_changes_their_contact_details(api_client_for, alice):
    client = api_client_for(alice)
    assert client.get(CONTACT).json() == {"email": alice.email, "phone": "", "address": ""}
    response = client.patch(CONTACT, {"phone": "+33 6 12 34 56 78", "address": "1 rue de la Paix\nParis"},
                            format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"email": alice.email, "phone": "+33 6 12 34 56 78",
                               "address": "1 rue de la Paix\nParis"}
    event = AuditEvent.objects.get(action=actions.CUSTOMER_UPDATED)
    assert event.actor_id == alice.pk and request_data(event, response) == {"changed": ["address", "phone"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "not-an-email"}, "email"), ({"phone": "call me"}, "phone"), ({"address": "x" * 501}, "address"),
     ({"email": ""}, "email")],
)
def test_bad_contact_details_are_400_and_change_nothing(api_client_for, alice, body, field):
    client = api_client_for(alice)
    before, events = user_row(alice), audit_count()
    assert_error(client.patch(CONTACT, body, format="json"), 400, "validation_error", fields={field})
    assert user_row(alice) == before and audit_count() == events


def test_an_email_taken_by_another_user_is_refused(api_client_for, alice, bob):
    assert_error(api_client_for(alice).patch(CONTACT, {"email": bob.email.upper()}, format="json"),
                 400, "validation_error", fields={"email"})


def test_staff_have_no_contact_details_here(api_client_for, agnes):
    assert_error(api_client_for(agnes).get(CONTACT), 403, "permission_denied")


# --- me/password/ ------------------------------------------------------------------------------


def test_a_password_change_revokes_every_refresh_token(api_client_for, alice):
    other_device = obtain_tokens(alice)
    client = api_client_for(alice)
    response = client.post(PASSWORD, {"old_password": TEST_PASSWORD, "new_password": "a-much-longer-secret-42"},
                           format="json")
    assert response.status_code == 204, response.content
    assert_error(APIClient().post(REFRESH, {"refresh": other_device["refresh"]}, format="json"),
                 401, "not_authenticated")
    assert_error(APIClient().post(TOKEN, {"username": alice.username, "password": TEST_PASSWORD},
                                  format="json"), 401, "not_authenticated")
    fresh = APIClient().post(TOKEN, {"username": alice.username, "password": "a-much-longer-secret-42"},
                             format="json")
    assert fresh.status_code == 200
    event = AuditEvent.objects.get(action=actions.AUTH_PASSWORD_CHANGED)
    assert event.actor_id == alice.pk and request_data(event, response) == {"channel": "api"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong-password-1", "new_password": "a-much-longer-secret-42"}, "old_password"),
        ({"old_password": TEST_PASSWORD, "new_password": "short"}, "new_password"),
        ({"old_password": TEST_PASSWORD, "new_password": "1234567890123"}, "new_password"),
        ({"old_password": TEST_PASSWORD}, "new_password"),
    ],
)
def test_a_refused_password_change_changes_nothing(api_client_for, alice, body, field):
    tokens = obtain_tokens(alice)
    client = api_client_for(alice)
    before, events = user_row(alice), audit_count()
    assert_error(client.post(PASSWORD, body, format="json"), 400, "validation_error", fields={field})
    assert user_row(alice) == before and audit_count() == events
    assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 200


# --- PATCH customers/{id}/ ---------------------------------------------------------------------


def test_an_agent_changes_a_customers_contact_details(api_client_for, agnes, alice):
    response = api_client_for(agnes).patch(f"{API}customers/{alice.pk}/", {"email": "Alice@New.example"},
                                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "alice@new.example" and response.json()["id"] == alice.pk
    event = AuditEvent.objects.get(action=actions.CUSTOMER_UPDATED)
    assert event.actor_id == agnes.pk and event.target_id == str(alice.pk)


def test_a_customer_cannot_patch_a_customer(api_client_for, alice, bob):
    before = user_row(bob)
    assert_error(api_client_for(alice).patch(f"{API}customers/{bob.pk}/", {"email": "x@y.example"},
                                                 format="json"), 403, "permission_denied")
    assert user_row(bob) == before


def test_patching_a_member_of_staff_as_a_customer_is_404(api_client_for, agnes, sam):
    client = api_client_for(agnes)
    before, events = user_row(sam), audit_count()
    assert_error(client.patch(f"{API}customers/{sam.pk}/", {"email": "x@y.example"}, format="json"),
                 404, "not_found")
    assert user_row(sam) == before and audit_count() == events


# --- staff/ ------------------------------------------------------------------------------------


def test_a_supervisor_lists_staff_and_creates_an_agent_who_chooses_their_own_password(
    api_client_for, sam, agnes, mailoutbox, django_capture_on_commit_callbacks
):
    client = api_client_for(sam)
    body = client.get(STAFF).json()
    assert set(body) == {"results", "next", "previous"}
    assert {m["username"] for m in body["results"]} == {agnes.username, sam.username}
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(STAFF, {"username": "newagent", "first_name": "Nora", "last_name": "Agent",
                                      "email": "nora@flux.example"}, format="json")
    assert created.status_code == 201, created.content
    agent = created.json()
    assert agent["role"] == Role.AGENT and agent["is_active"] and not agent["has_2fa"]
    # Finding 3: the supervisor learns no password, so cannot sign in as the agent.
    assert "password" not in agent and agent["password_set"] is False
    assert not User.objects.get(username="newagent").has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["nora@flux.example"]
    link = re.search(r"http://testserver/account/password/\S+/", mail.body).group(0)
    assert link not in created.content.decode()
    event = AuditEvent.objects.get(action=actions.STAFF_CREATED, target_id=str(agent["id"]))
    assert event.actor_id == sam.pk and event.data["email"] == "nora@flux.example"
    assert link not in str(event.data)
    # Nora sets hers through the link, and signs in with it.
    page = Client()
    form = page.get(link, follow=True)
    chosen = "nora-only-knows-this-2026"
    assert page.post(form.redirect_chain[-1][0], {"new_password1": chosen, "new_password2": chosen}).status_code == 302
    assert APIClient().post(TOKEN, {"username": "newagent", "password": chosen}, format="json").status_code == 200
    assert client.get(STAFF).json()["results"][0]["password_set"] is True


def test_creating_an_agent_with_a_password_is_refused_and_creates_nothing(
    api_client_for, sam, mailoutbox, django_capture_on_commit_callbacks
):
    """Refused rather than ignored: a client must not believe it chose the agent's password."""
    client = api_client_for(sam)
    users, events = User.objects.count(), audit_count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(STAFF, {"username": "newagent", "first_name": "Nora", "last_name": "Agent",
                                       "email": "nora@flux.example", "password": "i-would-know-it-2026"},
                               format="json")
    assert_error(response, 400, "validation_error", fields={"password"})
    assert User.objects.count() == users and audit_count() == events and mailoutbox == []


def test_a_supervisor_resends_the_link_and_the_old_one_stops_working(
    api_client_for, sam, mailoutbox, django_capture_on_commit_callbacks
):
    client = api_client_for(sam)
    with django_capture_on_commit_callbacks(execute=True):
        agent = client.post(STAFF, {"username": "newagent", "first_name": "Nora", "last_name": "Agent",
                                    "email": "nora@flux.example"}, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{STAFF}{agent['id']}/resend-password-link/")
    assert response.status_code == 200, response.content
    assert response.json()["password_set"] is False and "password" not in response.json()
    first, second = (re.search(r"http://testserver/account/password/\S+/", mail.body).group(0) for mail in mailoutbox)
    assert first != second and [mail.to for mail in mailoutbox] == [["nora@flux.example"]] * 2
    event = AuditEvent.objects.get(action=actions.AUTH_PASSWORD_LINK_SENT)
    assert (event.actor_id, event.target_id, event.data["email"]) == (sam.pk, str(agent["id"]),
                                                                      "nora@flux.example")
    assert Client().get(first).status_code == 400  # replaced
    assert Client().get(second).status_code == 302  # on to the form

    # Once Nora has a password, there is nothing to resend; agents may not resend at all.
    nora = User.objects.get(pk=agent["id"])
    nora.set_password("nora-only-knows-this-2026")
    nora.save()
    before, events = user_row(nora), audit_count()
    assert_error(client.post(f"{STAFF}{nora.pk}/resend-password-link/"), 400, "validation_error")
    assert user_row(nora) == before and audit_count() == events


def test_agents_cannot_resend_password_links(api_client_for, agnes, sam):
    waiting = User.objects.create_user(username="waiting", role=Role.AGENT, email="waiting@flux.example")
    client = api_client_for(agnes)  # signed in (audited) before counting
    before, events = user_row(waiting), audit_count()
    assert_error(client.post(f"{STAFF}{waiting.pk}/resend-password-link/"), 403, "permission_denied")
    assert user_row(waiting) == before and audit_count() == events


def test_a_taken_username_is_refused_and_nothing_is_created(api_client_for, sam, agnes):
    client = api_client_for(sam)
    users, events = User.objects.count(), audit_count()
    response = client.post(
        STAFF, {"username": agnes.username, "first_name": "A", "last_name": "B", "email": "ab@flux.example"},
        format="json")
    assert_error(response, 400, "validation_error", fields={"username"})
    assert User.objects.count() == users and audit_count() == events


def test_deactivate_revokes_tokens_then_reactivate(api_client_for, sam, agnes):
    tokens = obtain_tokens(agnes)
    client = api_client_for(sam)
    response = client.post(f"{STAFF}{agnes.pk}/deactivate/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert_error(APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json"), 401, "not_authenticated")
    before, events = user_row(agnes), audit_count()
    assert_error(client.post(f"{STAFF}{agnes.pk}/deactivate/"), 400, "validation_error")
    assert user_row(agnes) == before and audit_count() == events
    assert client.post(f"{STAFF}{agnes.pk}/reactivate/").json()["is_active"] is True


def test_reset_2fa_removes_the_device(api_client_for, sam, agnes):
    TOTPDevice.objects.create(user=agnes, name="phone", confirmed=True)
    client = api_client_for(sam)
    assert client.get(STAFF).json()["results"][0]["has_2fa"] is True
    response = client.post(f"{STAFF}{agnes.pk}/reset-2fa/")
    assert response.status_code == 200 and response.json()["has_2fa"] is False
    assert not TOTPDevice.objects.filter(user=agnes).exists()
    events = audit_count()
    assert_error(client.post(f"{STAFF}{agnes.pk}/reset-2fa/"), 400, "validation_error")
    assert audit_count() == events


def test_a_customer_is_not_staff(api_client_for, sam, alice):
    client = api_client_for(sam)
    before, events = user_row(alice), audit_count()
    assert_error(client.post(f"{STAFF}{alice.pk}/deactivate/"), 404, "not_found")
    assert user_row(alice) == before and audit_count() == events


@pytest.mark.parametrize("who", ["agnes", "alice"])
def test_only_supervisors_manage_staff(request, api_client_for, agnes, who):
    client = api_client_for(request.getfixturevalue(who))
    before, events = user_row(agnes), audit_count()
    assert_error(client.get(STAFF), 403, "permission_denied")
    assert_error(client.post(f"{STAFF}{agnes.pk}/deactivate/"), 403, "permission_denied")
    assert user_row(agnes) == before and audit_count() == events


# --- users/{id}/unlock/ ------------------------------------------------------------------------


def test_a_supervisor_unlocks_a_locked_out_customer(settings, api_client_for, sam, alice):
    for _ in range(settings.FLUX_LOCKOUT_FAILURES):
        APIClient().post(TOKEN, {"username": alice.username, "password": "wrong-password"}, format="json")
    assert_error(APIClient().post(TOKEN, {"username": alice.username, "password": TEST_PASSWORD},
                                  format="json"), 429, "locked_out")
    client = api_client_for(sam)
    assert client.post(f"{API}users/{alice.pk}/unlock/").status_code == 204
    assert APIClient().post(TOKEN, {"username": alice.username, "password": TEST_PASSWORD},
                            format="json").status_code == 200
    events = audit_count()
    assert_error(client.post(f"{API}users/{alice.pk}/unlock/"), 400, "validation_error")
    assert_error(client.post(f"{API}users/999999/unlock/"), 404, "not_found")
    assert audit_count() == events
