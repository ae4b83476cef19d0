"""`printctl submit FOLDER` against a real daemon: a folder is stored in a few commits.

Each batch request is one `Store.submit_many` transaction, and a transaction stamps all its jobs
with one `submitted_at`: the number of distinct stamps is the number of commits that stored them
(one request per file would give one stamp per job).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES

FILES = 1000


def _job_file(folder: Path, n: int, *, front: Path | None = None, name: str = "") -> Path:
    fronts = sorted(EXAMPLES.glob("example-*-front.png"))
    path = folder / f"job-{n:04d}.json"
    path.write_text(
        json.dumps(
            {
                "id": f"folder-{n:04d}",
                "document": "ktp-el",
                "holder": {"nik": f"3171{n:012d}", "name": name or f"WARGA {n}"},
                "front": str(front or fronts[n % len(fronts)]),
                "back": str(EXAMPLES / "back.png"),
            }
        )
    )
    return path


def _stored(state_dir: Path) -> tuple[int, int, int]:
    """(jobs, commits that stored them, submit events): read from printd's own file."""
    db = sqlite3.connect(f"file:{state_dir / 'printd.sqlite3'}?mode=ro", uri=True)
    jobs, commits = db.execute("SELECT count(*), count(DISTINCT submitted_at) FROM jobs").fetchone()
    events = db.execute(
        "SELECT count(*) FROM events WHERE kind = 'job' AND to_state = 'queued'"
    ).fetchone()[0]
    db.close()
    return int(jobs), int(commits), int(events)


def _daemon_and_folder(make_daemon: Any, folder: Path) -> Any:
    daemon = make_daemon()
    daemon.start()
    folder.mkdir()
    return daemon


def test_a_thousand_files_go_in_a_few_commits_and_again_change_nothing(
    make_daemon: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    daemon = _daemon_and_folder(make_daemon, folder)
    for n in range(FILES):
        _job_file(folder, n)
    result = daemon.ctl("submit", "--progress", str(folder))
    lines = result.stdout.splitlines()
    assert len(lines) == FILES
    assert lines[0].endswith(": job folder-0000 queued") and lines[0].startswith(f"[1/{FILES}] ")
    assert all(line.endswith("queued") for line in lines)
    # The bar moves once a request: before the first, after each, and at the end.
    steps = [line.split()[1] for line in result.stderr.splitlines()]
    assert steps == [f"0/{FILES}", f"500/{FILES}", f"{FILES}/{FILES}"]
    jobs, commits, events = _stored(daemon.state_dir)
    assert (jobs, events) == (FILES, FILES)
    assert commits <= 2, f"{commits} commits stored {FILES} jobs"

    again = daemon.ctl("--json", "submit", str(folder))
    report = json.loads(again.stdout)
    assert len(report) == FILES and not any(r["created"] for r in report)
    assert _stored(daemon.state_dir) == (jobs, commits, events)


def test_a_mixed_folder_names_each_bad_file_and_stores_the_good_ones(
    make_daemon: Any, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    daemon = _daemon_and_folder(make_daemon, first)
    daemon.ctl("submit", str(_job_file(first, 2)))
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a-broken.json").write_text("{ nope")
    _job_file(folder, 1, front=tmp_path / "nowhere.png")
    _job_file(folder, 2, name="SOMEONE ELSE")  # id of a stored job, other content
    for n in (3, 4, 5):
        _job_file(folder, n)
    result = daemon.ctl("submit", str(folder), check=False)
    assert result.returncode == 65  # the first mistake's code, as for one file
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused: ") and "a-broken.json: not valid JSON" in lines[0]
    assert lines[1].startswith("refused: ") and "nowhere.png not found" in lines[1]
    assert lines[2].startswith(f"refused: {folder / 'job-0002.json'}: ")
    assert "folder-0002 already exists with different content" in lines[2]
    assert "use a new id" in lines[2]
    assert [line.split(": ", 1)[1] for line in lines[3:-1]] == [
        f"job folder-000{n} queued" for n in (3, 4, 5)
    ]
    assert lines[-1] == "3 of 6 job files refused, 3 sent"
    assert _stored(daemon.state_dir)[0] == 4
    conflict = daemon.ctl("--json", "submit", str(folder / "job-0002.json"), check=False)
    assert conflict.returncode == 73
    assert json.loads(conflict.stdout)[0]["kind"] == "ConflictError"
