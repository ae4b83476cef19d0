"""The daemon does not load numpy: the raster, the codec and the simulator work with Pillow.

numpy costs the daemon about 16 MB of resident memory; it is a test and bench dependency only.
"""

from __future__ import annotations

import textwrap

from install_support import run_in_fresh_interpreter

PRINT_A_CARD = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    import printd.daemon
    import printd.drivers.evolis.driver
    import printd.drivers.raster
    import printd.sim

    for module in pkgutil.walk_packages(printd.sim.__path__, "printd.sim."):
        if module.name != "printd.sim.__main__":
            importlib.import_module(module.name)

    from PIL import Image

    from printd.drivers import raster
    from printd.drivers.base import CardRequest, Outcome
    from printd.drivers.evolis import codec
    from printd.drivers.evolis.driver import EvolisDriver
    from printd.drivers.profiles import PRIMACY
    from printd.drivers.usb_transport import UsbTransport
    from printd.sim.evolis_model import SimPrinter
    from printd.sim.usb_backend import SimUsbBackend

    photo = Image.effect_noise((1016, 648), 90).convert("RGB")
    panels = raster.colour_panels(photo)
    codec.compress_colour_panel(panels.c)
    codec.compress_mono_panel(raster.mono_panel(photo, "dither"))
    printer = SimPrinter(hopper=2, ribbon_capacity=10)
    backend = SimUsbBackend([(printer, 0x0A00)])
    driver = EvolisDriver(UsbTransport(0x0F49, None, backend=backend), PRIMACY)
    result = driver.print_card(CardRequest("no-numpy", photo, photo, "ymcko"))
    assert result.outcome is Outcome.PRINTED, result
    driver.close()
    print("numpy" in sys.modules, sorted(m for m in sys.modules if m.startswith("numpy"))[:3])
    """
)


def test_printing_a_card_on_the_simulator_does_not_import_numpy() -> None:
    result = run_in_fresh_interpreter("-c", PRINT_A_CARD)
    assert result.returncode == 0, result.stdout + result.stderr
    # The probe's answer is its last line: the driver's own log lines may come before it.
    assert result.stdout.splitlines()[-1].split(maxsplit=1)[0] == "False", result.stdout
