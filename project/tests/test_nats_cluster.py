"""The audit pipeline on a three-node JetStream cluster that loses a node in the middle of a burst of
transfers (issue 13): every committed audit event still reaches the log exactly once and the chain
verifies.

Real processes throughout: three nats-servers (core/testing/nats.py, NatsCluster), the relay and
the consumer as `manage.py` processes with NATS_URL listing the three nodes and
FLUX_AUDIT_STREAM_REPLICAS=3, and threads moving money through banking's services on PostgreSQL.
So that the loss hurts as much as it can, and the same way on every run, the node killed (SIGKILL)
is the one the relay is connected to, made beforehand the leader of the AUDIT stream and of its
durable consumer. Then the relay and the consumer start again while that node is still down, as in
a deploy: a fresh connection must find the nodes that are left.

It lives here rather than in audit/tests because the workload is banking's (audit may not import
banking)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import replace

import nats
import nats.errors
import pytest
from django.conf import settings
from django.db import connection

from audit.models import AuditEvent, AuditLogRecord
from audit.nats import audit_stream_config, server_urls
from audit.tests.support import assert_everything_logged_once
from banking.services import transfer_create
from core.testing.nats import NatsCluster, PipelineProcess, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 4
# Each thread makes half of its transfers, then waits for the node to be killed, which happens
# once a quarter of all of them are made (so while the others are still being made), then the rest.
TRANSFERS_PER_THREAD = 30


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transfers need PostgreSQL row locks (set DATABASE_URL)")


@pytest.fixture
def cluster_pipeline(nats_cluster: NatsCluster, settings):
    """Start relay and consumer processes on the whole cluster, asking for three replicas; all are
    stopped at the end, and what they printed is shown when the test fails."""
    settings.FLUX_AUDIT_STREAM_REPLICAS = 3
    started: list[PipelineProcess] = []

    def start(command: str) -> PipelineProcess:
        # What a consumer leader that died had delivered comes back after ack_wait: keep it short.
        env = {"FLUX_AUDIT_STREAM_REPLICAS": "3", "FLUX_AUDIT_ACK_WAIT_SECONDS": "2"}
        process = PipelineProcess(command, nats_cluster.url, env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process is not None:  # not stopped by the test already
            print(f"--- {process.command} ---\n{process.stop()}")


async def ignore(error: Exception) -> None:
    """nats-py's error callback: a node refusing connections is what this test is about."""


def on_cluster(url: str, work):
    """`await work(nc, js)` on a connection to the cluster (every node of `url` listed)."""

    async def main():
        nc = await nats.connect(servers=server_urls(url), connect_timeout=2, error_cb=ignore)
        try:
            return await work(nc, nc.jetstream(timeout=5))
        finally:
            await nc.close()

    return asyncio.run(main())


def placement(url: str) -> dict:
    """Where the AUDIT stream and its durable consumer live: replicas, leaders and followers."""

    async def look(nc, js):
        stream = await js.stream_info(settings.FLUX_AUDIT_STREAM)
        consumer = await js.consumer_info(settings.FLUX_AUDIT_STREAM, settings.FLUX_AUDIT_CONSUMER)
        return {
            "replicas": stream.config.num_replicas,
            "stream_leader": stream.cluster.leader,
            "stream_followers": {peer.name: bool(peer.current) for peer in stream.cluster.replicas or []},
            "consumer_leader": consumer.cluster.leader,
            "consumer_followers": {peer.name: bool(peer.current) for peer in consumer.cluster.replicas or []},
        }

    return on_cluster(url, look)


def replicated(url: str) -> dict | None:
    """placement(), once the stream and its consumer each have a leader and two current followers;
    None until then (a question asked during an election may go unanswered)."""
    try:
        where = placement(url)
    except (nats.errors.Error, TimeoutError):
        return None
    for part in ("stream", "consumer"):
        followers = where[f"{part}_followers"]
        if not where[f"{part}_leader"] or len(followers) != 2 or not all(followers.values()):
            return None
    return where


def led_by(url: str, node: str) -> bool:
    """Whether `node` leads the AUDIT stream and its consumer; if not, and both are settled, ask
    JetStream to move their leadership there (a step-down with `node` preferred)."""
    where = replicated(url)
    if where is None:
        return False
    if where["stream_leader"] == where["consumer_leader"] == node:
        return True
    prefer = json.dumps({"placement": {"preferred": node}}).encode()
    stream, consumer = settings.FLUX_AUDIT_STREAM, settings.FLUX_AUDIT_CONSUMER

    async def step_down(nc, js):
        if where["stream_leader"] != node:
            await nc.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{stream}", prefer, timeout=5)
        if where["consumer_leader"] != node:
            await nc.request(f"$JS.API.CONSUMER.LEADER.STEPDOWN.{stream}.{consumer}", prefer, timeout=5)

    try:
        on_cluster(url, step_down)
    except (nats.errors.Error, TimeoutError):
        pass
    return False


