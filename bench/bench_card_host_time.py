"""Host CPU time per card, outside the printer, over the pyusb simulator.

Prints the median over CARDS cards of the driver thread's CPU time for one `print_card` (a
colour YMCKO side: rasterise, encode, frame, pyusb transfers, reply decoding), minus the CPU
the simulated printer spends inside the backend's transfer calls (it runs in the same thread:
its panel decoding is the printer's work, not the host's). Waiting is not CPU time.
Target: at or under 20 ms.

    .venv/bin/python bench/bench_card_host_time.py
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY
from printd.drivers.usb_transport import UsbTransport
from printd.memory import keep_large_buffers_mapped
from printd.sim.evolis_model import SimPrinter
from printd.sim.usb_backend import SimUsbBackend

CARDS = 30
TARGET_MS = 20.0


class PrinterSideClock(SimUsbBackend):
    """The simulator's backend, adding up the thread CPU spent inside it (the printer's work)."""

    def __init__(self, printers: Any) -> None:
        super().__init__(printers)
        self.printer_cpu = 0.0

    def bulk_write(self, *args: Any) -> int:
        start = time.thread_time()
        try:
            return int(super().bulk_write(*args))
        finally:
            self.printer_cpu += time.thread_time() - start

    def bulk_read(self, *args: Any) -> int:
        start = time.thread_time()
        try:
            return int(super().bulk_read(*args))
        finally:
            self.printer_cpu += time.thread_time() - start


def card_image() -> Image.Image:
    rng = np.random.default_rng(3)
    pixels = np.full((648, 1016, 3), 245, dtype=np.uint8)
    pixels[60:460, 40:360] = rng.integers(0, 256, (400, 320, 3), dtype=np.uint8)
    for top in range(480, 640, 24):
        pixels[top : top + 12, 400:980] = (0, 0, 0)
    return Image.fromarray(pixels, "RGB")


def main() -> None:
    keep_large_buffers_mapped()  # as the daemon runs
    printer = SimPrinter(hopper=CARDS + 1, hopper_capacity=CARDS + 1, ribbon_capacity=1000)
    backend = PrinterSideClock([(printer, 0x0A00)])
    driver = EvolisDriver(UsbTransport(0x0F49, None, backend=backend), PRIMACY)
    driver.connect()
    request = CardRequest("bench", card_image(), None, "ymcko")
    driver.print_card(request)  # warm up
    host_ms = []
    for _ in range(CARDS):
        backend.printer_cpu = 0.0
        start = time.thread_time()
        result = driver.print_card(request)
        total = time.thread_time() - start
        if result.outcome is not Outcome.PRINTED:
            raise SystemExit(f"card not printed: {result}")
        host_ms.append((total - backend.printer_cpu) * 1000)
    driver.close()
    median = statistics.median(host_ms)
    print(f"cards: {CARDS} (YMCKO, one side, pyusb + simulated printer)")
    print(f"host CPU per card (excluding the simulated printer): median {median:.2f} ms")
    print(f"min {min(host_ms):.2f} ms, max {max(host_ms):.2f} ms")
    print(f"target <= {TARGET_MS} ms: {'met' if median <= TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
