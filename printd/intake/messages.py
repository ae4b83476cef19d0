"""One message from the office's stream → the jobs in it, or the reason it is a dead letter.

A message is one job in DESIGN's job JSON (images inline), or a batch: a JSON list of jobs, or
an object with "jobs" (and an optional "batch" name given to each job that has none). A batch
is taken whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from printd.errors import JobError
from printd.jobfile import ParsedJob, parse_job

MAX_JOBS_PER_MESSAGE = 1000


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message cannot become jobs: `kind` is a short metric label, `reason` the text
    that goes with the dead letter (field names and limits, never a field's value)."""

    kind: str
    reason: str


def decode(
    data: bytes, *, max_bytes: int, drivers: Sequence[str]
) -> tuple[ParsedJob, ...] | Rejected:
    if len(data) > max_bytes:
        return Rejected("oversized", f"message is {len(data)} bytes; the limit is {max_bytes}")
    try:
        # orjson parses a message with two inline card images in half the standard library's
        # time, and refuses what the store could not keep (lone surrogates, NaN) as malformed.
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        return Rejected("malformed", f"not JSON: {error}")
    batch_name: Any = None
    if isinstance(raw, dict) and "jobs" in raw:
        extra = sorted(set(raw) - {"jobs", "batch"})
        if extra:
            return Rejected("schema", f"{extra[0]}: unknown field of a batch (jobs, batch)")
        batch_name = raw.get("batch")
        if batch_name is not None and (not isinstance(batch_name, str) or not batch_name):
            return Rejected("schema", "batch: a name of 1–64 characters")
        raw = raw["jobs"]
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_JOBS_PER_MESSAGE:
        return Rejected("schema", f"a batch holds 1 to {MAX_JOBS_PER_MESSAGE} jobs")
    jobs = []
    for index, item in enumerate(items):
        where = f"jobs[{index}]: " if isinstance(raw, list) else ""
        body = item
        if isinstance(item, dict) and batch_name is not None and "batch" not in item:
            body = {**item, "batch": batch_name}
        try:
            parsed = parse_job(body)
        except JobError as error:
            return Rejected("schema", f"{where}{error}")
        missing = _no_printer_for(parsed, drivers)
        if missing is not None:
            return Rejected("printer", f"{where}{missing}")
        jobs.append(parsed)
    ids = [job.spec.id for job in jobs]
    if len(set(ids)) != len(ids):
        return Rejected("schema", "a batch names the same job id twice")
    return tuple(jobs)


def _no_printer_for(job: ParsedJob, drivers: Sequence[str]) -> str | None:
    """A job this station has no printer for: a printer-ready file needs a raw printer, card
    images a printer that rasterises them."""
    wanted = "raw" if job.spec.printer_ready else "evolis"
    if wanted in drivers:
        return None
    what = "a printer-ready file" if job.spec.printer_ready else "card images"
    return f"no printer at this station prints {what} (needs a printer with driver = {wanted!r})"
