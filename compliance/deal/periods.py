"""Calendar-month periods: anniversaries, "N months must elapse", and rolling look-back windows.

Every function takes a date or a numpy ``datetime64[D]`` array (NaT passes through as NaT) and
returns the same kind. Month arithmetic clamps to the month's last day: 2007-08-31 + 6 months =
2008-02-29, 2008-08-31 + 6 months = 2009-02-28 (as pendulum's ``add(months=...)``, which the tests
use as the reference). Periods are never measured by counting months between two dates.

A date with a whole number of months (``int`` or numpy integer) is computed in plain Python, a
microsecond or two a call; the array functions are the reference it is tested against
(tests/test_periods.py).
"""

from __future__ import annotations

from calendar import isleap
from datetime import date, timedelta

import numpy as np

ONE_DAY = np.timedelta64(1, "D")
PERIOD_COUNTING = ("day_after", "anniversary")
Days = date | np.ndarray


def _vectorized(on_date):
    """Accept a date or an array; return the same kind. ``on_date(day, months, ...)`` serves a
    date with a whole number of months; any other ``months`` with a date goes through the array
    function as a one-day array."""

    def decorate(func):
        def wrapper(day, months, *args, **kwargs):
            if isinstance(day, date):
                if isinstance(months, int | np.integer):
                    return on_date(day, int(months), *args, **kwargs)
                return func(np.array([day], dtype="M8[D]"), months, *args, **kwargs)[0].astype(date)
            return func(np.asarray(day, dtype="M8[D]"), months, *args, **kwargs)

        wrapper.__doc__, wrapper.__name__ = func.__doc__, func.__name__
        return wrapper

    return decorate


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

_FIRST_ORDINAL, _LAST_ORDINAL = date(1900, 1, 1).toordinal(), date(2100, 12, 31).toordinal()
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # January..December, common year
_SCAN_OFFSETS = tuple(range(-3, 5))  # the eight days around an anniversary, as ``_WEEK - 3``


def _check_counting(counting: str) -> None:
    if counting not in PERIOD_COUNTING:
        raise ValueError(f"period counting must be one of {PERIOD_COUNTING}, got {counting!r}")


def _add_months_to_date(day: date, months: int) -> date:
    """``add_months`` of one date (a ``datetime`` counts as its date): ValueError for a day
    outside 1900..2100; the result is the calendar's answer wherever it falls."""
    if not _FIRST_ORDINAL <= day.toordinal() <= _LAST_ORDINAL:
        raise ValueError("add_months covers days from 1900-01-01 to 2100-12-31")
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)  # month 0 = January
    length = 29 if month == 1 and isleap(year) else _DAYS_IN_MONTH[month]
    return date(year, month + 1, min(day.day, length))


def _period_satisfied_on_date(start: date, months: int, counting: str = "day_after") -> date:
    _check_counting(counting)
    anniversary = _add_months_to_date(start, months)
    return anniversary + timedelta(days=1) if counting == "day_after" else anniversary


def _window_start_of_date(day: date, months: int) -> date:
    return _add_months_to_date(day, -months)


def _first_day_window_start_reaches_date(anchor: date, months: int, *, strictly_after: bool) -> date | None:
    """The array function's scan of one anchor: the first of the eight days around the
    anniversary whose window start reaches ``anchor``; None if none does."""
    anniversary, reach = _add_months_to_date(anchor, months).toordinal(), anchor.toordinal()
    for offset in _SCAN_OFFSETS:
        day = date.fromordinal(anniversary + offset)
        start = _add_months_to_date(day, -months).toordinal()
        if start > reach if strictly_after else start >= reach:
            return day
    return None


@_vectorized(_add_months_to_date)
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
    if (np.asarray(target).view(np.uint64) >= len(_MONTHS)).any():  # a month before the table wraps too
        raise ValueError("add_months gives days from 1900-01-01 to 2101-01-31")
    offset = _MONTH_START[target] + np.minimum(_DAY_INDEX[index], _MONTH_LENGTH[target] - 1)
    shifted = _TABLE_FIRST + offset.astype("m8[D]")
    return np.where(missing, np.datetime64("NaT"), shifted) if any_missing else np.asarray(shifted)


@_vectorized(_period_satisfied_on_date)
def period_satisfied_on(start: np.ndarray, months, counting: str = "day_after") -> np.ndarray:
    """First day on which a period of ``months`` from ``start`` has elapsed.

    ``day_after`` (default, domain.md §3): the day after the anniversary, the trigger day being
    excluded: acquired 2002-01-16, one year (12 months) is satisfied on 2003-01-17.
    ``anniversary``: on the anniversary itself (2003-01-16).
    """
    _check_counting(counting)
    anniversary = add_months(start, months)
    return anniversary + ONE_DAY if counting == "day_after" else anniversary


@_vectorized(_window_start_of_date)
def window_start(days: np.ndarray, months) -> np.ndarray:
    """The day ``months`` before each day (clamped): a rolling window holds the days after it."""
    return add_months(days, -np.asarray(months, dtype=np.int64))


@_vectorized(_first_day_window_start_reaches_date)
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
