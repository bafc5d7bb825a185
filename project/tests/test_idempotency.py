"""run_once: the one idempotency mechanism behind the API's Idempotency-Key and the pages' tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from core.errors import ApplicationError, ValidationFailed
from core.idempotency import ReplayedRefusal, fingerprint, run_once
from core.models import IdempotencyKey
from identity.models import User
from identity.tests.factories import UserFactory

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


def refusing_operation(calls: list, error: ApplicationError, *, write: Callable[[], object] | None = None):
    """Counts its runs, writes something (as a service would before finding a reason to refuse),
    then raises `error`."""

    def operation():
        calls.append(1)
        if write is not None:
            write()
        raise error

    return operation


@pytest.mark.parametrize(
    ("code", "status"),
    [("insufficient_funds", 422), ("account_frozen", 409), ("not_found", 404), ("permission_denied", 403)],
)
def test_a_refusal_is_the_answer_stored_and_replayed_without_running(alice, code, status):
    """Issue 10, finding 12: a refusal used to leave the key free, so a retry after the money
    arrived paid. Now the first answer, refusal included, is the answer."""
    calls: list = []
    error = ApplicationError(code, "No.")
    operation = refusing_operation(calls, error, write=lambda: UserFactory(username="written-then-refused"))

    with pytest.raises(ApplicationError) as first:
        run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=operation)
    assert first.value is error and not isinstance(first.value, ReplayedRefusal)
    # The operation's own write is rolled back; the key row holding the refusal is kept.
    assert not User.objects.filter(username="written-then-refused").exists()
    stored = IdempotencyKey.objects.get(user=alice, key="k")
    assert (stored.response_status, stored.response_body) == (status, {"error": {"code": code, "message": "No."}})

    for _ in range(2):
        with pytest.raises(ReplayedRefusal) as again:
            run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=counting_operation(calls))
        assert (again.value.code, again.value.message, again.value.status) == (code, "No.", status)
        assert again.value.as_body() == first.value.as_body()
    assert len(calls) == 1  # the retries ran nothing


def test_a_stored_refusal_keeps_its_fields():
    error = ApplicationError("insufficient_funds", "No.", fields={"amount": ["Too much."]})
    replayed = ReplayedRefusal(422, error.as_body())
    assert (replayed.code, replayed.message, replayed.fields, replayed.status) == (
        "insufficient_funds", "No.", {"amount": ["Too much."]}, 422)


def test_after_a_refusal_the_same_key_for_something_else_is_reused(alice):
    calls: list = []
    with pytest.raises(ApplicationError):
        run_once(user=alice, key="k", fingerprint=fingerprint("a", 1),
                 operation=refusing_operation(calls, ApplicationError("insufficient_funds", "No.")))
    with pytest.raises(ApplicationError) as refused:
        run_once(user=alice, key="k", fingerprint=fingerprint("a", 2), operation=counting_operation(calls))
    assert refused.value.code == "idempotency_key_reused" and not isinstance(refused.value, ReplayedRefusal)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        ValidationFailed({"amount": ["Use at most two decimals."]}),
        ApplicationError("idempotency_key_missing", "Send a key."),
        RuntimeError("a bug, not an answer"),
    ],
    ids=["validation_error", "idempotency_key_missing", "other exception"],
)
def test_what_runs_nothing_is_not_kept_so_the_key_may_run_again(alice, error):
    calls: list = []
    with pytest.raises(type(error)):
        run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=refusing_operation(calls, error))
    assert not IdempotencyKey.objects.exists()
    outcome = run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=counting_operation(calls))
    assert (outcome.status, outcome.replayed, len(calls)) == (201, False, 2)


def test_keys_are_per_user(alice, bob):
    calls: list = []
    run_once(user=alice, key="k", fingerprint=fingerprint("a"), operation=counting_operation(calls))
    outcome = run_once(user=bob, key="k", fingerprint=fingerprint("b"), operation=counting_operation(calls))
    assert outcome.replayed is False and len(calls) == 2


def test_fingerprints_are_stable_and_tell_parameters_apart():
    assert fingerprint("portal.transfer", 1, "NL", 1250, "x") == fingerprint("portal.transfer", 1, "NL", 1250, "x")
    assert fingerprint("portal.transfer", 1, "NL", 1250, "x") != fingerprint("portal.transfer", 1, "NL", 1251, "x")


def test_a_request_that_claimed_the_key_while_a_refusal_rolled_back_is_the_answer(alice, monkeypatch):
    """A refusal rolls back its transaction, key row included, then claims the key again to store
    itself. A request with the same key waiting on the first claim may run in between: its answer
    is the stored one, and the refused request answers with it too (replayed), never a second row."""
    import core.idempotency as idempotency

    real_claim = idempotency._claim
    claims: list = []

    def claim_with_a_competitor(**kwargs):
        claims.append(1)
        if len(claims) == 2:  # between the rollback and the claim that would store the refusal
            IdempotencyKey.objects.create(user=alice, key="k", fingerprint=fingerprint("a"), response_status=201,
                                          response_body={"paid": True}, created_at=timezone.now())
        return real_claim(**kwargs)

    monkeypatch.setattr(idempotency, "_claim", claim_with_a_competitor)
    calls: list = []
    outcome = run_once(user=alice, key="k", fingerprint=fingerprint("a"),
                       operation=refusing_operation(calls, ApplicationError("insufficient_funds", "No.")))

    assert (outcome.status, outcome.body, outcome.replayed) == (201, {"paid": True}, True)
    assert IdempotencyKey.objects.filter(user=alice, key="k").count() == 1
    assert len(calls) == 1
