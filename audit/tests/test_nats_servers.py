"""NATS_URL and NATS_MONITOR_URL listing several servers (a cluster's nodes), and the AUDIT stream's
replicas (FLUX_AUDIT_STREAM_REPLICAS) where JetStream cannot give them: real nats-servers. The
three-node cluster losing a node under load is project/tests/test_nats_cluster.py."""

import asyncio
import logging

import pytest
from nats.js.errors import APIError

from audit.monitoring import server_status
from audit.nats import audit_stream_config, connect, ensure_stream, public_url, server_urls
from audit.tests.support import jetstream
from core.testing.nats import NatsServer, free_port


def test_a_url_lists_one_server_or_several_and_shows_none_of_their_credentials():
    urls = " nats://relay:s3cret@10.0.0.1:4222, nats://relay:s3cret@10.0.0.2:4222 ,,nats://10.0.0.3:4222"

    assert server_urls(urls) == ["nats://relay:s3cret@10.0.0.1:4222", "nats://relay:s3cret@10.0.0.2:4222",
                                 "nats://10.0.0.3:4222"]
    assert public_url(urls) == "nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222"
    assert public_url("nats://web:pw@nats:4222") == "nats://nats:4222"
    assert public_url("http://127.0.0.1:8222") == "http://127.0.0.1:8222"


def test_a_connection_skips_a_listed_server_that_is_down(nats_server, settings):
    down = f"nats://127.0.0.1:{free_port()}"
    settings.NATS_URL = f"{down},{nats_server.url}"

    async def connected_port():
        for _ in range(5):  # nats-py tries the servers in random order: the dead one first, sometimes
            nc = await connect("flux-test", allow_reconnect=False)
            try:
                yield nc.connected_url.port
            finally:
                await nc.close()

    async def ports():
        return [port async for port in connected_port()]

    assert asyncio.run(ports()) == [nats_server.port] * 5


def test_an_r1_stream_stays_r1_where_three_replicas_cannot_be_placed(nats_server, settings, caplog):
    """A standalone server refuses replicas: an existing stream keeps working with one, says so, and
    still takes the rest of its configuration; a new one is not created with fewer than asked."""
    jetstream(nats_server.url, lambda js: js.add_stream(audit_stream_config()))
    settings.FLUX_AUDIT_STREAM_REPLICAS = 3
    settings.FLUX_AUDIT_STREAM_MAX_AGE_DAYS = 7

    async def ensure_then_look(js):
        await ensure_stream(js, audit_stream_config())
        return (await js.stream_info(settings.FLUX_AUDIT_STREAM)).config

    with caplog.at_level(logging.WARNING, logger="flux.audit.nats"):
        config = jetstream(nats_server.url, ensure_then_look)

    assert config.num_replicas == 1
    assert config.max_age == 7 * 86400
    assert "NATS stream AUDIT stays at 1 replicas: JetStream refused 3" in caplog.text

    async def create_afresh(js):
        await js.delete_stream(settings.FLUX_AUDIT_STREAM)
        await ensure_stream(js, audit_stream_config())

    with pytest.raises(APIError, match="replicas > 1 not supported in non-clustered mode"):
        jetstream(nats_server.url, create_afresh)


def test_the_dashboard_counts_the_connections_of_every_listed_monitoring_port(nats_server, settings, tmp_path):
    """A process connected to another node than the first is still connected; a node down is skipped."""
    second = NatsServer(tmp_path / "second")
    second.start()
    try:
        settings.NATS_MONITOR_URL = f"http://127.0.0.1:{free_port()},{nats_server.monitor_url},{second.monitor_url}"
        settings.NATS_URL = second.url

        async def status_with_a_relay_on_the_second():
            nc = await connect("flux-relay")
            try:
                return await server_status()
            finally:
                await nc.close()

        status = asyncio.run(status_with_a_relay_on_the_second())
    finally:
        second.stop()

    assert status["reachable"] is True
    assert status["server"]["version"]
    assert {client["name"]: client["connected"] for client in status["clients"]} == {
        "flux-relay": True, "flux-audit-consumer": False}
    relay = [connection for connection in status["connections"] if connection["name"] == "flux-relay"]
    assert len(relay) == 1 and "/" in relay[0]["cid"]  # connection ids are per node: named by node
