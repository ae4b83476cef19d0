"""When does stock run out? A date an office can plan on, from the pace of its working days.

The pace is measured per **working day**: days the office is closed (weekends, Indonesia's
national holidays and cuti bersama from the `holidays` library, and the station's own
`[supplies] closed_days`) are not days on which it failed to print. Dividing by calendar days
instead makes a short week look like a slow office: after Christmas and its cuti bersama a
100-a-day office was told its blanks last 140 days instead of 84.

- The window is the last 8 weeks (`WINDOW_DAYS`) of complete days: long enough that a week of
  holidays or of mass printing ("jemput bola") is one week among eight, short enough to follow
  a real change of pace within two months.
- The pace is the median of the window's weekly paces (each week's use over its working days;
  use on a closed day, such as a Saturday at a school, counts in its week). A median lets one
  unusual week pass without dragging the date. The range (earliest and latest plausible dates)
  comes from the quartiles of the weekly paces. With fewer than `MIN_WEEKS` weeks, the pace is
  the plain mean per working day and the range the quartiles of the daily paces.
- Fewer than `MIN_WORKING_DAYS` working days of history: "not enough history yet", no number.
- The projection walks the same calendar forward from today, taking one day's pace on each
  working day, until what is on hand is used up.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

DAY = 86_400.0
WINDOW_DAYS = 56
MIN_WORKING_DAYS = 5
MIN_WEEKS = 3
HORIZON_DAYS = 3 * 366  # past three years a date means nothing to an order


@cache
def _national_closures(year: int) -> frozenset[date]:
    # Imported here: the calendar data is only needed once a forecast is asked for, not for
    # every printctl start-up that imports the telemetry package.
    import holidays

    days = holidays.country_holidays("ID", years=year, categories=("public", "government"))
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class OfficeCalendar:
    """Which days the office is open: Monday to Friday, less Indonesia's national holidays
    and cuti bersama, less the station's own closures."""

    closed: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        return (
            day.weekday() < 5 and day not in self.closed and day not in _national_closures(day.year)
        )


def closed_days(entries: Iterable[str]) -> frozenset[date]:
    """`[supplies] closed_days`: dates (`2026-12-31`) and ranges (`2026-12-28..2026-12-31`).
    Raises ValueError naming the entry that is neither."""
    days: set[date] = set()
    for entry in entries:
        first, _, last = entry.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise ValueError(
                f"{entry!r} is not a date or a range like 2026-12-28..2026-12-31"
            ) from None
        if end < start:
            raise ValueError(f"{entry!r}: the range ends before it starts")
        days.update(start + timedelta(n) for n in range((end - start).days + 1))
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class Forecast:
    """When one item runs out. `runs_out` is None when there is not enough history yet
    (`enough_history` False) or the stock is not running down within the horizon."""

    enough_history: bool
    runs_out: date | None = None
    earliest: date | None = None
    latest: date | None = None
    days: float | None = None  # calendar days from now until it runs out; inf: not running out
    pace: float | None = None  # used per working day
    working_days: int = 0  # working days the pace was measured over

    def public(self) -> dict[str, object]:
        def iso(day: date | None) -> str | None:
            return day.isoformat() if day else None

        return {
            "enough_history": self.enough_history,
            "runs_out": iso(self.runs_out),
            "earliest": iso(self.earliest),
            "latest": iso(self.latest),
            "days": None if self.days is None or math.isinf(self.days) else self.days,
            "pace_per_working_day": self.pace,
            "working_days": self.working_days,
        }


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def forecast(
    on_hand: float,
    used_by_day: Mapping[date, float],
    first_day: date | None,
    now: datetime,
    calendar: OfficeCalendar,
) -> Forecast:
    """`used_by_day`: what was used on each local day (any day, open or not); `first_day`: the
    station's first ledger day; `now`: an aware datetime in the station's zone."""
    today = now.date()
    if first_day is None:
        return Forecast(enough_history=False)
    start = max(first_day, today - timedelta(WINDOW_DAYS))
    weeks: dict[tuple[int, int], list[float]] = {}  # ISO week: [used, working days]
    daily: list[float] = []
    day = start
    while day < today:
        week = weeks.setdefault(day.isocalendar()[:2], [0.0, 0.0])
        used = used_by_day.get(day, 0.0)
        week[0] += used
        if calendar.is_open(day):
            week[1] += 1
            daily.append(used)
        day += timedelta(1)
    working_days = len(daily)
    if working_days < MIN_WORKING_DAYS:
        return Forecast(enough_history=False, working_days=working_days)
    paces = [used / open_days for used, open_days in weeks.values() if open_days]
    if len(paces) >= MIN_WEEKS:
        pace = statistics.median(paces)
        slow, fast = _quartiles(paces)
    else:
        pace = sum(used for used, _ in weeks.values()) / working_days
        slow, fast = _quartiles(daily)
    runs_out, days = _walk(on_hand, pace, now, calendar)
    return Forecast(
        enough_history=True,
        runs_out=runs_out,
        earliest=_walk(on_hand, fast, now, calendar)[0] if fast > 0 else runs_out,
        latest=_walk(on_hand, slow, now, calendar)[0],
        days=days,
        pace=pace,
        working_days=working_days,
    )


def _walk(
    on_hand: float, pace: float, now: datetime, calendar: OfficeCalendar
) -> tuple[date | None, float]:
    """The day stock runs out at `pace` per working day from today on, and the calendar days
    until then (fractional on the last day); (None, inf) when not within the horizon."""
    if pace <= 0:
        return None, math.inf
    left = max(0.0, on_hand)
    today = now.date()
    midnight = datetime.combine(today, time(), now.tzinfo)
    elapsed = (now - midnight).total_seconds() / DAY
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(offset)
        if not calendar.is_open(day):
            continue
        if left <= pace:
            return day, max(0.0, offset + left / pace - elapsed)
        left -= pace
    return None, math.inf


def local_day(at: float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(at, zone).date()
