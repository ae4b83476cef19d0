"""Raw passthrough for printers whose command set is closed (HID Fargo, Zebra ZXP, Entrust).

The job supplies a printer-ready file (rendered by the vendor's tools); this driver sends it
untouched and reads status and supplies only from a callable (the SNMP poller's last reading).

What it reports, honestly: the data link of these printers cannot tell us what became of a
card, so a sent job is `Outcome.UNKNOWN` unless a readback confirms it. The one readback we
accept is a printed-cards counter (e.g. Printer-MIB prtMarkerLifeCount): if it rises by the
card within `confirm_timeout` and the status shows no condition, the card is PRINTED. A counter
that does not move, a condition that appears, or no counter at all leaves it UNKNOWN, and the
job goes to `interrupted` for an operator to reconcile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from printd.drivers.base import Outcome, PrintResult
from printd.drivers.evolis.driver import first_condition, ribbon_prints
from printd.drivers.status import Identity, PrinterState, PrinterStatus
from printd.errors import JobError, NeedsOperator, TransportError

if TYPE_CHECKING:
    from printd.drivers.base import CardRequest
    from printd.drivers.transport import Transport

StatusSource = Callable[[], PrinterStatus | None]  # None: no reading (SNMP down)
CounterSource = Callable[[], int | None]  # cards printed so far, None when unreadable


@dataclass(frozen=True, slots=True)
class RawJob:
    job_id: str
    data: bytes  # printer-ready bytes, sent as they are
    sides: int  # 1 or 2, as the job declares: drives ribbon accounting
    ribbon_type: str


class RawDriver:
    def __init__(
        self,
        transport: Transport,
        *,
        status_source: StatusSource | None = None,
        printed_counter: CounterSource | None = None,
        write_timeout: float = 60.0,
        confirm_timeout: float = 120.0,
        poll_interval: float = 1.0,
        identity: Identity | None = None,
    ) -> None:
        self._transport = transport
        self._status_source = status_source
        self._printed_counter = printed_counter
        self._write_timeout = write_timeout
        self._confirm_timeout = confirm_timeout
        self._poll_interval = poll_interval
        self._identity = identity or Identity()
        self._open = False

    def connect(self) -> Identity:
        self._transport.close()
        self._transport.open()
        self._open = True
        return self._identity

    def close(self) -> None:
        self._open = False
        self._transport.close()

    def status(self) -> PrinterStatus:
        reading = self._status_source() if self._status_source else None
        if reading is None:
            return PrinterStatus(PrinterState.UNKNOWN, source="none", detail="no status source")
        return reading

    def prepare(self, card: CardRequest) -> None:
        """Nothing to do ahead of time: the file is printer-ready."""

    def print_card(self, card: CardRequest) -> PrintResult:
        raise JobError(
            f"job {card.job_id}: the raw driver prints printer-ready files only; submit the"
            " file rendered by the printer vendor's tools, not card images"
        )

    def print_job(self, job: RawJob) -> PrintResult:
        if job.sides not in (1, 2):
            raise JobError(f"job {job.job_id}: sides must be 1 or 2, got {job.sides}")
        if not job.data:
            raise JobError(f"job {job.job_id}: the printer-ready file is empty")
        status = self.status()
        if status.conditions:
            raise NeedsOperator(first_condition(status.conditions))
        before = self._printed_counter() if self._printed_counter else None
        if not self._open:
            self.connect()  # a failure here is a TransportError: nothing was sent
        prints = ribbon_prints(job.ribbon_type, job.sides == 2)
        try:
            self._transport.write(job.data, self._write_timeout)
        except TransportError as error:
            self.close()
            # Part of the file may have reached the printer and started a card.
            return PrintResult(Outcome.UNKNOWN, f"link failed while sending: {error}", None, prints)
        return self._confirm(before, prints)

    def _confirm(self, before: int | None, prints: int) -> PrintResult:
        if before is None or self._printed_counter is None:
            return PrintResult(
                Outcome.UNKNOWN, "sent; this printer gives no per-card readback", None, prints
            )
        deadline = time.monotonic() + self._confirm_timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status.conditions:
                return PrintResult(
                    Outcome.UNKNOWN,
                    "sent; the printer reported a condition before confirming the card",
                    first_condition(status.conditions),
                    prints,
                )
            now = self._printed_counter()
            if now is not None and now > before:
                return PrintResult(Outcome.PRINTED, None, None, prints)
            time.sleep(self._poll_interval)
        return PrintResult(
            Outcome.UNKNOWN, "sent; the printed-cards counter did not move in time", None, prints
        )
