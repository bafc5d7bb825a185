"""Log shipping crosses NATS: a real nats-server, a real subscriber."""

import asyncio
import json
import logging
import time

import nats

from audit.logshipping import NatsLogHandler
from core.testing.nats import wait_until


def collect(url: str, subject: str, seconds: float) -> list[dict]:
    async def run() -> list[dict]:
        nc = await nats.connect(url)
        received: list[dict] = []

        async def on_message(msg):
            received.append(json.loads(msg.data))

        await nc.subscribe(subject, cb=on_message)
        await nc.flush()
        started = time.monotonic()
        while time.monotonic() - started < seconds and not received:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await nc.close()
        return received

    return asyncio.run(run())


def test_warnings_travel_to_nats_as_json(nats_server):
    handler = NatsLogHandler(service="testsvc")
    logger = logging.getLogger("flux.test.shipping")
    logger.addHandler(handler)
    try:
        logger.info("not shipped: below WARNING")  # level filtering happens in the handler
        handler.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 1, "info", (), None))
        logger.warning("disk almost full: %s%%", 93)
        wait_until(lambda: handler.shipped >= 1, timeout=10, message="nothing shipped")
    finally:
        logger.removeHandler(handler)
    # The LOGS stream kept it; read it back with a fresh subscriber of the stream.
    async def last_message():
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        info = await js.stream_info("LOGS")
        message = await js.get_msg("LOGS", info.state.last_seq)
        await nc.close()
        return message.subject, json.loads(message.data)

    subject, entry = asyncio.run(last_message())
    assert subject == "logs.testsvc.warning"
    assert entry["message"] == "disk almost full: 93%"
    assert entry["level"] == "warning" and entry["service"] == "testsvc"
    assert handler.dropped == 0


def test_logging_never_blocks_when_nats_is_down(nats_server):
    nats_server.stop()
    handler = NatsLogHandler(service="down", capacity=50)
    logger = logging.getLogger("flux.test.shipping.down")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        started = time.perf_counter()
        for i in range(5000):
            logger.error("failure %s", i)
        elapsed = time.perf_counter() - started
        print(f"5000 error logs with NATS down took {elapsed * 1000:.1f} ms")
        # Everything that could not be shipped is counted, nothing is held beyond the buffer.
        wait_until(lambda: handler.dropped + handler.buffer.qsize() >= 4950, timeout=5)
        assert handler.buffer.qsize() <= 50
        assert handler.shipped == 0
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
