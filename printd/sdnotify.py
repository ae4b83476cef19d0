"""The sd_notify protocol on the standard library: tell systemd we are ready, alive, stopping.

systemd (``Type=notify``) passes ``NOTIFY_SOCKET``; each message is one datagram of
``KEY=VALUE`` lines. Outside systemd the variable is unset and every call is a no-op, so the
daemon runs the same way from a terminal, in tests and under systemd.

A socket is opened per message, as libsystemd's ``sd_notify()`` does: messages are rare (one per
watchdog half-period), and nothing stays open for a forked child to inherit.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Mapping

from printd.errors import ConfigError

_USEC_PER_SEC = 1_000_000


class SystemdNotifier:
    """Sends state changes to the service manager named by ``NOTIFY_SOCKET``.

    Every method returns True when a message was sent and False when not running under a
    notify-aware service manager. A failure to send raises ``OSError`` (the caller decides:
    the watchdog loop keeps going, a failed READY shows in the journal as a start timeout).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _parse_notify_socket(env.get("NOTIFY_SOCKET", ""))
        self._watchdog_usec = _parse_watchdog(env, os.getpid() if pid is None else pid)

    @property
    def enabled(self) -> bool:
        """True when a service manager listens for notifications."""
        return self._address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send one datagram of ``KEY=VALUE`` lines (keys are upper-cased field names)."""
        if self._address is None:
            return False
        lines = []
        for key, value in fields.items():
            text = str(value)
            if "\n" in text:
                raise ValueError(
                    f"sd_notify field {key.upper()} contains a newline, which would start a new "
                    f"field; pass a single line: {text!r}"
                )
            lines.append(f"{key.upper()}={text}")
        payload = "\n".join(lines).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(payload, self._address)
        return True

    def ready(self, status: str) -> bool:
        """Startup (or a reload) is complete: systemd marks the unit active."""
        return self.notify(ready=1, status=status)

    def status(self, text: str) -> bool:
        """A one-line human status, shown by ``systemctl status printd``."""
        return self.notify(status=text)

    def watchdog(self) -> bool:
        """Keep-alive ping; systemd kills and restarts the unit if these stop for WatchdogSec."""
        return self.notify(watchdog=1)

    def stopping(self) -> bool:
        """Shutdown has begun (draining the card in the printer)."""
        return self.notify(stopping=1, status="stopping: finishing the card in the printer")

    def reloading(self) -> bool:
        """A config reload has begun; send ``ready()`` again when it is done.

        ``MONOTONIC_USEC`` is required by systemd >= 253 (``Type=notify-reload``) to match
        the message to the reload request; older versions ignore it.
        """
        now_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify(reloading=1, monotonic_usec=now_usec, status="reloading configuration")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start or stop (e.g. a card still printing at shutdown)."""
        return self.notify(extend_timeout_usec=int(seconds * _USEC_PER_SEC))

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of WatchdogSec), or None when not watched."""
        if self._watchdog_usec is None:
            return None
        return self._watchdog_usec / _USEC_PER_SEC / 2


async def watchdog_loop(
    notifier: SystemdNotifier,
    interval: float,
    on_error: Callable[[OSError], None] | None = None,
) -> None:
    """Ping the watchdog every ``interval`` seconds until cancelled.

    It runs as a task on the daemon's own event loop on purpose: if a callback blocks the
    loop, the pings stop and systemd restarts the hung daemon. A thread would keep pinging.
    A failed send is reported to ``on_error`` and retried at the next tick: one lost
    datagram must not end the pings for good.
    """
    if interval <= 0:
        raise ValueError(f"watchdog interval must be positive seconds, got {interval!r}")
    while True:
        try:
            notifier.watchdog()
        except OSError as exc:
            if on_error is not None:
                on_error(exc)
        await asyncio.sleep(interval)


def _parse_notify_socket(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):
        # Linux abstract namespace: a leading NUL byte instead of a path.
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    raise ConfigError(
        f"NOTIFY_SOCKET={value!r} is neither an absolute path nor an abstract '@name'; "
        "unset it, or run printd under systemd which sets it"
    )


def _parse_watchdog(env: Mapping[str, str], pid: int) -> int | None:
    raw_usec = env.get("WATCHDOG_USEC", "")
    if not raw_usec:
        return None
    raw_pid = env.get("WATCHDOG_PID", "")
    if raw_pid:
        if not raw_pid.isdigit():
            raise ConfigError(
                f"WATCHDOG_PID={raw_pid!r} is not a process id; unset it or set it to a number"
            )
        if int(raw_pid) != pid:
            # The variables were meant for another process (we were started by it).
            return None
    if not raw_usec.isdigit():
        raise ConfigError(
            f"WATCHDOG_USEC={raw_usec!r} is not a whole number of microseconds; "
            "unset it or set WatchdogSec= in the unit instead"
        )
    usec = int(raw_usec)
    return usec if usec > 0 else None
