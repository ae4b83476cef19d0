"""Draw the HIL test cards: ``python hil/cards/make_cards.py`` rewrites the PNGs beside it.

Both are CR-80 at 300 dpi, landscape, 1016 × 648, and carry no personal data. The front checks
colour (Y/M/C/R/G/B/K bars, a grey ramp), registration (a 2-dot border, corner marks) and
resolution (1-dot line pairs); the back is black only, as a KTP-el back is, with text and bars.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1016, 648
HERE = Path(__file__).resolve().parent
FRONT = HERE / "test-card-front.png"
BACK = HERE / "test-card-back.png"
BARS = [
    (255, 255, 0),
    (255, 0, 255),
    (0, 255, 255),
    (255, 0, 0),
    (0, 160, 0),
    (0, 0, 255),
    (0, 0, 0),
    (255, 255, 255),
]


def _frame(
    draw: ImageDraw.ImageDraw, label: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont
) -> None:
    draw.rectangle((0, 0, WIDTH - 1, HEIGHT - 1), outline=(0, 0, 0), width=2)
    for x, y in ((12, 12), (WIDTH - 52, 12), (12, HEIGHT - 52), (WIDTH - 52, HEIGHT - 52)):
        draw.line((x, y + 20, x + 40, y + 20), fill=(0, 0, 0), width=2)
        draw.line((x + 20, y, x + 20, y + 40), fill=(0, 0, 0), width=2)
    draw.text((70, 20), label, fill=(0, 0, 0), font=font)


def front() -> Image.Image:
    card = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(card)
    font = ImageFont.load_default(size=36)
    _frame(draw, "printd HIL test card - FRONT (top left)", font)
    bar = (WIDTH - 140) // len(BARS)
    for i, colour in enumerate(BARS):
        draw.rectangle((70 + i * bar, 90, 70 + (i + 1) * bar - 1, 290), fill=colour)
    draw.rectangle((70, 90, 70 + len(BARS) * bar - 1, 290), outline=(0, 0, 0), width=1)
    for step in range(32):  # 32 grey levels, as the printer's colour panels carry
        level = round(255 * step / 31)
        x = 70 + step * 27
        draw.rectangle((x, 320, x + 26, 400), fill=(level, level, level))
    for i in range(60):  # line pairs: 1-dot lines 1 dot apart, then 2-dot lines
        x = 70 + i * 2
        draw.line((x, 430, x, 560), fill=(0, 0, 0), width=1)
        draw.line((250 + i * 4, 430, 250 + i * 4, 560), fill=(0, 0, 0), width=2)
    draw.text((520, 470), "1016 x 648 @ 300 dpi", fill=(0, 0, 0), font=font)
    return card


def back() -> Image.Image:
    card = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(card)
    font = ImageFont.load_default(size=36)
    _frame(draw, "printd HIL test card - BACK (black only)", font)
    small = ImageFont.load_default(size=24)
    for row in range(5):
        draw.text(
            (70, 100 + row * 44), "ABCDEFGHIJKLM 0123456789 nopqrstuvwxyz", fill=0, font=small
        )
    x = 70
    for width in [2, 4, 2, 6, 2, 2, 4, 8, 2, 4] * 8:  # a barcode-like strip of 2..8-dot bars
        draw.rectangle((x, 450, x + width - 1, 580), fill=(0, 0, 0))
        x += width * 2
    return card


def main() -> int:
    front().save(FRONT, optimize=True)
    back().save(BACK, optimize=True)
    for path in (FRONT, BACK):
        sys.stdout.write(f"{path} {path.stat().st_size} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
