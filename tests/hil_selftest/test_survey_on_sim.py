"""The protocol survey, run as a technician runs it (`make hil PRINTER=… SURVEY=1`), on the
simulator: its page names every assumption of docs/evolis-protocol.md with a verdict and the
printer's replies verbatim, and its verdicts follow the table's rows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hil.survey import PROTOCOL_DOC, VERDICTS, SurveyError, read_assumptions, run

REPO = Path(__file__).resolve().parents[2]
SAMPLE = """
- **A1 — framing.** One reply per command.
- **A9 — compression.** Unverified.

| id | assumption | probe | expect |
|---|---|---|---|
| A1 | one ASCII reply per command | `Rfv` | `[ -~]+` |
| A2 | an unknown command is answered OK | `Rzz` | `OK` |
| A4 | `Ss` feeds a blank | — feeds a blank | |
| A5 | the serial number, then the firmware | `Rsn` `Rfv` | `1\\.0\\.0-sim` |
"""


def survey_rows(page: str) -> dict[str, str]:
    """Assumption id → verdict, from the page's assumption table."""
    rows = {}
    for line in page.splitlines():
        match = re.match(r"\| (A\d+[a-z]?) \| (\w+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_the_survey_names_every_assumption_of_the_protocol_doc(tmp_path: Path) -> None:
    # What `make hil PRINTER=sim://primacy SURVEY=1` runs, with the page written to tmp_path.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hil.survey",
            "--printer",
            "sim://primacy",
            "--report-dir",
            str(tmp_path),
            "--timeout",
            "10",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (page_path,) = tmp_path.glob("survey-*.md")
    assert f"survey report: {page_path}" in done.stdout
    page = page_path.read_text(encoding="utf-8")
    named = {a.id for a in read_assumptions(PROTOCOL_DOC.read_text(encoding="utf-8"))}
    assert named, "docs/evolis-protocol.md names no assumption"
    rows = survey_rows(page)
    assert set(rows) == named
    assert set(rows.values()) <= set(VERDICTS)
    assert "| `Rsn` | `SIM000001` |" in page  # the printer's own words, verbatim
    assert "port status byte: `0x" in page  # the USB printer-class facts over pyusb


def test_verdicts_follow_the_table(tmp_path: Path) -> None:
    doc = tmp_path / "protocol.md"
    doc.write_text(SAMPLE, encoding="utf-8")
    page = run("sim://primacy", tmp_path / "reports", 10.0, doc).read_text(encoding="utf-8")
    assert survey_rows(page) == {
        "A1": "confirmed",
        "A2": "contradicted",  # the simulator refuses an unknown command
        "A4": "untested",  # no read-only probe: it would feed a blank
        "A5": "confirmed",  # two probes; the last reply is judged
        "A9": "untested",  # named in the text, no row
    }
    assert "(feeds a blank)" in page and "(no survey row)" in page


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        ("| A3 | feed | `Ss` | `OK` |", "not a read command"),
        ("| A3 | status | `Rst` | |", "needs an `expect` pattern"),
        ("| A3 | status | `Rst` | `(` |", "expect:"),
        ("| B3 | status | `Rst` | `.*` |", "not an assumption id"),
    ],
)
def test_a_table_row_that_cannot_be_surveyed_is_named(row: str, complaint: str) -> None:
    table = "| id | assumption | probe | expect |\n|---|---|---|---|\n" + row + "\n"
    with pytest.raises(SurveyError, match=re.escape(complaint)):
        read_assumptions(table)
