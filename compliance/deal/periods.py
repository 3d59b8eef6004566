"""Calendar-month periods: anniversaries, "N months must elapse", and rolling look-back windows.

Every function takes a date or a numpy ``datetime64[D]`` array (NaT passes through as NaT) and
returns the same kind. Month arithmetic clamps to the month's last day: 2007-08-31 + 6 months =
2008-02-29, 2008-08-31 + 6 months = 2009-02-28 (as pendulum's ``add(months=...)``, which the tests
use as the reference). Periods are never measured by counting months between two dates.
"""

from __future__ import annotations

from datetime import date

import numpy as np

ONE_DAY = np.timedelta64(1, "D")
PERIOD_COUNTING = ("day_after", "anniversary")
Days = date | np.ndarray


def _vectorized(func):
    """Accept a date or an array; return the same kind."""

    def wrapper(day, *args, **kwargs):
        if isinstance(day, date):
            return func(np.array([day], dtype="M8[D]"), *args, **kwargs)[0].astype(date)
        return func(np.asarray(day, dtype="M8[D]"), *args, **kwargs)

    wrapper.__doc__, wrapper.__name__ = func.__doc__, func.__name__
    return wrapper


# Month arithmetic by table lookup (a day's month and day-of-month; a month's first day and
# length), exact over the years any calendar here covers, and far faster than datetime64[M]
# conversions on large arrays.
_TABLE_FIRST = np.datetime64("1900-01-01")
_TABLE_DAYS = np.arange(_TABLE_FIRST, np.datetime64("2101-01-01"))
_MONTH_OF_DAY = (_TABLE_DAYS.astype("M8[M]") - _TABLE_FIRST.astype("M8[M]")).astype(np.int64)
_DAY_INDEX = (_TABLE_DAYS - _TABLE_DAYS.astype("M8[M]").astype("M8[D]")).astype(np.int64)
_MONTHS = np.arange(_TABLE_FIRST.astype("M8[M]"), np.datetime64("2101-02", "M"))
_MONTH_START = (_MONTHS.astype("M8[D]") - _TABLE_FIRST).astype(np.int64)
_MONTH_LENGTH = np.diff(np.append(_MONTH_START, _MONTH_START[-1] + 31))
_WEEK = np.arange(8).astype("m8[D]")  # the offsets of eight consecutive days


@_vectorized
def add_months(days: np.ndarray, months) -> np.ndarray:
    """``days`` plus ``months`` calendar months (an int or an int array; negative: minus),
    clamped to the last day of the resulting month. Days from 1900 to 2100."""
    index = (days - _TABLE_FIRST).astype(np.int64)
    missing = np.isnat(days)
    any_missing = missing.any()
    if any_missing:
        index = np.where(missing, 0, index)
    if (index.view(np.uint64) >= len(_TABLE_DAYS)).any():  # a day before the table wraps to a huge index
        raise ValueError("add_months covers days from 1900-01-01 to 2100-12-31")
    target = _MONTH_OF_DAY[index] + np.asarray(months, dtype=np.int64)
    offset = _MONTH_START[target] + np.minimum(_DAY_INDEX[index], _MONTH_LENGTH[target] - 1)
    shifted = _TABLE_FIRST + offset.astype("m8[D]")
    return np.where(missing, np.datetime64("NaT"), shifted) if any_missing else np.asarray(shifted)


@_vectorized
def period_satisfied_on(start: np.ndarray, months, counting: str = "day_after") -> np.ndarray:
    """First day on which a period of ``months`` from ``start`` has elapsed.

    ``day_after`` (default, domain.md §3): the day after the anniversary, the trigger day being
    excluded: acquired 2002-01-16, one year (12 months) is satisfied on 2003-01-17.
    ``anniversary``: on the anniversary itself (2003-01-16).
    """
    if counting not in PERIOD_COUNTING:
        raise ValueError(f"period counting must be one of {PERIOD_COUNTING}, got {counting!r}")
    anniversary = add_months(start, months)
    return anniversary + ONE_DAY if counting == "day_after" else anniversary


@_vectorized
def window_start(days: np.ndarray, months) -> np.ndarray:
    """The day ``months`` before each day (clamped): a rolling window holds the days after it."""
    return add_months(days, -np.asarray(months, dtype=np.int64))


@_vectorized
def first_day_window_start_reaches(anchor: np.ndarray, months, *, strictly_after: bool) -> np.ndarray:
    """First day t with ``window_start(t, months)`` on or after (or strictly after) ``anchor``.

    ``window_start`` never decreases as t grows and reaches ``anchor`` within a few days of
    ``add_months(anchor, months)`` (month-end clamping), so scanning a week is exact. For a sale on
    ``anchor`` in a three-month window, this is the first day it no longer counts.
    """
    months = np.asarray(months, dtype=np.int64)
    days = (add_months(anchor, months) - 3 * ONE_DAY)[:, None] + _WEEK  # a week around the anniversary
    start = window_start(days, months[..., None])
    reached = start > anchor[:, None] if strictly_after else start >= anchor[:, None]
    first = np.argmax(reached, axis=1)
    return np.where(reached.any(axis=1), days[np.arange(len(anchor)), first], np.datetime64("NaT"))
