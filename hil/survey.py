"""The protocol survey: what a printer printd has never met really answers.

printd's model of the Evolis command set is partly assumption (docs/evolis-protocol.md). The
survey sends each read-only query of the table "Survey" in that document to the printer under
test, records each reply verbatim with its timing, and judges every assumption the document
names as confirmed (the reply matches the row's `expect`), contradicted (it does not, or no
reply came) or untested (the row has no read-only probe). It writes one Markdown page,
`hil/reports/survey-*.md`, for the technician to send back; correcting an assumption is then
editing its one table row.

    python -m hil.survey --printer usb://0f49:*      (make hil PRINTER=... SURVEY=1)

Only commands of the read family (`R…`) are ever sent: nothing is fed, printed or configured.
The driver is not used, so a printer that refuses printd's own start-up still gets surveyed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import printd
from hil.link import PrinterLink
from printd.config import PrinterConfig
from printd.devices import build_printer
from printd.drivers.uri import parse_device_uri
from printd.drivers.usb_transport import UsbTransport
from printd.errors import PrintdError, TransportTimeout

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_DOC = REPO / "docs" / "evolis-protocol.md"
REPORTS = Path(__file__).resolve().parent / "reports"
ASSUMPTION_ID = re.compile(r"\bA\d+[a-z]?\b")
NAMED_ASSUMPTION = re.compile(r"\*\*(A\d+[a-z]?)\b")  # "**A3 — status read.**" and the like
CODE_SPAN = re.compile(r"`([^`]+)`")
IDENTITY = ("Rtp", "Rsn", "Rfv")  # model, serial, firmware: read before anything else
VERDICTS = ("confirmed", "contradicted", "untested")


class SurveyError(PrintdError):
    """The survey table or a probe in it cannot be used as written."""

    exit_code = 65


@dataclass(frozen=True, slots=True)
class Assumption:
    id: str
    claim: str
    probes: tuple[str, ...]  # read commands sent in order; the last reply is judged
    expect: str | None  # a regular expression the whole last reply must match
    why_untested: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    sent: str
    reply: bytes | None
    milliseconds: float
    error: str = ""

    def shown(self) -> str:
        if self.reply is None:
            return f"({self.error})"
        return repr(self.reply)[2:-1]  # verbatim, with control bytes escaped


@dataclass(frozen=True, slots=True)
class Finding:
    assumption: Assumption
    verdict: str  # confirmed | contradicted | untested
    observations: tuple[Observation, ...]


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells; `\\|` stands for a pipe inside a cell."""
    inner = row.strip().removeprefix("|").removesuffix("|")
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def read_assumptions(text: str) -> list[Assumption]:
    """Every assumption the document names, with its survey row where it has one.

    The table is the one whose header has the columns `id`, `assumption`, `probe` and
    `expect`. An assumption named elsewhere in the document without a row is reported
    untested, so none can be left out of the survey by accident."""
    rows: dict[str, Assumption] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        lowered = [c.lower() for c in cells]
        if {"id", "assumption", "probe", "expect"} <= set(lowered):
            header = lowered
            continue
        if header is None or set(line.replace("|", "").strip()) <= set("-: "):
            continue
        row = dict(zip(header, cells, strict=False))
        ident = row.get("id", "")
        if not ASSUMPTION_ID.fullmatch(ident):
            raise SurveyError(f"survey table: {ident!r} is not an assumption id like A3")
        probes = tuple(CODE_SPAN.findall(row.get("probe", "")))
        for probe in probes:
            if not probe.startswith("R"):
                raise SurveyError(
                    f"survey table, {ident}: {probe!r} is not a read command; the survey sends "
                    "only read-only queries (R…)"
                )
        expect = CODE_SPAN.findall(row.get("expect", ""))
        if probes and not expect:
            raise SurveyError(f"survey table, {ident}: a probe needs an `expect` pattern")
        if expect:
            try:
                re.compile(expect[0])
            except re.error as error:
                raise SurveyError(f"survey table, {ident}: expect: {error}") from None
        why = "" if probes else row.get("probe", "").strip("— -") or "no read-only probe"
        rows[ident] = Assumption(
            ident, row.get("assumption", ""), probes, expect[0] if expect else None, why
        )
    named = dict.fromkeys(NAMED_ASSUMPTION.findall(text))
    for ident in named:
        if ident not in rows:
            rows[ident] = Assumption(ident, "(named in the text)", (), None, "no survey row")
    return sorted(rows.values(), key=lambda a: (int(re.sub(r"\D", "", a.id)), a.id))


def ask(link: PrinterLink, command: str) -> Observation:
    started = time.perf_counter()
    try:
        reply = link.exchange(b"\x1b" + command.encode("ascii") + b"\r")
    except TransportTimeout as error:
        return Observation(command, None, _since(started), f"no reply: {error}")
    except PrintdError as error:
        return Observation(command, None, _since(started), f"{type(error).__name__}: {error}")
    return Observation(command, reply, _since(started))


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def judge(assumption: Assumption, observations: tuple[Observation, ...]) -> str:
    if not assumption.probes:
        return "untested"
    last = observations[-1]
    if last.reply is None or assumption.expect is None:
        return "contradicted"
    text = last.reply.decode("latin-1")
    return "confirmed" if re.fullmatch(assumption.expect, text) else "contradicted"


