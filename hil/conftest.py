"""The HIL suite's own pytest wiring: options, markers, the printer fixture and the report.

Opt-in and loud about it: without ``--printer`` (or ``PRINTD_HIL_PRINTER``) every check is
skipped with the reason, never passed empty. Nothing here is an auto-registered plugin.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import printd
from hil import hands as steps
from hil.capabilities import CAPABILITIES, capabilities_of, skip_reason, unknown_names
from hil.report import HilReport
from hil.rig import Rig, build_rig
from printd.drivers.profiles import PRIMACY
from printd.drivers.status import Condition
from printd.drivers.uri import SimDevice, parse_device_uri
from printd.errors import ConfigError, PrintdError

HERE = Path(__file__).resolve().parent
CARDS = HERE / "cards"
REPORT_KEY = pytest.StashKey[HilReport]()
BUDGET_KEY = pytest.StashKey["Budget"]()
NO_PRINTER = (
    "no printer under test: give --printer URI or set PRINTD_HIL_PRINTER "
    "(e.g. --printer sim://primacy, or usb://0f49:* for an Evolis on USB)"
)
SIM_STEP_SECONDS = 10.0  # the simulator acts at once; this only bounds a broken step
REAL_STEP_SECONDS = 120.0  # time for a technician to walk to the printer and act


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "printd hardware-in-the-loop")
    group.addoption(
        "--printer",
        default=os.environ.get("PRINTD_HIL_PRINTER") or None,
        metavar="URI",
        help="device URI of the spare printer (usb://, serial://, tcp://, sim://); "
        "default $PRINTD_HIL_PRINTER",
    )
    group.addoption(
        "--status",
        default=os.environ.get("PRINTD_HIL_STATUS") or None,
        metavar="URI",
        help="snmp:// status URI of the same printer; sim:// starts its own agent",
    )
    group.addoption(
        "--allow-consume",
        type=int,
        default=0,
        metavar="N",
        help="blank cards the run may use (default 0: nothing is printed)",
    )
    group.addoption(
        "--step-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"time for each guided step (default {REAL_STEP_SECONDS:.0f} s, "
        f"{SIM_STEP_SECONDS:.0f} s on sim://)",
    )
    group.addoption(
        "--skip-manual",
        action="store_true",
        help="skip the guided steps (an unattended run on real hardware)",
    )


@dataclass
class Budget:
    """Blanks the run may still use (``--allow-consume``)."""

    allowed: int
    reserved: int = 0

    def take(self, n: int) -> str | None:
        """Reserve ``n`` blanks; the skip reason when the allowance is too small."""
        left = self.allowed - self.reserved
        if n > left:
            return (
                f"needs {n} blank(s) but --allow-consume leaves {left} of {self.allowed}; "
                "raise --allow-consume to run it"
            )
        self.reserved += n
        return None


def _step_timeout(config: pytest.Config) -> float:
    given = config.getoption("--step-timeout")
    if given is not None:
        if given <= 0:
            raise pytest.UsageError(f"--step-timeout must be > 0 seconds, got {given}")
        return float(given)
    uri = config.getoption("--printer") or ""
    return SIM_STEP_SECONDS if uri.lower().startswith("sim:") else REAL_STEP_SECONDS


def pytest_configure(config: pytest.Config) -> None:
    # The checks build on one another in file order (identity, status, link, printing, guided
    # steps): the development venv's pytest-randomly must not shuffle them.
    config.option.randomly_reorganize = False
    config.addinivalue_line(
        "markers",
        "needs(*capabilities): skip unless the printer has them (" + ", ".join(CAPABILITIES) + ")",
    )
    config.addinivalue_line("markers", "consumes(n): prints on n blank cards (--allow-consume)")
    config.addinivalue_line("markers", "manual: a guided step a person (or the simulator) does")
    allowance = config.getoption("--allow-consume")
    if allowance < 0:
        raise pytest.UsageError(f"--allow-consume must be 0 or more blanks, got {allowance}")
    directory = Path(os.environ.get("HIL_REPORT_DIR") or HERE / "reports")
    report = HilReport(
        directory=directory,
        started=datetime.now(UTC),
        run={
            "printer URI": config.getoption("--printer") or "(none)",
            "status URI": config.getoption("--status") or "(none)",
            "blanks allowed": allowance,
            "printd version": printd.__version__,
        },
    )
    config.stash[REPORT_KEY] = report
    config.stash[BUDGET_KEY] = Budget(allowance)
    if not getattr(config.option, "xmlpath", None):
        directory.mkdir(parents=True, exist_ok=True)
        config.option.xmlpath = str(directory / f"{report.stem}.xml")
    report.junit_path = Path(config.option.xmlpath)
    config.pluginmanager.register(ReportHooks(report), "printd-hil-report")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    uri = config.getoption("--printer")
    if not uri:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=NO_PRINTER))
        return
    try:
        device = parse_device_uri(uri)
    except ConfigError as error:
        raise pytest.UsageError(f"--printer: {error}") from error
    have = capabilities_of(device, PRIMACY, config.getoption("--status"))
    manual_timeout = _step_timeout(config) * 4 + 60  # two steps, each seen and cleared
    for item in items:
        needed = [name for mark in item.iter_markers("needs") for name in mark.args]
        unknown = unknown_names(needed)
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid}: unknown capability {unknown[0]!r}; "
                f"known: {', '.join(CAPABILITIES)}"
            )
        reason = skip_reason(needed, have, PRIMACY.model)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
        manual = item.get_closest_marker("manual") is not None
        if manual and config.getoption("--skip-manual"):
            item.add_marker(pytest.mark.skip(reason="guided steps skipped (--skip-manual)"))
        # A person may be asked to act in any check (the first one readies the printer).
        if manual or not isinstance(device, SimDevice):
            item.add_marker(pytest.mark.timeout(manual_timeout))


def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("consumes")
    if mark is not None:
        reason = item.config.stash[BUDGET_KEY].take(int(mark.args[0]))
        if reason:
            pytest.skip(reason)


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0][:300]
    return report.longreprtext.strip().splitlines()[-1][:300] if report.longreprtext else ""


class ReportHooks:
    """Feeds the run's report; registered by ``pytest_configure`` for this run only."""

    def __init__(self, report: HilReport) -> None:
        self.report = report
        self.path: Path | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        message = _message(report) if report.outcome != "passed" else ""
        self.report.record(report.nodeid, report.when, report.outcome, report.duration, message)

    def pytest_sessionfinish(self) -> None:
        self.path = self.report.write()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.path is not None:
            terminalreporter.write_line(f"HIL report: {self.path}")
            terminalreporter.write_line(f"JUnit XML:  {self.report.junit_path}")


