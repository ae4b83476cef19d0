"""The HIL suite proves itself on the simulator: run as a technician would, in a subprocess.

Modes: the whole suite on ``sim://primacy`` with 5 blanks (everything passes, manual steps
driven by the control channel); no blanks allowed (printing skipped, nothing fed); a printer
that cannot pass (a 2-print ribbon: the suite must fail and say NOT QUALIFIED); no printer at
all (every check skipped with the reason). Each writes its JUnit XML and Markdown report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from hil.capabilities import capabilities_of, skip_reason
from printd.drivers.profiles import PRIMACY
from printd.drivers.uri import parse_device_uri

REPO = Path(__file__).resolve().parents[2]
CONSUMING = {
    "test_prints_the_test_card",
    "test_prints_a_duplex_card",
    "test_a_rejected_card_is_booked_spoiled",
}


@dataclass
class Run:
    returncode: int
    output: str
    suite: ET.Element
    markdown: str

    def count(self, key: str) -> int:
        return int(self.suite.get(key, "0"))

    def cases(self, kind: str) -> dict[str, str]:
        """Test name → message of its ``kind`` child (skipped, failure, error)."""
        found = {}
        for case in self.suite.iter("testcase"):
            child = case.find(kind)
            if child is not None:
                found[case.get("name", "")] = child.get("message", "")
        return found

    def properties(self) -> dict[str, str]:
        return {p.get("name", ""): p.get("value", "") for p in self.suite.iter("property")}


def run_hil(tmp_path: Path, *args: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRINTD_HIL_")}
    env["HIL_REPORT_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "hil", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = done.stdout + done.stderr
    xml_files = sorted(tmp_path.glob("hil-*.xml"))
    md_files = sorted(tmp_path.glob("hil-*.md"))
    assert len(xml_files) == 1, f"one JUnit XML expected in {tmp_path}: {xml_files}\n{output}"
    assert len(md_files) == 1, f"one Markdown report expected in {tmp_path}: {md_files}\n{output}"
    assert xml_files[0].stem == md_files[0].stem
    suite = ET.parse(xml_files[0]).getroot().find("testsuite")
    assert suite is not None
    return Run(done.returncode, output, suite, md_files[0].read_text(encoding="utf-8"))


def test_whole_suite_passes_on_the_simulator(tmp_path: Path) -> None:
    run = run_hil(tmp_path, "--printer", "sim://primacy", "--allow-consume", "5")
    assert run.returncode == 0, run.output
    assert run.count("tests") >= 13, run.output
    assert (run.count("failures"), run.count("errors"), run.count("skipped")) == (0, 0, 0), (
        run.output
    )
    props = run.properties()
    assert props["serial"] == "SIM000001"
    assert props["hands"] == "simulator control channel"
    assert props["test_prints_a_duplex_card.ledger_rule_prints"] == "2"
    assert props["test_prints_a_duplex_card.ribbon_remaining_delta"] == "-2"
    assert props["test_a_rejected_card_is_booked_spoiled.reason"] == "rejected"
    assert run.markdown.startswith("# printd hardware-in-the-loop report — QUALIFIED\n")
    for needle in ("| serial | SIM000001 |", "| firmware | 1.0.0-sim |", "| printd version |"):
        assert needle in run.markdown
    assert "| blanks fed during the run (Rco;c) | 3 |" in run.markdown
    assert run.markdown.count("| PASS |") == run.count("tests")


def test_nothing_is_printed_without_an_allowance(tmp_path: Path) -> None:
    run = run_hil(tmp_path, "--printer", "sim://primacy")
    assert run.returncode == 0, run.output
    skipped = run.cases("skipped")
    assert set(skipped) == CONSUMING, run.output
    assert all("--allow-consume leaves 0 of 0" in reason for reason in skipped.values())
    assert run.count("failures") + run.count("errors") == 0, run.output
    assert "| blanks fed during the run (Rco;c) | 0 |" in run.markdown


def test_a_printer_that_cannot_pass_is_not_qualified(tmp_path: Path) -> None:
    # A ribbon with 2 prints: the test card takes 1, the duplex card needs 2 and is spoiled.
    run = run_hil(
        tmp_path,
        "--printer",
        "sim://primacy?ribbon=ymcko:2",
        "--allow-consume",
        "5",
        "--step-timeout",
        "1",
    )
    assert run.returncode == 1, run.output
    failed = run.cases("failure")
    assert "test_prints_a_duplex_card" in failed, run.output
    assert "test_prints_the_test_card" not in failed, run.output
    assert "NOT QUALIFIED" in run.markdown.splitlines()[0]
    assert "| FAIL |" in run.markdown


def test_without_a_printer_every_check_is_skipped_with_the_reason(tmp_path: Path) -> None:
    run = run_hil(tmp_path)
    assert run.returncode == 0, run.output
    assert run.count("tests") >= 13
    skipped = run.cases("skipped")
    assert len(skipped) == run.count("tests"), run.output
    assert all(reason.startswith("no printer under test") for reason in skipped.values())
    assert "--printer URI" in run.output
    assert "NOT RUN" in run.markdown.splitlines()[0]


def test_a_bad_printer_uri_is_refused_naming_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "hil",
            "--printer",
            "x://1",
        ],
        cwd=REPO,
        env={**os.environ, "HIL_REPORT_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert "unknown device scheme 'x'" in done.stderr


@pytest.mark.parametrize(
    ("uri", "status", "expected"),
    [
        ("sim://primacy", None, {"duplex", "usb", "snmp", "forced_reject"}),
        ("usb://0f49:*", None, {"duplex", "usb"}),
        ("tcp://10.0.0.9:9100", "snmp://10.0.0.9", {"duplex", "snmp"}),
        ("serial:///dev/ttyUSB0", None, {"duplex"}),
    ],
)
def test_capabilities_follow_the_uri_and_profile(
    uri: str, status: str | None, expected: set[str]
) -> None:
    assert capabilities_of(parse_device_uri(uri), PRIMACY, status) == expected


def test_a_simplex_model_skips_duplex_with_the_reason() -> None:
    from dataclasses import replace

    simplex = replace(PRIMACY, duplex=False)
    have = capabilities_of(parse_device_uri("usb://0f49:*"), simplex, None)
    reason = skip_reason(["duplex"], have, simplex.model)
    assert reason is not None and "lacks 'duplex'" in reason
    assert skip_reason(["usb"], have, simplex.model) is None
