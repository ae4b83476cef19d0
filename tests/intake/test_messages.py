"""One message from the office's stream, decoded: what the store could never keep is a dead
letter (malformed), never a fetch that fails again on every delivery."""

from __future__ import annotations

from pathlib import Path

import pytest

from printd.intake.messages import Rejected, decode
from printd.queue.store import Store
from tests.intake.conftest import card_png, job, payload

FRONT = card_png()


@pytest.mark.parametrize(
    "data",
    [
        # A lone surrogate is valid JSON text but no Unicode string SQLite can store.
        payload(job("lone", FRONT)).replace(b"WARGA lone", b"WARGA \\ud800"),
        payload(job("nan", FRONT)).replace(b'"ktp-el"', b"NaN"),
        b"{not json",
        b"\xff\xfe",
    ],
    ids=["lone-surrogate", "nan", "broken", "not-utf8"],
)
def test_what_the_store_could_never_keep_is_malformed(data: bytes) -> None:
    decoded = decode(data, max_bytes=10**7, drivers=["evolis"])
    assert isinstance(decoded, Rejected)
    assert decoded.kind == "malformed"
    assert decoded.reason.startswith("not JSON: ")


def test_a_good_message_is_stored_as_sent(tmp_path: Path) -> None:
    body = job("good", FRONT)
    body["holder"]["name"] = "WARGA Ñoño 李"  # any real Unicode text is kept
    decoded = decode(payload(body), max_bytes=10**7, drivers=["evolis"])
    assert not isinstance(decoded, Rejected)
    (parsed,) = decoded
    store = Store(tmp_path / "state")
    store.open()
    try:
        store.submit_many([(parsed.spec, parsed.images)], actor="intake")
        assert store.holder("good")["name"] == "WARGA Ñoño 李"
    finally:
        store.close()
