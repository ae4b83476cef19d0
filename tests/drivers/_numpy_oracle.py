"""The raster and panel codec as they were written with numpy, kept as a reference oracle.

printd itself no longer imports numpy; the tests compare its Pillow implementation with these
on random inputs. Also the conversions between printd's panel bytes and numpy arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

from printd.drivers.evolis.codec import DotPanel, LevelPanel

LINES, DOTS = 1016, 648
K_MIN_DYE = 26
K_MAX_DYE_SPREAD = 3
MONO_THRESHOLD = 128
INK_LUT = np.round((255 - np.arange(256)) * 31 / 255).astype(np.uint8)
BAYER_8 = np.array(
    [
        [0, 32, 8, 40, 2, 34, 10, 42],
        [48, 16, 56, 24, 50, 18, 58, 26],
        [12, 44, 4, 36, 14, 46, 6, 38],
        [60, 28, 52, 20, 62, 30, 54, 22],
        [3, 35, 11, 43, 1, 33, 9, 41],
        [51, 19, 59, 27, 49, 17, 57, 25],
        [15, 47, 7, 39, 13, 45, 5, 37],
        [63, 31, 55, 23, 61, 29, 53, 21],
    ],
    dtype=np.uint16,
)

Levels = npt.NDArray[np.uint8]
Dots = npt.NDArray[np.bool_]


# -- conversions ------------------------------------------------------------------------------


def levels_of(panel: LevelPanel) -> Levels:
    return np.frombuffer(panel.lines(), dtype=np.uint8).reshape(LINES, DOTS)


def dots_of(panel: bytes) -> Dots:
    rows = np.frombuffer(panel, dtype=np.uint8).reshape(LINES, DOTS // 8)
    return np.unpackbits(rows, axis=1).astype(bool)


def level_panel(levels: Levels) -> LevelPanel:
    assert levels.shape == (LINES, DOTS)
    return LevelPanel.from_lines(np.ascontiguousarray(levels, dtype=np.uint8).tobytes())


def dot_panel(dots: Dots) -> DotPanel:
    assert dots.shape == (LINES, DOTS)
    return DotPanel(np.packbits(dots, axis=1).tobytes())


# -- raster -----------------------------------------------------------------------------------


def _channels(image: Image.Image) -> tuple[Levels, ...]:
    return tuple(np.asarray(band) for band in image.split())


def colour_panels(image: Image.Image) -> tuple[Levels, Levels, Levels, Dots, Dots]:
    """(y, m, c, k, o) in printer geometry."""
    mapped = image.point(INK_LUT.tolist() * 3).transpose(Image.Transpose.ROTATE_270)
    cyan, magenta, yellow = _channels(mapped)
    most = np.maximum(np.maximum(cyan, magenta), yellow)
    least = np.minimum(np.minimum(cyan, magenta), yellow)
    resin = (least >= K_MIN_DYE) & (most - least <= K_MAX_DYE_SPREAD)
    keep = ~resin
    yellow, magenta, cyan = yellow * keep, magenta * keep, cyan * keep
    return yellow, magenta, cyan, resin, np.ones(resin.shape, dtype=bool)


def mono_panel(image: Image.Image, method: str = "threshold") -> Dots:
    rotated = image.transpose(Image.Transpose.ROTATE_270)
    red, green, blue = (band.astype(np.uint32) for band in _channels(rotated))
    luma = (red * 299 + green * 587 + blue * 114) // 1000
    if method == "threshold":
        return np.asarray(luma < MONO_THRESHOLD)
    lines, dots = luma.shape
    tiled = np.tile(BAYER_8, (lines // 8 + 1, dots // 8 + 1))[:lines, :dots]
    return np.asarray(luma * 64 < (tiled + 1) * 256 - 128)


# -- codec ------------------------------------------------------------------------------------


def pack_colour_panel(levels: Levels) -> bytes:
    words = np.ascontiguousarray(levels).view(">u8").astype(np.uint64)
    words = ((words & np.uint64(0xFF00FF00FF00FF00)) >> np.uint64(3)) | (
        words & np.uint64(0x00FF00FF00FF00FF)
    )
    words = ((words & np.uint64(0xFFFF0000FFFF0000)) >> np.uint64(6)) | (
        words & np.uint64(0x0000FFFF0000FFFF)
    )
    words = ((words & np.uint64(0xFFFFFFFF00000000)) >> np.uint64(12)) | (
        words & np.uint64(0x00000000FFFFFFFF)
    )
    words = words.ravel()
    packed = np.empty((words.size, 5), dtype=np.uint8)
    for column, shift in enumerate((32, 24, 16, 8, 0)):
        packed[:, column] = words >> np.uint64(shift)
    return packed.tobytes()


def unpack_colour_panel(data: bytes) -> Levels:
    five = np.frombuffer(data, dtype=np.uint8).reshape(-1, 5)
    padded = np.zeros((five.shape[0], 8), dtype=np.uint8)
    padded[:, 3:] = five
    words = padded.view(">u8").reshape(-1, 1)
    dots = (words >> np.arange(35, -1, -5, dtype=np.uint64)) & np.uint64(0x1F)
    return dots.astype(np.uint8).reshape(LINES, DOTS)


def compress_mono_panel(dots: Dots) -> bytes:
    if dots.all():
        return b"\xff" * LINES
    rows = np.packbits(dots, axis=1)
    nonzero = rows != 0
    useful = np.where(nonzero.any(axis=1), DOTS // 8 - np.argmax(nonzero[:, ::-1], axis=1), 0)
    black = (rows == 0xFF).all(axis=1)
    table = np.empty((LINES, DOTS // 8 + 1), dtype=np.uint8)
    table[:, 0] = np.where(black, 0xFF, useful)
    table[:, 1:] = rows
    keep = np.arange(DOTS // 8 + 1) <= np.where(black, 0, useful)[:, None]
    return table[keep].tobytes()


def compress_colour_panel(levels: Levels) -> bytes:
    flat = levels.ravel()
    change = np.ones(levels.shape, dtype=bool)
    change[:, 1:] = levels[:, 1:] != levels[:, :-1]
    starts = np.flatnonzero(change.ravel())
    lengths = np.diff(np.append(starts, flat.size))
    values = flat[starts]
    ends_line = (starts % DOTS) + lengths == DOTS
    rest_blank = ends_line & (values == 0)
    single = (lengths == 1) & ~rest_blank
    size = np.where(single, 1, 2)
    offsets = np.concatenate(([0], np.cumsum(size)[:-1]))
    out = np.empty(int(size.sum()), dtype=np.uint8)
    extra = np.minimum(lengths >> 8, 2)
    ext_bits = np.select([extra == 2, extra == 1], [0x60, 0x40], 0)
    first = np.where(single, values, 0x80 | ext_bits | values)
    first = np.where(rest_blank, 0x80, first)
    second = np.where(rest_blank, 0, lengths - (extra << 8))
    out[offsets] = first
    two = ~single
    out[offsets[two] + 1] = second[two]
    return out.tobytes()