# -- fixtures ---------------------------------------------------------------------------------


def _say(config: pytest.Config) -> Callable[[str], None]:
    """Write to the technician's terminal even while pytest captures output."""

    def say(text: str) -> None:
        try:
            with Path("/dev/tty").open("w", encoding="utf-8") as tty:
                tty.write(text + "\n")
                return
        except OSError:
            pass
        capman = config.pluginmanager.getplugin("capturemanager")
        reporter = config.pluginmanager.getplugin("terminalreporter")
        with capman.global_and_fixture_disabled():
            reporter.write_line(text)

    return say


@pytest.fixture(scope="session")
def figures_report(pytestconfig: pytest.Config) -> HilReport:
    return pytestconfig.stash[REPORT_KEY]


@pytest.fixture(scope="session")
def rig(
    pytestconfig: pytest.Config,
    figures_report: HilReport,
    record_testsuite_property: Callable[[str, object], None],
) -> Iterator[Rig]:
    """The printer under test, connected, with its identity in the report."""
    uri = pytestconfig.getoption("--printer")
    state_dir = Path(tempfile.mkdtemp(prefix="printd-hil-"))
    built = build_rig(
        uri,
        pytestconfig.getoption("--status"),
        state_dir,
        say=_say(pytestconfig),
        step_timeout=_step_timeout(pytestconfig),
    )
    try:
        identity = built.driver.connect()
        found = {
            "model": identity.model,
            "serial": identity.serial,
            "firmware": identity.firmware,
            "hands": built.hands.kind,
            "status source used": built.status_uri or "(none)",
        }
        figures_report.identity.update(found)
        for name, value in {**figures_report.run, **found}.items():
            record_testsuite_property(name, value)
        yield built
    finally:
        built.close()
        for leftover in state_dir.iterdir():
            leftover.unlink()
        state_dir.rmdir()


@pytest.fixture(scope="session")
def printer(rig: Rig, pytestconfig: pytest.Config, figures_report: HilReport) -> Iterator[Rig]:
    """The printer made ready: a ribbon in, blanks in the hopper, cover closed. Records how
    many blanks the whole run fed (the printer's own ``Rco;c``)."""
    status = rig.printer_status()
    blanks = pytestconfig.getoption("--allow-consume") + 1
    if status.conditions & {Condition.RIBBON_MISSING, Condition.RIBBON_OUT}:
        rig.hands.perform(steps.INSTALL_RIBBON)
    if Condition.HOPPER_EMPTY in status.conditions or blanks > (rig.hopper_count() or blanks):
        rig.hands.perform(steps.LOAD_BLANKS, blanks=blanks)
    if Condition.COVER_OPEN in status.conditions:
        rig.hands.perform(steps.CLOSE_COVER)
    rig.wait_for(rig.printer_status, lambda s: s.ready, "printer ready before the run")
    before = rig.counters().cards_inserted
    yield rig
    try:
        after = rig.counters().cards_inserted
    except PrintdError:  # a check left the printer unreachable; that check already failed
        after = None
    used = None if before is None or after is None else after - before
    figures_report.identity["blanks fed during the run (Rco;c)"] = used


@pytest.fixture
def figures(
    request: pytest.FixtureRequest, record_testsuite_property: Callable[[str, object], None]
) -> Callable[..., None]:
    """``figures(name=value, …)``: into the Markdown report and, as ``TEST.name``, into the
    JUnit XML's suite properties (the place xunit2 allows them)."""
    check = request.config.stash[REPORT_KEY].check(request.node.nodeid)

    def add(**values: object) -> None:
        for name, value in values.items():
            check.figures[name] = value
            record_testsuite_property(f"{request.node.name}.{name}", value)

    return add


@pytest.fixture(scope="session")
def test_card() -> dict[str, Image.Image]:
    cards = {
        side: Image.open(CARDS / f"test-card-{side}.png").convert("RGB")
        for side in ("front", "back")
    }
    for side, image in cards.items():
        if image.size != (PRIMACY.card_width_px, PRIMACY.card_height_px):
            raise pytest.UsageError(f"hil/cards/test-card-{side}.png is {image.size}, not 1016x648")
    return cards
