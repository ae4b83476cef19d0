"""Simulator throughput: how long the model takes to accept one card, per path.

Run: .venv/bin/python bench/bench_sim_throughput.py
Targets (exit 1 when missed): a K card under 50 ms, a raw-colour card under 500 ms, so the
simulator never sets the pace of a test or of `make run`.
Prints the median of several runs for: a vendor capture (Dbc K panel) written in 4 KiB
chunks; the same through pyusb and the simulated backend; a YMCKO card with raw Db colour
panels; and a colour card with Dbc (run-length) colour panels.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import usb.core

from printd.sim.evolis_model import SimPrinter
from printd.sim.usb_backend import SimUsbBackend

# The shared research folder beside the checkout; PRINTD_CAPTURES points elsewhere.
CAPTURES = Path(
    os.environ.get("PRINTD_CAPTURES")
    or Path(__file__).resolve().parents[2] / "shared" / "research" / "evolis" / "captures"
)
CAPTURE = CAPTURES / "evolis-card-text"
RUNS = 7
K_CARD_TARGET_MS = 50.0
COLOUR_CARD_TARGET_MS = 500.0


def esc(command: str) -> bytes:
    return b"\x1b" + command.encode() + b"\r"


def wait_for(read: Callable[[], bytes], count: int) -> None:
    data = b""
    while data.count(b"\r") < count:
        data += read()


def chunked(printer: SimPrinter, stream: bytes, commands: int) -> None:
    for start in range(0, len(stream), 4096):
        printer.write(stream[start : start + 4096])
    wait_for(lambda: printer.read(4096, 1.0), commands)


def colour_card(compressed: bool) -> tuple[bytes, int]:
    rng = np.random.default_rng(1)
    levels = rng.integers(0, 32, (1016, 648), dtype=np.uint8)
    levels[:, 200:] = levels[:, 200:201]  # long runs, like a photo's flat background
    if compressed:
        body = bytearray()
        for row in levels:
            col = 0
            while col < 648:
                run = 1
                while col + run < 648 and row[col + run] == row[col] and run < 255:
                    run += 1
                body += bytes([int(row[col])]) if run == 1 else bytes([0x80 | int(row[col]), run])
                col += run
        panel = lambda p: f"\x1bDbc;{p};32;{len(body)};".encode() + bytes(body) + b"\r"  # noqa: E731
    else:
        bits = ((levels.reshape(-1, 1) >> np.arange(4, -1, -1)) & 1).astype(np.uint8)
        raw = np.packbits(bits.reshape(-1)).tobytes()
        panel = lambda p: f"\x1bDb;{p};32;".encode() + raw + b"\r"  # noqa: E731
    k = np.packbits(rng.random((1016, 648)) < 0.2, axis=1).tobytes()
    k_panel = b"\x1bDb;k;2;" + k + b"\r"
    job = b"".join(
        [esc("Pr;ymcko"), esc("Ss"), esc("Sr"), panel("y"), panel("m"), panel("c"), k_panel]
    )
    job += esc("Se")
    return job, 8


def median_ms(action: Callable[[], None]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    if not CAPTURE.is_file():
        print(f"the vendor capture is not at {CAPTURE}: set PRINTD_CAPTURES", file=sys.stderr)
        return 1
    stream = CAPTURE.read_bytes()
    printer = SimPrinter(hopper=100, ribbon_capacity=1000)
    capture_ms = median_ms(lambda: chunked(printer, stream, 10))
    print(f"capture, 4 KiB writes:        {capture_ms:7.1f} ms")

    usb_printer = SimPrinter(hopper=100, ribbon_capacity=1000)
    device = usb.core.find(idVendor=0x0F49, backend=SimUsbBackend([(usb_printer, 0x0A00)]))
    device.detach_kernel_driver(0)
    device.set_configuration()

    def over_usb() -> None:
        for start in range(0, len(stream), 4096):
            device.write(0x01, stream[start : start + 4096])
        wait_for(lambda: bytes(device.read(0x82, 512, 1000)), 10)

    usb_ms = median_ms(over_usb)
    print(f"capture through pyusb:        {usb_ms:7.1f} ms")
    missed = [f"K card {capture_ms:.1f} ms"] if max(capture_ms, usb_ms) > K_CARD_TARGET_MS else []
    for compressed in (False, True):
        job, commands = colour_card(compressed)
        colour = SimPrinter(hopper=100, ribbon_capacity=1000)
        label = "YMCK card, Dbc colour:" if compressed else "YMCK card, raw Db colour:"
        took = median_ms(lambda p=colour, j=job, n=commands: chunked(p, j, n))
        print(f"{label:30}{took:7.1f} ms")
        if not compressed and took > COLOUR_CARD_TARGET_MS:
            missed.append(f"raw colour card {took:.1f} ms")
    if missed:
        print(f"missed targets: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
