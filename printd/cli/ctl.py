"""printctl: what operators use all day at the counter (DESIGN §6 verbs).

Human output by default, in Bahasa Indonesia or English (`--lang`, else the locale);
`--json` for scripts. Exit codes per error class are README's table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from gettext import NullTranslations
from pathlib import Path
from typing import IO, Any, NoReturn

from printd import __version__
from printd.cli import render
from printd.cli.client import EXIT_UNREACHABLE, ApiError, Client
from printd.cli.i18n import (
    LANGUAGES,
    choose_language,
    translate_argparse,
    translate_daemon_error,
    translate_job_file,
    translations,
)
from printd.errors import ConflictError, JobError, PrintdError
from printd.queue.jobs import JobState

CHECKOUT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "printd.sim.toml"
SYSTEM_SOCKET = Path("/run/printd/printd.sock")
FINAL = {"printed", "failed", "cancelled", "interrupted"}
JOB_STATES = tuple(state.value for state in JobState)
LISTING_LIMIT = 1000  # the API lists at most this many jobs, newest first
WAIT_POLL_SECONDS = 0.2
EXIT_WAIT_NOT_PRINTED = 1  # --wait: a job ended failed, cancelled or interrupted


def _socket_from_config(path: Path) -> Path:
    from printd.config import load_config

    return load_config(path).daemon.socket


def find_socket(args: argparse.Namespace) -> Path:
    """--socket, else $PRINTD_SOCKET, else --config's socket, else the checkout's demo
    daemon, else the system daemon."""
    if args.socket:
        return Path(args.socket)
    if os.environ.get("PRINTD_SOCKET"):
        return Path(os.environ["PRINTD_SOCKET"])
    if args.config:
        return _socket_from_config(Path(args.config))
    if CHECKOUT_CONFIG.exists():
        return _socket_from_config(CHECKOUT_CONFIG)
    return SYSTEM_SOCKET


def whole_number(t: NullTranslations) -> Any:
    """argparse's type for a count, refusing in the operator's language.

    A bad count is bad data, not wrong usage: it exits 65 (EX_DATAERR), as the exit-code
    table in the README says, so a script can tell "0 blanks" from a mistyped verb (2).
    """

    def refuse(message: str) -> NoReturn:
        print(f"printctl: error: {message}", file=sys.stderr)
        raise SystemExit(JobError.exit_code)

    def positive_int(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            refuse(t.gettext("{value!r} is not a whole number").format(value=text))
        if value < 1:
            refuse(t.gettext("{value!r}: must be 1 or more").format(value=text))
        return value

    return positive_int


def _json_after_the_verb(parser: argparse.ArgumentParser, text: str) -> None:
    """`--json` is accepted after the verb too (`printctl status --json`). SUPPRESS keeps a
    sub-command from resetting a `--json` given before the verb."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument(
                    "--json", action="store_true", default=argparse.SUPPRESS, help=text
                )
                _json_after_the_verb(child, text)


