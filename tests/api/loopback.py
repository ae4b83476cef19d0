"""Serve the real API app on loopback TCP from the test process: a real Store on a temp dir,
the real Service and `build_app`, so HTTP tools (schemathesis, requests) can reach it.
The daemon itself never listens on TCP for the API; this exists for tests only."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from printd.api import build_app
from printd.config import load_config
from printd.queue.dispatcher import PrinterRuntime
from printd.queue.store import Store
from printd.service import Service
from printd.telemetry.metrics import PrintdCollector
from tests.conftest import write_config


@contextmanager
def serve_api(folder: Path) -> Iterator[str]:
    """Yield the base URL of the API served on 127.0.0.1 (kernel-chosen port)."""
    config = load_config(write_config(folder))
    ready = threading.Event()
    stop: dict[str, Any] = {}
    failure: list[BaseException] = []

    async def main() -> None:
        # The store lives on the server's thread: SQLite connections stay on their thread.
        store = Store(config.daemon.state_dir)
        store.open()
        runtimes = [PrinterRuntime(p.name) for p in config.printers]
        service = Service(config, store, lambda: runtimes, asyncio.Event(), {})
        collector = PrintdCollector(
            store, lambda: runtimes, config.daemon.station, timezone=config.daemon.timezone
        )
        app = build_app(service, collector.forecasts)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        stop["port"] = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        stop["event"] = asyncio.Event()
        stop["loop"] = asyncio.get_running_loop()
        ready.set()
        try:
            await stop["event"].wait()
        finally:
            await runner.cleanup()
            store.close()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except Exception as error:  # noqa: BLE001  (any start failure is handed to the test)
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=thread_main, name="api-loopback", daemon=True)
    thread.start()
    if not ready.wait(15) or failure:
        raise AssertionError(f"the API did not start: {failure}")
    try:
        yield f"http://127.0.0.1:{stop['port']}"
    finally:
        stop["loop"].call_soon_threadsafe(stop["event"].set)
        thread.join(15)
