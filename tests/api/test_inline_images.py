"""Inline images (`data:image/png;base64,…`) as the API and the office's queue receive them:
decoded to the very bytes that were sent, and refused with the field's name when the base64
is not strict base64 (a stray character, a line break, missing padding, non-ASCII)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from printd.errors import JobError
from printd.jobfile import DATA_URL_PREFIX, RAW_URL_PREFIX, inline, parse_job
from tests.conftest import EXAMPLES

FRONT = (EXAMPLES / "example-0001-front.png").read_bytes()
BACK = (EXAMPLES / "back.png").read_bytes()


def body(**fields: Any) -> dict[str, Any]:
    return {
        "id": "inline-1",
        "document": "ktp-el",
        "holder": {"nik": "3171010101010001", "name": "CONTOH"},
        **fields,
    }


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_inline_images_decode_to_the_bytes_sent_and_back_again() -> None:
    parsed = parse_job(
        body(front=DATA_URL_PREFIX + encoded(FRONT), back=DATA_URL_PREFIX + encoded(BACK))
    )
    assert parsed.images == (FRONT, BACK)
    assert parsed.spec.sides == 2
    assert parse_job(inline(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (encoded(FRONT)[:100] + "!" + encoded(FRONT)[101:], "a character outside base64"),
        (encoded(FRONT)[:76] + "\n" + encoded(FRONT)[76:], "a line break"),
        (encoded(FRONT).rstrip("=") + "A", "a length that is not a multiple of four"),
        ("é" + encoded(FRONT)[1:], "a non-ASCII character"),
    ],
    ids=["stray-character", "line-break", "bad-length", "non-ascii"],
)
def test_inline_images_that_are_not_strict_base64_are_refused_by_field(
    text: str, what: str
) -> None:
    with pytest.raises(JobError) as refused:
        parse_job(body(front=DATA_URL_PREFIX + encoded(FRONT), back=DATA_URL_PREFIX + text))
    assert str(refused.value) == "back: the inline base64 image is not valid base64", what


def test_an_inline_printer_ready_file_that_is_not_base64_is_refused() -> None:
    with pytest.raises(JobError) as refused:
        parse_job(body(printer_ready=RAW_URL_PREFIX + "AAA*", sides=1))
    assert str(refused.value) == "printer_ready: the inline file is not valid base64"


def test_an_inline_printer_ready_file_decodes_to_the_bytes_sent() -> None:
    data = bytes(range(256)) * 40
    parsed = parse_job(body(printer_ready=RAW_URL_PREFIX + encoded(data), sides=1))
    assert parsed.images == (data,)