def build_parser(t: NullTranslations) -> argparse.ArgumentParser:
    _ = t.gettext
    positive_int = whole_number(t)
    p = argparse.ArgumentParser(prog="printctl", description=_("Talk to the printd daemon."))
    p.add_argument(
        "--version",
        action="version",
        version=f"printctl {__version__}",
        help=_("show printctl's version and exit"),
    )
    p.add_argument("--socket", help=_("the daemon's socket (or set PRINTD_SOCKET)"))
    p.add_argument("--config", help=_("read the socket path from this printd.toml"))
    p.add_argument("--json", action="store_true", help=_("machine-readable output"))
    p.add_argument("--lang", choices=LANGUAGES, help=_("language: id or en (default: locale)"))
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    sub.add_parser("status", help=_("printers, queue, today, stock on one screen"))
    submit = sub.add_parser("submit", help=_("submit job files (or folders of them)"))
    submit.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE|DIR",
        help=_("job files (*.json), or folders of them"),
    )
    submit.add_argument("--wait", action="store_true", help=_("follow each job to its end"))
    submit.add_argument(
        "--progress", action="store_true", help=_("show progress even when not on a terminal")
    )
    jobs = sub.add_parser("jobs", help=_("list jobs"))
    jobs.add_argument("--state", choices=JOB_STATES, help=_("only the jobs in this state"))
    jobs.add_argument("--ids", action="store_true", help=_("job ids only, one a line"))
    for verb, text in (
        ("show", _("a job and its audit trail")),
        ("cancel", _("cancel a queued or held job")),
        ("hold", _("keep a queued job from printing")),
        ("release", _("queue a held job again")),
    ):
        sub.add_parser(verb, help=text).add_argument("job", help=_("the job's id"))
    reprint = sub.add_parser("reprint", help=_("print a printed card again, with a reason"))
    reprint.add_argument("job", help=_("the printed job's id"))
    reprint.add_argument(
        "--reason", required=True, help=_("why a new card is needed (kept in the audit trail)")
    )
    reprint.add_argument(
        "--yes",
        action="store_true",
        help=_("print it even though printd warns of a second card for the same holder"),
    )
    reconcile = sub.add_parser(
        "reconcile",
        help=_("settle an interrupted job"),
        description=_(
            "printd stopped while this card was in the printer, so only a person can say what "
            "became of it. Look in the output tray and the reject box, then say what you found. "
            "On a terminal without --printed or --spoiled, printctl asks, and also offers "
            "'nothing came out': the job then stays interrupted for a technician and nothing "
            "is booked."
        ),
    )
    reconcile.add_argument("job", help=_("the interrupted job's id"))
    # Not required here: on a terminal printctl asks instead (main() checks the rest).
    outcome = reconcile.add_mutually_exclusive_group()
    outcome.add_argument(
        "--printed",
        action="store_const",
        const="printed",
        dest="outcome",
        help=_("the card came out printed and good: it is booked as printed"),
    )
    outcome.add_argument(
        "--spoiled",
        action="store_const",
        const="spoiled",
        dest="outcome",
        help=_(
            "the card came out spoiled: it is booked as spoiled and prints again on a new blank"
        ),
    )
    blanks = sub.add_parser("blanks", help=_("blanks into or out of a hopper"))
    blanks_sub = blanks.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("load", _("from office stock into the hopper")),
        ("unload", _("from the hopper back to office stock")),
    ):
        a = blanks_sub.add_parser(action, help=text)
        a.add_argument("count", type=positive_int, help=_("how many blanks"))
        a.add_argument("--printer", help=_("which printer (needed when there are several)"))
    ribbon = sub.add_parser("ribbon", help=_("record a ribbon change"))
    ribbon_sub = ribbon.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = ribbon_sub.add_parser("install", help=_("a new ribbon went into a printer"))
    install.add_argument(
        "--type", required=True, help=_("the ribbon's code on its box, e.g. ymcko or kb")
    )
    install.add_argument(
        "--capacity",
        type=positive_int,
        help=_("prints on the new ribbon (default: the printer's ribbon_capacity)"),
    )
    install.add_argument("--printer", help=_("which printer (needed when there are several)"))
    install.add_argument(
        "--yes",
        action="store_true",
        help=_(
            "install it even though the old ribbon still has prints or the type is not the "
            "printer's ribbon_type"
        ),
    )
    stock = sub.add_parser("stock", help=_("office stock deliveries"))
    stock_sub = stock.add_subparsers(dest="action", required=True, metavar="ACTION")
    receive = stock_sub.add_parser("receive", help=_("a delivery arrived"))
    receive.add_argument("--blanks", type=positive_int, help=_("blank cards that arrived"))
    receive.add_argument("--ribbons", type=positive_int, help=_("ribbons that arrived"))
    report = sub.add_parser("report", help=_("the daily reconciliation of blanks"))
    report.add_argument(
        "--day", help=_("YYYY-MM-DD, today or yesterday, in the station's zone (default: today)")
    )
    report.add_argument("--csv", action="store_true", help=_("as CSV for a spreadsheet"))
    report.add_argument(
        "--html",
        metavar="FILE",
        type=Path,
        help=_("also write it as a page to print and sign (HTML, A4) to FILE"),
    )
    console = sub.add_parser("console", help=_("the counter console: its address, to open"))
    console.add_argument(
        "--open", action="store_true", help=_("open it in this computer's web browser")
    )
    audit = sub.add_parser("audit", help=_("verify the audit trail"))
    audit.add_argument("action", choices=["verify"], help=_("verify: check the hash chain"))
    completion = sub.add_parser("completion", help=_("print a shell completion script"))
    completion.add_argument("shell", choices=["bash", "zsh"], help=_("bash or zsh"))
    _json_after_the_verb(p, _("machine-readable output"))
    return p


