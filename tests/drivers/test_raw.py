"""The raw passthrough: bytes untouched over a real socket, and honest outcomes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.raw import RawDriver, RawJob
from printd.drivers.status import Condition, PrinterState, PrinterStatus
from printd.drivers.tcp_transport import TcpTransport
from printd.errors import JobError, NeedsOperator, TransportError

PAYLOAD = bytes(range(256)) * 1000 + b"\x1b\r\x00"


class Sink:
    """A port-9100 style listener that keeps every byte it receives."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.received = bytearray()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.getsockname()[1])

    def _serve(self) -> None:
        try:
            client, _ = self.server.accept()
        except OSError:
            return
        with client:
            while chunk := client.recv(65536):
                self.received += chunk
        self.done.set()


@pytest.fixture
def sink() -> Iterator[Sink]:
    listener = Sink()
    yield listener
    listener.server.close()


def _ready() -> PrinterStatus:
    return PrinterStatus(PrinterState.IDLE, source="snmp")


def test_bytes_pass_untouched_and_without_readback_the_outcome_is_unknown(sink: Sink) -> None:
    driver = RawDriver(TcpTransport("127.0.0.1", sink.port), status_source=_ready)
    result = driver.print_job(RawJob("j1", PAYLOAD, sides=2, ribbon_type="ymcko"))
    driver.close()
    assert sink.done.wait(5)
    assert bytes(sink.received) == PAYLOAD
    assert result.outcome is Outcome.UNKNOWN
    assert result.reason is not None
    assert "no per-card readback" in result.reason
    assert result.ribbon_prints == 2


def test_a_counter_that_moves_confirms_printed(sink: Sink) -> None:
    counts = iter([100, 100, 101])
    driver = RawDriver(
        TcpTransport("127.0.0.1", sink.port),
        status_source=_ready,
        printed_counter=lambda: next(counts),
        poll_interval=0.01,
    )
    result = driver.print_job(RawJob("j2", PAYLOAD, sides=1, ribbon_type="ymcko"))
    assert result.outcome is Outcome.PRINTED
    assert result.ribbon_prints == 1
    driver.close()


def test_a_counter_that_stays_still_is_unknown(sink: Sink) -> None:
    driver = RawDriver(
        TcpTransport("127.0.0.1", sink.port),
        status_source=_ready,
        printed_counter=lambda: 7,
        confirm_timeout=0.1,
        poll_interval=0.01,
    )
    result = driver.print_job(RawJob("j3", PAYLOAD, sides=1, ribbon_type="ymcko"))
    assert result.outcome is Outcome.UNKNOWN
    driver.close()


def test_condition_before_sending_needs_operator_and_sends_nothing(sink: Sink) -> None:
    def jammed() -> PrinterStatus:
        return PrinterStatus(PrinterState.NEEDS_OPERATOR, frozenset({Condition.JAM}))

    driver = RawDriver(TcpTransport("127.0.0.1", sink.port), status_source=jammed)
    with pytest.raises(NeedsOperator) as caught:
        driver.print_job(RawJob("j4", PAYLOAD, sides=1, ribbon_type="ymcko"))
    assert caught.value.condition == Condition.JAM
    assert not sink.received


def test_unreachable_printer_is_a_transport_error_before_anything_is_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = RawDriver(TcpTransport("127.0.0.1", port))
    with pytest.raises(TransportError):
        driver.print_job(RawJob("j5", PAYLOAD, sides=1, ribbon_type="k"))


def test_status_without_a_source_is_unknown_and_images_are_refused() -> None:
    driver = RawDriver(TcpTransport("127.0.0.1", 9))
    assert driver.status().state is PrinterState.UNKNOWN
    card = CardRequest("j6", Image.new("RGB", (1016, 648)), None, "ymcko")
    with pytest.raises(JobError, match="printer-ready files only"):
        driver.print_card(card)
    with pytest.raises(JobError, match="sides must be 1 or 2"):
        driver.print_job(RawJob("j7", b"x", sides=3, ribbon_type="k"))
