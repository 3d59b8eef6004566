"""Business-day and trading-day arithmetic on historical US calendars.

Closed days come from the ``holidays`` package's financial calendars, never from a
hand-kept list: ``XNYS`` (NYSE, including unscheduled closures such as 2001-09-11..14,
2004-06-11, 2007-01-02, 2012-10-29/30, 2018-12-05, 2025-01-09), ``XNAS`` (Nasdaq) and
``XFED`` (Federal Reserve Banks). Weekends are Saturday and Sunday. Early-close (half-day)
sessions are open days. The arithmetic has numpy's ``busday_*`` semantics (the tests hold it to
them) and runs as table look-ups: every day of the range numbered by the open days up to it, so
a column of a million dates costs a few gathers, not a million calendar walks.

Calendars (domain.md §1.5 and §9):

* ``settlement`` -- the default "business day": NYSE open **and** Federal Reserve Banks open.
* ``exchange:XNYS`` -- NYSE open.
* ``banking`` -- Federal Reserve Banks open. A Fed holiday on a Saturday does not close the
  Friday before (open 2004-12-31, 2010-12-31); Juneteenth first closes the Banks in 2022
  (in 2021 it fell on a Saturday), so 2021-06-18 is open.
* ``trading:XNYS``, ``trading:XNAS`` -- days the market trades.

Range: ``FIRST_DATE`` .. ``LAST_DATE``, narrowed to the years the source calendars cover.
The package's ``XFED`` calendar starts in 1999 (before that it silently has no holidays), so
``settlement`` and ``banking`` start on 1999-01-01. Any date, argument or result, outside a
calendar's range raises ``CalendarRangeError``. In the package ``XNAS`` is a subclass of
``XNYS`` with the same closed days (all the special closures above included); it is not an
independent source.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

import holidays
import numpy as np

FIRST_DATE = date(1990, 1, 1)
LAST_DATE = date(2035, 12, 31)

_WEEKMASK = "1111100"  # Monday..Friday open
_KINDS = {  # kind -> (calendar name, holidays market codes whose closures it combines)
    "settlement": ("settlement", ("XNYS", "XFED")),
    "exchange": ("exchange:XNYS", ("XNYS",)),
    "banking": ("banking", ("XFED",)),
}
_MARKETS = ("XNYS", "XNAS")


class CalendarRangeError(ValueError):
    """A date outside the range a calendar covers."""


@dataclass(frozen=True, eq=False)
class DayCalendar:
    """Open days: Monday to Friday minus ``holidays_array``, valid from ``first_date`` to
    ``last_date`` inclusive.

    Scalar methods take and return ``datetime.date`` (a ``datetime`` is refused: pass the
    calendar date meant) and run in plain Python on the same tables, about a microsecond a call.
    ``*_array`` twins take anything ``np.asarray(x, "datetime64[D]")``
    accepts (NaT-free) and return ``datetime64[D]``, ``bool`` or ``int64`` arrays, with the
    same semantics; ``n`` broadcasts against ``days``.
    """

    name: str
    holidays_array: np.ndarray = field(repr=False)
    first_date: date
    last_date: date
    _is_open: np.ndarray = field(init=False, repr=False)  # per day of the range
    _open_up_to: np.ndarray = field(init=False, repr=False)  # per day: open days from first_date to it
    _open_days: np.ndarray = field(init=False, repr=False)  # the open days, ascending
    _first: np.datetime64 = field(init=False, repr=False)  # first_date as datetime64[D]
    # The tables as Python tuples, indexed by ``day.toordinal() - _first_ordinal``, for the scalar API
    _first_ordinal: int = field(init=False, repr=False)
    _is_open_by_day: tuple[bool, ...] = field(init=False, repr=False)
    _open_up_to_by_day: tuple[int, ...] = field(init=False, repr=False)
    _open_dates: tuple[date, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.holidays_array.flags.writeable = False
        cal = np.busdaycalendar(weekmask=_WEEKMASK, holidays=self.holidays_array)
        object.__setattr__(self, "_first", np.datetime64(self.first_date, "D"))
        days = np.arange(self._first, np.datetime64(self.last_date, "D") + 1)
        is_open = np.is_busday(days, busdaycal=cal)
        for name, table in (("_is_open", is_open), ("_open_up_to", np.cumsum(is_open)), ("_open_days", days[is_open])):
            table.flags.writeable = False
            object.__setattr__(self, name, table)
        object.__setattr__(self, "_first_ordinal", self.first_date.toordinal())
        for name, table in (("_is_open_by_day", self._is_open), ("_open_up_to_by_day", self._open_up_to)):
            object.__setattr__(self, name, tuple(table.tolist()))
        object.__setattr__(self, "_open_dates", tuple(self._open_days.astype(object)))

    # -- scalar API ---------------------------------------------------------------

    def is_open(self, day: date) -> bool:
        """Whether ``day`` is an open day."""
        return self._is_open_by_day[self._day_index(day)]

    def roll_forward(self, day: date) -> date:
        """``day`` if open, else the next open day."""
        return self._offset_date(day, 0, "forward")

    def next_open(self, day: date) -> date:
        """The first open day strictly after ``day``."""
        return self._offset_date(day, 1, "backward")

    def previous_open(self, day: date) -> date:
        """The last open day strictly before ``day``."""
        return self._offset_date(day, -1, "forward")

    def add_days(self, day: date, n: int) -> date:
        """Roll ``day`` forward to an open day, then step ``n`` open days.

        numpy ``busday_offset(day, n, roll="forward")``: from a Saturday, ``n=3`` lands on
        Thursday (Saturday -> Monday, then three open days). This is domain.md §1.5: a receipt
        on a closed day counts as received on the next open day, and the receipt day itself is
        excluded. ``n=0`` is ``roll_forward``; ``n < 0`` steps back, so
        ``add_days(d, -1) == previous_open(d)``. An ``n`` that is no integer (``int`` or numpy
        integer) is taken as ``add_days_array`` takes it.
        """
        if isinstance(n, int | np.integer):
            return self._offset_date(day, int(n), "forward")
        return self.add_days_array(self._scalar(day), n).item()

    def count_open_between(self, start: date, end: date) -> int:
        """Number of open days ``d`` with ``start < d <= end`` (0 if ``end <= start``)."""
        self._require_date(start)
        self._require_date(end)
        up_to = self._open_up_to_by_day
        return max(up_to[self._day_index(end)] - up_to[self._day_index(start)], 0)

    # -- vectorized twins ---------------------------------------------------------

    def is_open_array(self, days) -> np.ndarray:
        """Element-wise ``is_open``."""
        return self._is_open[self._day_number(days)]

    def roll_forward_array(self, days) -> np.ndarray:
        """Element-wise ``roll_forward``."""
        return self.add_days_array(days, 0)

    def add_days_array(self, days, n) -> np.ndarray:
        """Element-wise ``add_days``."""
        return self._offset(days, n, "forward")

    def count_open_between_array(self, start, end) -> np.ndarray:
        """Element-wise ``count_open_between``."""
        counts = self._open_up_to[self._day_number(end)] - self._open_up_to[self._day_number(start)]
        return np.maximum(counts, 0)

    # -- helpers ------------------------------------------------------------------

    @staticmethod
    def _require_date(day: date) -> None:
        """TypeError unless ``day`` is a ``datetime.date`` (a ``datetime`` is not)."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(f"expected a datetime.date, got {type(day).__name__}: {day!r}")

    def _scalar(self, day: date) -> np.datetime64:
        self._require_date(day)
        return np.datetime64(day, "D")

    def _day_index(self, day: date) -> int:
        """Days from ``first_date`` to the date ``day``, the index into the tables; TypeError and
        CalendarRangeError as for the array twins."""
        self._require_date(day)
        index = day.toordinal() - self._first_ordinal
        if not 0 <= index < len(self._is_open_by_day):
            self._check(np.datetime64(day, "D"))  # names the day and raises
        return index

    def _offset_date(self, day: date, n: int, roll: str) -> date:
        """``_offset`` of one date and an ``int`` ``n``."""
        i = self._day_index(day)
        k = self._open_up_to_by_day[i] + n - (self._is_open_by_day[i] if roll == "forward" else 1)
        if not 0 <= k < len(self._open_dates):
            return self._offset(np.datetime64(day, "D"), n, roll).item()  # names the result and raises
        return self._open_dates[k]

    def _check(self, days, what: str = "date") -> np.ndarray:
        """``days`` as ``datetime64[D]``; CalendarRangeError if any is outside the range."""
        days = np.asarray(days, dtype="datetime64[D]")
        inside = (days >= np.datetime64(self.first_date, "D")) & (
            days <= np.datetime64(self.last_date, "D")
        )  # False for NaT too
        if not inside.all():
            bad = np.extract(~inside, days)[0]
            raise CalendarRangeError(
                f"{what} {bad} is outside the {self.name} calendar's supported range "
                f"{self.first_date}..{self.last_date}"
            )
        return days

    def _day_number(self, days) -> np.ndarray:
        """Days since ``first_date`` (range-checked), the index into the tables."""
        days = np.asarray(days, dtype="datetime64[D]")
        number = (days - self._first).astype(np.int64)
        if (number.view(np.uint64) >= len(self._is_open)).any():  # before first_date (or NaT) wraps to huge
            self._check(days)  # names the day and raises
        return number

    def _offset(self, days, n, roll: str) -> np.ndarray:
        """numpy ``busday_offset(days, n, roll)`` for ``roll`` "forward" or "backward". Results
        are range-checked too: past the range there is no holiday data."""
        i = self._day_number(days)
        if roll == "forward":  # the number of the first open day on or after each day
            rolled = self._open_up_to[i] - self._is_open[i]
        else:  # of the last open day on or before it
            rolled = self._open_up_to[i] - 1
        k = rolled + np.asarray(n, dtype=np.int64)
        if (k.view(np.uint64) >= len(self._open_days)).any():  # a negative k wraps to huge
            # numpy's answer (past the range every weekday counts open) names it
            outside = (k < 0) | (k >= len(self._open_days))
            cal = np.busdaycalendar(weekmask=_WEEKMASK, holidays=self.holidays_array)
            days = np.broadcast_to(np.asarray(days, dtype="datetime64[D]"), k.shape)
            result = np.busday_offset(days[outside], np.broadcast_to(n, k.shape)[outside], roll=roll, busdaycal=cal)
            self._check(result, "result")
            raise CalendarRangeError(f"a result is outside the {self.name} calendar's supported range")
        return self._open_days[k]


