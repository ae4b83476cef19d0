"""The link itself: error management handed over and back, and a reconnect after SOFT_RESET."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hil.rig import Rig
from printd.drivers.evolis import codec

PRINTD_MODE = 2  # printd's connect() sends Pem;2: the host manages errors


def test_error_management_set_and_restored(printer: Rig, figures: Callable[..., None]) -> None:
    with printer.link() as link:
        before = link.error_management()
        link.set_error_management(0)
        during = link.error_management()
        seen_during = printer.hands.witness()
        restored = before if before is not None else PRINTD_MODE
        link.set_error_management(restored)
        after = link.error_management()
        seen_after = printer.hands.witness()
    figures(rem_before=before, rem_during=during, rem_after=after, restored_to=restored)
    if before is not None:  # this printer answers Rem: read it back
        assert (during, after) == (0, restored)
    if seen_during is not None and seen_after is not None:
        assert (seen_during.error_management, seen_after.error_management) == (0, restored)
    printer.driver.connect()  # and printd takes errors over again, as in service
    assert printer.printer_status().ready
    witness = printer.hands.witness()
    if witness is not None:
        assert witness.error_management == PRINTD_MODE


@pytest.mark.needs("usb")
def test_reconnects_after_soft_reset(printer: Rig, figures: Callable[..., None]) -> None:
    assert printer.usb is not None
    identity = printer.driver.connect()
    with printer.link() as link:
        # Half a command, as a host that died mid-write leaves it; SOFT_RESET must clear it.
        link.transport.write(b"\x1bRs", printer.command_timeout)
        printer.usb.soft_reset()
        serial = link.ask("Rsn")
    assert serial == codec.Text(identity.serial or ""), f"after SOFT_RESET Rsn answered {serial}"
    again = printer.driver.connect()
    figures(serial=again.serial, firmware=again.firmware)
    assert again == identity
    assert printer.printer_status().ready