def led_elsewhere(url: str, lost: str) -> dict | None:
    """placement(), once the stream and its consumer have leaders other than the `lost` node."""
    try:
        where = placement(url)
    except (nats.errors.Error, TimeoutError):
        return None
    leaders = {where["stream_leader"], where["consumer_leader"]}
    return where if "" not in leaders and None not in leaders and lost not in leaders else None


def test_losing_the_leading_node_mid_burst_loses_no_audit_event(
        nats_cluster, cluster_pipeline, alice, bob, open_account):
    url = nats_cluster.url
    # A stream from before the cluster setting, with one replica: the pipeline gives it three.
    on_cluster(url, lambda nc, js: js.add_stream(replace(audit_stream_config(), num_replicas=1)))
    accounts = [open_account(alice, balance=5_000_00), open_account(bob, balance=5_000_00)]
    owners = {account.pk: account.customer for account in accounts}

    relay = cluster_pipeline("audit_relay")
    consumer = cluster_pipeline("audit_consume")
    assert_everything_logged_once(timeout=30)  # both processes connected and working
    wait_until(lambda: replicated(url), timeout=15, interval=0.2,
               message="the AUDIT stream and its consumer did not get three current replicas")

    # The node to lose: the relay's, made leader of the stream and of the consumer.
    [victim] = nats_cluster.connections("flux-relay")
    wait_until(lambda: led_by(url, victim), timeout=20, interval=0.5,
               message=f"{victim} did not become the leader of the stream and of the consumer")

    made = [0]
    made_lock = threading.Lock()
    killed = threading.Event()
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def transfers(index: int) -> None:
        source, destination = accounts[index % 2], accounts[1 - index % 2]
        try:
            barrier.wait(timeout=30)
            for number in range(TRANSFERS_PER_THREAD):
                if number == TRANSFERS_PER_THREAD // 2:
                    assert killed.wait(timeout=60), "the node was never killed"
                transfer_create(initiator=owners[source.pk], source_account_id=source.pk,
                                destination_iban=destination.iban, amount=1_00 + index)
                with made_lock:
                    made[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    before_burst = AuditLogRecord.objects.count()
    threads = [threading.Thread(target=transfers, args=(index,), name=f"transfers-{index}")
               for index in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        # Mid-burst, with the pipeline carrying it (some of the burst already in the log).
        wait_until(lambda: made[0] >= THREADS * TRANSFERS_PER_THREAD // 4
                   and AuditLogRecord.objects.count() > before_burst,
                   timeout=30, interval=0.01, message="the burst did not reach the audit log")
        nats_cluster.node(victim).kill()
        made_at_kill, killed_at = made[0], time.monotonic()
    finally:
        killed.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert 0 < made_at_kill < THREADS * TRANSFERS_PER_THREAD
    assert made[0] == THREADS * TRANSFERS_PER_THREAD

    assert_everything_logged_once(timeout=40)
    caught_up = time.monotonic() - killed_at
    after = wait_until(lambda: led_elsewhere(url, victim), timeout=10, interval=0.2,
                       message="no new leaders for the stream and its consumer")
    assert after["replicas"] == 3
    assert after["stream_followers"][victim] is False  # the lost node, still one of the three

    # A deploy while the node is still down: fresh connections must skip it.
    print(f"--- the first audit_relay ---\n{relay.stop()}\n--- the first audit_consume ---\n{consumer.stop()}")
    cluster_pipeline("audit_relay")
    cluster_pipeline("audit_consume")
    for number in range(5):
        transfer_create(initiator=alice, source_account_id=accounts[0].pk,
                        destination_iban=accounts[1].iban, amount=2_00 + number)
    assert_everything_logged_once(timeout=30)
    print(f"\n[nats cluster] killed {victim} (relay's node, stream and consumer leader) after "
          f"{made_at_kill}/{THREADS * TRANSFERS_PER_THREAD} transfers; log complete {caught_up:.1f} s later; "
          f"{AuditEvent.objects.count()} events, new leaders {after['stream_leader']}/{after['consumer_leader']}")
