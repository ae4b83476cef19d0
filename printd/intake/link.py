"""The connection to the office's NATS servers, and what operators see of it."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import nats
import structlog
from nats.aio.client import Client

from printd.config import IntakeConfig

RECONNECT_SECONDS = 1.0
CONNECT_BACKOFF_MAX_SECONDS = 30.0


@dataclass
class LinkState:
    """Link up or down, and since when (wall time): `printctl status` and /metrics read it."""

    up: bool = False
    since: float = 0.0
    error: str = ""
    office_pending: int | None = None  # messages the office's consumer has not delivered yet
    holding: bool = False  # the station holds max_held_jobs: fetching waits

    def mark(self, up: bool, error: str = "") -> None:
        if up != self.up or not self.since:
            self.since = time.time()
        self.up = up
        self.error = error

    def public(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "up": self.up,
            "since": self.since or None,
            "since_iso": datetime.fromtimestamp(self.since, zone).isoformat(timespec="seconds")
            if self.since
            else None,
            "error": self.error or None,
            "office_pending": self.office_pending,
            "holding": self.holding,
        }


async def connect(config: IntakeConfig, name: str, state: LinkState) -> Client:
    """Connect, retrying until the office answers: a mobile station starts offline too. Once
    connected, the client reconnects by itself, forever."""
    log = structlog.get_logger("printd.intake")

    async def disconnected() -> None:
        if state.up:
            log.warning("intake_link_down")
        state.mark(False, "disconnected")

    async def reconnected() -> None:
        log.info("intake_link_up")
        state.mark(True)

    async def error_cb(error: Exception) -> None:
        text = str(error) or type(error).__name__
        if text != state.error:  # once per new error: a station offline for days stays quiet
            log.warning("intake_link_error", error=text)
        state.error = text

    options: dict[str, Any] = {
        "servers": list(config.servers),
        "name": name,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": RECONNECT_SECONDS,
        "connect_timeout": 5,
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
        "error_cb": error_cb,
    }
    if config.creds_file is not None:
        options["user_credentials"] = str(config.creds_file)
    if config.nkey_file is not None:
        options["nkeys_seed"] = str(config.nkey_file)
    if config.tls_ca_file is not None:
        options["tls"] = ssl.create_default_context(cafile=str(config.tls_ca_file))
    state.mark(False, "connecting")
    wait = RECONNECT_SECONDS
    while True:
        try:
            client = await nats.connect(**options)
        except (OSError, TimeoutError, nats.errors.Error) as error:
            if state.up or not state.since:
                log.warning("intake_link_down", error=str(error) or type(error).__name__)
            state.mark(False, str(error) or type(error).__name__)
            await asyncio.sleep(wait)
            wait = min(wait * 2, CONNECT_BACKOFF_MAX_SECONDS)
            continue
        log.info("intake_link_up")
        state.mark(True)
        return client
