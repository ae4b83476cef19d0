"""Every error word of the codec's vocabulary, answered at each point of a card.

Before and at `Ss` a word is a refusal: no blank moved, so the job waits (NeedsOperator) or
fails as sent (JobError), never an unknown outcome. During the downloads and at `Se` the blank
is inside, so the card is spoiled or its outcome unknown, as the word's fault says.
"""

from __future__ import annotations

import pytest
from _scripted import IDENTITY, ScriptedTransport
from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis import codec
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY
from printd.drivers.status import Condition
from printd.errors import JobError, NeedsOperator

OK = b"OK\r"
WORDS = [*codec.VOCABULARY, "ERR SOMETHING NEW"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _card() -> CardRequest:
    return CardRequest("j", Image.new("RGB", (1016, 648), "white"), None, "kb")


def _driver(
    replies: list[bytes | Exception], identity: list[bytes | Exception] = IDENTITY
) -> tuple[EvolisDriver, ScriptedTransport, Clock]:
    clock = Clock()
    transport = ScriptedTransport([*identity, *replies])
    driver = EvolisDriver(transport, PRIMACY, command_timeout=0.2, print_timeout=0.2, clock=clock)
    return driver, transport, clock


@pytest.mark.parametrize("words", WORDS)
@pytest.mark.parametrize("point", ["Pr", "Pcim", "Ss"])
def test_a_word_before_the_blank_moves_keeps_the_job_waiting(point: str, words: str) -> None:
    before = {"Pr": [], "Pcim": [OK], "Ss": [OK, OK]}[point]
    driver, transport, _ = _driver([*before, words.encode() + b"\r"])
    expected = JobError if codec.ErrorReply(words).fault is codec.Fault.JOB_FAULT else NeedsOperator
    with pytest.raises(expected) as caught:
        driver.print_card(_card())
    assert words in str(caught.value)  # the operator reads the printer's own words
    assert transport.written[-1].startswith(f"\x1b{point}".encode())


@pytest.mark.parametrize("words", WORDS)
@pytest.mark.parametrize("point", ["Sr", "Dbc", "Se"])
def test_a_word_once_the_blank_is_inside_spoils_or_is_unknown(point: str, words: str) -> None:
    before = {"Sr": [OK, OK, OK], "Dbc": [OK, OK, OK, OK], "Se": [OK, OK, OK, OK, OK]}[point]
    driver, _, _ = _driver([*before, words.encode() + b"\r", OK])
    result = driver.print_card(_card())
    fault = codec.ErrorReply(words).fault
    if fault is codec.Fault.OUTCOME_UNKNOWN and point == "Se":
        assert result.outcome is Outcome.UNKNOWN
    else:
        assert result.outcome in (Outcome.SPOILED, Outcome.UNKNOWN)
        assert result.outcome is not Outcome.PRINTED
    assert result.ribbon_prints == 1


def test_a_refusal_is_shown_until_its_backoff_step_ends_then_tried_once_more() -> None:
    refused = b"NEED CLEANING\r"
    # status reads after the refusal: Rse;f, Rr, Rco;l, Rse;o (each probe answered at connect).
    status = [b"5,00 Volts\r", b"KB\r", b"100\r", b"5,00 Volts\r"]
    driver, transport, clock = _driver([OK, OK, refused, *status, *status])
    with pytest.raises(NeedsOperator):
        driver.print_card(_card())
    shown = driver.status()
    assert shown.conditions == {Condition.SERVICE_REQUESTED}
    assert "NEED CLEANING" in shown.detail
    clock.now += 5.0  # the first backoff step
    assert driver.status().conditions == frozenset()
    assert sum(frame == b"\x1bSs\r" for frame in transport.written) == 1


def test_backoff_doubles_while_the_printer_keeps_refusing() -> None:
    refused = b"ERROR CDE\r"
    status = [b"5,00 Volts\r", b"KB\r", b"100\r", b"5,00 Volts\r"]
    driver, _, clock = _driver([OK, OK, refused, *status, OK, OK, refused, *status, *status])
    with pytest.raises(NeedsOperator):
        driver.print_card(_card())
    clock.now += 5.0
    assert driver.status().conditions == frozenset()
    with pytest.raises(NeedsOperator):
        driver.print_card(_card())
    clock.now += 5.0
    assert driver.status().conditions == {Condition.SERVICE_REQUESTED}
    clock.now += 5.0
    assert driver.status().conditions == frozenset()


def test_a_loaded_feeder_ends_an_empty_feeder_refusal_at_once() -> None:
    driver, transport, _ = _driver(
        [OK, OK, b"FEEDER EMPTY\r", b"0,00 Volts\r", b"KB\r", b"100\r", b"5,00 Volts\r"]
    )
    with pytest.raises(NeedsOperator):
        driver.print_card(_card())
    assert Condition.HOPPER_EMPTY in driver.status().conditions
    more = [b"5,00 Volts\r", b"KB\r", b"100\r", b"5,00 Volts\r"]
    transport.replies.extend(more)
    assert driver.status().conditions == frozenset()


def test_a_firmware_without_pcim_is_given_pmi_and_the_choice_is_kept() -> None:
    identity = [*IDENTITY[:-1], b"ERROR CDE\r", OK]  # Pcim;F refused, Pmi;F;s accepted
    driver, transport, _ = _driver([OK, OK, OK, OK, OK, OK], identity)
    assert driver.print_card(_card()).outcome is Outcome.PRINTED
    assert driver.supported["Pcim;F"] is False
    assert driver.supported["Pmi;F;s"] is True
    sent = [f for f in transport.written if f.startswith((b"\x1bPcim", b"\x1bPmi"))]
    assert sent == [b"\x1bPcim;F\r", b"\x1bPmi;F;s\r", b"\x1bPmi;F;s\r"]
    assert "Pcim;F refused" in driver.commands_summary()


def test_a_status_read_the_firmware_refuses_is_not_asked_again() -> None:
    identity = [*IDENTITY[:4], b"ERROR CDE\r", *IDENTITY[5:]]  # Rse;f refused
    driver, transport, _ = _driver([b"KB\r", b"100\r", b"5,00 Volts\r"] * 2, identity)
    driver.connect()
    driver.status()
    driver.status()
    assert sum(f == b"\x1bRse;f\r" for f in transport.written) == 1


def _connect_with_card_inside(after: list[bytes | Exception]) -> ScriptedTransport:
    identity = [*IDENTITY[:5], b"CARD\r", *IDENTITY[6:]]  # Rlr;p finds a card inside
    transport = ScriptedTransport([*identity, *after])
    EvolisDriver(transport, PRIMACY, command_timeout=0.2).connect()
    return transport


def test_a_card_the_reset_left_inside_is_ejected_explicitly() -> None:
    transport = _connect_with_card_inside([OK, OK, b"CARD\r", OK])  # Srs, Pem;2, Rlr;p, Ser
    assert transport.written[-4:] == [b"\x1bSrs\r", b"\x1bPem;2\r", b"\x1bRlr;p\r", b"\x1bSer\r"]


def test_a_card_the_reset_cleared_is_not_ejected_again() -> None:
    transport = _connect_with_card_inside([OK, OK, OK])  # Srs, Pem;2, Rlr;p = no card
    assert transport.written[-1] == b"\x1bRlr;p\r"


def test_a_jammed_card_is_not_reset_away_from_the_operator() -> None:
    jam = b"ERR MECHANICAL\r"
    driver, transport, _ = _driver([OK, OK, OK, OK, OK, jam])
    assert driver.print_card(_card()).condition is Condition.JAM
    driver.close()
    transport.replies.extend([*IDENTITY[:5], b"CARD\r", *IDENTITY[6:]])
    driver.connect()
    assert b"\x1bSrs\r" not in transport.written
