"""Card images → ribbon panels, with Pillow's C loops (point tables, ImageChops, raw packers).

A job's side is an RGB image of 1016 x 648 (CR-80 landscape at 300 dpi). The print head lays
648 dots across the card and prints 1016 lines along it, turned 90° clockwise from the image,
as the open Evolis driver does (`pnmflip -rotate270`): panel line 0 is the image's left column
read from bottom to top.

Nothing here turns an image: every step works on the card as drawn. Y/M/C panels
(`codec.LevelPanel`) are the image's bands of dye levels (0..31), and the codec's packers
read them in that orientation; K/O panels (`codec.DotPanel`) are packed straight from masks
into printer order, one bit per dot, 81 bytes a line: the `Db;k;2` payload itself.

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
from typing import Final, Literal

from PIL import Image, ImageChops, UnidentifiedImageError

from printd.drivers.evolis.codec import (
    CARD_SIZE,
    LINE_BYTES_1BIT,
    PANEL_LINES,
    DotPanel,
    LevelPanel,
    pack_dot_mask,
)
from printd.errors import JobError

CARD_WIDTH: Final = 1016
CARD_HEIGHT: Final = 648
MAX_IMAGE_BYTES: Final = 50 * 1024 * 1024
K_MIN_DYE: Final = 26  # near-black: every dye at least this (of 31), i.e. channels <= about 40
K_MAX_DYE_SPREAD: Final = 3  # neutral: dyes within this many levels (about 25 of 255)
MONO_THRESHOLD: Final = 128  # luminance below this is a dot
COLOUR_LEVELS: Final = 32
DOT: Final = 255  # a set pixel in the 0/255 masks that become K and O panels

NO_DOTS: Final = DotPanel(bytes(LINE_BYTES_1BIT * PANEL_LINES))
ALL_DOTS: Final = DotPanel(b"\xff" * (LINE_BYTES_1BIT * PANEL_LINES))

# 255 - v scaled onto 0..31, rounded: an ink amount per 8-bit channel value.
_INK_LUT: Final = [round((255 - v) * (COLOUR_LEVELS - 1) / 255) for v in range(256)]
_INK_TABLE: Final = _INK_LUT * 3  # Image.point wants one 256-entry table per band

# The K rule as one table lookup on a sum: every window of K_MAX_DYE_SPREAD + 1 dark levels
# gets a 2-bit counter in a dye's code; a pixel is resin when one counter reaches 3, i.e. all
# three dyes fall in the same window. Levels below K_MIN_DYE count nowhere, and three dyes
# never carry a counter past 3, so the sum of the three codes never overflows its byte.
_K_WINDOWS: Final = tuple(range(K_MIN_DYE, COLOUR_LEVELS - K_MAX_DYE_SPREAD))  # lowest levels
_WINDOW_CODE: Final = [
    sum(1 << 2 * i for i, low in enumerate(_K_WINDOWS) if low <= v <= low + K_MAX_DYE_SPREAD)
    for v in range(256)
]
_RESIN_OF_CODES: Final = [
    DOT if any((total >> 2 * i) & 3 == 3 for i in range(len(_K_WINDOWS))) else 0
    for total in range(256)
]

# Where `_take_resin` looks for near-black pixels, one bounding box per quarter of the card.
_QUARTERS: Final = tuple(
    (left, top, left + CARD_WIDTH // 2, top + CARD_HEIGHT // 2)
    for top in (0, CARD_HEIGHT // 2)
    for left in (0, CARD_WIDTH // 2)
)

# ITU-R 601 luma, floor((299 R + 587 G + 114 B) / 1000). Pillow's matrix conversion adds 0.5
# and truncates; the offset puts every exact thousandth 0.0005 above its floor, far more than
# the float error, so the result is the integer formula's (checked for all 2**24 colours).
_LUMA_MATRIX: Final = (0.299, 0.587, 0.114, 0.0005 - 0.5)
_BELOW_THRESHOLD: Final = [DOT if v < MONO_THRESHOLD else 0 for v in range(256)]
_BAYER_8: Final = (
    (0, 32, 8, 40, 2, 34, 10, 42),
    (48, 16, 56, 24, 50, 18, 58, 26),
    (12, 44, 4, 36, 14, 46, 6, 38),
    (60, 28, 52, 20, 62, 30, 54, 22),
    (3, 35, 11, 43, 1, 33, 9, 41),
    (51, 19, 59, 27, 49, 17, 57, 25),
    (15, 47, 7, 39, 13, 45, 5, 37),
    (63, 31, 55, 23, 61, 29, 53, 21),
)
# A dot where luma * 64 < (cell + 1) * 256 - 128, i.e. luma < 4 * cell + 2. The matrix is laid
# on the panel (cell [line % 8][dot % 8]); in the card image line x is column x and dot d is
# row 647 - d, so image row y uses the matrix column (647 - y) % 8 = 7 - y % 8.
_BAYER_ROWS: Final = tuple(
    bytes(4 * _BAYER_8[x % 8][7 - y] + 2 for x in range(CARD_WIDTH)) for y in range(8)
)
_ANY_DOT: Final = [DOT if v else 0 for v in range(256)]

# Modes whose conversion to RGB loses nothing; others are refused with the reason.
_LOSSLESS_TO_RGB: Final = frozenset({"RGB", "L", "1", "P"})
_ALPHA_MODES: Final = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True, slots=True)
class ColourPanels:
    """One side for a YMCKO ribbon: 1016 lines x 648 dots each."""

    y: LevelPanel
    m: LevelPanel
    c: LevelPanel
    k: DotPanel
    o: DotPanel


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
        if image.getchannel("A").getextrema() != (255, 255):  # some pixel is not opaque
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


def colour_panels(image: Image.Image) -> ColourPanels:
    # One C pass maps every channel to its dye amount (R to C, G to M, B to Y).
    cyan, magenta, yellow = _card_rgb(image).point(_INK_TABLE).split()
    resin = _take_resin(cyan, magenta, yellow)
    return ColourPanels(
        LevelPanel(yellow),
        LevelPanel(magenta),
        LevelPanel(cyan),
        NO_DOTS if resin is None else pack_dot_mask(resin),
        varnish_panel(),
    )


def _take_resin(*dyes: Image.Image) -> Image.Image | None:
    """The K mask (255 = resin) of the dye bands, its pixels cleared from the bands in place;
    None when no pixel is near-black and neutral.

    Three dyes of at least K_MIN_DYE add up to 3 * K_MIN_DYE or more: a cheap test on the whole
    card that leaves photos' light areas, flat colours and white space out. The K rule's table
    lookups run only on the bounding box of what passes, in each quarter of the card, so text
    and a photo in different quarters do not make one box of the whole card.
    """
    cyan, magenta, yellow = dyes
    reach = Image.new("L", CARD_SIZE, 128 - 3 * K_MIN_DYE)  # a sum this far from 128 passes
    total = ImageChops.add_modulo(ImageChops.add_modulo(cyan, magenta), yellow)
    candidates = ImageChops.add_modulo(total, reach).convert("1", dither=Image.Dither.NONE)
    resin: Image.Image | None = None
    for quarter in _QUARTERS:
        found = candidates.crop(quarter).getbbox()
        if found is None:
            continue
        left, top = quarter[:2]
        box = (left + found[0], top + found[1], left + found[2], top + found[3])
        crops = [dye.crop(box) for dye in dyes]
        mask = _resin_rule(*crops)
        if mask.getbbox() is None:
            continue
        if resin is None:
            resin = Image.new("L", CARD_SIZE)
        resin.paste(mask, box)
        dye_allowed = ImageChops.invert(mask)  # 255 where a dye may print, 0 under resin
        for dye, crop in zip(dyes, crops, strict=True):
            dye.paste(ImageChops.darker(crop, dye_allowed), box)
    return resin


def _resin_rule(cyan: Image.Image, magenta: Image.Image, yellow: Image.Image) -> Image.Image:
    codes = ImageChops.add_modulo(cyan.point(_WINDOW_CODE), magenta.point(_WINDOW_CODE))
    return ImageChops.add_modulo(codes, yellow.point(_WINDOW_CODE)).point(_RESIN_OF_CODES)


def mono_panel(
    image: Image.Image, method: Literal["threshold", "dither"] = "threshold"
) -> DotPanel:
    """K dots for a monochrome ribbon or a K-only back."""
    luma = _card_rgb(image).convert("L", matrix=_LUMA_MATRIX)
    if method == "threshold":
        return pack_dot_mask(luma.point(_BELOW_THRESHOLD))
    cells = Image.frombytes(
        "L", CARD_SIZE, b"".join(_BAYER_ROWS[row % 8] for row in range(CARD_HEIGHT))
    )
    # Clipped at 0, the difference is positive exactly where the pixel is darker than its cell.
    return pack_dot_mask(ImageChops.subtract(cells, luma).point(_ANY_DOT))


def varnish_panel() -> DotPanel:
    return ALL_DOTS