# ---- submit ---------------------------------------------------------------------------------


class Progress:
    """One updating line on a terminal; plain lines when asked for off a terminal."""

    def __init__(self, stream: IO[str], total: int, enabled: bool) -> None:
        self.stream, self.total = stream, total
        self.tty = stream.isatty()
        self.enabled = enabled or (self.tty and total > 1)

    def step(self, done: int, label: str) -> None:
        if not self.enabled:
            return
        line = f"{render.bar(done, self.total)} {done}/{self.total} {label}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class SubmitOutcome:
    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.code = 0

    def fail(self, code: int) -> None:
        self.code = self.code or code


def job_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


# A folder goes to printd in requests of at most this many jobs and bytes of JSON: each is one
# commit there, and no request comes near the API's body limit.
CHUNK_JOBS = 500
CHUNK_BYTES = 32 * 1024 * 1024


def _chunks(bodies: Sequence[tuple[Path, dict[str, Any]]]) -> list[list[tuple[Path, Any]]]:
    chunks: list[list[tuple[Path, Any]]] = []
    size = 0
    for path, body in bodies:
        # Only the images are big: their base64 length stands for the request's size.
        weight = sum(len(v) for v in body.values() if isinstance(v, str)) + 1024
        if not chunks or len(chunks[-1]) >= CHUNK_JOBS or size + weight > CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append((path, body))
        size += weight
    return chunks


def _submitted(
    t: NullTranslations, out: SubmitOutcome, path: Path, result: dict[str, Any], counter: str
) -> None:
    """One file's outcome in a batch reply: its job, or why printd refused it."""
    _ = t.gettext
    if "error" in result:
        error = ApiError(result["error"], result["kind"], 0)
        out.results.append({"file": str(path), "error": str(error), "kind": error.kind})
        message = translate_daemon_error(t, str(error))
        out.lines.append(_("refused: {file}: {error}").format(file=path, error=message))
        out.fail(error.exit_code)
        return
    job = result["job"]
    out.results.append({"file": str(path), "job": job, "created": result["created"]})
    note = (
        _("job {id} queued").format(id=job["id"])
        if result["created"]
        else _("job {id} already known ({state})").format(
            id=job["id"], state=render.job_state(t, job["state"])
        )
    )
    out.lines.append(f"{counter} {path}: {note}")


