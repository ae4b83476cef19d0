"""One card side (1016x648 RGB) into Y, M, C, K, O panels encoded for the wire.

Prints the median over RUNS runs, beside Pillow's convert("CMYK") of the same image in the same
run (a floor: a plain colour conversion, no rotation, no packing), and their ratio.
Target: the full path at or under 10 ms.

    .venv/bin/python bench/bench_raster.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from PIL import Image

from printd.drivers import raster
from printd.drivers.evolis import codec

RUNS = 50
TARGET_MS = 10.0


def card_image() -> Image.Image:
    """A realistic side: a noisy photo, flat colour, black text bands, white space."""
    rng = np.random.default_rng(7)
    pixels = np.full((648, 1016, 3), 245, dtype=np.uint8)
    pixels[60:460, 40:360] = rng.integers(0, 256, (400, 320, 3), dtype=np.uint8)
    pixels[0:40, :] = (30, 90, 200)
    for top in range(480, 640, 24):
        pixels[top : top + 12, 400:980] = (0, 0, 0)
    return Image.fromarray(pixels, "RGB")


def wire_side(image: Image.Image) -> int:
    panels = raster.colour_panels(image)
    frames = [
        codec.encode_download("y", 32, codec.pack_colour_panel(panels.y), compressed=False),
        codec.encode_download("m", 32, codec.pack_colour_panel(panels.m), compressed=False),
        codec.encode_download("c", 32, codec.pack_colour_panel(panels.c), compressed=False),
        codec.encode_download("k", 2, codec.compress_mono_panel(panels.k), compressed=True),
        codec.encode_download("o", 2, codec.compress_mono_panel(panels.o), compressed=True),
    ]
    return sum(len(f) for f in frames)


def median_ms(action: object) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    image = card_image()
    for _ in range(5):  # warm up: the allocator settles on its arenas for these array sizes
        wire_side(image)
    ours = median_ms(lambda: wire_side(image))
    pillow = median_ms(lambda: image.convert("CMYK"))
    print(f"runs: {RUNS}")
    print(f"panels+wire encoding (YMC Db 32 levels, K/O Dbc): median {ours:.2f} ms")
    print(f"Pillow convert('CMYK') of the same image:        median {pillow:.2f} ms")
    print(f"ratio ours/pillow: {ours / pillow:.1f}x")
    print(f"wire bytes per side: {wire_side(image)}")
    print(f"target <= {TARGET_MS} ms: {'met' if ours <= TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