def survey(link: PrinterLink, assumptions: Iterable[Assumption]) -> list[Finding]:
    findings = []
    for assumption in assumptions:
        observations = tuple(ask(link, probe) for probe in assumption.probes)
        findings.append(Finding(assumption, judge(assumption, observations), observations))
    return findings


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(
    uri: str,
    identity: list[Observation],
    usb: dict[str, str],
    findings: list[Finding],
    finished: datetime,
) -> str:
    counts = {v: sum(1 for f in findings if f.verdict == v) for v in VERDICTS}
    lines = [
        "# printd protocol survey",
        "",
        f"- printer URI: `{uri}`",
        f"- printd version: {printd.__version__}",
        f"- finished: {finished.isoformat(timespec='seconds')}",
        f"- assumptions: {len(findings)} — "
        + ", ".join(f"{n} {verdict}" for verdict, n in counts.items()),
        "",
        "Send this page back to the printd maintainers. Each row is one assumption of",
        "`docs/evolis-protocol.md`; a contradicted row is corrected by editing that row.",
        "",
        "## Identity (replies verbatim)",
        "",
        "| sent | reply | ms |",
        "|---|---|---|",
        *(f"| `{o.sent}` | `{_cell(o.shown())}` | {o.milliseconds:.1f} |" for o in identity),
    ]
    if usb:
        lines += ["", "## USB printer class", ""]
        lines += [f"- {name}: `{_cell(value)}`" for name, value in usb.items()]
    lines += [
        "",
        "## Assumptions",
        "",
        "| id | verdict | assumption | sent | reply (verbatim) | ms | expected |",
        "|---|---|---|---|---|---|---|",
    ]
    for finding in findings:
        a = finding.assumption
        if not finding.observations:
            lines.append(
                f"| {a.id} | {finding.verdict} | {_cell(a.claim)} | — "
                f"| ({_cell(a.why_untested)}) | | |"
            )
            continue
        for index, obs in enumerate(finding.observations):
            head = f"| {a.id} | {finding.verdict} | {_cell(a.claim)}" if index == 0 else "| | |"
            expected = (
                f"`{_cell(a.expect or '')}`" if index == len(finding.observations) - 1 else ""
            )
            lines.append(
                f"{head} | `{obs.sent}` | `{_cell(obs.shown())}` | {obs.milliseconds:.1f} "
                f"| {expected} |"
            )
    return "\n".join(lines) + "\n"


def run(uri: str, report_dir: Path, timeout: float, doc: Path = PROTOCOL_DOC) -> Path:
    assumptions = read_assumptions(doc.read_text(encoding="utf-8"))
    device = parse_device_uri(uri)
    config = PrinterConfig(name="survey", device=device, device_uri=uri)
    built = build_printer(config, Path(tempfile.mkdtemp(prefix="printd-survey-")))
    usb: dict[str, str] = {}
    try:
        transport = built.transport
        transport.open()
        try:
            link = PrinterLink(transport, timeout)
            link.drain()
            if isinstance(transport, UsbTransport):
                usb = _usb_facts(transport)
            identity = [ask(link, command) for command in IDENTITY]
            findings = survey(link, assumptions)
        finally:
            transport.close()
    finally:
        built.close()
    finished = datetime.now(UTC)
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"survey-{finished.strftime('%Y%m%dT%H%M%SZ')}.md"
    path.write_text(markdown(uri, identity, usb, findings, finished), encoding="utf-8")
    return path


def _usb_facts(transport: UsbTransport) -> dict[str, str]:
    facts = {}
    try:
        facts["device id"] = transport.device_id().raw
    except PrintdError as error:
        facts["device id"] = f"(GET_DEVICE_ID failed: {error})"
    try:
        status = transport.port_status()
        facts["port status byte"] = (
            f"0x{status.raw:02x} (paper empty {status.paper_empty}, selected {status.selected}, "
            f"error {status.error})"
        )
    except PrintdError as error:
        facts["port status byte"] = f"(GET_PORT_STATUS failed: {error})"
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hil.survey",
        description="Send printd's read-only protocol queries to a printer and write what it "
        "answered, assumption by assumption (docs/evolis-protocol.md).",
    )
    parser.add_argument("--printer", required=True, metavar="URI", help="device URI")
    parser.add_argument(
        "--report-dir", type=Path, default=REPORTS, help=f"where the page goes ({REPORTS})"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for each reply (30)"
    )
    args = parser.parse_args(argv)
    try:
        path = run(args.printer, args.report_dir, args.timeout)
    except PrintdError as error:
        print(f"survey: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"survey: {error}", file=sys.stderr)
        return 74
    print(f"survey report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
