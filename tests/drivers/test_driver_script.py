"""Driver edge cases the simulator does not produce, over a scripted transport.

The script answers each written command with the next reply in its list (bytes, or an
exception to raise), one byte per read, so framing across reads is exercised too.
"""

from __future__ import annotations

import pytest
from _scripted import IDENTITY, ScriptedTransport
from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis import codec
from printd.drivers.evolis.driver import EvolisDriver, ribbon_prints
from printd.drivers.profiles import PRIMACY
from printd.errors import DeviceGone, JobError, NeedsOperator, TransportError


def _mono_card(back: bool = False) -> CardRequest:
    white = Image.new("RGB", (1016, 648), "white")
    return CardRequest("j", white, white if back else None, "kb")


def _driver(replies: list[bytes | Exception]) -> tuple[EvolisDriver, ScriptedTransport]:
    transport = ScriptedTransport(IDENTITY + replies)
    return EvolisDriver(transport, PRIMACY, command_timeout=0.2, print_timeout=0.2), transport


def test_the_whole_byte_stream_of_a_mono_card() -> None:
    ok = b"OK\r"
    driver, transport = _driver([ok, ok, ok, ok, ok, ok])
    result = driver.print_card(_mono_card())
    assert result.outcome is Outcome.PRINTED
    blank = b"\x1bDbc;k;2;1016;" + bytes(1016) + b"\r"
    assert transport.written == [
        b"\x1bRtp\r",
        b"\x1bRsn\r",
        b"\x1bRfv\r",
        b"\x1bPem;2\r",
        b"\x1bRse;f\r",
        b"\x1bRlr;p\r",
        b"\x1bRr\r",
        b"\x1bRco;l\r",
        b"\x1bRse;o\r",
        b"\x1bPcim;F\r",
        b"\x1bPr;kb\r",
        b"\x1bPcim;F\r",
        b"\x1bSs\r",
        b"\x1bSr\r",
        blank,
        b"\x1bSe\r",
    ]


def test_colour_duplex_frames_in_guide_order() -> None:
    photo = Image.new("RGB", (1016, 648), (10, 100, 200))
    driver, _ = _driver([])
    frames = driver.downloads_for(CardRequest("j", photo, photo, "ymcko"))
    heads = [frame[:10] for _, frame in frames]
    front = [b"\x1bSr\r", b"\x1bDb;y;32;", b"\x1bDb;m;32;", b"\x1bDb;c;32;"]
    assert [h[: len(f)] for h, f in zip(heads[:4], front, strict=True)] == front
    assert heads[4].startswith(b"\x1bDbc;k;2;")
    assert heads[5].startswith(b"\x1bDbc;o;2;")
    assert heads[6] == b"\x1bSv\r"
    assert len(frames) == 12
    k_back = driver.downloads_for(CardRequest("j", photo, photo, "ymckok"))
    assert [name for name, _ in k_back] == ["Sr", "Db", "Db", "Db", "Dbc", "Dbc", "Sv", "Dbc"]


def test_compressed_colour_is_used_when_asked() -> None:
    photo = Image.new("RGB", (1016, 648), (10, 100, 200))
    driver = EvolisDriver(ScriptedTransport([]), PRIMACY, compress_colour=True)
    frames = driver.downloads_for(CardRequest("j", photo, None, "ymcko"))
    command = codec.split_stream(frames[1][1])[0]
    assert command.name == "Dbc"
    assert command.params[:2] == ("y", "32")
    panel = codec.decode_panel(command)
    assert isinstance(panel, codec.LevelPanel)
    assert panel.lines() == bytes([7]) * (1016 * 648)  # blue 200: round(55 * 31 / 255) = 7


def test_err_param_on_ribbon_is_a_job_error() -> None:
    driver, _ = _driver([b"ERR PARAM\r"])
    with pytest.raises(JobError, match="refused Pr"):
        driver.print_card(_mono_card())


def test_err_condition_at_ss_needs_operator() -> None:
    driver, _ = _driver([b"OK\r", b"OK\r", b"ERR FEEDER EMPTY\r"])
    with pytest.raises(NeedsOperator) as caught:
        driver.print_card(_mono_card())
    assert caught.value.condition == "hopper_empty"


def test_no_answer_to_ss_is_unknown() -> None:
    driver, _ = _driver([b"OK\r", b"OK\r", b""])
    result = driver.print_card(_mono_card())
    assert result.outcome is Outcome.UNKNOWN
    assert result.reason is not None
    assert "Ss" in result.reason


def test_device_gone_mid_download_is_unknown() -> None:
    driver, transport = _driver([b"OK\r", b"OK\r", b"OK\r", b"OK\r", DeviceGone("unplugged")])
    result = driver.print_card(_mono_card())
    assert result.outcome is Outcome.UNKNOWN
    assert transport.closed >= 2  # the link was dropped


def test_err_cmd_on_a_download_ejects_and_spoils() -> None:
    driver, transport = _driver([b"OK\r", b"OK\r", b"OK\r", b"OK\r", b"ERR CMD\r", b"OK\r"])
    result = driver.print_card(_mono_card())
    assert result.outcome is Outcome.SPOILED
    assert result.reason == "printer_error"
    assert transport.written[-1] == b"\x1bSe\r"


def test_garbage_before_feed_is_a_transport_error_and_drops_the_link() -> None:
    driver, transport = _driver([b"\xfe\x81?\r"])
    with pytest.raises(TransportError, match="not understood"):
        driver.print_card(_mono_card())
    assert b"\x1bSs\r" not in transport.written


def test_no_status_command_is_sent_and_no_rst_ever() -> None:
    ok = b"OK\r"
    driver, transport = _driver([ok, ok, ok, ok, ok, ok])
    assert driver.print_card(_mono_card()).outcome is Outcome.PRINTED
    assert not any(frame.startswith(b"\x1bRst") for frame in transport.written)


@pytest.mark.parametrize(
    ("ribbon", "back", "prints"),
    [
        ("ymcko", False, 1),
        ("ymcko", True, 2),
        ("ymckos", True, 2),
        ("ymckok", True, 1),
        ("ko", True, 2),
        ("kb", False, 1),
        ("kb", True, 2),
    ],
)
def test_ribbon_rule(ribbon: str, back: bool, prints: int) -> None:
    assert ribbon_prints(ribbon, back) == prints
