"""printctl: what operators use all day at the counter (DESIGN §6 verbs)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from printd.cli.client import EXIT_UNREACHABLE, ApiError, Client
from printd.errors import PrintdError

CHECKOUT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "printd.sim.toml"
SYSTEM_SOCKET = Path("/run/printd/printd.sock")
FINAL = {"printed", "failed", "cancelled", "interrupted"}


def _socket_from_config(path: Path) -> Path:
    from printd.config import load_config

    return load_config(path).daemon.socket


def find_socket(args: argparse.Namespace) -> Path:
    if args.socket:
        return Path(args.socket)
    if os.environ.get("PRINTD_SOCKET"):
        return Path(os.environ["PRINTD_SOCKET"])
    if args.config:
        return _socket_from_config(Path(args.config))
    if CHECKOUT_CONFIG.exists():
        return _socket_from_config(CHECKOUT_CONFIG)
    return SYSTEM_SOCKET


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _bar(value: int | None, total: int | None, width: int = 20) -> str:
    if value is None or not total:
        return "?".ljust(width + 2)
    filled = max(0, min(width, round(width * value / total)))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _ago(ts: float | None) -> str:
    if ts is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def show_status(data: dict[str, Any]) -> str:
    out = [f"station {data['station']}"]
    for p in data["printers"]:
        cond = ", ".join(p["conditions"]) or "-"
        out.append("")
        out.append(f"printer {p['name']}: {p['state']}  (conditions: {cond})")
        if p.get("reason"):
            out.append(f"  {p['reason']}")
        ribbon = p.get("ribbon") or {}
        out.append(
            f"  hopper  {_bar(p['hopper'], p['hopper_capacity'])} "
            f"{p['hopper']}/{p['hopper_capacity']}"
            f" blanks (printer reports {p.get('printer_hopper', '?')})"
        )
        if ribbon:
            out.append(
                f"  ribbon  {_bar(ribbon['remaining'], ribbon['capacity'])} {ribbon['remaining']}/"
                f"{ribbon['capacity']} prints, {ribbon['type']} (printer reports "
                f"{p.get('printer_ribbon_remaining', '?')})"
            )
        else:
            out.append("  ribbon  none recorded")
        if p.get("model"):
            out.append(f"  model {p['model']}  serial {p['serial']}  firmware {p['firmware']}")
    queue = data["queue"]
    out.append("")
    out.append("queue   " + "  ".join(f"{k} {v}" for k, v in queue.items() if v))
    out.append(f"today   printed {data['today']['printed']}  spoiled {data['today']['spoiled']}")
    stock = data["stock"]
    days = stock["days_remaining"]

    def fmt(value: float | None) -> str:
        return f"{value:.0f} days" if value is not None else "no forecast yet"

    out.append(
        f"stock   blanks {stock['blanks']} ({fmt(days.get('blanks'))})  ribbons "
        f"{stock['ribbons']} (ribbon prints: {fmt(days.get('ribbon_prints'))})"
    )
    return "\n".join(out)


def show_jobs(jobs: list[dict[str, Any]]) -> str:
    if not jobs:
        return "no jobs"
    rows = [
        [
            j["id"],
            j["state"],
            j["printer"] or "-",
            str(j["attempts"]),
            _ago(j["updated_at"]),
            j["reason"] or "",
        ]
        for j in jobs
    ]
    return _table(rows, ["JOB", "STATE", "PRINTER", "ATTEMPTS", "UPDATED", "REASON"])


def show_job(job: dict[str, Any]) -> str:
    out = [
        f"job {job['id']}: {job['state']}",
        (
            f"  document {job['document']}  sides {job['sides']}"
            f"  printer {job['printer'] or '-'}  attempts {job['attempts']}"
        ),
    ]
    if job.get("reprint_of"):
        out.append(f"  reprint of {job['reprint_of']}")
    rows = [
        [
            _ago(e["at"]),
            f"{e['from'] or ''}→{e['to'] or ''}" if e["to"] else e["kind"],
            e["actor"],
            e["reason"] or "",
        ]
        for e in job.get("events", [])
    ]
    out.append(_table(rows, ["WHEN", "CHANGE", "BY", "WHY"]))
    return "\n".join(out)


def show_supplies(data: dict[str, Any]) -> str:
    out = [f"office stock: {data['stock_blanks']} blanks, {data['stock_ribbons']} ribbons"]
    for name, p in data["printers"].items():
        ribbon = p["ribbon"]
        rib = (
            f"{ribbon['type']} {ribbon['remaining']}/{ribbon['capacity']} prints"
            if ribbon
            else "no ribbon"
        )
        out.append(f"{name}: hopper {p['hopper']}/{p['hopper_capacity']}, {rib}")
    return "\n".join(out)


def show_report(r: dict[str, Any], csv: bool) -> str:
    rows = [
        ("opening stock (store room + hoppers)", r["opening"]["total"]),
        ("received", r["received"]),
        ("printed", r["printed"]),
        ("spoiled", r["spoiled_total"]),
        *((f"  spoiled: {reason}", n) for reason, n in sorted(r["spoiled"].items())),
        ("closing stock (store room + hoppers)", r["closing"]["total"]),
        ("  of which in the store room", r["closing"]["stock"]),
        ("  of which in hoppers", r["closing"]["hoppers"]),
        ("balance (must be 0)", r["balance"]),
    ]
    if csv:
        return "item,blanks\n" + "\n".join(f'"{k.strip()}",{v}' for k, v in rows)
    head = f"Daily reconciliation of blank cards, {r['day']} ({r['timezone']})"
    return head + "\n" + _table([[k, str(v)] for k, v in rows], ["ITEM", "BLANKS"])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="printctl", description="Talk to the printd daemon.")
    p.add_argument("--socket", help="the daemon's socket (env PRINTD_SOCKET)")
    p.add_argument("--config", help="read the socket path from this printd.toml")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="verb", required=True)
    sub.add_parser("status", help="printers, queue, supplies, today, stock")
    submit = sub.add_parser("submit", help="submit job files (or folders of them)")
    submit.add_argument("files", nargs="+", type=Path)
    submit.add_argument("--wait", action="store_true", help="follow each job to its end")
    jobs = sub.add_parser("jobs", help="list jobs")
    jobs.add_argument("--state")
    for verb in ("show", "cancel", "hold", "release"):
        sub.add_parser(verb).add_argument("job")
    reprint = sub.add_parser("reprint", help="print a printed card again, with a reason")
    reprint.add_argument("job")
    reprint.add_argument("--reason", required=True)
    reconcile = sub.add_parser("reconcile", help="settle an interrupted job")
    reconcile.add_argument("job")
    outcome = reconcile.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--printed", action="store_const", const="printed", dest="outcome")
    outcome.add_argument("--spoiled", action="store_const", const="spoiled", dest="outcome")
    blanks = sub.add_parser("blanks", help="blanks into or out of a hopper")
    blanks_sub = blanks.add_subparsers(dest="action", required=True)
    for action in ("load", "unload"):
        a = blanks_sub.add_parser(action)
        a.add_argument("count", type=int)
        a.add_argument("--printer")
    ribbon = sub.add_parser("ribbon", help="record a ribbon change")
    ribbon_sub = ribbon.add_subparsers(dest="action", required=True)
    install = ribbon_sub.add_parser("install")
    install.add_argument("--type", required=True)
    install.add_argument("--capacity", type=int)
    install.add_argument("--printer")
    stock = sub.add_parser("stock", help="office stock deliveries")
    stock_sub = stock.add_subparsers(dest="action", required=True)
    receive = stock_sub.add_parser("receive")
    receive.add_argument("--blanks", type=int)
    receive.add_argument("--ribbons", type=int)
    report = sub.add_parser("report", help="the daily reconciliation")
    report.add_argument("--day")
    report.add_argument("--csv", action="store_true")
    sub.add_parser("audit", help="verify the audit trail").add_argument(
        "action", choices=["verify"]
    )
    return p


def _job_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def _submit(client: Client, args: argparse.Namespace) -> tuple[Any, str, int]:
    from printd.jobfile import inline, load_job_file

    files = _job_files(args.files)
    results: list[dict[str, Any]] = []
    lines: list[str] = []
    failures = 0
    for index, path in enumerate(files, 1):
        try:
            parsed = load_job_file(path)
            reply = client.call("POST", "/v1/jobs", inline(parsed))
        except ApiError as error:
            if error.kind == "Unreachable":
                raise
            failures += 1
            results.append({"file": str(path), "error": str(error)})
            lines.append(f"[{index}/{len(files)}] {path}: REFUSED: {error}")
            continue
        except PrintdError as error:
            failures += 1
            results.append({"file": str(path), "error": str(error)})
            lines.append(f"[{index}/{len(files)}] REFUSED: {error}")
            continue
        job = reply["job"]
        results.append({"file": str(path), "job": job, "created": reply["created"]})
        note = "queued" if reply["created"] else f"already known ({job['state']})"
        lines.append(f"[{index}/{len(files)}] {path}: job {job['id']} {note}")
        if not args.json:
            print(lines[-1], file=sys.stderr, flush=True)
    if args.wait:
        for item in results:
            if "job" not in item:
                continue
            while True:
                job = client.call("GET", f"/v1/jobs/{item['job']['id']}")["job"]
                if job["state"] in FINAL:
                    item["job"] = job
                    lines.append(f"job {job['id']}: {job['state']}")
                    break
                time.sleep(0.2)
    return results, "\n".join(lines), 65 if failures else 0


def run(args: argparse.Namespace) -> tuple[Any, str, int]:
    client = Client(find_socket(args))
    verb = args.verb
    if verb == "status":
        data = client.call("GET", "/v1/status")
        return data, show_status(data), 0
    if verb == "submit":
        return _submit(client, args)
    if verb == "jobs":
        query = f"?state={args.state}" if args.state else ""
        data = client.call("GET", f"/v1/jobs{query}")
        return data, show_jobs(data["jobs"]), 0
    if verb == "show":
        data = client.call("GET", f"/v1/jobs/{args.job}")
        return data, show_job(data["job"]), 0
    if verb in ("cancel", "hold", "release"):
        data = client.call("POST", f"/v1/jobs/{args.job}/{verb}", {})
        return data, f"job {args.job}: {data['job']['state']}", 0
    if verb == "reprint":
        data = client.call("POST", f"/v1/jobs/{args.job}/reprint", {"reason": args.reason})
        return data, f"job {data['job']['id']} queued (reprint of {args.job})", 0
    if verb == "reconcile":
        data = client.call("POST", f"/v1/jobs/{args.job}/reconcile", {"outcome": args.outcome})
        return data, f"job {args.job}: {data['job']['state']}", 0
    if verb == "blanks":
        body = {"count": args.count, "printer": args.printer}
        data = client.call("POST", f"/v1/blanks/{args.action}", body)
        return data, show_supplies(data), 0
    if verb == "ribbon":
        body = {"type": args.type, "capacity": args.capacity, "printer": args.printer}
        data = client.call("POST", "/v1/ribbon/install", body)
        return data, show_supplies(data), 0
    if verb == "stock":
        data = client.call(
            "POST", "/v1/stock/receive", {"blanks": args.blanks, "ribbons": args.ribbons}
        )
        return data, show_supplies(data), 0
    if verb == "report":
        query = f"?day={args.day}" if args.day else ""
        data = client.call("GET", f"/v1/report{query}")
        return data, show_report(data, args.csv), 0
    data = client.call("GET", "/v1/audit/verify")
    text = (
        "audit trail intact"
        if data["ok"]
        else f"audit trail broken at event {data['first_broken_event']}"
    )
    return data, text, 0 if data["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        data, text, code = run(args)
    except ApiError as error:
        code = EXIT_UNREACHABLE if error.kind == "Unreachable" else error.exit_code
        if args.json:
            print(json.dumps({"error": str(error), "kind": error.kind}))
        else:
            print(f"printctl: {error}", file=sys.stderr)
        return code
    except PrintdError as error:
        print(f"printctl: {error}", file=sys.stderr)
        return error.exit_code
    print(json.dumps(data, indent=2) if args.json else text)
    return code


if __name__ == "__main__":
    sys.exit(main())
