"""Guided steps: a person (or the simulator's control channel) changes the printer; printd
must see each condition, refuse to feed a blank meanwhile, and recover when it clears."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from PIL import Image

from hil import hands as steps
from hil.printing import card_request, installed_ribbon
from hil.rig import Rig
from printd.drivers.status import Condition, PrinterState, PrinterStatus
from printd.errors import NeedsOperator, TransportError

pytestmark = pytest.mark.manual


def _has(condition: Condition) -> Callable[[PrinterStatus | None], bool]:
    return lambda status: status is not None and condition in status.conditions


def _ready(status: PrinterStatus) -> bool:
    return status.ready


def _condition_round_trip(
    printer: Rig,
    figures: Callable[..., None],
    cards: dict[str, Image.Image],
    *,
    condition: Condition,
    cause: steps.Step,
    cure: steps.Step,
) -> None:
    """Cause a condition, see it over USB (and SNMP), see a print refused, cure it, recover."""
    request = card_request(cards, installed_ribbon(printer), duplex=False)
    fed_before = printer.counters().cards_inserted
    started = time.monotonic()
    printer.hands.perform(cause)
    seen = printer.wait_for(printer.printer_status, _has(condition), f"{condition} over USB")
    seen_after = time.monotonic() - started
    if printer.status_uri is not None:
        printer.wait_for(printer.snmp_status, _has(condition), f"{condition} over SNMP")
    with pytest.raises(NeedsOperator) as refused:
        printer.driver.print_card(request)
    assert refused.value.condition == condition, refused.value
    started = time.monotonic()
    printer.hands.perform(cure)
    printer.wait_for(printer.printer_status, _ready, f"printer ready after {condition} cleared")
    figures(
        seen=seen.detail,
        seconds_to_see=round(seen_after, 2),
        seconds_to_recover=round(time.monotonic() - started, 2),
        refused_with=str(refused.value),
    )
    assert printer.counters().cards_inserted == fed_before, "a blank was fed while refused"


def test_open_cover_is_seen_and_clears(
    printer: Rig, figures: Callable[..., None], test_card: dict[str, Image.Image]
) -> None:
    _condition_round_trip(
        printer,
        figures,
        test_card,
        condition=Condition.COVER_OPEN,
        cause=steps.OPEN_COVER,
        cure=steps.CLOSE_COVER,
    )


def test_empty_hopper_is_seen_and_clears(
    printer: Rig, figures: Callable[..., None], test_card: dict[str, Image.Image]
) -> None:
    _condition_round_trip(
        printer,
        figures,
        test_card,
        condition=Condition.HOPPER_EMPTY,
        cause=steps.EMPTY_HOPPER,
        cure=steps.REFILL_HOPPER,
    )


def test_unplugged_cable_is_seen_and_recovered(
    printer: Rig, figures: Callable[..., None], test_card: dict[str, Image.Image]
) -> None:
    request = card_request(test_card, installed_ribbon(printer), duplex=False)
    identity = printer.driver.connect()
    fed_before = printer.counters().cards_inserted
    started = time.monotonic()
    printer.hands.perform(steps.UNPLUG)
    gone = printer.wait_for(
        printer.printer_status, lambda s: s.state is PrinterState.OFFLINE, "printer offline"
    )
    seen_after = time.monotonic() - started
    with pytest.raises(TransportError):  # the job would keep its place: no blank can move
        printer.driver.print_card(request)
    started = time.monotonic()
    printer.hands.perform(steps.REPLUG)
    printer.wait_for(printer.printer_status, _ready, "printer back and ready after replug")
    again = printer.driver.connect()
    figures(
        offline=gone.detail[:120],
        seconds_to_see=round(seen_after, 2),
        seconds_to_recover=round(time.monotonic() - started, 2),
    )
    assert again.serial == identity.serial, "another printer came back"
    assert printer.counters().cards_inserted == fed_before, "a blank was fed while unplugged"
