import asyncio
import signal


def run_until_signalled(make_coroutine) -> None:
    """Run `make_coroutine(stop)` until SIGINT or SIGTERM sets `stop`."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await make_coroutine(stop)

    asyncio.run(main())