def submit(client: Client, args: argparse.Namespace, t: NullTranslations) -> SubmitOutcome:
    from printd.jobfile import ParsedJob, inline, load_job_file

    _ = t.gettext
    out = SubmitOutcome()
    files = job_files(args.files)
    if not files:
        folders = ", ".join(str(p) for p in args.files)
        raise JobError(_("no job files (*.json) in {folders}").format(folders=folders))
    # Validate every file first: all mistakes are shown at once, before anything is sent.
    valid: list[tuple[Path, ParsedJob]] = []
    for path in files:
        try:
            valid.append((path, load_job_file(path)))
        except JobError as error:
            out.results.append({"file": str(path), "error": str(error), "kind": "JobError"})
            message = translate_job_file(t, str(error), path)
            out.lines.append(_("refused: {error}").format(error=message))
            out.fail(error.exit_code)
    progress = Progress(sys.stderr, len(valid), args.progress and not args.json)
    done = 0
    for chunk in _chunks([(path, inline(parsed)) for path, parsed in valid]):
        progress.step(done, _("submitting {file}").format(file=chunk[0][0].name))
        try:
            reply = client.call("POST", "/v1/jobs/batch", {"jobs": [body for _, body in chunk]})
        except ApiError as error:
            if error.kind == "Unreachable":
                progress.close()
                raise
            # The request as a whole was refused (e.g. the disk is full): each of its files is.
            failed = {"error": str(error), "kind": error.kind}
            results = [failed] * len(chunk)
        else:
            results = reply["results"]
        for (path, _body), result in zip(chunk, results, strict=True):
            done += 1
            _submitted(t, out, path, result, f"[{done}/{len(valid)}]")
    progress.step(len(valid), _("submitted"))
    progress.close()
    refused = sum(1 for r in out.results if "error" in r)
    if refused and len(files) > 1:
        # A folder's worth of lines scrolls by: the last one says how it went.
        out.lines.append(
            _("{refused} of {total} job files refused, {sent} sent").format(
                refused=refused, total=len(files), sent=len(files) - refused
            )
        )
    if args.wait:
        _wait(client, out, args, t)
    return out


def _wait(
    client: Client, out: SubmitOutcome, args: argparse.Namespace, t: NullTranslations
) -> None:
    items = {r["job"]["id"]: r for r in out.results if "job" in r}
    waiting = [i for i, r in items.items() if r["job"]["state"] not in FINAL]
    progress = Progress(sys.stderr, len(items), args.progress and not args.json)
    while True:
        for job_id in list(waiting):
            job = client.call("GET", f"/v1/jobs/{job_id}")["job"]
            items[job_id]["job"] = job
            if job["state"] in FINAL:
                waiting.remove(job_id)
        progress.step(
            len(items) - len(waiting), t.gettext("waiting for {n} job(s)").format(n=len(waiting))
        )
        if not waiting:
            break
        time.sleep(WAIT_POLL_SECONDS)
    progress.close()
    for item in items.values():
        out.lines.append(render.job_changed(t, item["job"]))
        if item["job"]["state"] != "printed":
            out.fail(EXIT_WAIT_NOT_PRINTED)


def _reprint(client: Client, args: argparse.Namespace, t: NullTranslations) -> Any:
    """A reprint the daemon calls a likely second card is sent again only when the operator
    confirms: with --yes, or by answering the question on a terminal."""
    body = {"reason": args.reason, "confirm": args.yes}
    try:
        return client.call("POST", _job_path(args.job, "reprint"), body)
    except ApiError as error:
        if error.kind != "ConfirmationNeeded" or args.json or not sys.stdin.isatty():
            raise
        print(f"printctl: {translate_daemon_error(t, str(error))}", file=sys.stderr)
        answer = input(t.gettext("Print a second card for this holder? [y/N] "))
        if answer.strip().lower() not in ("y", "yes", "ya"):
            raise ConflictError(t.gettext("nothing printed")) from None
        return client.call("POST", _job_path(args.job, "reprint"), dict(body, confirm=True))


def _write_page(path: Path, page: str, t: NullTranslations) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise JobError(
            t.gettext("cannot write {path}: {error}").format(path=path, error=error.strerror)
        ) from None
    print(
        t.gettext("Written to {path}: open it in a web browser and print it.").format(path=path),
        file=sys.stderr,
    )


