"""Image → panels: geometry, the K rule, the mono path, and refusal of bad images."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from _numpy_oracle import dots_of, levels_of
from PIL import Image

from printd.drivers import raster
from printd.errors import JobError


def _card(colour: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    return Image.new("RGB", (1016, 648), colour)


def _png(image: Image.Image, **options: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def test_rotation_matches_the_open_driver() -> None:
    # pnmflip -rotate270 turns the image 90 degrees clockwise: the image's bottom-left pixel
    # becomes dot 0 of line 0, its top-left pixel the last dot of line 0.
    image = _card()
    image.putpixel((0, 647), (0, 0, 0))  # bottom-left
    image.putpixel((1015, 0), (0, 0, 0))  # top-right
    k = dots_of(raster.colour_panels(image).k)
    assert k.shape == (1016, 648)
    assert k[0, 0]
    assert k[1015, 647]
    assert int(k.sum()) == 2


def test_primary_colours_map_to_dye_levels() -> None:
    panels = raster.colour_panels(_card((255, 0, 0)))  # red = magenta + yellow
    assert int(levels_of(panels.y).max()) == 31
    assert int(levels_of(panels.y).min()) == 31
    assert int(levels_of(panels.m).min()) == 31
    assert int(levels_of(panels.c).max()) == 0
    assert not dots_of(panels.k).any()
    assert dots_of(panels.o).all()
    white = raster.colour_panels(_card())
    assert not levels_of(white.y).any()
    assert not levels_of(white.m).any()
    assert not levels_of(white.c).any()
    assert not dots_of(white.k).any()


def test_k_rule_takes_near_black_neutral_pixels_out_of_ymc() -> None:
    image = _card((200, 180, 40))
    pixels = image.load()
    assert pixels is not None
    for x in range(100):
        pixels[x, 0] = (10, 12, 8)  # near-black, neutral: resin
        pixels[x, 1] = (40, 10, 10)  # dark but red: stays dye
        pixels[x, 2] = (60, 60, 60)  # neutral but grey: stays dye
    panels = raster.colour_panels(image)
    k, y, c = dots_of(panels.k), levels_of(panels.y), levels_of(panels.c)
    line = k[:, 647]  # image row 0 is the last dot of every line
    assert int(line.sum()) == 100
    assert int(k.sum()) == 100
    assert not y[:100, 647].any()
    assert not c[:100, 647].any()
    assert c[:100, 646].all()  # row 1: dye
    assert c[:100, 645].all()  # row 2: dye


def test_mono_threshold_and_dither() -> None:
    image = _card((128, 128, 128))
    grey = image.load()
    assert grey is not None
    for x in range(1016):
        grey[x, 0] = (0, 0, 0)
    assert int(dots_of(raster.mono_panel(image)).sum()) == 1016  # only the black row
    dithered = dots_of(raster.mono_panel(image, "dither"))
    share = float(dithered.mean())
    assert 0.45 < share < 0.55  # mid grey dithers to about half the dots
    assert not dots_of(raster.mono_panel(_card(), "dither")).any()
    assert dots_of(raster.mono_panel(_card((0, 0, 0)), "dither")).all()


def test_load_card_image_accepts_rgb_grey_and_palette() -> None:
    assert raster.load_card_image(_png(_card((1, 2, 3)))).getpixel((5, 5)) == (1, 2, 3)
    grey = raster.load_card_image(_png(Image.new("L", (1016, 648), 77)))
    assert grey.mode == "RGB"
    assert grey.getpixel((0, 0)) == (77, 77, 77)
    palette = _card((10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert raster.load_card_image(_png(palette)).getpixel((9, 9)) == (10, 200, 30)


def test_opaque_alpha_is_dropped_and_transparency_refused() -> None:
    opaque = Image.new("RGBA", (1016, 648), (5, 6, 7, 255))
    assert raster.load_card_image(_png(opaque)).getpixel((0, 0)) == (5, 6, 7)
    clear = opaque.copy()
    clear.putpixel((3, 3), (5, 6, 7, 0))
    with pytest.raises(JobError, match="transparent pixels; flatten it onto white"):
        raster.load_card_image(_png(clear))
    two_colours = _card()
    two_colours.putpixel((0, 0), (0, 0, 0))
    palette = two_colours.convert("P", palette=Image.Palette.ADAPTIVE, colors=2)
    assert palette.getpixel((0, 0)) != palette.getpixel((1, 1))
    palette.putpixel((0, 0), 1)
    index = palette.getpixel((0, 0))
    assert isinstance(index, int)
    with pytest.raises(JobError, match="transparent"):
        raster.load_card_image(_png(palette, transparency=index))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not an image at all", "not an image"),
        (b"", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image"),
    ],
)
def test_bytes_that_are_not_an_image(data: bytes, message: str) -> None:
    with pytest.raises(JobError, match=message):
        raster.load_card_image(data)


def test_wrong_size_names_both_sizes() -> None:
    with pytest.raises(JobError, match=r"image is 648x1016 pixels, expected 1016x648"):
        raster.load_card_image(_png(Image.new("RGB", (648, 1016))))
    with pytest.raises(JobError, match=r"expected 1016x648"):
        raster.colour_panels(Image.new("RGB", (10, 10)))


def test_over_50_mb_is_refused_before_decoding() -> None:
    with pytest.raises(JobError, match="over the 50 MB limit"):
        raster.load_card_image(b"\x00" * (50 * 1024 * 1024 + 1))


def test_cmyk_is_refused_with_a_reason() -> None:
    cmyk = io.BytesIO()
    _card().convert("CMYK").save(cmyk, "JPEG")
    with pytest.raises(JobError, match="mode CMYK is not supported"):
        raster.load_card_image(cmyk.getvalue())


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_decompression_bomb_is_refused_from_the_header() -> None:
    # A tiny PNG that declares 100000 x 100000 pixels: refused before any pixel is inflated.
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    bomb += _chunk(b"IDAT", zlib.compress(b"\x00" * 1_000_000)) + _chunk(b"IEND", b"")
    assert len(bomb) < 5000
    with pytest.raises(JobError) as caught:
        raster.load_card_image(bomb)
    assert "expected 1016x648" in str(caught.value) or "cannot be opened" in str(caught.value)


def test_truncated_png_is_refused_as_damaged() -> None:
    data = _png(Image.effect_noise((1016, 648), 50).convert("RGB"))
    with pytest.raises(JobError, match="damaged"):
        raster.load_card_image(data[: len(data) // 2])


def test_panels_are_card_bands_and_packed_dots() -> None:
    panels = raster.colour_panels(_card((30, 90, 200)))
    for levels in (panels.y, panels.m, panels.c):
        assert levels.card.mode == "L"
        assert levels.card.size == (1016, 648)  # the card as drawn
        assert len(levels.lines()) == 1016 * 648  # one level byte per dot
    for dots in (panels.k, panels.o, raster.mono_panel(_card()), raster.varnish_panel()):
        assert isinstance(dots, bytes)
        assert len(dots) == 1016 * 81  # one bit per dot
    assert levels_of(panels.c)[0, 0] == round((255 - 30) * 31 / 255)
