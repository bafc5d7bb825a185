"""lockout.is_locked_out: one username, one query, the same rule as locked_out_usernames."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.utils import timezone

from identity import lockout

LOGIN = "/login/"


def fail(client, username: str, times: int) -> None:
    for n in range(times):
        client.post(LOGIN, {"username": username, "password": f"wrong-{n}"})


def test_five_failures_lock_that_username_only(client, alice, bob, django_assert_num_queries):
    fail(client, "alice", 5)
    fail(client, "bob", 4)

    with django_assert_num_queries(1):
        assert lockout.is_locked_out(username="alice") is True
    assert lockout.is_locked_out(username="bob") is False
    assert lockout.is_locked_out(username="nobody") is False
    assert lockout.locked_out_usernames() == {"alice"}


def test_the_lockout_ends_after_the_cool_off(client, settings, alice):
    fail(client, "alice", 5)
    assert lockout.is_locked_out(username="alice") is True

    AccessAttempt.objects.filter(username="alice").update(
        attempt_time=timezone.now() - timedelta(minutes=settings.FLUX_LOCKOUT_MINUTES, seconds=1)
    )

    assert lockout.is_locked_out(username="alice") is False
    assert lockout.locked_out_usernames() == set()