def _install_ribbon(client: Client, args: argparse.Namespace, t: NullTranslations) -> Any:
    """A ribbon change that throws prints away or does not fit the printer goes ahead only
    when the operator confirms: with --yes, or by answering the question on a terminal."""
    body = {
        "type": args.type,
        "capacity": args.capacity,
        "printer": args.printer,
        "confirm": args.yes,
    }
    try:
        return client.call("POST", "/v1/ribbon/install", body)
    except ApiError as error:
        if error.kind != "ConfirmationNeeded" or args.json or not _asks(sys.stdin):
            raise
        print(f"printctl: {translate_daemon_error(t, str(error))}", file=sys.stderr)
        answer = input(t.gettext("Record the new ribbon anyway? [y/N] "))
        if answer.strip().lower() not in ("y", "yes", "ya"):
            raise ConflictError(t.gettext("nothing recorded")) from None
        return client.call("POST", "/v1/ribbon/install", dict(body, confirm=True))


def _ask_outcome(job_id: str, t: NullTranslations) -> str | None:
    """On a terminal, the operator says what came out of the printer: printed, spoiled, or
    nothing (None: the job stays interrupted and nothing is booked)."""
    _ = t.gettext
    print(
        _(
            "Job {id} was interrupted: printd cannot know what became of its card. Look in the "
            "output tray and the reject box:"
        ).format(id=job_id)
    )
    print("  1  " + _("the card came out printed and good (booked as printed)"))
    print("  2  " + _("the card came out spoiled (booked as spoiled; it prints again)"))
    print("  3  " + _("nothing came out (left for a technician; nothing is booked)"))
    while True:
        try:
            answer = input(_("What did you find? [1/2/3] ")).strip()
        except EOFError:
            answer = "3"
        if answer in ("1", "2", "3"):
            return {"1": "printed", "2": "spoiled", "3": None}[answer]


# ---- the verbs ------------------------------------------------------------------------------


def _query(**params: str | None) -> str:
    from urllib.parse import urlencode

    given = {k: v for k, v in params.items() if v is not None}
    return "?" + urlencode(given) if given else ""


def _job_path(job_id: str, action: str = "") -> str:
    from urllib.parse import quote

    return f"/v1/jobs/{quote(job_id, safe='')}" + (f"/{action}" if action else "")


def run(args: argparse.Namespace, t: NullTranslations) -> tuple[Any, str, int]:
    """Do the verb; return (data for --json, text for humans, exit code)."""
    client = Client(find_socket(args), t=t)
    verb = args.verb
    if verb == "status":
        data = client.call("GET", "/v1/status")
        return data, render.status(t, data), 0
    if verb == "submit":
        outcome = submit(client, args, t)
        return outcome.results, "\n".join(outcome.lines), outcome.code
    if verb == "jobs":
        data = client.call("GET", "/v1/jobs" + _query(state=args.state))
        if args.ids:
            return [j["id"] for j in data["jobs"]], "\n".join(j["id"] for j in data["jobs"]), 0
        text = render.jobs(t, data["jobs"])
        if len(data["jobs"]) >= LISTING_LIMIT:
            text += "\n" + t.gettext(
                "(the newest {count} shown; narrow it with --state, e.g. --state queued)"
            ).format(count=LISTING_LIMIT)
        return data, text, 0
    if verb == "show":
        data = client.call("GET", _job_path(args.job))
        return data, render.job(t, data["job"]), 0
    if verb in ("cancel", "hold", "release"):
        data = client.call("POST", _job_path(args.job, verb), {})
        return data, render.job_changed(t, data["job"]), 0
    if verb == "reprint":
        data = _reprint(client, args, t)
        text = t.gettext("Job {id} queued (reprint of {original})").format(
            id=data["job"]["id"], original=args.job
        )
        return data, text, 0
    if verb == "reconcile":
        found = args.outcome or _ask_outcome(args.job, t)
        if found is None:
            # "Nothing came out": the card may be stuck inside; booking either way would guess.
            job = client.call("GET", _job_path(args.job))["job"]
            text = t.gettext(
                "Job {id}: left interrupted for a technician; nothing was booked. When the card "
                "is found, run `printctl reconcile {id}` again."
            ).format(id=args.job)
            return {"job": job, "booked": False}, text, 0
        data = client.call("POST", _job_path(args.job, "reconcile"), {"outcome": found})
        return data, render.reconciled(t, data["job"], found), 0
    if verb == "blanks":
        body = {"count": args.count, "printer": args.printer}
        data = client.call("POST", f"/v1/blanks/{args.action}", body)
        done = render.blanks_moved(t, args.action, args.count, args.printer, data)
        return data, done + "\n" + render.supplies(t, data), 0
    if verb == "ribbon":
        data = _install_ribbon(client, args, t)
        done = render.ribbon_installed(t, args.printer, data)
        return data, done + "\n" + render.supplies(t, data), 0
    if verb == "stock":
        body = {"blanks": args.blanks, "ribbons": args.ribbons}
        data = client.call("POST", "/v1/stock/receive", body)
        return data, render.supplies(t, data), 0
    if verb == "report":
        data = client.call("GET", "/v1/report" + _query(day=args.day))
        station = client.call("GET", "/v1/status")["station"]
        if args.html:
            _write_page(args.html, render.report_html(t, data, station), t)
        if args.csv:
            return data, render.report_csv(t, data, station), 0
        return data, render.report(t, data, station), 0
    if verb == "console":
        data = client.call("POST", "/v1/console/token", {})
        if args.open:
            import webbrowser

            webbrowser.open(data["url"])
        text = t.gettext(
            "Open the counter console at this address; it works once, within {seconds} s:"
        ).format(seconds=data["expires_in"])
        return data, f"{text}\n{data['url']}", 0
    data = client.call("GET", "/v1/audit/verify")
    text = (
        t.gettext("audit trail intact")
        if data["ok"]
        else t.gettext("audit trail broken at event {n}").format(n=data["first_broken_event"])
    )
    return data, text, 0 if data["ok"] else 1


