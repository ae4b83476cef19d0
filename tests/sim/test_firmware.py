"""Firmware profiles: each answers what its sources describe, not what printd expects."""

from __future__ import annotations

import pytest
from _sim_streams import card, dbc, esc, ko_compress, random_k, read_replies

from printd.sim.evolis_model import SimPrinter
from printd.sim.firmware import FIRMWARES

CARD_REPLIES = 6  # one card's stream as `card` builds it: six commands, six replies


def ask(printer: SimPrinter, *commands: str) -> list[str]:
    printer.write(b"".join(esc(c) for c in commands))
    return read_replies(printer.read, len(commands))


@pytest.mark.parametrize("name", sorted(FIRMWARES))
def test_every_firmware_refuses_what_it_does_not_know_with_error_cde(name: str) -> None:
    printer = SimPrinter(firmware_profile=name)
    refused = sorted(FIRMWARES[name].refused)
    assert ask(printer, "Rst", "Zz", "Pxyz", *refused) == ["ERROR CDE"] * (3 + len(refused))


def test_older_firmware_answers_bare_words() -> None:
    printer = SimPrinter(firmware_profile="bare-words", hopper=0)
    assert ask(printer, "Ss") == ["FEEDER EMPTY"]
    printer.load_blanks(1)
    printer.open_cover()
    assert ask(printer, "Ss") == ["COVER OPEN"]
    printer.close_cover()
    printer.inject("jam")
    printer.write(card([dbc("k", ko_compress(random_k(0)))]))
    assert read_replies(printer.read, CARD_REPLIES)[-1] == "CARD JAM"


def test_feeder_selection_per_firmware() -> None:
    assert ask(SimPrinter(firmware_profile="no-pmi"), "Pcim;F", "Pmi;F;s") == ["OK", "ERROR CDE"]
    assert ask(SimPrinter(firmware_profile="pmi-only"), "Pcim;F", "Pmi;F;s") == ["ERROR CDE", "OK"]


def test_head_cooling_pauses_every_third_card() -> None:
    printer = SimPrinter(firmware_profile="head-cooling")
    for _ in range(2):
        printer.write(card([dbc("k", ko_compress(random_k(0)))]))
        assert read_replies(printer.read, CARD_REPLIES)[-1] == "OK"
    printer.write(card([dbc("k", ko_compress(random_k(0)))]))
    assert read_replies(printer.read, CARD_REPLIES - 1) == ["OK"] * (CARD_REPLIES - 1)
    assert printer.read(16, 0.05) == b""  # Se still waits while the head cools
    assert read_replies(printer.read, 1) == ["OK"]


def test_an_unknown_firmware_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown simulated firmware 'x'; one of bare-words"):
        SimPrinter(firmware_profile="x")


def test_slow_wake_answers_late_after_standby_then_at_once() -> None:
    printer = SimPrinter(firmware_profile="slow-wake")
    wake = printer.profile.wake_seconds
    printer.write(esc("Rfv"))
    assert printer.read(64, wake / 2) == b""  # still heating: the first answer is late
    first = read_replies(printer.read, 1)
    assert first != ["ERROR CDE"]
    printer.write(esc("Rfv"))
    assert printer.read(64, 0.0).decode().rstrip("\r") == first[0]  # awake: no wait at all


def test_a_full_output_hopper_answers_hopper_full_until_emptied() -> None:
    printer = SimPrinter(firmware_profile="output-hopper-full")
    for _ in range(printer.profile.output_capacity):
        printer.write(card([dbc("k", ko_compress(random_k(0)))]))
        assert read_replies(printer.read, CARD_REPLIES)[-1] == "OK"
    fed = printer.snapshot().cards_inserted
    assert ask(printer, "Ss") == ["ERR HOPPER FULL"]
    printer.write(card([dbc("k", ko_compress(random_k(0)))]))
    assert "ERR HOPPER FULL" in read_replies(printer.read, CARD_REPLIES)
    assert printer.snapshot().cards_inserted == fed  # held: no blank moved
    printer.empty_output_hopper()
    assert ask(printer, "Ss") != ["ERR HOPPER FULL"]


def test_a_small_reject_box_says_almost_full_then_refuses_cards_until_emptied() -> None:
    printer = SimPrinter(firmware_profile="reject-box-small")
    assert ask(printer, "Rlr;h") == ["NO CARD"]
    for expected in ("CARD", "CARD"):  # one card in: almost full; two: full
        printer.inject("reject")
        printer.write(card([dbc("k", ko_compress(random_k(0)))]))
        assert read_replies(printer.read, CARD_REPLIES)[-1] != "OK"
        assert ask(printer, "Rlr;h") == [expected]
    fed = printer.snapshot().cards_inserted
    assert ask(printer, "Ss") == ["ERR REJECT BOX FULL"]
    assert printer.snapshot().cards_inserted == fed  # refused: no blank moved
    printer.empty_reject_box()
    assert ask(printer, "Rlr;h") == ["NO CARD"]


def test_a_ribbon_mismatch_is_refused_at_ss_and_a_match_is_fed() -> None:
    printer = SimPrinter(ribbon_type="kb", firmware_profile="ribbon-mismatch")
    assert ask(printer, "Pr;ymcko") == ["OK"]
    assert ask(printer, "Ss") == ["ERR BAD RIBBON"]
    assert printer.snapshot().cards_inserted == 0
    assert ask(printer, "Pr;kb") == ["OK"]
    assert ask(printer, "Ss") == ["OK"]
    assert printer.snapshot().cards_inserted == 1


def test_a_card_left_on_eject_holds_the_next_until_it_is_taken() -> None:
    printer = SimPrinter(firmware_profile="card-on-eject")
    printer.write(card([dbc("k", ko_compress(random_k(0)))]))
    assert read_replies(printer.read, CARD_REPLIES)[-1] == "OK"
    assert ask(printer, "Ss") == ["ERROR"]
    assert printer.snapshot().cards_inserted == 1  # refused: no blank moved
    printer.take_card()
    assert ask(printer, "Ss") == ["OK"]
    assert printer.snapshot().cards_inserted == 2
