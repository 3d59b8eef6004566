"""Calendar-month periods: anniversaries, "N months must elapse", and rolling look-back windows.

Month arithmetic clamps to the month's last day (pendulum): 2007-08-31 + 6 months = 2008-02-29,
2008-08-31 + 6 months = 2009-02-28. Periods are never measured by counting months between two
dates (pendulum's ``diff().in_months()`` is inconsistent at month ends; stack-notes.md).
"""
from __future__ import annotations

from datetime import date, timedelta

import pendulum

DAY = timedelta(days=1)
PERIOD_COUNTING = ("day_after", "anniversary")


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (negative: minus), clamped to the month's end."""
    moved = pendulum.date(day.year, day.month, day.day).add(months=months)
    return date(moved.year, moved.month, moved.day)


def period_satisfied_on(start: date, months: int, counting: str = "day_after") -> date:
    """First day on which a period of ``months`` from ``start`` has elapsed.

    ``day_after`` (default, domain.md §3): the day after the anniversary, the trigger day being
    excluded: acquired 2002-01-16, one year (12 months) is satisfied on 2003-01-17.
    ``anniversary``: on the anniversary itself (2003-01-16).
    """
    if counting not in PERIOD_COUNTING:
        raise ValueError(f"period counting must be one of {PERIOD_COUNTING}, got {counting!r}")
    anniversary = add_months(start, months)
    return anniversary + DAY if counting == "day_after" else anniversary


def window_start(day: date, months: int) -> date:
    """The day ``months`` before ``day`` (clamped): a rolling window holds days after it."""
    return add_months(day, -months)


def first_day_window_start_reaches(anchor: date, months: int, *, strictly_after: bool) -> date:
    """First day t with ``window_start(t, months)`` on or after (or strictly after) ``anchor``.

    ``window_start`` never decreases as t grows, and it reaches ``anchor`` within a few days of
    ``add_months(anchor, months)`` (month-end clamping), so a short forward scan is exact. For a
    sale on ``anchor`` in a three-month window, this is the first day it no longer counts.
    """
    t = add_months(anchor, months) - 3 * DAY
    while True:
        start = window_start(t, months)
        if start > anchor or (start == anchor and not strictly_after):
            return t
        t += DAY
