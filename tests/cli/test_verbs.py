"""Every printctl verb against the daemon as a real process: human output and --json."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.cli.counter import interrupt_a_card
from tests.conftest import BIN, EXAMPLES


def _job_file(folder: Path, job_id: str, nik: str, front: str = "front.png") -> Path:
    path = folder / f"{job_id}.json"
    path.write_text(
        json.dumps(
            {
                "id": job_id,
                "document": "ktp-el",
                "holder": {"nik": nik, "name": "CONTOH"},
                "front": str(EXAMPLES / "example-0001-front.png")
                if front == "front.png"
                else front,
            }
        )
    )
    return path


def test_supplies_queue_and_job_verbs(make_daemon: Any, tmp_path: Path) -> None:
    daemon = make_daemon()
    daemon.start()

    received = daemon.ctl("stock", "receive", "--blanks", "60", "--ribbons", "2")
    assert "Office stock: 60 blanks, 2 ribbons" in received.stdout
    assert daemon.ctl_json("stock", "receive", "--blanks", "40")["stock_blanks"] == 100

    # No blanks in the hopper yet: jobs wait in the queue, so hold/release/cancel are stable.
    first = _job_file(tmp_path, "counter-a", "9901010101900001")
    second = _job_file(tmp_path, "counter-b", "9901010101900002")
    submitted = daemon.ctl_json("submit", str(first), str(second))
    assert [r["created"] for r in submitted] == [True, True]
    assert daemon.ctl("hold", "counter-a").stdout.strip() == "Job counter-a: held"
    assert daemon.ctl_json("release", "counter-a")["job"]["state"] == "queued"
    assert daemon.ctl_json("cancel", "counter-b")["job"]["state"] == "cancelled"
    listed = daemon.ctl("jobs").stdout.splitlines()
    assert listed[0].split() == ["JOB", "STATE", "PRINTER", "SPOILED", "UPDATED", "REASON"]
    assert any(line.startswith("counter-b") and "cancelled" in line for line in listed)
    assert daemon.ctl_json("jobs", "--state", "cancelled")["jobs"][0]["id"] == "counter-b"
    assert daemon.ctl("jobs", "--state", "held").stdout.strip() == "no jobs"
    assert daemon.ctl("jobs", "--ids").stdout.split() == ["counter-b", "counter-a"]

    status = daemon.ctl("status").stdout
    assert "Printer counter-1: needs operator" in status
    assert "Conditions  hopper empty, ribbon missing" in status
    assert "queued 1" in status and "cancelled 1" in status

    loaded = daemon.load_blanks(50)
    assert "[##########..........] 50/100" in loaded.stdout
    # Still no ribbon, so nothing prints yet and the hopper count is exact.
    daemon.hands().unload_blanks(5)
    assert daemon.ctl_json("blanks", "unload", "5")["printers"]["counter-1"]["hopper"] == 45
    daemon.hands().install_ribbon("ymcko", 450)
    installed = daemon.ctl_json("ribbon", "install", "--type", "ymcko")
    assert installed["printers"]["counter-1"]["ribbon"]["remaining"] == 450

    waited = daemon.ctl("submit", "--wait", str(EXAMPLES))
    assert "job example-0002 queued" in waited.stdout
    assert "Job example-0002: printed" in waited.stdout
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "counter-a")["job"]["state"] == "printed",
        what="counter-a printed",
    )

    shown = daemon.ctl("show", "example-0002").stdout
    assert shown.splitlines()[0] == "Job example-0002: printed"
    assert "queued→printing" in shown and "root(0)" in shown  # the actor from SO_PEERCRED
    events = daemon.ctl_json("show", "example-0002")["job"]["events"]
    assert events[0]["actor"] == "root(0)" and events[0]["to"] == "queued"

    # Only a printed card is reprinted, with a reason that goes into the audit trail.
    refused = daemon.ctl("reprint", "counter-b", "--reason", "photo smudged", check=False)
    assert refused.returncode == 73 and "only a printed card is reprinted" in refused.stderr
    # A printed card's images stay for a day (spool_retention_days), so it can be reprinted;
    # the new job is linked to the original in the audit trail.
    again = daemon.ctl_json("reprint", "example-0002", "--reason", "photo smudged")
    assert again["job"]["id"] == "example-0002.r1"
    assert again["job"]["reprint_of"] == "example-0002"
    events = daemon.ctl_json("show", "example-0002.r1")["job"]["events"]
    assert "reprint of example-0002: photo smudged" in events[0]["reason"]
    # The daemon's reasons read in the operator's language; free text stays as typed.
    shown_id = daemon.ctl("--lang", "id", "show", "example-0002.r1").stdout
    assert "cetak ulang dari example-0002: photo smudged" in shown_id
    printed_id = daemon.ctl("--lang", "id", "show", "example-0002").stdout
    assert "kartu keluar dari printer" in printed_id and "dicetak di counter-1" in printed_id
    assert "0 rusak" in printed_id
    assert (
        daemon.ctl("--json", "reprint", "example-0002", "--reason", " ", check=False).returncode
        == 65
    )

    status_json = daemon.ctl_json("status")
    printer = status_json["printers"][0]
    assert status_json["today"]["printed"] >= 4
    human = daemon.ctl("status").stdout
    assert f"{printer['hopper']}/100 blanks" in human
    assert f"{printer['ribbon']['remaining']}/450 prints left, YMCKO" in human
    assert "Today  printed" in human and "Stock  blanks" in human

    assert daemon.ctl("audit", "verify").stdout.strip() == "audit trail intact"
    assert daemon.ctl_json("audit", "verify") == {"ok": True, "first_broken_event": None}


def test_report_balances_and_reads_as_minutes(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.stock_up(30)
    daemon.ctl("submit", "--wait", str(EXAMPLES / "example-0001.json"))
    report = daemon.ctl_json("report")
    assert report["received"] == 30 and report["printed"] == 1 and report["balance"] == 0

    english = daemon.ctl("report").stdout
    assert english.startswith("Reconciliation of KTP-el blank cards\n")
    for words in ("1. Opening balance", "2. Received", "3. Printed", "4. Spoiled"):
        assert words in english
    assert "5. Closing balance" in english and "Difference: 0, balanced" in english

    indonesian = daemon.ctl("--lang", "id", "report").stdout
    assert indonesian.startswith("Berita Acara Rekonsiliasi Blangko KTP-el\n")
    rows = dict(
        line.rsplit(None, 1)
        for line in indonesian.splitlines()
        if line[:2] in ("1.", "2.", "3.", "4.", "5.")
    )
    assert rows == {
        "1. Saldo awal": "0",
        "2. Diterima": "30",
        "3. Dicetak": "1",
        "4. Rusak": "0",
        "5. Saldo akhir": "29",
    }
    assert "Selisih: 0, seimbang" in indonesian and "Mengetahui," in indonesian

    table = list(csv.reader(io.StringIO(daemon.ctl("--lang", "id", "report", "--csv").stdout)))
    assert table[0] == ["station", "day", "code", "uraian", "jumlah_keping"]
    by_code = {row[2]: (row[3], int(row[4])) for row in table[1:]}
    assert by_code["received"] == ("2. Diterima", 30)
    assert by_code["closing"] == ("5. Saldo akhir", 29)
    assert by_code["balance"][1] == 0
    day = daemon.ctl_json("report", "--day", "2020-01-01")
    assert day["day"] == "2020-01-01" and day["received"] == 0


def test_interrupted_job_is_reconciled_and_spoils_are_listed_by_reason(
    make_daemon: Any,
) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=3")
    interrupt_a_card(daemon)
    assert daemon.ctl_json("show", "example-0001")["job"]["state"] == "interrupted"
    assert "interrupted 1" in daemon.ctl("status").stdout
    settled = daemon.ctl("reconcile", "example-0001", "--spoiled")
    assert settled.stdout.strip() == (
        "Job example-0001: booked as spoiled; it prints again on a new blank, ahead of jobs "
        "submitted after it."
    )
    report = daemon.ctl_json("report")
    assert report["spoiled"] == {"interrupted": 1}
    text = daemon.ctl("--lang", "id", "report").stdout
    assert "cetak terputus (diperiksa operator)" in text and "4. Rusak" in text
    wrong = daemon.ctl("reconcile", "example-0001", "--printed", check=False)
    assert wrong.returncode == 73


def test_submit_checks_every_file_first_and_shows_progress(
    make_daemon: Any, tmp_path: Path
) -> None:
    daemon = make_daemon()
    daemon.start()
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a-broken.json").write_text("{ nope")
    _job_file(folder, "b-missing-image", "9901010101900003", front="nowhere.png")
    for n in range(3):
        _job_file(folder, f"c-good-{n}", f"990101010190001{n}")
    result = daemon.ctl("submit", "--progress", str(folder), check=False)
    assert result.returncode == 65
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused: ") and "a-broken.json: not valid JSON" in lines[0]
    assert lines[1].startswith("refused: ") and "nowhere.png not found" in lines[1]
    assert [line.split(": ", 1)[1] for line in lines[2:-1]] == [
        f"job c-good-{n} queued" for n in range(3)
    ]
    assert lines[-1] == "2 of 5 job files refused, 3 sent"
    assert "3/3 submitted" in result.stderr  # progress, asked for off a terminal
    mixed = daemon.ctl(
        "--json",
        "submit",
        str(folder / "a-broken.json"),
        str(folder / "c-good-0.json"),
        check=False,
    )
    assert mixed.returncode == 65
    report = json.loads(mixed.stdout)
    assert report[0]["kind"] == "JobError" and "not valid JSON" in report[0]["error"]
    assert report[1]["created"] is False


def test_exit_codes_per_error_class(make_daemon: Any, tmp_path: Path) -> None:
    daemon = make_daemon()
    gone = daemon.ctl("status", check=False)
    assert gone.returncode == 69 and "printd is not running" in gone.stderr
    assert json.loads(daemon.ctl("--json", "status", check=False).stdout)["kind"] == "Unreachable"
    daemon.start()
    cases = [
        (("show", "no-such-job"), 66, "no job 'no-such-job'"),
        (("blanks", "load", "5"), 73, "office stock has 0 blanks"),
        (("ribbon", "install", "--type", "rainbow"), 65, "type: a ribbon code"),
        (("blanks", "load", "5", "--printer", "nope"), 66, "no printer 'nope'"),
        (("report", "--day", "27-11-2026"), 65, "not a date"),
        (("blanks", "load", "zero"), 65, "not a whole number"),  # bad data, as the README says
        (("blanks", "load", "0"), 65, "must be 1 or more"),
        (("jobs", "--state", "lost"), 2, "invalid choice"),
    ]
    for argv, code, words in cases:
        result = daemon.ctl(*argv, check=False)
        assert result.returncode == code, (argv, result.stderr)
        assert words in result.stderr, (argv, result.stderr)
        assert "Traceback" not in result.stderr
    as_json = daemon.ctl("--json", "show", "no-such-job", check=False)
    assert as_json.returncode == 66
    assert json.loads(as_json.stdout) == {
        "error": "no job 'no-such-job'; `printctl jobs` lists the jobs",
        "kind": "NotFoundError",
    }


def _printctl(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "printctl"), *argv], capture_output=True, text=True, timeout=60, env=env
    )


def test_socket_from_environment_and_language_from_locale(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env["PRINTD_SOCKET"] = str(daemon.socket)
    assert _printctl("status", env=env).stdout.startswith("Station test")
    indonesian = _printctl("status", env={**env, "LANG": "id_ID.UTF-8"})
    assert indonesian.stdout.startswith("Stasiun cetak test")
    assert "perlu tindakan operator" in indonesian.stdout
    forced = _printctl("--lang", "en", "status", env={**env, "LC_ALL": "id_ID.UTF-8"})
    assert forced.stdout.startswith("Station test")
    refused = _printctl("show", "x", env={**env, "LANG": "id_ID.UTF-8"})
    assert refused.returncode == 66
    assert "tidak ada pekerjaan 'x'" in refused.stderr
    wrong_socket = _printctl("--socket", str(daemon.socket) + ".nope", "status", env=env)
    assert wrong_socket.returncode == 69  # --socket beats the environment


def test_a_mistyped_command_is_explained_in_the_operators_language() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    indonesian = {**env, "LANG": "id_ID.UTF-8"}
    unknown = _printctl("jobs", "--bogus", env=indonesian)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("penggunaan: printctl")
    assert "printctl: galat: argumen tidak dikenal: --bogus" in unknown.stderr
    missing = _printctl("reprint", env=indonesian)
    assert "argumen berikut wajib diisi: job, --reason" in missing.stderr
    choice = _printctl("jobs", "--state", "nope", env=indonesian)
    assert "argumen --state: pilihan tidak dikenal: 'nope'" in choice.stderr
    helped = _printctl("--help", env=indonesian)
    assert "argumen posisi:" in helped.stdout and "tampilkan bantuan ini" in helped.stdout
    english = _printctl("--lang", "en", "jobs", "--bogus", env=indonesian)
    assert english.stderr.startswith("usage: printctl")
    assert "printctl: error: unrecognized arguments: --bogus" in english.stderr


def test_shell_completion(tmp_path: Path) -> None:
    script = subprocess.run(
        [str(BIN / "printctl"), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    probe = tmp_path / "probe.sh"
    probe.write_text(
        script
        + """
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
  COMPREPLY=(); _printctl; echo "${COMPREPLY[*]}"; }
complete_words printctl bl
complete_words printctl blanks ""
complete_words printctl --json ri
complete_words printctl jobs --state he
complete_words printctl ribbon install --type ym
complete_words printctl report --c
"""
    )
    out = subprocess.run(["bash", str(probe)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "blanks",
        "load unload",
        "ribbon",
        "held",
        "ymcko ymckok ymckos",
        "--csv",
    ], out.stderr
    zsh = subprocess.run(
        [str(BIN / "printctl"), "completion", "zsh"], capture_output=True, text=True, check=True
    ).stdout
    assert zsh.startswith("#compdef printctl") and "complete -F _printctl printctl" in zsh