def business_day_calendar(kind: str) -> DayCalendar:
    """Business days of ``kind``: ``"settlement"`` (NYSE and Federal Reserve Banks open; the
    domain.md §1.5 default), ``"exchange"`` (NYSE open) or ``"banking"`` (Federal Reserve
    Banks open). Cached: one instance per kind; unknown kind -> ValueError."""
    if kind not in _KINDS:
        raise ValueError(f"unknown business-day kind {kind!r}; expected one of {sorted(_KINDS)}")
    return _build(*_KINDS[kind])


def trading_calendar(market: str) -> DayCalendar:
    """Trading days of ``market``, an ISO 10383 MIC: ``"XNYS"`` or ``"XNAS"``. Cached; other
    markets -> ValueError."""
    if market not in _MARKETS:
        raise ValueError(f"unknown market {market!r}; expected one of {list(_MARKETS)}")
    return _build(f"trading:{market}", (market,))


@functools.cache
def _build(name: str, sources: tuple[str, ...]) -> DayCalendar:
    """A calendar closed on the weekdays any of ``sources`` (``holidays`` market codes) closes,
    over the years all of them cover within FIRST_DATE..LAST_DATE."""
    first, last = FIRST_DATE, LAST_DATE
    closed: set[date] = set()
    for code in sources:
        years = range(FIRST_DATE.year, LAST_DATE.year + 1)
        source = holidays.financial_holidays(code, years=years)
        first = max(first, date(source.start_year, 1, 1))
        last = min(last, date(source.end_year, 12, 31))
        closed.update(d for d in source if d.weekday() < 5)
    in_range = sorted(d for d in closed if first <= d <= last)
    return DayCalendar(name, np.array(in_range, dtype="datetime64[D]"), first, last)
