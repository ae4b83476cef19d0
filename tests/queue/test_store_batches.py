"""Many jobs in one transaction on a real SQLite file: `submit_each` (a folder, each file with its
own outcome) and `submit_many` (a message from the office's queue, all or nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from printd.errors import ConflictError
from printd.queue.jobs import JobState
from printd.queue.store import Job, JobSpec, Store

HOLDER = {"nik": "9901010101900001", "name": "CONTOH"}


def spec(job_id: str, sides: int = 1) -> JobSpec:
    return JobSpec(job_id, "ktp-el", HOLDER, sides)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state")
    s.open()
    yield s
    s.close()


def _commits(store: Store) -> list[str]:
    """Record each COMMIT the store's own connection sends from now on."""
    sent: list[str] = []
    store.db.set_trace_callback(lambda sql: sent.append(sql) if sql == "COMMIT" else None)
    return sent


def _submitted(store: Store) -> list[tuple[str, str, str]]:
    rows = store.db.execute(
        "SELECT job_id, to_state, reason FROM events WHERE kind = 'job' ORDER BY seq"
    ).fetchall()
    return [tuple(r) for r in rows]


def test_a_folder_is_one_commit_and_each_conflict_is_refused_on_its_own(store: Store) -> None:
    store.submit(spec("taken"), [b"first content"], actor="operator")
    store.submit(spec("again"), [b"same"], actor="operator")
    commits = _commits(store)
    results = store.submit_each(
        [
            (spec("new-1"), [b"front-1"]),
            (spec("taken"), [b"other content"]),
            (spec("again"), [b"same"]),
            (spec("new-2", sides=2), [b"front-2", b"back-2"]),
            (spec("new-1"), [b"front-1 changed"]),
        ],
        actor="operator",
    )
    assert commits == ["COMMIT"]
    new_1, taken, again, new_2, twice = results
    assert isinstance(new_1, tuple) and isinstance(new_2, tuple) and isinstance(again, tuple)
    assert (new_1[0].id, new_1[1], new_1[0].state) == ("new-1", True, JobState.QUEUED)
    assert (new_2[0].id, new_2[1], new_2[0].sides) == ("new-2", True, 2)
    assert (again[0].id, again[1]) == ("again", False)
    assert again[0].seq == store.get("again").seq
    assert isinstance(taken, ConflictError)
    assert str(taken) == (
        "job taken already exists with different content; "
        "use a new id for a different card (or `printctl reprint`)"
    )
    assert isinstance(twice, ConflictError)
    assert str(twice) == "job new-1 is given twice with different content"
    # Stored: the two new jobs, each with its images; nothing of the refused ones.
    assert [j.id for j in store.jobs(JobState.QUEUED)] == ["new-2", "new-1", "again", "taken"]
    assert store._inline_images("new-2") == [(0, b"front-2"), (1, b"back-2")]
    assert store._inline_images("taken") == [(0, b"first content")]
    assert _submitted(store)[-2:] == [
        ("new-1", "queued", "submitted"),
        ("new-2", "queued", "submitted"),
    ]
    assert store.total("jobs_submitted") == 4
    assert store.total("jobs_state", "", JobState.QUEUED) == 4
    assert store.verify_chain() is None


def test_a_message_is_all_or_nothing_and_its_hook_runs_in_the_same_commit(store: Store) -> None:
    store.submit(spec("taken"), [b"first content"], actor="operator")
    seen: list[list[tuple[Job, bool]]] = []
    with pytest.raises(ConflictError, match="job taken already exists with different content"):
        store.submit_many(
            [(spec("new-1"), [b"a"]), (spec("taken"), [b"b"])],
            actor="intake",
            within=lambda db, results: seen.append(results),
        )
    assert seen == [] and [j.id for j in store.jobs()] == ["taken"]

    commits = _commits(store)

    def mark(db: object, results: list[tuple[Job, bool]]) -> None:
        seen.append(list(results))
        raise RuntimeError("the hook failed")

    with pytest.raises(RuntimeError):
        store.submit_many([(spec("new-1"), [b"a"])], actor="intake", within=mark)
    assert [j.id for j in store.jobs()] == ["taken"]  # rolled back with its hook
    assert commits == []
    results = store.submit_many(
        [(spec("new-1"), [b"a"]), (spec("taken"), [b"first content"])],
        actor="intake",
        reason="taken from the office's queue",
        within=lambda db, results: seen.append(list(results)),
    )
    assert commits == ["COMMIT"]
    assert [(job.id, created) for job, created in results] == [("new-1", True), ("taken", False)]
    assert [(job.id, created) for job, created in seen[-1]] == [("new-1", True), ("taken", False)]
    assert _submitted(store)[-1] == ("new-1", "queued", "taken from the office's queue")
    assert store.total("jobs_submitted") == 2
