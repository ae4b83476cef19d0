"""When does stock run out? Office stock plus what is in the printers, divided by the average
daily consumption of the last 7 days.

- The window is the last 7 days or, on a young station, the time since the first ledger entry;
  quiet days inside the window count (they are real: the office did not print).
- Less than one day of history: no forecast (the series is absent) rather than a number
  nobody should plan on. Nothing consumed in the window: +Inf (stock is not running down).
"""

from __future__ import annotations

import math

DAY = 86_400.0
WINDOW_DAYS = 7.0


def days_remaining(
    on_hand: float, consumed_in_window: float, first_entry_at: float | None, now: float
) -> float | None:
    if first_entry_at is None:
        return None
    observed_days = min(WINDOW_DAYS, (now - first_entry_at) / DAY)
    if observed_days < 1.0:
        return None
    if consumed_in_window <= 0:
        return math.inf
    per_day = consumed_in_window / observed_days
    return max(0.0, on_hand) / per_day
