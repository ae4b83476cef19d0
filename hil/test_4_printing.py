"""Cards on blanks (``--allow-consume``): each must move the printer's own counters exactly as
printd's ledger books it (DESIGN §3: YMCKO single side = 1 print, duplex = 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from hil import hands as steps
from hil.printing import assert_ledger_moves, card_request, installed_ribbon, print_and_count
from hil.rig import Rig
from printd.drivers.base import Outcome


@pytest.mark.consumes(1)
def test_prints_the_test_card(
    printer: Rig, figures: Callable[..., None], test_card: dict[str, Image.Image]
) -> None:
    before = printer.hands.witness()
    printed = print_and_count(
        printer, card_request(test_card, installed_ribbon(printer), duplex=False)
    )
    figures(**printed.figures())
    assert printed.result.outcome is Outcome.PRINTED, printed.result
    assert_ledger_moves(printed)
    after = printer.hands.witness()
    if before is not None and after is not None:
        assert after.cards_ejected - before.cards_ejected == 1


@pytest.mark.needs("duplex")
@pytest.mark.consumes(1)
def test_prints_a_duplex_card(
    printer: Rig, figures: Callable[..., None], test_card: dict[str, Image.Image]
) -> None:
    printed = print_and_count(
        printer, card_request(test_card, installed_ribbon(printer), duplex=True)
    )
    figures(**printed.figures())
    assert printed.result.outcome is Outcome.PRINTED, printed.result
    assert_ledger_moves(printed)


@pytest.mark.needs("forced_reject")
@pytest.mark.consumes(1)
def test_a_rejected_card_is_booked_spoiled(
    printer: Rig, figures: Callable[..., None], test_card: dict[str, Image.Image]
) -> None:
    before = printer.hands.witness()
    printer.hands.perform(steps.FORCE_REJECT)
    printed = print_and_count(
        printer, card_request(test_card, installed_ribbon(printer), duplex=False)
    )
    figures(**printed.figures())
    assert printed.result.outcome is Outcome.SPOILED, printed.result
    assert printed.result.reason == "rejected", printed.result
    assert_ledger_moves(printed)  # the blank is spent and the ribbon used all the same
    after = printer.hands.witness()
    if before is not None and after is not None:
        figures(reject_box_delta=after.reject_box - before.reject_box)
        assert after.reject_box - before.reject_box == 1
    printer.hands.perform(steps.EMPTY_REJECT_BOX)
    printer.wait_for(printer.printer_status, lambda s: s.ready, "printer ready after the reject")
