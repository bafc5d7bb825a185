"""What each request leaves for the operator (DESIGN.md, "Operations"): its X-Request-ID on the
answer, in the audit event of the change it made, on that event's NATS message and in every log
line; and the Prometheus series of /metrics."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from audit.nats import REQUEST_ID_HEADER, audit_message
from banking.models import TransactionKind, TransactionStatus
from core import metrics
from core.request_id import RequestIdLogFilter
from core.testing.api import API, assert_error, bearer_client, idempotency_key

GENERATED = re.compile(r"\A[0-9a-f]{32}\Z")


def transfer(client, source, destination, amount="12.50", **headers):
    return client.post(f"{API}transfers/", {"source_account": source.pk, "destination_iban": destination.iban,
                                            "amount": amount}, format="json",
                       HTTP_IDEMPOTENCY_KEY=idempotency_key(), **headers)


def sample(name: str, **labels) -> float:
    """One series' value in this process's /metrics text (0 when it has no sample yet)."""
    text = metrics.exposition().decode()
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        series_name, _, series_labels = series.partition("{")
        if series_name == name and ",".join(sorted(series_labels.rstrip("}").split(","))) == wanted:
            return float(value)
    return 0.0


@pytest.mark.parametrize("given", ["trace-42", "A.b_c-9", "x" * 64])
def test_a_sane_request_id_from_the_caller_comes_back(client, db, given):
    for path in ("/healthz", f"{API}nowhere/", "/login/"):
        assert client.get(path, HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["", "x" * 65, "has space", "semi;colon", "é", "a/b"])
def test_anything_else_gets_a_new_id(client, db, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert GENERATED.match(response["X-Request-ID"])
    other = client.get("/healthz")
    assert GENERATED.match(other["X-Request-ID"]) and other["X-Request-ID"] != response["X-Request-ID"]


def test_refusals_before_the_view_carry_the_id_too(client, db, settings):
    settings.FLUX_API_MAX_BODY_BYTES = 10
    response = client.post(f"{API}transfers/", data="x" * 100, content_type="application/json",
                           HTTP_X_REQUEST_ID="too-big-1")
    assert_error(response, 413, "request_too_large")
    assert response["X-Request-ID"] == "too-big-1"
    assert_error(Client().get(f"{API}me/", HTTP_X_REQUEST_ID="anon-1"), 401, "not_authenticated")


def test_a_transfers_request_id_is_in_its_audit_event_and_on_its_nats_message(alice, alice_account, bob_account):
    response = transfer(bearer_client(alice), alice_account, bob_account, HTTP_X_REQUEST_ID="trace-transfer-1")
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="transaction.posted", target_id=str(response.json()["id"]))
    assert event.data["request_id"] == "trace-transfer-1"
    subject, payload, headers = audit_message(event)
    assert headers[REQUEST_ID_HEADER] == "trace-transfer-1"
    assert json.loads(payload)["data"]["request_id"] == "trace-transfer-1"


def test_a_change_made_outside_a_request_has_no_request_id(alice_account):
    # alice_account was opened and funded by services called directly: no request, no id.
    events = AuditEvent.objects.all()
    assert events and all("request_id" not in event.data for event in events)
    _subject, _payload, headers = audit_message(events[0])
    assert REQUEST_ID_HEADER not in headers


def test_every_log_line_of_a_request_carries_its_id_in_json(client, db, settings):
    """The production formatter (LOG_FORMAT=json) on the access log and on Django's own line for a
    refused request, written after the middleware chain."""
    settings.FLUX_ACCESS_LOG = True
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(_json_formatter(settings))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        client.get(f"{API}nowhere/", HTTP_X_REQUEST_ID="logged-1")
        client.get("/healthz", HTTP_X_REQUEST_ID="logged-2")
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_id = {}
    for line in lines:
        by_id.setdefault(line["request_id"], []).append(line)
    assert {line["logger"] for line in by_id["logged-1"]} >= {"flux.access", "django.request"}
    [access] = [line for line in by_id["logged-1"] if line["logger"] == "flux.access"]
    assert (access["method"], access["path"], access["status"]) == ("GET", f"{API}nowhere/", 404)
    assert [line["logger"] for line in by_id["logged-2"]] == ["flux.access"]
    assert "-" not in by_id  # nothing written during these requests lacks the id


def _json_formatter(settings):
    config = settings.LOGGING["formatters"]["json"]
    factory = config["()"]
    module, _, name = factory.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    return cls(config["format"], rename_fields=config["rename_fields"])


def test_metrics_count_requests_by_route_and_status(client, db):
    before = sample("flux_http_requests_total", method="GET", route="healthz", status="200")
    hist_before = sample("flux_http_request_duration_seconds_count", method="GET", route="healthz")
    for _ in range(3):
        client.get("/healthz")
    assert sample("flux_http_requests_total", method="GET", route="healthz", status="200") == before + 3
    assert sample("flux_http_request_duration_seconds_count", method="GET", route="healthz") == hist_before + 3
    # An unknown path is one bounded series, whatever the path.
    unmatched = sample("flux_http_requests_total", method="GET", route="unmatched", status="404")
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    assert sample("flux_http_requests_total", method="GET", route="unmatched", status="404") == unmatched + 2


def test_committed_transactions_are_counted_and_refused_ones_are_not(alice, alice_account, bob_account,
                                                                     django_capture_on_commit_callbacks):
    labels = {"kind": TransactionKind.TRANSFER.value, "status": TransactionStatus.POSTED.value}
    before = sample("flux_transactions_total", **labels)
    client = bearer_client(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert transfer(client, alice_account, bob_account).status_code == 201
        assert_error(transfer(client, alice_account, bob_account, amount="99999.00"), 422, "insufficient_funds")
    assert sample("flux_transactions_total", **labels) == before + 1


def test_metrics_show_the_outbox_and_ask_for_the_token_when_one_is_set(client, alice_account, settings):
    text = client.get("/metrics").content.decode()
    backlog = AuditEvent.objects.filter(outbox__isnull=False).count()
    assert backlog > 0
    assert f"flux_outbox_backlog {float(backlog)}" in text
    assert "flux_outbox_oldest_age_seconds" in text

    settings.FLUX_METRICS_TOKEN = "metrics-secret-1"
    assert_error(client.get("/metrics"), 401, "not_authenticated")
    assert_error(client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong"), 401, "not_authenticated")
    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-secret-1")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")


@pytest.mark.django_db(transaction=True)
def test_metrics_add_up_every_web_worker(asgi_server):
    """bin/web with two workers: each counts in its own files and /metrics, answered by one of
    them, shows the sum (prometheus-client's multiprocess mode)."""
    import urllib.request
    from pathlib import Path

    from django.conf import settings

    def get(path: str) -> str:
        with urllib.request.urlopen(f"{asgi_server.url}{path}", timeout=10) as answer:
            return answer.read().decode()

    for _ in range(40):  # a new connection each: the kernel spreads them over the workers' sockets
        get("/healthz")
    text = get("/metrics")
    [count] = [line for line in text.splitlines()
               if line.startswith('flux_http_requests_total{method="GET",route="healthz",status="200"}')]
    assert float(count.rpartition(" ")[2]) == 40.0
    files = Path(settings.BASE_DIR, "var", "run", "metrics", f"web-{asgi_server.port}").glob("counter_*.db")
    assert len({file.stem.rpartition("_")[2] for file in files}) == 2  # both workers counted some


def test_a_request_never_opens_the_database_pool_itself(client, monkeypatch):
    """The metrics only read a pool that exists: opening one here, before the tests switch to
    their test database, made the whole worker write to the real database (found in make test)."""
    from django.db import connections

    wrapper = connections["default"]
    if wrapper.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    pools: dict = {}
    monkeypatch.setattr(type(wrapper), "_connection_pools", pools)
    assert client.get("/healthz").status_code == 200
    assert metrics.pool_figures() is None
    assert pools == {}


def test_the_id_does_not_outlive_a_streamed_or_failed_request(rf):
    """A streamed answer is closed only once read (a test may never read it) and a failed one is
    never closed: neither may leave its id on the thread for the work that comes next."""
    from django.http import StreamingHttpResponse

    from core.observability import RequestObservabilityMiddleware
    from core.request_id import current_request_id

    seen = []

    def stream(request):
        seen.append(current_request_id())
        return StreamingHttpResponse(iter([b"a", b"b"]))

    response = RequestObservabilityMiddleware(stream)(rf.get("/x", HTTP_X_REQUEST_ID="streamed-1"))
    assert seen == ["streamed-1"] and response["X-Request-ID"] == "streamed-1"
    assert current_request_id() == ""

    def broken(request):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        RequestObservabilityMiddleware(broken)(rf.get("/x", HTTP_X_REQUEST_ID="failed-1"))
    assert current_request_id() == ""
