"""What the console's pages do with the operator's acts: the guards printctl has, the holder
kept out of every listing, each settlement's effect on the ledger. Plain HTTP, real daemon."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES, DaemonProcess
from tests.console.conftest import (
    base_url,
    hidden_fields,
    ledger_actors,
    logged_in,
    page_text,
    post_form,
)
from tests.integration.test_faults import hands, submit_copies

HOLDER = {"nik": "9901010101990001", "name": "CONTOH TERLIHAT"}


def submit_with_holder(daemon: DaemonProcess, folder: Path, job_id: str) -> None:
    template = json.loads((EXAMPLES / "example-0001.json").read_text())
    job = dict(template, id=job_id, front=str(EXAMPLES / template["front"]), holder=HOLDER)
    path = folder / f"{job_id}.json"
    path.write_text(json.dumps(job))
    daemon.ctl("submit", str(path))


def state(daemon: DaemonProcess, job_id: str) -> str:
    return str(daemon.ctl_json("show", job_id)["job"]["state"])


def test_the_holder_shows_only_on_the_one_job_opened(console_daemon: Any, tmp_path: Path) -> None:
    daemon = console_daemon()
    submit_with_holder(daemon, tmp_path, "private-1")
    session = logged_in(daemon)
    for page in ("/", "/jobs", "/jobs?q=private", "/settle", "/report", "/supplies"):
        text = session.get(base_url(daemon) + page, timeout=30).text
        assert HOLDER["nik"] not in text, page
        assert HOLDER["name"] not in text, page
    opened = session.get(base_url(daemon) + "/jobs/private-1", timeout=30).text
    assert HOLDER["nik"] in opened
    assert HOLDER["name"] in opened
    # Searching for the holder finds nothing and leaves no trace in the log either.
    for query in (HOLDER["nik"], HOLDER["name"]):
        session.get(base_url(daemon) + "/jobs", params={"q": query}, timeout=30)
    assert HOLDER["nik"] not in daemon.log()
    assert HOLDER["name"] not in daemon.log()


def test_search_finds_a_job_by_id_or_batch(console_daemon: Any, tmp_path: Path) -> None:
    daemon = console_daemon()
    template = json.loads((EXAMPLES / "example-0001.json").read_text())
    for job_id, batch in (("nikah-1", "b-77"), ("nikah-2", "b-77"), ("other-1", None)):
        job = dict(template, id=job_id, front=str(EXAMPLES / template["front"]), batch=batch)
        (tmp_path / f"{job_id}.json").write_text(json.dumps(job))
        daemon.ctl("submit", str(tmp_path / f"{job_id}.json"))
    session = logged_in(daemon)

    def found(query: str) -> set[str]:
        html = session.get(base_url(daemon) + "/jobs", params={"q": query}, timeout=30).text
        return {job for job in ("nikah-1", "nikah-2", "other-1") if f'data-job="{job}"' in html}

    assert found("b-77") == {"nikah-1", "nikah-2"}
    assert found("other-1") == {"other-1"}
    assert found("nothing-like-it") == set()


def test_a_likely_second_card_asks_first(console_daemon: Any, tmp_path: Path) -> None:
    daemon = console_daemon()
    daemon.stock_up(10)
    [job_id] = submit_copies(daemon, tmp_path, 1, "again")
    daemon.wait_for(lambda: state(daemon, job_id) == "printed", what="printed")
    session = logged_in(daemon)
    page, action = f"/jobs/{job_id}", f"/jobs/{job_id}/reprint"
    first = post_form(session, daemon, page, action, {"reason": "kartu hilang"})
    assert first.status_code == 303
    daemon.wait_for(lambda: state(daemon, f"{job_id}.r1") == "printed", what="reprint printed")
    # A second reprint within the day is most likely a second card for one holder: asked.
    asked = post_form(session, daemon, page, action, {"reason": "lagi"})
    assert asked.status_code == 200
    assert "Cetak kartu kedua untuk pemilik ini?" in asked.text
    assert f"{job_id}.r2" not in {j["id"] for j in daemon.ctl_json("jobs")["jobs"]}
    csrf = hidden_fields(asked.text, action)["csrf"]
    confirmed = session.post(
        base_url(daemon) + action,
        data={"csrf": csrf, "reason": "lagi", "confirm": "yes"},
        headers={"Origin": base_url(daemon)},
        allow_redirects=False,
        timeout=30,
    )
    assert confirmed.status_code == 303
    assert f"{job_id}.r2" in {j["id"] for j in daemon.ctl_json("jobs")["jobs"]}


def test_a_ribbon_change_that_throws_prints_away_asks_first(console_daemon: Any) -> None:
    daemon = console_daemon()
    daemon.stock_up(10)
    session = logged_in(daemon)
    before = len(ledger_actors(daemon))
    asked = post_form(session, daemon, "/supplies", "/supplies/ribbon", {"type": "ko"})
    assert asked.status_code == 200
    text = page_text(asked.text)
    assert "450" in text  # the prints the ribbon in the printer still has
    assert "YMCKO" in text  # what the printer is set up for
    assert len(ledger_actors(daemon)) == before
    again = post_form(session, daemon, "/supplies", "/supplies/ribbon", {"type": "ko"})
    assert again.status_code == 200  # asked again: nothing was confirmed yet
    csrf = hidden_fields(asked.text, "/supplies/ribbon")["csrf"]
    yes = session.post(
        base_url(daemon) + "/supplies/ribbon",
        data={"csrf": csrf, "type": "ko", "confirm": "yes", "printer": "counter-1"},
        headers={"Origin": base_url(daemon)},
        allow_redirects=False,
        timeout=30,
    )
    assert yes.status_code == 303
    assert daemon.ctl_json("status")["printers"][0]["ribbon"]["type"] == "ko"


def test_each_settlement_does_what_the_page_says(console_daemon: Any, tmp_path: Path) -> None:
    daemon = console_daemon()
    daemon.stock_up(10)
    sim = hands(daemon)
    session = logged_in(daemon)
    lost: list[str] = []
    for n in range(3):
        sim.inject("vanish_mid_card")
        [job_id] = submit_copies(daemon, tmp_path, 1, f"settle-{n}")
        daemon.wait_for(lambda j=job_id: state(daemon, j) == "interrupted", what="interrupted")
        sim.replug()
        lost.append(job_id)
    good, spoiled, nothing = lost
    ledger = len(ledger_actors(daemon))

    def settle(job_id: str, outcome: str) -> None:
        page = f"/settle/{job_id}"
        assert post_form(session, daemon, page, page, {"outcome": outcome}).status_code == 303

    settle(nothing, "nothing")
    assert state(daemon, nothing) == "interrupted"
    assert len(ledger_actors(daemon)) == ledger  # the ledger untouched
    settle(good, "printed")
    assert state(daemon, good) == "printed"
    settle(spoiled, "spoiled")
    daemon.wait_for(lambda: state(daemon, spoiled) == "printed", what="printed again by itself")
    report = daemon.ctl_json("report")
    assert report["spoiled_total"] == 1
    assert report["balance"] == 0
    waiting = session.get(base_url(daemon) + "/settle", timeout=30).text
    assert f"/settle/{nothing}" in waiting
    assert f"/settle/{good}" not in waiting


def test_a_day_the_report_cannot_have_is_said_in_words(console_daemon: Any) -> None:
    daemon = console_daemon()
    session = logged_in(daemon)
    for day in ("kemarin", "2026-02-30", "9999-12-31", "0001-01-01"):
        response = session.get(base_url(daemon) + "/report", params={"day": day}, timeout=30)
        assert response.status_code == 200, day
        assert "bukan tanggal" in response.text, day  # the form again, with the reason
    today = session.get(base_url(daemon) + "/report", timeout=30)
    assert 'data-balance="0"' in today.text


def test_jobs_lists_a_page_of_the_newest_and_search_finds_the_rest(
    console_daemon: Any, tmp_path: Path
) -> None:
    from printd.console.pages import JOBS_SHOWN

    daemon = console_daemon()
    ids = submit_copies(daemon, tmp_path, JOBS_SHOWN + 1, "many")  # no blanks: they wait
    session = logged_in(daemon)
    listing = session.get(base_url(daemon) + "/jobs", timeout=30).text
    assert listing.count("<tr data-job=") == JOBS_SHOWN
    assert f'data-job="{ids[0]}"' not in listing  # the oldest is past the page
    assert "cari dengan ID pekerjaan atau batch" in listing
    found = session.get(base_url(daemon) + "/jobs", params={"q": ids[0]}, timeout=30).text
    assert f'data-job="{ids[0]}"' in found


def test_the_to_do_list_says_what_to_do_here_and_where(console_daemon: Any) -> None:
    """An empty printer: the advice points at the Supplies page, not at printctl's commands."""
    daemon = console_daemon()
    daemon.wait_for(
        lambda: (
            {"hopper_empty", "ribbon_missing"}
            <= set(daemon.ctl_json("status")["printers"][0]["conditions"])
        ),
        what="the printer's empty hopper and missing ribbon",
    )
    session = logged_in(daemon)
    html = session.get(base_url(daemon) + "/", timeout=30).text
    todo = html.split('<section class="todo"')[1].split("</section>")[0]
    assert '<a href="/supplies#load">' in todo
    assert '<a href="/supplies#ribbon">' in todo
    assert "masukkan blangko ke hopper, lalu catat di halaman Persediaan" in todo
    assert "printctl" not in todo
