"""The job state machine's refusals speak to the operator: what the job is, what was asked, and
which moves are open from where it stands."""

from __future__ import annotations

import re

import pytest

from printd.errors import ConflictError
from printd.queue.jobs import JobState, check_transition


def test_a_refused_move_names_the_moves_that_are_open() -> None:
    expected = (
        "job job-1 is queued; it cannot become printed (from queued: cancelled, held, printing)"
    )
    with pytest.raises(ConflictError, match=f"^{re.escape(expected)}$"):
        check_transition("job-1", JobState.QUEUED, JobState.PRINTED)


def test_a_finished_job_says_it_is_finished() -> None:
    expected = (
        "job job-1 is printed; it cannot become queued (from printed: none: the job is finished)"
    )
    with pytest.raises(ConflictError, match=f"^{re.escape(expected)}$"):
        check_transition("job-1", JobState.PRINTED, JobState.QUEUED)
