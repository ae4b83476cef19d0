"""The simulator's panel decoders against the numpy decoding they replaced, at every depth."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from _sim_streams import DOTS, LINES, ko_bitmap, ko_raw, random_k, ymc_levels, ymc_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from printd.sim.panels import YMC_BITS, decode_raw, dot_share


def numpy_decode_raw(data: bytes, width: int) -> npt.NDArray[np.uint8]:
    """The former decoder: unpack every bit, then a matrix product per level."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    weights = (1 << np.arange(width - 1, -1, -1)).astype(np.uint8)
    values = bits.reshape(-1, width) @ weights
    return values.astype(np.uint8).reshape(LINES, DOTS)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(sorted(YMC_BITS)))
def test_raw_levels_decode_like_numpy(seed: int, levels: int) -> None:
    width = YMC_BITS[levels]
    panel = np.random.default_rng(seed).integers(0, levels, (LINES, DOTS), dtype=np.uint8)
    payload = ymc_raw(panel, width)
    decoded = decode_raw("m", levels, payload)
    assert len(decoded) == LINES * DOTS
    assert np.array_equal(ymc_levels(decoded), numpy_decode_raw(payload, width))
    assert np.array_equal(ymc_levels(decoded), panel)


def test_raw_dots_are_kept_packed() -> None:
    bitmap = random_k(4)
    decoded = decode_raw("k", 2, ko_raw(bitmap))
    assert len(decoded) == LINES * DOTS // 8
    assert np.array_equal(ko_bitmap(decoded), bitmap)


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_dot_share_counts_inked_dots(share: float) -> None:
    bitmap = random_k(9, share)
    assert dot_share("o", ko_raw(bitmap)) == pytest.approx(bitmap.mean())
    levels = np.where(bitmap, 17, 0).astype(np.uint8)
    assert dot_share("c", levels.tobytes()) == pytest.approx(bitmap.mean())
