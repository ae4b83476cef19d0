"""Card images → ribbon panels, vectorised with numpy.

A job's side is an RGB image of 1016 x 648 (CR-80 landscape at 300 dpi). The print head lays
648 dots across the card and prints 1016 lines along it, so each image is turned 90° clockwise
first, as the open Evolis driver does (`pnmflip -rotate270`): panel line 0 is the image's left
column read from bottom to top.

Colour (`colour_panels`): Y, M, C are the complements of B, G, R quantised to 32 levels (0 = no
dye). K, the resin black, takes the pixels that are near-black and neutral, judged on the
quantised dyes: every dye at least `K_MIN_DYE` and all within `K_MAX_DYE_SPREAD` levels of
each other. Text, barcodes and outlines then print sharp in resin, and those pixels are
removed from Y/M/C so the resin does not sit on a dye layer. O (varnish) covers the card.

Mono (`mono_panel`, for `k…` ribbons and K-only backs): luminance below 50 % becomes a dot
(the open driver's rule), or an ordered 8x8 Bayer dither that keeps greys as greys.

`load_card_image` is the gate for untrusted bytes: everything it refuses is a `JobError` whose
text names what is wrong and what the expected input is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from printd.errors import JobError

if TYPE_CHECKING:
    from numpy.typing import NDArray

CARD_WIDTH: Final = 1016
CARD_HEIGHT: Final = 648
MAX_IMAGE_BYTES: Final = 50 * 1024 * 1024
K_MIN_DYE: Final = 26  # near-black: every dye at least this (of 31), i.e. channels <= about 40
K_MAX_DYE_SPREAD: Final = 3  # neutral: dyes within this many levels (about 25 of 255)
MONO_THRESHOLD: Final = 128  # luminance below this is a dot
COLOUR_LEVELS: Final = 32

# 255 - v scaled onto 0..31, rounded: an ink amount per 8-bit channel value.
_INK_LUT: Final = np.round((255 - np.arange(256)) * (COLOUR_LEVELS - 1) / 255).astype(np.uint8)
_INK_TABLE: Final = _INK_LUT.tolist() * 3  # Image.point wants one 256-entry table per band
_BAYER_8: Final = np.array(
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
# Modes whose conversion to RGB loses nothing; others are refused with the reason.
_LOSSLESS_TO_RGB: Final = frozenset({"RGB", "L", "1", "P"})
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True, slots=True)
class ColourPanels:
    """One side for a YMCKO ribbon, in printer geometry (1016 lines x 648 dots)."""

    y: NDArray[np.uint8]  # 0..31
    m: NDArray[np.uint8]
    c: NDArray[np.uint8]
    k: NDArray[np.bool_]
    o: NDArray[np.bool_]


def load_card_image(data: bytes) -> Image.Image:
    """Open untrusted image bytes as an RGB card image, or raise `JobError` saying why not.

    The size is checked from the header before any pixel is decoded, so a decompression bomb
    costs nothing. Palette and greyscale images are converted (lossless); an alpha channel is
    dropped when every pixel is opaque and refused otherwise, because we cannot know what a
    transparent area should print as (flatten it onto white before submitting).
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise JobError(
            f"image is {len(data) / 1e6:.1f} MB, over the {MAX_IMAGE_BYTES // 2**20} MB limit;"
            " a card image is a PNG of 1016x648"
        )
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise JobError("the data is not an image Pillow can read; send a 1016x648 PNG") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise JobError(f"the image cannot be opened ({error}); send a 1016x648 PNG") from None
    if image.size != (CARD_WIDTH, CARD_HEIGHT):
        width, height = image.size
        raise JobError(
            f"image is {width}x{height} pixels, expected {CARD_WIDTH}x{CARD_HEIGHT}"
            " (CR-80 landscape at 300 dpi)"
        )
    try:
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise JobError(f"the image data is damaged ({error}); send a 1016x648 PNG") from None
    return to_card_rgb(image)


def to_card_rgb(image: Image.Image) -> Image.Image:
    """Bring a decoded image to RGB by the rules of `load_card_image`."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in _ALPHA_MODES:
        alpha = np.asarray(image.getchannel("A"))
        if int(alpha.min()) < 255:
            raise JobError(
                "image has transparent pixels; flatten it onto white (no alpha) and resubmit"
            )
        return image.convert("RGB")
    if image.mode not in _LOSSLESS_TO_RGB:
        raise JobError(f"image mode {image.mode} is not supported; send an RGB or greyscale PNG")
    return image if image.mode == "RGB" else image.convert("RGB")


def _card_rgb(image: Image.Image) -> Image.Image:
    if image.size != (CARD_WIDTH, CARD_HEIGHT):
        width, height = image.size
        raise JobError(f"image is {width}x{height} pixels, expected {CARD_WIDTH}x{CARD_HEIGHT}")
    return to_card_rgb(image)


def _printer_geometry(image: Image.Image) -> Image.Image:
    # Pillow's ROTATE_270 turns counter-clockwise by 270 degrees: 90 degrees clockwise.
    return _card_rgb(image).transpose(Image.Transpose.ROTATE_270)


def _channels(image: Image.Image) -> tuple[NDArray[np.uint8], ...]:
    return tuple(np.asarray(band) for band in image.split())


def colour_panels(image: Image.Image) -> ColourPanels:
    # One C pass maps every channel to its dye amount (R to C, G to M, B to Y), then Pillow
    # turns all three channels into printer geometry in one pass.
    mapped = _card_rgb(image).point(_INK_TABLE).transpose(Image.Transpose.ROTATE_270)
    cyan, magenta, yellow = _channels(mapped)
    most = np.maximum(np.maximum(cyan, magenta), yellow)
    least = np.minimum(np.minimum(cyan, magenta), yellow)
    resin = (least >= K_MIN_DYE) & (most - least <= K_MAX_DYE_SPREAD)
    if resin.any():
        keep = ~resin
        yellow, magenta, cyan = yellow * keep, magenta * keep, cyan * keep
    varnish = np.ones(resin.shape, dtype=bool)
    return ColourPanels(yellow, magenta, cyan, resin, varnish)


def mono_panel(
    image: Image.Image, method: Literal["threshold", "dither"] = "threshold"
) -> NDArray[np.bool_]:
    """K dots for a monochrome ribbon or a K-only back."""
    red, green, blue = (band.astype(np.uint32) for band in _channels(_printer_geometry(image)))
    # ITU-R 601 luma in integers: (299 R + 587 G + 114 B) / 1000.
    luma = (red * 299 + green * 587 + blue * 114) // 1000
    if method == "threshold":
        return np.asarray(luma < MONO_THRESHOLD)
    lines, dots = luma.shape
    tiled = np.tile(_BAYER_8, (lines // 8 + 1, dots // 8 + 1))[:lines, :dots]
    # Threshold per cell in 1..255 steps of 4: a dot where the pixel is darker than the cell.
    return np.asarray(luma * 64 < (tiled + 1) * 256 - 128)


def varnish_panel() -> NDArray[np.bool_]:
    return np.ones((CARD_WIDTH, CARD_HEIGHT), dtype=bool)
