"""The Pillow raster and panel codec against the numpy versions they replaced, on random input.

`_numpy_oracle` keeps the former implementations; every wire byte must stay the same.
"""

from __future__ import annotations

import numpy as np
import pytest
from _numpy_oracle import (
    colour_panels,
    compress_colour_panel,
    compress_mono_panel,
    dot_panel,
    dots_of,
    level_panel,
    levels_of,
    mono_panel,
    pack_colour_panel,
    unpack_colour_panel,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from printd.drivers import raster
from printd.drivers.evolis import codec

SEEDS = st.integers(0, 2**32 - 1)


def _random_levels(rng: np.random.Generator, top: int = 31) -> np.ndarray:
    levels = rng.integers(0, top + 1, (1016, 648), dtype=np.uint8)
    levels[rng.random(1016) < 0.2] = 0  # blank lines
    for line in rng.integers(0, 1016, 40):  # runs of every length, some over 256 and 512
        start, length = rng.integers(0, 648, 2)
        levels[line, start : start + length] = rng.integers(0, top + 1)
    return levels


def _random_dots(rng: np.random.Generator) -> np.ndarray:
    dots = rng.random((1016, 648)) < rng.random()
    dots[rng.random(1016) < 0.1] = True  # black lines
    dots[rng.random(1016) < 0.1] = False  # white lines
    return dots


def _random_card(rng: np.random.Generator) -> Image.Image:
    """Noise, flat patches and near-black neutral areas (where the K rule decides)."""
    pixels = rng.integers(0, 256, (648, 1016, 3), dtype=np.uint8)
    dark = rng.integers(0, 60, (648, 1016, 1), dtype=np.uint8)
    pixels[200:400] = dark[200:400] + rng.integers(0, 12, (200, 1016, 3), dtype=np.uint8)
    pixels[400:500, :500] = rng.integers(0, 256, 3, dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


@settings(max_examples=15, deadline=None)
@given(SEEDS, st.integers(0, 31))
def test_five_bit_packing_matches(seed: int, top: int) -> None:
    levels = _random_levels(np.random.default_rng(seed), top)
    packed = codec.pack_colour_panel(level_panel(levels))
    assert packed == pack_colour_panel(levels)
    assert codec.unpack_colour_panel(packed) == level_panel(unpack_colour_panel(packed))


@settings(max_examples=15, deadline=None)
@given(SEEDS, st.integers(0, 31))
def test_colour_compression_matches(seed: int, top: int) -> None:
    levels = _random_levels(np.random.default_rng(seed), top)
    compressed = codec.compress_colour_panel(level_panel(levels))
    assert compressed == compress_colour_panel(levels)
    assert codec.decompress_colour_panel(compressed) == level_panel(levels)


@settings(max_examples=25, deadline=None)
@given(SEEDS)
def test_mono_compression_matches(seed: int) -> None:
    dots = _random_dots(np.random.default_rng(seed))
    compressed = codec.compress_mono_panel(dot_panel(dots))
    assert compressed == compress_mono_panel(dots)
    assert np.array_equal(dots_of(codec.decompress_mono_panel(compressed)), dots)


@settings(max_examples=10, deadline=None)
@given(SEEDS)
def test_colour_panels_and_the_k_rule_match(seed: int) -> None:
    image = _random_card(np.random.default_rng(seed))
    panels = raster.colour_panels(image)
    y, m, c, k, o = colour_panels(image)
    assert np.array_equal(levels_of(panels.y), y)
    assert np.array_equal(levels_of(panels.m), m)
    assert np.array_equal(levels_of(panels.c), c)
    assert np.array_equal(dots_of(panels.k), k)
    assert np.array_equal(dots_of(panels.o), o)


def test_every_dye_triple_near_black_gets_the_k_rule() -> None:
    # All 32**3 quantised dye triples, each as a pixel whose channels map onto exactly them.
    channel_of_dye = [
        next(v for v in range(255, -1, -1) if raster._INK_LUT[v] == d) for d in range(32)
    ]
    triples = np.array(np.meshgrid(range(32), range(32), range(32), indexing="ij")).reshape(3, -1)
    pixels = np.full((648 * 1016, 3), 255, dtype=np.uint8)
    pixels[: triples.shape[1]] = np.array(channel_of_dye, dtype=np.uint8)[triples.T]
    image = Image.fromarray(pixels.reshape(648, 1016, 3), "RGB")
    panels = raster.colour_panels(image)
    assert np.array_equal(dots_of(panels.k), colour_panels(image)[3])
    assert dots_of(panels.k).sum() > 0


@settings(max_examples=10, deadline=None)
@given(SEEDS, st.sampled_from(["threshold", "dither"]))
def test_mono_panels_match(seed: int, method: str) -> None:
    image = _random_card(np.random.default_rng(seed))
    assert np.array_equal(dots_of(raster.mono_panel(image, method)), mono_panel(image, method))  # type: ignore[arg-type]


def test_luma_is_the_integer_formula_for_every_colour() -> None:
    values = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=-1)
    image = Image.fromarray(rgb.astype(np.uint8).reshape(4096, 4096, 3), "RGB")
    luma = np.asarray(image.convert("L", matrix=raster._LUMA_MATRIX))
    red, green, blue = (rgb[:, i].reshape(4096, 4096) for i in range(3))
    assert np.array_equal(luma, (red * 299 + green * 587 + blue * 114) // 1000)


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (128, 128, 128), (12, 10, 14)])
def test_flat_cards_match(colour: tuple[int, int, int]) -> None:
    image = Image.new("RGB", (1016, 648), colour)
    panels = raster.colour_panels(image)
    y, m, c, k, o = colour_panels(image)
    assert (panels.y, panels.m, panels.c) == (level_panel(y), level_panel(m), level_panel(c))
    assert (panels.k, panels.o) == (dot_panel(k), dot_panel(o))
    for method in ("threshold", "dither"):
        assert raster.mono_panel(image, method) == dot_panel(mono_panel(image, method))  # type: ignore[arg-type]
