"""run_once: the one idempotency mechanism behind the API's Idempotency-Key and the pages' tokens."""

from __future__ import annotations

import pytest

from banking.models import IdempotencyKey
from core.errors import ApplicationError
from core.idempotency import fingerprint, run_once

pytestmark = pytest.mark.django_db


def counting_operation(calls: list):
    def operation():
        calls.append(1)
        return 201, {"n": len(calls)}

    return operation


def test_a_second_run_with_the_same_key_replays_without_running(alice):
    calls: list = []
    first = run_once(user=alice, key="k", fingerprint=fingerprint("a", 1), operation=counting_operation(calls))
    again = run_once(user=alice, key="k", fingerprint=fingerprint("a", 1), operation=counting_operation(calls))
    assert (first.status, first.body, first.replayed) == (201, {"n": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"n": 1}, True)
    assert len(calls) == 1


def test_the_same_key_for_something_else_is_refused(alice):
    calls: list = []
    run_once(user=alice, key="k", fingerprint=fingerprint("a", 1), operation=counting_operation(calls))
    with pytest.raises(ApplicationError) as refused:
        run_once(user=alice, key="k", fingerprint=fingerprint("a", 2), operation=counting_operation(calls),
                 reused_message="Used.")
    assert (refused.value.code, refused.value.message) == ("idempotency_key_reused", "Used.")
    assert len(calls) == 1


def test_a_refusal_stores_nothing_so_the_key_may_run_again(alice):
    def refuse():
        raise ApplicationError("insufficient_funds", "No.")

    with pytest.raises(ApplicationError):
        run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=refuse)
    assert not IdempotencyKey.objects.exists()
    assert run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=lambda: (201, {})).replayed is False


def test_keys_are_per_user(alice, bob):
    calls: list = []
    run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=counting_operation(calls))
    outcome = run_once(user=bob, key="k", fingerprint=fingerprint("b"), operation=counting_operation(calls))
    assert outcome.replayed is False and len(calls) == 2


def test_fingerprints_are_stable_and_tell_parameters_apart():
    assert fingerprint("portal.transfer", 1, "NL", 1250, "x") == fingerprint("portal.transfer", 1, "NL", 1250, "x")
    assert fingerprint("portal.transfer", 1, "NL", 1250, "x") != fingerprint("portal.transfer", 1, "NL", 1251, "x")
