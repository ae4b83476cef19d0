"""The metric set of DESIGN §6 as a collector over the store's running totals and the live
printer state. Counters come from the ledger, so a restart never resets them. The registry is
passed in; every series carries the station's name so many stations can share one Prometheus.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from printd import __version__
from printd.config import SuppliesConfig
from printd.drivers.status import Condition, PrinterState
from printd.queue.dispatcher import PrinterRuntime, Timings
from printd.queue.jobs import JobState
from printd.queue.store import Store
from printd.telemetry.forecast import (
    DAY,
    WINDOW_DAYS,
    Forecast,
    OfficeCalendar,
    forecast,
)

FORECAST_CACHE_SECONDS = 60.0


class PrintdCollector(Collector):
    def __init__(
        self,
        store: Store,
        runtimes: Callable[[], Sequence[PrinterRuntime]],
        station: str,
        *,
        default_ribbon_capacity: int = 450,
        supplies: SuppliesConfig | None = None,
        timezone: str = "UTC",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        # The low marks of `[supplies]`, exported so the alert rules read the office's own
        # numbers instead of a copy that drifts when printd.toml changes.
        self.supplies = supplies or SuppliesConfig()
        self.runtimes = runtimes
        self.station = station
        self.default_ribbon_capacity = default_ribbon_capacity
        self.clock = clock
        self.zone = ZoneInfo(timezone)
        self.calendar = OfficeCalendar(self.supplies.closed_days)
        # Ledger use per local day over the forecast window. The daemon refreshes it off the
        # event loop (`refresh_usage`); without that the collector reads it itself, at most
        # once a minute.
        self._usage: Usage | None = None
        # The last projection and what it was made from: a scrape pays for it only when the
        # history was read again or what is on hand changed.
        self._projected: tuple[Usage, tuple[int, int], dict[str, Forecast]] | None = None
        self.refreshed_elsewhere = False

    def _gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"printd_{name}", doc, labels=["station", *labels])

    def _counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> CounterMetricFamily:
        return CounterMetricFamily(f"printd_{name}", doc, labels=["station", *labels])

    def collect(self) -> Iterable[Metric]:
        st = self.station
        totals: dict[tuple[str, str, str], int] = {
            (n, p, lb): v for n, p, lb, v in self.store.totals()
        }
        runtimes = list(self.runtimes())
        names = [r.name for r in runtimes]

        def total(name: str, printer: str = "", label: str = "") -> int:
            return totals.get((name, printer, label), 0)

        build = self._gauge("build_info", "printd version running here.", ["version"])
        build.add_metric([st, __version__], 1)
        yield build

        up = self._gauge("printer_up", "1 when printd can talk to the printer.", ["printer"])
        state = self._gauge(
            "printer_state", "1 for the printer's current state.", ["printer", "state"]
        )
        condition = self._gauge(
            "printer_condition", "1 while a condition needs a person.", ["printer", "condition"]
        )
        snmp_up = self._gauge("snmp_up", "1 when the printer's SNMP agent answered.", ["printer"])
        snmp_poll = self._gauge(
            "snmp_poll_duration_seconds", "Duration of the last SNMP poll.", ["printer"]
        )
        for rt in runtimes:
            up.add_metric([st, rt.name], 1 if rt.up else 0)
            for s in PrinterState:
                state.add_metric([st, rt.name, s], 1 if rt.state == s else 0)
            for c in Condition:
                condition.add_metric([st, rt.name, c], 1 if c in rt.conditions else 0)
            if rt.snmp_up is not None:
                snmp_up.add_metric([st, rt.name], 1 if rt.snmp_up else 0)
            if rt.snmp_poll_seconds is not None:
                snmp_poll.add_metric([st, rt.name], rt.snmp_poll_seconds)
        disagree = self._gauge(
            "status_disagreement",
            "1 where the printer's own status and its SNMP agent disagree on a field.",
            ["printer", "field"],
        )
        for rt in runtimes:
            for field in rt.disagreements:
                disagree.add_metric([st, rt.name, field], 1)
        yield from (up, state, condition, snmp_up, snmp_poll, disagree)

        hopper = self._gauge("hopper_blanks", "Blanks in the hopper by the ledger.", ["printer"])
        loaded = self._counter("blanks_loaded", "Blanks loaded into the hopper.", ["printer"])
        printed = self._counter("cards_printed", "Good cards out of the printer.", ["printer"])
        used = self._counter("ribbon_prints_used", "Ribbon prints consumed.", ["printer"])
        remaining = self._gauge(
            "ribbon_prints_remaining", "Prints left on the installed ribbon.", ["printer"]
        )
        capacity = self._gauge(
            "ribbon_capacity_prints", "Rated prints of the installed ribbon.", ["printer"]
        )
        drift = self._gauge(
            "ribbon_count_drift_prints",
            "Our count of ribbon prints left minus the printer's.",
            ["printer"],
        )
        hopper_drift = self._gauge(
            "hopper_count_drift_blanks",
            "Our count of blanks in the hopper minus the printer's own, where it reports one.",
            ["printer"],
        )
        hopper_low = self._gauge(
            "hopper_low_threshold_blanks",
            "HopperLow fires below this many blanks ([supplies] hopper_low).",
            ["printer"],
        )
        ribbon_low = self._gauge(
            "ribbon_low_threshold_prints",
            "RibbonLow fires below this many prints left ([supplies] ribbon_low).",
            ["printer"],
        )
        ribbons = {name: self.store.ribbon(name) for name in names}
        for name in names:
            hopper_low.add_metric([st, name], self.supplies.hopper_low)
            ribbon_low.add_metric([st, name], self.supplies.ribbon_low)
            hopper.add_metric([st, name], total("hopper", name))
            loaded.add_metric([st, name], total("blanks_loaded", name))
            printed.add_metric([st, name], total("cards_printed", name))
            used.add_metric([st, name], total("ribbon_prints_used", name))
            ribbon = ribbons[name]
            if ribbon is not None:
                remaining.add_metric([st, name], ribbon["remaining"])
                capacity.add_metric([st, name], ribbon["capacity"])
        for rt in runtimes:
            counted = rt.printer_hopper_count()
            if counted is not None:
                hopper_drift.add_metric([st, rt.name], total("hopper", rt.name) - counted)
            ribbon = ribbons[rt.name]
            theirs = rt.printer_ribbon_remaining
            if ribbon is not None and theirs is not None and theirs >= 0:
                drift.add_metric([st, rt.name], ribbon["remaining"] - theirs)
        yield from (hopper, loaded, printed, used, remaining, capacity, drift, hopper_drift)
        yield from (hopper_low, ribbon_low)

        spoiled = self._counter(
            "cards_spoiled", "Blanks consumed without a good card.", ["printer", "reason"]
        )
        retries = self._counter(
            "job_retries", "Retries, pauses and requeues by reason.", ["printer", "reason"]
        )
        queue = self._gauge("queue_jobs", "Jobs by state.", ["state"])
        completed = self._counter("jobs_completed", "Jobs that reached a final state.", ["outcome"])
        for (name, printer, label), value in totals.items():
            if name == "cards_spoiled":
                spoiled.add_metric([st, printer, label], value)
            elif name == "job_retries":
                retries.add_metric([st, printer, label], value)
        for job_state in JobState:
            queue.add_metric([st, job_state], total("jobs_state", "", job_state))
        for outcome in (JobState.PRINTED, JobState.FAILED, JobState.CANCELLED):
            completed.add_metric([st, outcome], total("jobs_completed", "", outcome))
        submitted = self._counter("jobs_submitted", "Jobs accepted into the queue.")
        submitted.add_metric([st], total("jobs_submitted"))
        oldest = self._gauge(
            "queue_oldest_job_age_seconds", "Age of the oldest queued job (0 when none)."
        )
        oldest_at = self.store.oldest_waiting_at()
        oldest.add_metric([st], max(0.0, self.clock() - oldest_at) if oldest_at else 0.0)
        yield from (spoiled, retries, queue, completed, submitted, oldest)

        stock_blanks = self._gauge("stock_blanks", "Blanks in the office store room.")
        stock_blanks.add_metric([st], total("stock_blanks"))
        stock_ribbons = self._gauge("stock_ribbons", "Ribbons in the office store room.")
        stock_ribbons.add_metric([st], total("stock_ribbons"))
        days = self._gauge(
            "stock_days_remaining",
            "Calendar days until stock runs out at the pace of the office's working days.",
            ["item"],
        )
        runout = self._gauge(
            "stock_runout_timestamp_seconds",
            "When stock runs out (Unix time): expected, and the earliest and latest plausible.",
            ["item", "bound"],
        )
        now = self.clock()
        for item, outlook in self._forecasts(totals, names).items():
            if outlook.days is None:
                continue  # not enough history yet: no series rather than a guess
            days.add_metric([st, item], outlook.days)
            if outlook.runs_out is not None:
                runout.add_metric([st, item, "expected"], now + outlook.days * DAY)
            for bound, day in (("earliest", outlook.earliest), ("latest", outlook.latest)):
                if day is not None:
                    runout.add_metric([st, item, bound], self._day_end(day))
        days_low = self._gauge(
            "stock_low_threshold_seconds",
            "StockRunsOutSoon fires below this much stock left ([supplies] stock_days_low).",
        )
        days_low.add_metric([st], self.supplies.stock_days_low * DAY)
        yield from (stock_blanks, stock_ribbons, days, runout, days_low)

    def refresh_usage(self, db: sqlite3.Connection | None = None) -> Usage:
        """Read what was used on each local day of the forecast window (one indexed aggregate
        over the ledger)."""
        connection = db or self.store.db
        now = self.clock()
        # The station's offset now stands for the whole window: Indonesia's zones keep no
        # daylight saving time, so it is the offset of every day in it.
        offset = datetime.fromtimestamp(now, self.zone).utcoffset() or timedelta()
        blanks: dict[date, float] = {}
        ribbon: dict[date, float] = {}
        epoch = date(1970, 1, 1)
        for day, blanks_used, ribbon_used in connection.execute(
            "SELECT CAST((at + ?) / 86400 AS INTEGER) AS day,"
            " coalesce(sum(CASE WHEN item = 'blanks' AND kind IN ('printed', 'spoiled')"
            " THEN quantity END), 0),"
            " coalesce(sum(CASE WHEN item = 'ribbon_prints' THEN quantity END), 0)"
            " FROM ledger WHERE at >= ? GROUP BY day",
            (offset.total_seconds(), now - (WINDOW_DAYS + 1) * DAY),
        ):
            blanks[epoch + timedelta(day)] = blanks_used
            ribbon[epoch + timedelta(day)] = ribbon_used
        first = connection.execute("SELECT min(at) FROM ledger").fetchone()[0]
        first_day = None if first is None else datetime.fromtimestamp(first, self.zone).date()
        self._usage = Usage(now, blanks, ribbon, first_day)
        return self._usage

    def _forecasts(
        self, totals: dict[tuple[str, str, str], int], names: Sequence[str]
    ) -> dict[str, Forecast]:
        now = self.clock()
        usage = self._usage
        if usage is None or (
            now - usage.read_at >= FORECAST_CACHE_SECONDS and not self.refreshed_elsewhere
        ):
            usage = self.refresh_usage()
        # What is on hand is read now, so a delivery shows in the forecast at once.
        blanks_on_hand = totals.get(("stock_blanks", "", ""), 0) + sum(
            totals.get(("hopper", n, ""), 0) for n in names
        )
        ribbon_on_hand = totals.get(("stock_ribbons", "", ""), 0) * self.default_ribbon_capacity
        for name in names:
            ribbon = self.store.ribbon(name)
            ribbon_on_hand += ribbon["remaining"] if ribbon else 0
        on_hand = (blanks_on_hand, ribbon_on_hand)
        if self._projected and self._projected[0] is usage and self._projected[1] == on_hand:
            return self._projected[2]
        moment = datetime.fromtimestamp(now, self.zone)
        projected = {
            "blanks": forecast(
                blanks_on_hand, usage.blanks, usage.first_day, moment, self.calendar
            ),
            "ribbon_prints": forecast(
                ribbon_on_hand, usage.ribbon_prints, usage.first_day, moment, self.calendar
            ),
        }
        self._projected = (usage, on_hand, projected)
        return projected

    def _day_end(self, day: date) -> float:
        """The end of a local day, as Unix time: stock lasts through the day it runs out."""
        return datetime.combine(day + timedelta(1), datetime.min.time(), self.zone).timestamp()

    def forecasts(self) -> dict[str, Forecast]:
        """The forecast `printctl status` shows (the same figures /metrics exports)."""
        totals = {(n, p, lb): v for n, p, lb, v in self.store.totals()}
        return self._forecasts(totals, [r.name for r in self.runtimes()])


@dataclass(frozen=True, slots=True)
class Usage:
    """What the ledger says was used, per local day of the forecast window."""

    read_at: float
    blanks: dict[date, float]
    ribbon_prints: dict[date, float]
    first_day: date | None


def build_registry(
    store: Store,
    runtimes: Callable[[], Sequence[PrinterRuntime]],
    station: str,
    *,
    default_ribbon_capacity: int = 450,
    collector: PrintdCollector | None = None,
) -> tuple[CollectorRegistry, Timings]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        collector
        or PrintdCollector(
            store, runtimes, station, default_ribbon_capacity=default_ribbon_capacity
        )
    )
    job = Histogram(
        "printd_job_duration_seconds",
        "Time from submitting a job to its printed card (waiting, retries and pauses included).",
        ["station"],
        buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400),
        registry=registry,
    )
    attempt = Histogram(
        "printd_print_duration_seconds",
        "Time one card spends in the printer: from taking the job to the card's outcome.",
        ["station"],
        buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300),
        registry=registry,
    )
    return registry, Timings(job.labels(station).observe, attempt.labels(station).observe)
