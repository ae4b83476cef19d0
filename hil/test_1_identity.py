"""Who the printer is: the command set and the USB device id must name the same printer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hil.rig import Rig
from printd.drivers.evolis import codec
from printd.drivers.status import Condition


def test_identity_over_the_command_set(printer: Rig, figures: Callable[..., None]) -> None:
    identity = printer.driver.connect()
    figures(model=identity.model, serial=identity.serial, firmware=identity.firmware)
    assert identity.model, "Rtp gave no model name"
    assert identity.serial, "Rsn gave no serial number"
    assert identity.firmware, "Rfv gave no firmware version"
    witness = printer.hands.witness()
    if witness is not None:
        assert (identity.model, identity.serial, identity.firmware) == (
            witness.model,
            witness.serial,
            witness.firmware,
        )


@pytest.mark.needs("usb")
def test_device_id_names_the_same_printer(printer: Rig, figures: Callable[..., None]) -> None:
    assert printer.usb is not None
    with printer.link() as link:
        device_id = printer.usb.device_id()
        model, serial = link.ask("Rtp"), link.ask("Rsn")
    figures(device_id=device_id.raw, command_sets=",".join(device_id.command_sets))
    assert isinstance(model, codec.Text)
    assert isinstance(serial, codec.Text)
    assert (device_id.manufacturer or "").lower() == "evolis", device_id.raw
    mdl = (device_id.model or "").lower()
    assert mdl, f"the device id names no model: {device_id.raw}"
    assert mdl in model.value.lower() or model.value.lower() in mdl, (
        f"device id model {device_id.model!r} does not match Rtp {model.value!r}"
    )
    if device_id.serial is not None:
        assert device_id.serial == serial.value, f"device id SN {device_id.serial!r} ≠ Rsn"


@pytest.mark.needs("usb")
def test_port_status_agrees_with_the_status(printer: Rig, figures: Callable[..., None]) -> None:
    assert printer.usb is not None
    with printer.link():
        port = printer.usb.port_status()
    status = printer.printer_status()
    figures(port_status=f"0x{port.raw:02x}", status=status.detail)
    assert port.selected, "the printer reports itself not selected (offline)"
    assert port.error == bool(status.conditions), (port, status.conditions)
    assert port.paper_empty == (Condition.HOPPER_EMPTY in status.conditions), (port, status)