def _completion(shell: str, parser: argparse.ArgumentParser) -> str:
    from printd.cli.completion import bash_script, zsh_script
    from printd.drivers.uri import RIBBON_TYPES

    values = {"--type": sorted(RIBBON_TYPES)}
    return bash_script(parser, values) if shell == "bash" else zsh_script(parser, values)


def _lang_flag(argv: Sequence[str]) -> str | None:
    """--lang is needed before parsing: the help and usage texts are translated too."""
    for index, word in enumerate(argv):
        if word == "--lang" and index + 1 < len(argv):
            return argv[index + 1] if argv[index + 1] in LANGUAGES else None
        if word.startswith("--lang="):
            value = word.split("=", 1)[1]
            return value if value in LANGUAGES else None
    return None


def _asks(stream: IO[str]) -> bool:
    """A person can answer a question here (a terminal), not a script's pipe."""
    return stream.isatty()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    t = translations(choose_language(_lang_flag(argv), os.environ))
    translate_argparse(t)
    parser = build_parser(t)
    args = parser.parse_args(argv)
    if args.verb == "reconcile" and args.outcome is None and (args.json or not _asks(sys.stdin)):
        parser.error(t.gettext("one of the arguments %s is required") % "--printed --spoiled")
    if args.verb == "completion":
        print(_completion(args.shell, parser), end="")
        return 0
    try:
        data, text, code = run(args, t)
    except ApiError as error:
        code = EXIT_UNREACHABLE if error.kind == "Unreachable" else error.exit_code
        if args.json:
            print(json.dumps({"error": str(error), "kind": error.kind}))
        else:
            message = translate_daemon_error(t, str(error))
            print(f"printctl: {message}", file=sys.stderr)
        return code
    except PrintdError as error:
        if args.json:
            print(json.dumps({"error": str(error), "kind": type(error).__name__}))
        else:
            print(f"printctl: {error}", file=sys.stderr)
        return error.exit_code
    try:
        if args.json:
            print(json.dumps(data, indent=2, ensure_ascii=False))
        elif text:
            print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # `printctl jobs | head`: the reader has all it wanted. Point stdout at /dev/null so
        # the interpreter's final flush does not raise again, and end as quietly as `cat`.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return code


if __name__ == "__main__":
    sys.exit(main())
