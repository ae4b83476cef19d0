"""printd_intake_* and printd_outbox_*: the link, what was taken and dead-lettered, what waits
to be reported. Counters come from the store's running totals, so restarts never reset them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from printd.intake.link import LinkState
from printd.intake.outbox import Outbox
from printd.queue.store import Store

DEAD_LETTER_KINDS = ("oversized", "malformed", "schema", "printer", "conflict")


class IntakeCollector(Collector):
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        state: LinkState,
        station: str,
        max_held_jobs: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.outbox, self.state = store, outbox, state
        self.station, self.max_held_jobs, self.clock = station, max_held_jobs, clock

    def _one(
        self,
        kind: type[GaugeMetricFamily] | type[CounterMetricFamily],
        name: str,
        doc: str,
        value: float,
    ) -> Metric:
        family = kind(name, doc, labels=["station"])
        family.add_metric([self.station], value)
        return family

    def collect(self) -> Iterable[Metric]:
        gauge, counter = GaugeMetricFamily, CounterMetricFamily
        state = self.state
        yield self._one(
            gauge,
            "printd_intake_up",
            "1 while the link to the office's NATS servers is up.",
            1 if state.up else 0,
        )
        yield self._one(
            gauge,
            "printd_intake_link_changed_timestamp_seconds",
            "When the link last went up or down (Unix time).",
            state.since,
        )
        yield self._one(
            gauge,
            "printd_intake_holding",
            "1 while the station holds max_held_jobs and takes no more from the office.",
            1 if state.holding else 0,
        )
        yield self._one(
            gauge, "printd_intake_max_held_jobs", "[intake] max_held_jobs.", self.max_held_jobs
        )
        yield self._one(
            counter,
            "printd_intake_jobs_stored",
            "Jobs taken from the office's queue and stored here.",
            self.store.total("intake_jobs_stored"),
        )
        dead = CounterMetricFamily(
            "printd_intake_dead_letters",
            "Messages sent to the dead-letter subject, by why.",
            labels=["station", "kind"],
        )
        for kind in DEAD_LETTER_KINDS:
            dead.add_metric(
                [self.station, kind], self.store.total("intake_dead_letters", label=kind)
            )
        yield dead
        if state.office_pending is not None:
            yield self._one(
                gauge,
                "printd_intake_office_pending_messages",
                "Messages the office's consumer has not handed to any station yet.",
                state.office_pending,
            )
        depth, oldest = self.outbox.depth()
        yield self._one(gauge, "printd_outbox_results", "Outcomes waiting to be published.", depth)
        yield self._one(
            gauge,
            "printd_outbox_oldest_age_seconds",
            "Age of the oldest outcome waiting to be published (0 when none).",
            max(0.0, self.clock() - oldest) if oldest is not None else 0.0,
        )
        yield self._one(
            counter,
            "printd_outbox_published",
            "Outcomes the office's server acknowledged.",
            self.store.total("outbox_published"),
        )
