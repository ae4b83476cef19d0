"""The report a technician files: every check with its outcome and figures, the printer's
identity, printd's version, as one Markdown page beside the JUnit XML."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

OUTCOME_MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "skip", "error": "ERROR"}


@dataclass
class Check:
    nodeid: str
    outcome: str = "passed"
    seconds: float = 0.0
    message: str = ""
    figures: dict[str, object] = field(default_factory=dict)


def _cell(value: object) -> str:
    text = "-" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass
class HilReport:
    directory: Path
    started: datetime
    run: dict[str, object]  # printer URI, status URI, allowance, hands…
    identity: dict[str, object] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    junit_path: Path | None = None

    @property
    def stem(self) -> str:
        return "hil-" + self.started.strftime("%Y%m%dT%H%M%SZ")

    def check(self, nodeid: str) -> Check:
        return self.checks.setdefault(nodeid, Check(nodeid))

    def record(self, nodeid: str, phase: str, outcome: str, seconds: float, message: str) -> None:
        """Fold one pytest phase (setup, call, teardown) into the check's outcome."""
        check = self.check(nodeid)
        check.seconds += seconds
        if outcome == "failed":
            check.outcome = "failed" if phase == "call" else "error"
            check.message = check.message or message
        elif outcome == "skipped" and check.outcome == "passed":
            check.outcome, check.message = "skipped", message

    def counts(self) -> dict[str, int]:
        totals = dict.fromkeys(OUTCOME_MARK, 0)
        for check in self.checks.values():
            totals[check.outcome] += 1
        return totals

    def markdown(self, finished: datetime) -> str:
        counts = self.counts()
        verdict = "QUALIFIED" if counts["failed"] + counts["error"] == 0 else "NOT QUALIFIED"
        if counts["passed"] == 0:
            verdict = "NOT RUN"
        elif verdict == "QUALIFIED" and counts["skipped"]:
            verdict += f" ({counts['skipped']} checks skipped: see why below)"
        lines = [
            f"# printd hardware-in-the-loop report — {verdict}",
            "",
            (
                f"Run {self.started:%Y-%m-%d %H:%M:%S} → {finished:%H:%M:%S} UTC "
                f"on {platform.node() or 'this host'} (Python {platform.python_version()})"
            ),
            "",
            "| | |",
            "|---|---|",
        ]
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in {**self.run, **self.identity}.items()]
        lines += [
            "",
            "Result: " + ", ".join(f"{n} {name}" for name, n in counts.items()),
            "",
            "| Check | Result | Seconds | Figures / reason |",
            "|---|---|---:|---|",
        ]
        for check in self.checks.values():
            figures = "; ".join(f"{k}={_cell(v)}" for k, v in check.figures.items())
            detail = " — ".join(part for part in (figures, check.message) if part)
            name = check.nodeid.split("/")[-1]
            lines.append(
                f"| `{name}` | {OUTCOME_MARK[check.outcome]} | {check.seconds:.2f} | "
                f"{_cell(detail) if detail else '-'} |"
            )
        if self.junit_path is not None:
            lines += ["", f"JUnit XML: `{self.junit_path.name}` (same folder)."]
        lines += ["", "Technician: ______________________  Signature: ______________  Date: ______"]
        return "\n".join(lines) + "\n"

    def write(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.stem}.md"
        path.write_text(self.markdown(datetime.now(UTC)), encoding="utf-8")
        return path
