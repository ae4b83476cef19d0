"""An operator's day at the counter (issue 16): one time zone, interrupted cards that cannot
hide, and printctl saying what it did. The daemon runs as a real process on the simulator."""

from __future__ import annotations

import json
import os
import pty
import struct
import subprocess
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.cli.counter import interrupt_a_card
from tests.conftest import BIN, EXAMPLES

STATION_ZONE = ZoneInfo("Asia/Jakarta")  # [daemon] timezone's default


def _printctl(daemon: Any, *argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    # The machine's clock zone is UTC here on purpose: what a person reads must not follow it.
    env = {**os.environ, "TZ": "UTC", "LANG": "C.UTF-8"}
    env.pop("LC_ALL", None)
    return subprocess.run(
        [str(BIN / "printctl"), "--socket", str(daemon.socket), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        **kwargs,
    )


def test_every_time_a_person_reads_is_in_the_stations_zone(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.stock_up(10)
    daemon.ctl("submit", "--wait", str(EXAMPLES / "example-0001.json"))
    job = daemon.ctl_json("show", "example-0001")["job"]
    station_time = datetime.fromtimestamp(job["updated_at"], STATION_ZONE)
    assert job["updated_at_iso"] == station_time.isoformat(timespec="seconds")
    assert job["updated_at_iso"].endswith("+07:00")
    assert all(e["at_iso"].endswith("+07:00") for e in job["events"])
    shown = station_time.strftime("%Y-%m-%d %H:%M")
    listed = _printctl(daemon, "jobs").stdout
    assert shown in listed, listed
    assert shown in _printctl(daemon, "show", "example-0001").stdout
    assert daemon.ctl_json("status")["timezone"] == "Asia/Jakarta"


def test_the_report_takes_today_and_yesterday_and_names_its_station(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    today = datetime.now(STATION_ZONE).date()
    report = json.loads(_printctl(daemon, "--json", "report", "--day", "today").stdout)
    assert report["day"] == today.isoformat() and report["station"] == "test"
    assert report["generated_at"].endswith("+07:00")
    yesterday = json.loads(_printctl(daemon, "report", "--day", "yesterday", "--json").stdout)
    assert date.fromisoformat(yesterday["day"]) == today - timedelta(days=1)


def _on_a_terminal(daemon: Any, answer: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """printctl with a terminal for its input: the operator types `answer`."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return _printctl(daemon, *argv, stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)


def test_an_interrupted_card_is_named_asked_about_and_settled(make_daemon: Any) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=3")
    interrupt_a_card(daemon)
    status = daemon.ctl("status").stdout
    assert (
        "To do       job example-0001 was interrupted on counter-1: look in the output tray "
        "and the reject box, then `printctl reconcile example-0001`"
    ) in status
    assert daemon.ctl_json("status")["interrupted"][0]["id"] == "example-0001"

    helped = " ".join(daemon.ctl("reconcile", "--help").stdout.split())
    assert "printed and good: it is booked as printed" in helped
    assert "prints again on a new blank" in helped and "nothing came out" in helped

    # Off a terminal, a missing choice is a usage error, as before: a script never hangs.
    scripted = _printctl(daemon, "reconcile", "example-0001", stdin=subprocess.DEVNULL)
    assert scripted.returncode == 2 and "--printed --spoiled" in scripted.stderr

    ledger_before = daemon.ctl_json("report")
    nothing = _on_a_terminal(daemon, "3\n", "reconcile", "example-0001")
    assert nothing.returncode == 0, nothing.stderr
    assert "1  the card came out printed and good" in nothing.stdout
    assert (
        "Job example-0001: left interrupted for a technician; nothing was booked." in nothing.stdout
    )
    assert daemon.ctl_json("show", "example-0001")["job"]["state"] == "interrupted"
    after = daemon.ctl_json("report")
    assert {k: v for k, v in after.items() if k != "generated_at"} == {
        k: v for k, v in ledger_before.items() if k != "generated_at"
    }

    spoiled = _on_a_terminal(daemon, "2\n", "--lang", "id", "reconcile", "example-0001")
    assert "Pekerjaan example-0001: dicatat sebagai rusak; dicetak ulang" in spoiled.stdout
    assert daemon.ctl_json("report")["spoiled"] == {"interrupted": 1}
    assert "was interrupted" not in daemon.ctl("status").stdout


def _padded_png(path: Path, size: int) -> Path:
    """The example's front, correct size, with a private chunk padding it to `size` bytes."""
    data = (EXAMPLES / "example-0001-front.png").read_bytes()
    end = data.rindex(b"IEND") - 4
    filler = b"\0" * (size - len(data) - 12)
    chunk = struct.pack(">I", len(filler)) + b"prVt" + filler
    chunk += struct.pack(">I", zlib.crc32(b"prVt" + filler))
    path.write_bytes(data[:end] + chunk + data[end:])
    return path


def test_printctl_says_its_version() -> None:
    version = subprocess.run(
        [str(BIN / "printctl"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("printctl ")


def test_json_is_asked_for_after_the_verb_too(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    assert json.loads(daemon.ctl("status", "--json").stdout)["station"] == "test"
    assert json.loads(daemon.ctl("blanks", "load", "1", "--json", check=False).stdout)["kind"]


def test_one_blank_and_one_ribbon_are_not_plural(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    received = daemon.ctl("stock", "receive", "--blanks", "1", "--ribbons", "1").stdout
    assert "Office stock: 1 blank, 1 ribbon" in received


def test_blanks_load_and_unload_say_what_they_did(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.ctl("stock", "receive", "--blanks", "5")
    loaded = daemon.ctl("blanks", "load", "3").stdout
    assert loaded.startswith("Loaded 3 blanks from office stock into the hopper of counter-1.")
    unloaded = daemon.ctl("--lang", "id", "blanks", "unload", "1").stdout
    assert unloaded.startswith("1 blangko dikeluarkan dari hopper counter-1, kembali ke stok")


def test_a_count_that_is_not_a_number_is_refused_in_indonesian() -> None:
    wrong = subprocess.run(
        [str(BIN / "printctl"), "--lang", "id", "blanks", "load", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "'abc' bukan bilangan bulat" in wrong.stderr


def test_a_reader_that_has_gone_ends_printctl_quietly(make_daemon: Any) -> None:
    """`printctl jobs | head`: the pipe closes before printctl writes."""
    daemon = make_daemon()
    daemon.start()
    reader = subprocess.Popen(
        [str(BIN / "printctl"), "--socket", str(daemon.socket), "jobs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()
    complaint = reader.stderr.read().decode()
    reader.wait()
    assert "Traceback" not in complaint and "BrokenPipeError" not in complaint, complaint


def test_a_padded_card_image_is_refused(make_daemon: Any, tmp_path: Path) -> None:
    daemon = make_daemon()
    daemon.start()
    padded = tmp_path / "padded-front.png"
    _padded_png(padded, 50 * 10**6)  # 1016×648, so only its size gives it away
    job = tmp_path / "padded.json"
    job.write_text(
        json.dumps(
            {
                "id": "padded",
                "document": "ktp-el",
                "holder": {"nik": "9901010101900009", "name": "CONTOH"},
                "front": str(padded),
            }
        )
    )
    refused = daemon.ctl("submit", str(job), check=False)
    assert refused.returncode == 65
    assert "a card side is never more than 8 MB, so this file holds something else" in (
        refused.stdout
    )
    assert daemon.ctl_json("jobs")["jobs"] == []


def test_a_folder_of_job_files_ends_with_a_summary(make_daemon: Any, tmp_path: Path) -> None:
    daemon = make_daemon()
    daemon.start()
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.json").write_text("{ nope")
    (folder / "b.json").write_text("[]")
    (folder / "c.json").write_text((EXAMPLES / "example-0002.json").read_text())
    for image in (EXAMPLES / "example-0002-front.png", EXAMPLES / "back.png"):
        (folder / image.name).write_bytes(image.read_bytes())
    batch = daemon.ctl("submit", str(folder), check=False)
    assert batch.stdout.splitlines()[-1] == "2 of 3 job files refused, 1 sent", batch.stdout


def test_refusals_and_ledger_lines_read_in_indonesian(make_daemon: Any, tmp_path: Path) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.stock_up(10)
    daemon.ctl("submit", "--wait", str(EXAMPLES / "example-0001.json"))

    def said(*argv: str) -> str:
        result = daemon.ctl("--lang", "id", *argv, check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        return result.stderr.strip()

    assert said("release", "example-0001") == (
        "printctl: pekerjaan example-0001 berstatus tercetak; hanya pekerjaan yang ditahan "
        "yang dapat dilepas"
    )
    assert said("cancel", "example-0001") == (
        "printctl: pekerjaan example-0001 berstatus tercetak; hanya pekerjaan yang menunggu "
        "atau ditahan yang dapat dibatalkan"
    )
    assert said("stock", "receive") == (
        "printctl: sebutkan apa yang datang: --blanks N dan/atau --ribbons N"
    )
    assert said("ribbon", "install", "--type", "rainbow").startswith(
        "printctl: type: kode ribbon, salah satu dari "
    )
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.json").write_text("{ nope")
    (folder / "b.json").write_text(json.dumps({"id": "b", "document": "ktp-el"}))
    refused = daemon.ctl("--lang", "id", "submit", str(folder), check=False).stdout.splitlines()
    assert refused[:2] == [
        f"ditolak: {folder / 'a.json'}: bukan JSON yang sah (baris 1, kolom 3)",
        f"ditolak: {folder / 'b.json'}: holder: wajib diisi, objek berisi 'nik' dan 'name'",
    ]
    shown = daemon.ctl("--lang", "id", "show", "example-0001").stdout
    assert "1 sisi" in shown and "pembukuan" in shown and "cetakan ribbon terpakai 1" in shown
    assert "ribbon_prints" not in shown and "side(s)" not in shown


def test_a_ribbon_change_is_checked_and_a_colour_card_waits_for_a_colour_ribbon(
    make_daemon: Any,
) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.stock_up(10)
    daemon.ctl("stock", "receive", "--ribbons", "2")
    refused = daemon.ctl("ribbon", "install", "--type", "kb", check=False)
    assert refused.returncode == 73
    assert refused.stderr.splitlines() == [
        (
            "printctl: the YMCKO ribbon in counter-1 still has 450 prints by our count; a new "
            "ribbon throws them away"
        ),
        "counter-1 is set up for YMCKO ribbons (ribbon_type in printd.toml), not KB",
        "only if that is right, repeat with --yes",
    ]
    assert daemon.ctl_json("status")["printers"][0]["ribbon"]["type"] == "ymcko"
    declined = _on_a_terminal(daemon, "n\n", "ribbon", "install", "--type", "kb")
    assert declined.returncode == 73 and "nothing recorded" in declined.stderr
    installed = daemon.ctl("ribbon", "install", "--type", "kb", "--yes").stdout
    assert installed.startswith("Recorded a new KB ribbon with 450 prints in counter-1.")

    # A KTP-el's colour photo never goes onto a black ribbon: the job waits, and says why.
    daemon.ctl("submit", str(EXAMPLES / "example-0001.json"))
    why = (
        "job example-0001 needs a colour ribbon and counter-1 has KB; install a colour ribbon "
        "(`printctl ribbon install --type ymcko`)"
    )
    daemon.wait_for(lambda: why in daemon.ctl("status").stdout, what="the wrong-ribbon reason")
    assert why in daemon.ctl("jobs").stdout
    assert daemon.ctl_json("show", "example-0001")["job"]["state"] == "queued"
    assert daemon.ctl_json("report")["printed"] == 0
    indonesian = daemon.ctl("--lang", "id", "jobs").stdout
    assert "pekerjaan example-0001 perlu ribbon berwarna dan counter-1 memakai KB" in indonesian

    confirmed = _on_a_terminal(daemon, "y\n", "ribbon", "install", "--type", "ymcko")
    assert confirmed.returncode == 0, confirmed.stderr
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "example-0001")["job"]["state"] == "printed",
        what="printed on the colour ribbon",
    )


def test_an_empty_hopper_shows_with_an_empty_queue_and_waiting_jobs_say_why(
    make_daemon: Any,
) -> None:
    # Blanks in the printer that were never recorded: printd's count says none.
    daemon = make_daemon(device="sim://primacy?print_seconds=0.05&hopper=50&ribbon=ymcko")
    daemon.start()
    daemon.ctl("stock", "receive", "--blanks", "10", "--ribbons", "1")
    daemon.ctl("ribbon", "install", "--type", "ymcko")
    daemon.wait_for(
        lambda: daemon.ctl_json("status")["printers"][0]["model"], what="printer identified"
    )
    status = daemon.ctl("status").stdout
    assert "Conditions  hopper empty" in status, status
    assert "To do       hopper empty: load blanks" in status
    assert "hopper_empty" in daemon.ctl_json("status")["printers"][0]["conditions"]

    daemon.ctl("submit", str(EXAMPLES / "example-0001.json"))
    why = "no blanks in the hopper by our count; load them and record it with"

    def listed() -> str:
        return str(daemon.ctl("jobs").stdout)

    daemon.wait_for(lambda: why in listed(), what="the queued job's reason")
    waiting = daemon.ctl_json("jobs")["jobs"][0]
    assert waiting["state"] == "queued" and why in waiting["waiting_for"]
    assert "tidak ada blangko di hopper" in daemon.ctl("--lang", "id", "jobs").stdout


def _page_text(path: Path) -> str:
    """The words a printed page shows: the HTML's text, one space between runs."""
    from html.parser import HTMLParser

    words: list[str] = []

    class Text(HTMLParser):
        def handle_data(self, data: str) -> None:
            if data.strip() and self.lasttag not in ("style", "title"):
                words.append(" ".join(data.split()))

    Text().feed(path.read_text(encoding="utf-8"))
    return " | ".join(words)


def test_the_daily_report_carries_what_an_office_signs_and_prints(
    make_daemon: Any, tmp_path: Path
) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=3")
    interrupt_a_card(daemon)
    daemon.ctl("reconcile", "example-0001", "--spoiled")
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "example-0001")["job"]["state"] == "printed",
        what="printed again",
    )
    data = daemon.ctl_json("report")
    assert data["printers"] == [
        {
            "name": "counter-1",
            "model": "Primacy",
            "serial": "SIM000001",
            "ribbons_installed": 1,
            "ribbon_prints_used": 2,
            "ribbon_type": "ymcko",
            "ribbon_left": 448,
            # The feeder sensor reads "cards": no number to hold printd's count against.
            "hopper": 8,
            "printer_hopper_count": None,
            "hopper_drift": None,
        }
    ]
    assert [(c["job"], c["outcome"], c["reason"]) for c in data["cards"]] == [
        ("example-0001", "interrupted", "printed"),
        ("example-0001", "spoiled", "interrupted"),
    ]

    text = daemon.ctl("report").stdout
    assert "Generated: " in text and "(Asia/Jakarta)" in text
    assert "counter-1  Primacy  SIM000001  YMCKO" in text
    assert "example-0001  counter-1  spoiled      interrupted" in text
    assert text.rstrip().endswith("NIP: " + "." * 25 + "          NIP: " + "." * 25)

    english = tmp_path / "report-en.html"
    written = daemon.ctl("report", "--html", str(english))
    assert f"Written to {english}" in written.stderr
    page = _page_text(english)
    for words in (
        "Reconciliation of KTP-el blank cards | Station: test",
        "Generated: ",
        (
            "PRINTER | MODEL | SERIAL | RIBBON | RIBBONS INSTALLED | PRINTS USED | "
            "PRINTS LEFT NOW | HOPPER NOW (PRINTD / PRINTER) | counter-1 | Primacy | SIM000001 | "
            "YMCKO | 1 | 2 | 448 | 8 / -"
        ),
        "| example-0001 | counter-1 | interrupted | settled, now printed |",
        "| example-0001 | counter-1 | spoiled | interrupted |",
        "3. Printed | 1 | 4. Spoiled | 1 |",
        "Difference: 0, balanced",
        "Printer operator, | Name: ",
        "Acknowledged by, | Name: ",
    ):
        assert words in page, (words, page)
    assert page.count("NIP: ") == 2

    indonesian = tmp_path / "report-id.html"
    daemon.ctl("--lang", "id", "report", "--html", str(indonesian))
    halaman = _page_text(indonesian)
    assert '<html lang="id">' in indonesian.read_text()
    for words in (
        "Berita Acara Rekonsiliasi Blangko KTP-el | Stasiun cetak: test",
        "NOMOR SERI",
        "Kartu rusak dan cetak terputus",
        "| rusak | cetak terputus (diperiksa operator) |",
        "sudah diselesaikan, kini tercetak",
        "Operator cetak, | Nama: ",
        "Mengetahui, | Nama: ",
    ):
        assert words in halaman, (words, halaman)


def test_an_unreachable_daemon_is_explained_without_pythons_words(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result = subprocess.run(
        [str(BIN / "printctl"), "--socket", str(not_a_folder / "printd.sock"), "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 69
    assert result.stderr.strip().endswith(": Not a directory"), result.stderr
    assert "Errno" not in result.stderr
