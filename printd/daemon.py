"""The daemon: wiring, lifecycle and signals. The composition root of printd."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import functools
import os
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from printd import __version__
from printd.api import build_app, secure_socket
from printd.config import Config, PrinterConfig, load_config
from printd.console.token import LoginUrl, add_token_route
from printd.devices import BuiltPrinter, build_printer
from printd.drivers.status import PrinterStatus
from printd.drivers.uri import SimDevice
from printd.errors import ConfigError, PrintdError
from printd.queue.dispatcher import Dispatcher, PrinterRuntime
from printd.queue.store import Store
from printd.service import Service
from printd.telemetry.logging import configure_logging
from printd.telemetry.metrics import PrintdCollector, build_registry

if TYPE_CHECKING:
    from printd.intake.runner import Intake


class StateDirLock:
    """One daemon per state dir: a second one would print the same queue twice."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "printd.lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
        except OSError as error:
            raise PrintdError(
                f"cannot use state dir {self.path.parent}: {error.strerror}"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            handle.close()
            raise PrintdError(
                f"another printd (pid {pid}) is already running on state dir "
                f"{self.path.parent}; stop it first, or give this one another state_dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.log = structlog.get_logger("printd")
        self.store = Store(
            config.daemon.state_dir,
            retention_seconds=config.queue.spool_retention_days * 86_400.0,
        )
        self.lock = StateDirLock(config.daemon.state_dir)
        self.wake = asyncio.Event()
        self.stop_requested = asyncio.Event()
        self.printers: dict[str, BuiltPrinter] = {}
        self.dispatchers: list[Dispatcher] = []
        self._runners: list[web.AppRunner] = []
        self._console_login: LoginUrl | None = None  # set when [console] is on
        self._snmp_closers: list[Callable[[], Awaitable[None]]] = []
        self.service: Service | None = None
        self.intake: Intake | None = None
        if config.intake is not None:  # built now: its outbox must see this run's first change
            from printd.intake.runner import Intake

            drivers = [p.driver for p in config.printers]
            self.intake = Intake(
                config.intake,
                self.store,
                config.daemon.station,
                drivers,
                self.wake.set,
                timezone=config.daemon.timezone,
            )

    def runtimes(self) -> list[PrinterRuntime]:
        return [d.runtime for d in self.dispatchers]

    async def run(self) -> int:
        self.lock.acquire()
        try:
            return await self._run()
        finally:
            self.lock.release()

    async def _run(self) -> int:
        cfg = self.config
        self.store.open()
        for job_id in self.store.interrupt_orphans():
            self.log.warning("job_interrupted_at_start", job_id=job_id)
        try:
            collector = PrintdCollector(
                self.store,
                self.runtimes,
                cfg.daemon.station,
                default_ribbon_capacity=cfg.printers[0].ribbon_capacity,
                supplies=cfg.supplies,
                timezone=cfg.daemon.timezone,
            )
            registry, timings = build_registry(
                self.store, self.runtimes, cfg.daemon.station, collector=collector
            )
            for printer in cfg.printers:
                built = build_printer(
                    printer,
                    cfg.daemon.state_dir,
                    status_source=functools.partial(self._snmp_status, printer.name),
                    printed_counter=functools.partial(self._snmp_life_count, printer.name),
                )
                self.printers[printer.name] = built
                if built.hands is not None and _mirrors_ledger(printer):
                    self._seed_simulator(built.hands, printer.name)
                self.dispatchers.append(
                    Dispatcher(
                        printer,
                        built.driver,
                        self.store,
                        cfg.queue,
                        self.wake,
                        timings=timings,
                    )
                )
            service = Service(
                cfg,
                self.store,
                self.runtimes,
                self.wake,
                {
                    n: b.hands
                    for n, b in self.printers.items()
                    if b.hands is not None and _mirrors_ledger(cfg.printer(n))
                },
            )
            self.service = service
            if self.intake is not None:
                registry.register(self.intake.collector)
                service.intake_status = self.intake.public
            console = None
            if cfg.console.listen:
                from printd.console.app import Console

                console = Console(cfg, service, collector.forecasts, self.runtimes)
                self._console_login = console.login_url
            await self._serve_api(service, collector)
            await self._serve_metrics(registry)
            if console is not None:
                self._runners.append(await console.start())
            self._install_signals()
            for dispatcher in self.dispatchers:
                if dispatcher.printer.status:
                    await self._watch_snmp(dispatcher)
            tasks = [asyncio.create_task(d.run(), name=d.printer.name) for d in self.dispatchers]
            tasks.append(asyncio.create_task(self._purge_images_hourly(), name="image-retention"))
            tasks.append(asyncio.create_task(self._refresh_usage(collector), name="forecast"))
            if self.intake is not None:
                tasks.append(asyncio.create_task(self.intake.run(), name="intake"))
            self.log.info(
                "printd_ready",
                version=__version__,
                station=cfg.daemon.station,
                printers=[p.name for p in cfg.printers],
                socket=str(cfg.daemon.socket),
                metrics=cfg.metrics.listen,
            )
            notifier = self._notifier()
            watchdog = None
            if notifier is not None:
                notifier.ready(f"printing on {len(self.dispatchers)} printer(s)")
                watchdog = self._start_watchdog(notifier)
            await self.stop_requested.wait()
            self.log.info("printd_stopping", drain_timeout=cfg.queue.drain_timeout_seconds)
            if notifier is not None:
                notifier.stopping()
            await asyncio.gather(
                *(d.stop(cfg.queue.drain_timeout_seconds) for d in self.dispatchers)
            )
            for task in tasks:
                task.cancel()
            if watchdog is not None:
                watchdog.cancel()
            for stop in self._snmp_closers:
                await stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            return 0
        finally:
            for runner in self._runners:
                await runner.cleanup()
            for built in self.printers.values():
                built.close()
            with contextlib.suppress(OSError):
                cfg.daemon.socket.unlink()
            self.store.close()
            self.log.info("printd_stopped")

    async def _refresh_usage(self, collector: PrintdCollector) -> None:
        """The forecast's ledger aggregate, on its own read-only connection in a thread, so a
        long history never stalls the event loop (WAL lets it read beside the writer)."""
        reader = sqlite3.connect(
            f"file:{self.store.path}?mode=ro", uri=True, check_same_thread=False
        )
        collector.refreshed_elsewhere = True
        try:
            while True:
                try:
                    await asyncio.to_thread(collector.refresh_usage, reader)
                except sqlite3.Error as error:
                    self.log.warning("forecast_refresh_failed", error=str(error))
                await asyncio.sleep(60)
        finally:
            collector.refreshed_elsewhere = False
            reader.close()

    async def _purge_images_hourly(self) -> None:
        while True:
            try:
                purged = self.store.purge_expired_images()
            except PrintdError as error:
                self.log.warning("image_purge_failed", error=str(error))
            else:
                if purged:
                    self.log.info("images_purged", jobs=purged)
            await asyncio.sleep(3600)

    def _snmp_status(self, name: str) -> PrinterStatus | None:
        runtime = next((d.runtime for d in self.dispatchers if d.printer.name == name), None)
        return runtime.snmp_status if runtime is not None and runtime.snmp_up else None

    def _snmp_life_count(self, name: str) -> int | None:
        runtime = next((d.runtime for d in self.dispatchers if d.printer.name == name), None)
        return runtime.snmp_life_count if runtime is not None and runtime.snmp_up else None

    async def _watch_snmp(self, dispatcher: Dispatcher) -> None:
        """Poll the printer's Printer-MIB agent beside printing; an outage never stops a card."""
        from printd.drivers.snmp import (
            SnmpMonitor,
            SnmpPoller,
            merge_status,
            parse_snmp_uri,
            status_from_reading,
        )

        runtime = dispatcher.runtime
        uri = dispatcher.printer.status or ""
        poller = SnmpPoller(parse_snmp_uri(uri))
        log = self.log.bind(printer=runtime.name)

        def on_reading(reading: Any) -> None:
            status = status_from_reading(reading)
            if runtime.snmp_up is False:
                log.info("snmp_up_again")
            runtime.snmp_status = status
            runtime.snmp_life_count = reading.life_count
            runtime.snmp_problems = tuple(reading.problems)
            runtime.snmp_serial = reading.serial_number
            runtime.snmp_hopper_unknown = reading.hopper_reason
            runtime.snmp_error = ""
            runtime.snmp_up = True
            runtime.snmp_read_at = time.time()
            runtime.snmp_poll_seconds = monitor.last_poll_duration
            if runtime.status is not None and runtime.status.source != "snmp":
                _merged, disagreements = merge_status(runtime.status, status)
                runtime.disagreements = tuple(disagreements)

        def on_error(error: Exception) -> None:
            if runtime.snmp_up is not False:
                log.warning("snmp_down", error=str(error))
            runtime.snmp_error = str(error)
            runtime.snmp_up = False
            runtime.snmp_poll_seconds = monitor.last_poll_duration

        monitor = SnmpMonitor(
            poller, dispatcher.printer.status_interval_seconds, on_reading, on_error
        )
        monitor.start()

        async def close() -> None:
            await monitor.stop()
            await poller.aclose()

        self._snmp_closers.append(close)

    def _seed_simulator(self, sim: Any, name: str) -> None:
        """The demo's simulated printer (`hands=printctl`) follows the ledger: give it what the
        ledger says it holds. Any other simulated printer keeps its own state across restarts
        (printd.sim.keeping), as a real one does, and may disagree with the ledger."""
        snapshot = sim.snapshot()
        difference = self.store.total("hopper", name) - snapshot.hopper
        if difference > 0:
            sim.load_blanks(difference)
        elif difference < 0 and self.store.total("blanks_loaded", name):
            sim.unload_blanks(-difference)
        ribbon = self.store.ribbon(name)
        if ribbon is not None:
            sim.install_ribbon(ribbon["type"], ribbon["capacity"], ribbon["remaining"])

    def _notifier(self) -> Any:
        if not os.environ.get("NOTIFY_SOCKET"):
            return None
        from printd.sdnotify import SystemdNotifier

        return SystemdNotifier()

    def _start_watchdog(self, notifier: Any) -> asyncio.Task[None] | None:
        interval = notifier.watchdog_interval()
        if interval is None:
            return None
        from printd.sdnotify import watchdog_loop

        return asyncio.create_task(watchdog_loop(notifier, interval))

    async def _serve_api(self, service: Service, collector: PrintdCollector) -> None:
        path = self.config.daemon.socket
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a stale socket of a previous run: we hold the state-dir lock

        app = build_app(service, collector.forecasts)
        add_token_route(app, self._console_login)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        old_umask = os.umask(0o117)  # the socket is born 0660, never briefly world-writable
        try:
            await web.UnixSite(runner, str(path)).start()
        finally:
            os.umask(old_umask)
        secure_socket(path, self.config.daemon.socket_group)
        self._runners.append(runner)

    async def _serve_metrics(self, registry: Any) -> None:
        async def metrics(_: web.Request) -> web.Response:
            body = generate_latest(registry)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = self.config.metrics.host_port
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            await runner.cleanup()
            raise ConfigError(
                f"[metrics] listen = {self.config.metrics.listen!r}: cannot listen there "
                f"({error.strerror}); is another program using the port?"
            ) from None
        self._runners.append(runner)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop_requested.set)
        loop.add_signal_handler(signal.SIGINT, self.stop_requested.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    def reload(self) -> None:
        """SIGHUP: re-read the config; [queue] and [logging] apply at once.

        Everything else is wired into running parts (printers, sockets, the collector, the
        intake link) and only a restart applies it. Such a change is refused loudly, never
        half-applied: an error names the keys and `printctl status` says "restart needed"
        until the running config and the file agree again.
        """
        notifier = self._notifier()
        if notifier is not None:
            notifier.reloading()
        try:
            fresh = load_config(self.config.path)
        except ConfigError as error:
            self.log.error("reload_refused", error=str(error))  # noqa: TRY400  (no traceback wanted)
            if notifier is not None:
                notifier.ready("reload refused: config has errors; running on the old one")
            return
        configure_logging(fresh.logging.format, fresh.logging.level)
        for dispatcher in self.dispatchers:
            dispatcher.queue = fresh.queue
        pending = restart_keys(self.config, fresh)
        self.config = dataclasses.replace(self.config, queue=fresh.queue, logging=fresh.logging)
        if self.service is not None:
            self.service.restart_needed = tuple(pending)
        if pending:
            self.log.error(
                "reload_needs_restart",
                keys=pending,
                hint="systemctl restart printd applies them; [queue] and [logging] were applied",
            )
            if notifier is not None:
                notifier.ready("restart needed: " + ", ".join(pending))
            return
        self.log.info("config_reloaded", path=str(fresh.path))
        if notifier is not None:
            notifier.ready("config reloaded")


# Sections a reload applies to the running daemon; every other difference needs a restart.
RELOADABLE = frozenset({"path", "queue", "logging"})


def restart_keys(running: Config, fresh: Config) -> list[str]:
    """The config keys that differ between the running daemon and the file, and that only a
    restart applies, named as a technician finds them in printd.toml."""
    keys: list[str] = []
    for section in dataclasses.fields(Config):
        if section.name in RELOADABLE:
            continue
        old, new = getattr(running, section.name), getattr(fresh, section.name)
        if section.name == "printers":
            keys += _printer_keys(old, new)
        elif old != new:
            keys += _section_keys(section.name, old, new)
    return keys


def _section_keys(name: str, old: Any, new: Any) -> list[str]:
    if old is None or new is None:  # an optional section added or removed
        return [f"[{name}]"]
    return [
        f"{name}.{f.name}"
        for f in dataclasses.fields(old)
        if getattr(old, f.name) != getattr(new, f.name)
    ]


def _printer_keys(old: tuple[Any, ...], new: tuple[Any, ...]) -> list[str]:
    before, after = {p.name: p for p in old}, {p.name: p for p in new}
    keys = [f"[[printer]] {name} (new)" for name in after if name not in before]
    keys += [f"[[printer]] {name} (removed)" for name in before if name not in after]
    for name in before.keys() & after.keys():
        keys += [
            f"printer.{name}.{f.name}"
            for f in dataclasses.fields(before[name])
            if f.name != "device" and getattr(before[name], f.name) != getattr(after[name], f.name)
        ]
    return sorted(keys)


def _mirrors_ledger(printer: PrinterConfig | None) -> bool:
    return (
        printer is not None
        and isinstance(printer.device, SimDevice)
        and (printer.device.mirrors_ledger)
    )
