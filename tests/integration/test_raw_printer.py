"""A printer with a closed command set (Fargo, Zebra ZXP, Entrust) on the raw driver: the job's
printer-ready file reaches the printer byte for byte; the card counts as printed only when the
printer's own counter (Printer-MIB prtMarkerLifeCount over SNMP) confirms it, else an operator
reconciles it."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import threading
from pathlib import Path
from typing import Any

from printd.sim.snmp_agent import MibView, SimSnmpAgent
from tests.conftest import DaemonProcess

PRINT_FILE = bytes(range(256)) * 64 + b"\x1b%-12345X@PJL END\r\n"  # stands in for a vendor file


class PrinterSink:
    """A raw TCP printer port (9100-style) that counts each complete print file as a card."""

    def __init__(self, file_size: int) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.cards = 0
        self.file_size = file_size
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                while chunk := conn.recv(65536):
                    self.received += chunk
                    self.cards = len(self.received) // self.file_size

    def close(self) -> None:
        self.server.close()


def raw_daemon(make_daemon: Any, sink: PrinterSink, status: str = "") -> DaemonProcess:
    daemon: DaemonProcess = make_daemon(device=f"tcp://127.0.0.1:{sink.port}")
    text = daemon.config.read_text().replace(
        f'device = "tcp://127.0.0.1:{sink.port}"',
        f'device = "tcp://127.0.0.1:{sink.port}"\ndriver = "raw"\n{status}',
    )
    daemon.config.write_text(text)
    daemon.start()
    daemon.stock_up(10)
    return daemon


def job_file(folder: Path, job_id: str, sides: int) -> Path:
    path = folder / f"{job_id}.json"
    path.write_text(
        json.dumps(
            {
                "id": job_id,
                "document": "ktp-el",
                "holder": {"nik": "9901010101900077", "name": "CONTOH RAW"},
                "printer_ready": "data:application/octet-stream;base64,"
                + base64.b64encode(PRINT_FILE).decode(),
                "sides": sides,
            }
        )
    )
    return path


def test_without_readback_the_card_waits_for_an_operator(make_daemon: Any, tmp_path) -> None:
    sink = PrinterSink(len(PRINT_FILE))
    daemon = raw_daemon(make_daemon, sink)
    daemon.ctl("submit", str(job_file(tmp_path, "raw-1", 2)))
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "raw-1")["job"]["state"] == "interrupted",
        what="interrupted (no readback)",
    )
    assert bytes(sink.received) == PRINT_FILE  # untouched
    assert "no per-card readback" in daemon.ctl_json("show", "raw-1")["job"]["reason"]
    daemon.ctl("reconcile", "raw-1", "--printed")
    status = daemon.ctl_json("status")["printers"][0]
    assert status["hopper"] == 9
    assert status["ribbon"]["remaining"] == 450 - 2  # the declared sides drive ribbon use
    assert daemon.ctl_json("report")["balance"] == 0
    sink.close()


def test_a_counter_over_snmp_confirms_the_card(make_daemon: Any, tmp_path) -> None:
    sink = PrinterSink(len(PRINT_FILE))
    base = MibView(ribbon_type="ymcko", ribbon_level=400, ribbon_capacity=450, life_count=1000)
    agent = SimSnmpAgent(lambda: dataclasses.replace(base, life_count=1000 + sink.cards))
    agent.start()
    status = (
        f'status = "snmp://127.0.0.1:{agent.port}?version=2c&community=public"\n'
        "status_interval_seconds = 1"
    )
    daemon = raw_daemon(make_daemon, sink, status)
    daemon.wait_for(
        lambda: (daemon.ctl_json("status")["printers"][0]["snmp"] or {}).get("up"),
        what="SNMP reading",
    )
    daemon.ctl("submit", str(job_file(tmp_path, "raw-2", 1)))
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "raw-2")["job"]["state"] == "printed",
        what="printed, confirmed by the printer's counter",
        timeout=60,
    )
    assert bytes(sink.received) == PRINT_FILE
    # A card-image job cannot go to a raw printer: it fails with the reason, nothing is sent.
    image_job = tmp_path / "image.json"
    image_job.write_text(
        json.dumps(
            {
                "id": "image-on-raw",
                "document": "ktp-el",
                "holder": {"nik": "9901010101900078", "name": "CONTOH"},
                "front": str(
                    Path(__file__).resolve().parents[2] / "examples/example-0001-front.png"
                ),
            }
        )
    )
    daemon.ctl("submit", str(image_job))
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "image-on-raw")["job"]["state"] == "failed",
        what="image job refused by the raw printer",
    )
    assert len(sink.received) == len(PRINT_FILE)
    agent.close()
    sink.close()
