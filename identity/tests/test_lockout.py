"""Lockout (django-axes): five failed sign-ins for one username, on the page or the API, and that
username is refused for 15 minutes, even with the right password; audited; a supervisor unlocks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from rest_framework.test import APIClient

from audit import actions
from audit.models import AuditEvent
from core.testing.request_ids import request_data
from core.testing.users import TEST_PASSWORD
from identity import lockout
from identity.staff_services import staff_unlock

LOGIN = "/login/"
TOKEN = "/api/v1/auth/token/"
MESSAGE = "Too many failed attempts: try again in 15 minutes."


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def page_attempt(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def api_attempt(username: str, password: str, **extra):
    return APIClient().post(TOKEN, {"username": username, "password": password, **extra}, format="json")


def test_the_settings_say_five_failures_and_fifteen_minutes(settings):
    assert (settings.FLUX_LOCKOUT_FAILURES, settings.FLUX_LOCKOUT_MINUTES) == (5, 15)
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]


def test_four_failures_then_the_right_password_signs_in_and_clears_the_count(client, alice):
    for _ in range(4):
        assert "Wrong username or password." in page_attempt(client, "alice", "wrong-password").content.decode()

    response = page_attempt(client, "alice", TEST_PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == alice.pk
    assert lockout.locked_out_usernames() == set()
    assert not AccessAttempt.objects.filter(username="alice").exists()  # reset on success
    assert events(actions.AUTH_LOCKED_OUT) == []


def test_the_page_locks_a_username_after_five_failures_and_refuses_the_right_password(client, alice, snapshot):
    responses = [page_attempt(client, "alice", f"wrong-{n}") for n in range(5)]

    assert all("Wrong username or password." in r.content.decode() for r in responses[:4])
    assert responses[4].status_code == 429
    assert MESSAGE in responses[4].content.decode()
    [locked] = events(actions.AUTH_LOCKED_OUT)
    assert (locked.actor, locked.target_id) == (None, str(alice.pk))
    assert request_data(locked, responses[4]) == {"username": "alice", "channel": "web", "failures": 5, "minutes": 15}
    # Each attempt is one failed sign-in event; none of them is a sign-in.
    assert len(events(actions.AUTH_LOGIN_FAILED)) == 5
    assert lockout.locked_out_usernames() == {"alice"}

    before = snapshot()
    last_login = alice.last_login

    sixth = page_attempt(client, "alice", TEST_PASSWORD)

    assert sixth.status_code == 429
    assert MESSAGE in sixth.content.decode()
    assert "_auth_user_id" not in client.session
    alice.refresh_from_db()
    assert alice.last_login == last_login
    # Nothing changes but one audited refusal (a failed sign-in, reason locked_out).
    after = snapshot()
    new_events = after.pop("audit_events")[len(before.pop("audit_events")):]
    assert after == before
    assert [action for _, action, _ in new_events] == [actions.AUTH_LOGIN_FAILED]
    assert request_data(events(actions.AUTH_LOGIN_FAILED)[-1], sixth) == {
        "username": "alice", "channel": "web", "reason": "locked_out"}
    assert len(events(actions.AUTH_LOCKED_OUT)) == 1


def test_the_lockout_is_per_username(client, alice, bob):
    for n in range(5):
        page_attempt(client, "alice", f"wrong-{n}")

    assert page_attempt(client, "bob", TEST_PASSWORD).status_code == 302


def test_more_attempts_during_the_lockout_do_not_extend_it(client, alice):
    for n in range(5):
        page_attempt(client, "alice", f"wrong-{n}")
    started = AccessAttempt.objects.get(username="alice").attempt_time

    page_attempt(client, "alice", "wrong-again")

    attempt = AccessAttempt.objects.get(username="alice")
    assert (attempt.attempt_time, attempt.failures_since_start) == (started, 5)


def test_the_lockout_ends_after_fifteen_minutes(client, alice):
    for n in range(5):
        page_attempt(client, "alice", f"wrong-{n}")
    AccessAttempt.objects.filter(username="alice").update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert page_attempt(client, "alice", TEST_PASSWORD).status_code == 302


def test_the_api_locks_after_five_failures_with_429_locked_out(alice):
    statuses = [api_attempt("alice", f"wrong-{n}").status_code for n in range(4)]
    fifth = api_attempt("alice", "wrong-4")

    assert statuses == [401] * 4
    assert fifth.status_code == 429
    assert fifth.json() == {"error": {"code": "locked_out", "message": MESSAGE}}
    [locked] = events(actions.AUTH_LOCKED_OUT)
    assert locked.data["channel"] == "api"

    sixth = api_attempt("alice", TEST_PASSWORD)

    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "locked_out"
    assert "access" not in sixth.json()
    assert events(actions.AUTH_LOGIN) == []
    assert len(events(actions.AUTH_LOCKED_OUT)) == 1


def test_page_and_api_failures_add_up(client, alice):
    for n in range(3):
        page_attempt(client, "alice", f"wrong-{n}")
    for n in range(2):
        api_attempt("alice", f"wrong-api-{n}")

    assert page_attempt(client, "alice", TEST_PASSWORD).status_code == 429
    assert api_attempt("alice", TEST_PASSWORD).status_code == 429


def test_a_successful_api_sign_in_clears_the_failures(alice):
    for n in range(4):
        api_attempt("alice", f"wrong-{n}")
    assert api_attempt("alice", TEST_PASSWORD).status_code == 200
    for n in range(4):
        api_attempt("alice", f"wrong-again-{n}")

    assert api_attempt("alice", TEST_PASSWORD).status_code == 200


def test_sign_in_and_out_are_still_audited_exactly_once(client, alice):
    page_attempt(client, "alice", TEST_PASSWORD)
    client.post("/logout/")
    api_attempt("alice", TEST_PASSWORD)

    assert [e.data["channel"] for e in events(actions.AUTH_LOGIN)] == ["web", "api"]
    assert [e.data["channel"] for e in events(actions.AUTH_LOGOUT)] == ["web"]
    assert events(actions.AUTH_LOGIN_FAILED) == []


def test_a_supervisor_unlocks_and_the_user_signs_in_again(client, alice, sam):
    for n in range(5):
        page_attempt(client, "alice", f"wrong-{n}")

    staff_unlock(actor=sam, user=alice)

    assert lockout.locked_out_usernames() == set()
    [unlocked] = events(actions.AUTH_UNLOCKED)
    assert (unlocked.actor, unlocked.target_id) == (sam, str(alice.pk))
    assert page_attempt(client, "alice", TEST_PASSWORD).status_code == 302


@pytest.mark.parametrize("who", ["agnes", "alice"])
def test_only_a_supervisor_may_unlock(request, client, alice, who, unchanged):
    for n in range(5):
        page_attempt(client, "alice", f"wrong-{n}")
    actor = request.getfixturevalue(who)

    with unchanged():
        with pytest.raises(Exception) as refused:
            staff_unlock(actor=actor, user=alice)
        assert getattr(refused.value, "code", None) == "permission_denied"
    assert lockout.locked_out_usernames() == {"alice"}
