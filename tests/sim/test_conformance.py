"""Each recorded vendor-driver stream prints exactly one card on the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _sim_streams import CAPTURE_SHARES, chunks, ko_bitmap, read_replies

from printd.sim.evolis_model import SimPrinter

COMMANDS_PER_CAPTURE = 10  # Pr Pmi Pc Pdt Mr Ppws Ss Sr Dbc Se;1


@pytest.mark.parametrize("name", sorted(CAPTURE_SHARES))
@pytest.mark.parametrize("seed", [1, 2])
def test_capture_prints_one_card(captures: Path, name: str, seed: int) -> None:
    stream = (captures / name).read_bytes()
    printer = SimPrinter(ribbon_type="kb", ribbon_capacity=1000)
    for piece in chunks(stream, np.random.default_rng(seed), largest=3000):
        printer.write(piece)

    replies = read_replies(printer.read, COMMANDS_PER_CAPTURE)
    assert replies == ["OK"] * COMMANDS_PER_CAPTURE
    assert printer.read(64, 0.05) == b""
    snap = printer.snapshot()
    assert (snap.cards_inserted, snap.cards_ejected, snap.cards_rejected) == (1, 1, 0)
    assert (snap.hopper, snap.ribbon_remaining, snap.panels_printed) == (99, 999, 1)
    card = printer.last_card()
    assert card is not None
    assert card.outcome == "ejected"
    assert list(card.sides) == ["front"]
    k = ko_bitmap(card["front"]["k"])  # checks the size: 81 bytes for each of 1016 lines
    assert abs(100 * k.mean() - CAPTURE_SHARES[name]) <= 0.1


def test_byte_at_a_time_equals_one_write(captures: Path) -> None:
    stream = (captures / "evolis-card-text").read_bytes()
    whole, bytewise = SimPrinter(), SimPrinter()
    whole.write(stream)
    for i in range(len(stream)):
        bytewise.write(stream[i : i + 1])
    assert read_replies(bytewise.read, COMMANDS_PER_CAPTURE) == ["OK"] * COMMANDS_PER_CAPTURE
    a, b = whole.last_card(), bytewise.last_card()
    assert a is not None and b is not None
    assert a["front"]["k"] == b["front"]["k"]


def test_truncated_capture_prints_nothing(captures: Path) -> None:
    stream = (captures / "card-gradient").read_bytes()
    cut = stream.index(b"\x1bSe;1")
    printer = SimPrinter()
    printer.write(stream[: cut - 100])  # the Dbc payload never completes
    assert read_replies(printer.read, 8) == ["OK"] * 8
    assert printer.read(64, 0.05) == b""
    snap = printer.snapshot()
    assert (snap.cards_inserted, snap.cards_ejected, snap.card_position) == (1, 0, "printing")
