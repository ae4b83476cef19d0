"""The job state machine of DESIGN §4, in one place."""

from __future__ import annotations

from enum import StrEnum

from printd.errors import ConflictError


class JobState(StrEnum):
    QUEUED = "queued"
    HELD = "held"
    PRINTING = "printing"
    PRINTED = "printed"
    SPOILED = "spoiled"  # an attempt that consumed a blank; the job moves on at once
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({JobState.PRINTED, JobState.FAILED, JobState.CANCELLED})

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.PRINTING, JobState.HELD, JobState.CANCELLED}),
    JobState.HELD: frozenset({JobState.QUEUED, JobState.CANCELLED}),
    JobState.PRINTING: frozenset(
        {
            JobState.PRINTED,
            JobState.QUEUED,  # a transient fault before a blank was fed
            JobState.SPOILED,
            JobState.INTERRUPTED,
            JobState.FAILED,  # the job itself is bad
        }
    ),
    JobState.SPOILED: frozenset({JobState.QUEUED, JobState.FAILED}),
    # Only an operator's reconcile leaves `interrupted`: the card's fate is unknown to us.
    JobState.INTERRUPTED: frozenset({JobState.PRINTED, JobState.SPOILED}),
    JobState.PRINTED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


def check_transition(job_id: str, current: JobState, target: JobState) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: the job is finished"
        raise ConflictError(
            f"job {job_id} is {current}; it cannot become {target} (from {current}: {allowed})"
        )
