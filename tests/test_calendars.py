"""Tests for compliance.deal.calendars. Every expected date is worked out by hand beside it."""

import functools
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta

import holidays
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.deal.calendars import (
    FIRST_DATE,
    LAST_DATE,
    CalendarRangeError,
    business_day_calendar,
    trading_calendar,
)

SETTLEMENT = business_day_calendar("settlement")
EXCHANGE = business_day_calendar("exchange")
BANKING = business_day_calendar("banking")
XNYS = trading_calendar("XNYS")
XNAS = trading_calendar("XNAS")
ALL = [SETTLEMENT, EXCHANGE, BANKING, XNYS, XNAS]
NYSE_CLOSED = [SETTLEMENT, EXCHANGE, XNYS, XNAS]  # closed whenever the NYSE is

# Independent reference: the holidays package's sets, consulted per date in plain Python.
SOURCES = {
    "settlement": ("XNYS", "XFED"),
    "exchange:XNYS": ("XNYS",),
    "banking": ("XFED",),
    "trading:XNYS": ("XNYS",),
    "trading:XNAS": ("XNAS",),
}


def ids(cals):
    return [c.name for c in cals]


# -- construction -------------------------------------------------------------------------


def test_names_and_cache():
    assert [c.name for c in ALL] == ["settlement", "exchange:XNYS", "banking", "trading:XNYS", "trading:XNAS"]
    assert business_day_calendar("settlement") is SETTLEMENT
    assert trading_calendar("XNAS") is XNAS


def test_range_bounds():
    # NYSE data reaches back past 1990; the package's XFED calendar starts in 1999.
    assert (EXCHANGE.first_date, EXCHANGE.last_date) == (FIRST_DATE, LAST_DATE)
    assert (XNAS.first_date, XNAS.last_date) == (date(1990, 1, 1), date(2035, 12, 31))
    assert SETTLEMENT.first_date == BANKING.first_date == date(1999, 1, 1)
    assert SETTLEMENT.last_date == BANKING.last_date == date(2035, 12, 31)


def test_immutable():
    with pytest.raises(FrozenInstanceError):
        SETTLEMENT.name = "other"
    with pytest.raises(ValueError):
        SETTLEMENT.holidays_array[0] = np.datetime64("2000-01-03")


@pytest.mark.parametrize("cal", ALL, ids=ids(ALL))
def test_holidays_array_shape(cal):
    h = cal.holidays_array
    assert h.dtype == np.dtype("datetime64[D]")
    assert (np.diff(h) > np.timedelta64(0, "D")).all()  # sorted, no duplicates
    assert not np.is_busday(h, weekmask="0000011").any()  # no Saturdays or Sundays
    assert h[0] >= np.datetime64(cal.first_date) and h[-1] <= np.datetime64(cal.last_date)
    # 2002: New Year, MLK, Presidents, Good Friday, Memorial, July 4, Labor, Thanksgiving,
    # Christmas = 9 NYSE closures; the Fed drops Good Friday and adds Columbus and Veterans = 10.
    in_2002 = ((h >= np.datetime64("2002-01-01")) & (h <= np.datetime64("2002-12-31"))).sum()
    assert in_2002 == {"settlement": 11, "banking": 10}.get(cal.name, 9)


def test_settlement_closures_are_the_union():
    since_1999 = EXCHANGE.holidays_array[EXCHANGE.holidays_array >= np.datetime64("1999-01-01")]
    assert np.array_equal(SETTLEMENT.holidays_array, np.union1d(since_1999, BANKING.holidays_array))


def test_unknown_kinds():
    with pytest.raises(ValueError, match=r"'trading'.*banking.*exchange.*settlement"):
        business_day_calendar("trading")
    with pytest.raises(ValueError, match="XNYS"):
        business_day_calendar("XNYS")
    with pytest.raises(ValueError, match=r"'NYSE'.*XNYS.*XNAS"):
        trading_calendar("NYSE")
    with pytest.raises(ValueError):
        trading_calendar("xnys")  # MICs are upper case
    with pytest.raises(ValueError):
        trading_calendar("XFED")  # a holidays calendar, but not a market


# -- NYSE unscheduled closures ------------------------------------------------------------

SPECIAL_CLOSURES = [
    date(2001, 9, 11),
    date(2001, 9, 12),
    date(2001, 9, 13),
    date(2001, 9, 14),  # Tue-Fri, 9/11
    date(2004, 6, 11),  # Fri, Reagan mourning
    date(2007, 1, 2),  # Tue, Ford mourning
    date(2012, 10, 29),
    date(2012, 10, 30),  # Mon-Tue, Hurricane Sandy
    date(2018, 12, 5),  # Wed, G.H.W. Bush mourning
    date(2025, 1, 9),  # Thu, Carter mourning
]


@pytest.mark.parametrize("day", SPECIAL_CLOSURES, ids=str)
def test_special_closures(day):
    assert day.weekday() < 5
    for cal in NYSE_CLOSED:
        assert not cal.is_open(day), cal.name
    # The Federal Reserve Banks stayed open on every one of these days in the package
    # (Fedwire ran through 9/11; banks open for Reagan, G.H.W. Bush and Carter).
    assert BANKING.is_open(day)


def test_nine_eleven_week():
    # Mon 2001-09-10 + 1: Tue 09-11 .. Fri 09-14 NYSE closed, Sat, Sun skipped -> Mon 09-17.
    assert SETTLEMENT.add_days(date(2001, 9, 10), 1) == date(2001, 9, 17)
    assert EXCHANGE.next_open(date(2001, 9, 10)) == date(2001, 9, 17)
    assert all(cal.is_open(date(2001, 9, 17)) for cal in ALL)  # Mon, reopening
    # Fed open all week: Mon 09-10 + 1 -> Tue 09-11.
    assert BANKING.add_days(date(2001, 9, 10), 1) == date(2001, 9, 11)
    # (Mon 09-10, Mon 09-17]: exchange counts only Mon 09-17 = 1;
    # banking counts Tue 11, Wed 12, Thu 13, Fri 14, Mon 17 = 5.
    assert EXCHANGE.count_open_between(date(2001, 9, 10), date(2001, 9, 17)) == 1
    assert BANKING.count_open_between(date(2001, 9, 10), date(2001, 9, 17)) == 5


def test_special_closure_arithmetic():
    # Thu 2004-06-10 + 1: Fri 06-11 Reagan closed, Sat 12, Sun 13 -> Mon 06-14.
    assert SETTLEMENT.add_days(date(2004, 6, 10), 1) == date(2004, 6, 14)
    # Fri 2006-12-29 -> Mon 2007-01-01 New Year's closed, Tue 01-02 Ford closed -> Wed 01-03.
    assert EXCHANGE.next_open(date(2006, 12, 29)) == date(2007, 1, 3)
    # Fed: Mon 01-01 New Year's closed, Tue 01-02 open -> Tue 2007-01-02.
    assert BANKING.next_open(date(2006, 12, 29)) == date(2007, 1, 2)
    # Fri 2012-10-26 + 1: Sat, Sun, Mon 29 and Tue 30 Sandy closed -> Wed 10-31.
    assert SETTLEMENT.add_days(date(2012, 10, 26), 1) == date(2012, 10, 31)
    # Thu 2018-12-06, previous: Wed 12-05 Bush closed -> Tue 12-04.
    assert EXCHANGE.previous_open(date(2018, 12, 6)) == date(2018, 12, 4)
    # Wed 2025-01-08 + 1: Thu 01-09 Carter closed -> Fri 01-10; the Fed was open on Thu 01-09.
    assert SETTLEMENT.add_days(date(2025, 1, 8), 1) == date(2025, 1, 10)
    assert BANKING.add_days(date(2025, 1, 8), 1) == date(2025, 1, 9)


def test_nyse_closures_before_2001():
    # The range starts in 1990 with real data: MLK Day closes the NYSE only from 1998.
    assert EXCHANGE.is_open(date(1997, 1, 20))  # Mon, MLK Day 1997: NYSE open
    assert not EXCHANGE.is_open(date(1998, 1, 19))  # Mon, MLK Day 1998: first closure
    assert not XNAS.is_open(date(1994, 4, 27))  # Wed, Nixon funeral
    assert not EXCHANGE.is_open(date(1990, 1, 1))  # Mon, New Year's Day


# -- regular holidays: where the calendars differ -----------------------------------------


@pytest.mark.parametrize("day", [date(2002, 10, 14), date(2002, 11, 11)], ids=str)
def test_columbus_and_veterans_day(day):
    # Mon 2002-10-14 Columbus Day, Mon 2002-11-11 Veterans Day: NYSE open, Fed closed.
    assert EXCHANGE.is_open(day) and XNYS.is_open(day) and XNAS.is_open(day)
    assert not BANKING.is_open(day)
    assert not SETTLEMENT.is_open(day)


def test_columbus_and_veterans_day_arithmetic():
    # Fri 2002-10-11 + 1: Sat, Sun, Mon 10-14 Columbus (Fed closed) -> Tue 10-15.
    assert SETTLEMENT.add_days(date(2002, 10, 11), 1) == date(2002, 10, 15)
    assert EXCHANGE.add_days(date(2002, 10, 11), 1) == date(2002, 10, 14)
    # Fri 2002-11-08, next: Sat, Sun, Mon 11-11 Veterans (Fed closed) -> Tue 11-12.
    assert SETTLEMENT.next_open(date(2002, 11, 8)) == date(2002, 11, 12)
    assert EXCHANGE.next_open(date(2002, 11, 8)) == date(2002, 11, 11)


def test_good_friday():
    good_friday = date(2002, 3, 29)  # Fri: NYSE closed, Fed open
    assert not EXCHANGE.is_open(good_friday)
    assert not SETTLEMENT.is_open(good_friday)
    assert BANKING.is_open(good_friday)


def test_domain_example_a_delivery_date():
    # Both items received Wed 2002-03-27 -> 3rd settlement business day after:
    # Thu 03-28 (1), Fri 03-29 Good Friday NYSE closed (skip), Sat, Sun, Mon 04-01 (2),
    # Tue 04-02 (3).
    assert SETTLEMENT.add_days(date(2002, 3, 27), 3) == date(2002, 4, 2)
    assert EXCHANGE.add_days(date(2002, 3, 27), 3) == date(2002, 4, 2)
    # Banking days: Thu 03-28 (1), Fri 03-29 Fed open (2), Mon 04-01 (3).
    assert BANKING.add_days(date(2002, 3, 27), 3) == date(2002, 4, 1)


@pytest.mark.parametrize(
    "day",
    [
        date(2004, 12, 31),  # Fri; New Year's Day 2005 is a Saturday
        date(2010, 12, 31),  # Fri; New Year's Day 2011 is a Saturday
        date(2021, 12, 31),  # Fri; New Year's Day 2022 is a Saturday
    ],
    ids=str,
)
def test_friday_before_saturday_new_year_is_open(day):
    # NYSE Rule 7.2 keeps Dec 31 open; the Fed does not close the Friday before a Saturday
    # holiday; nor is the following Monday closed.
    for cal in ALL:
        assert cal.is_open(day), cal.name
        assert cal.is_open(day + timedelta(days=3)), cal.name  # Mon Jan 3


def test_friday_before_other_saturday_holidays():
    # Veterans Day Sat 2006-11-11: Fri 11-10 Fed open (and NYSE open) -> settlement day.
    assert SETTLEMENT.is_open(date(2006, 11, 10)) and BANKING.is_open(date(2006, 11, 10))
    # Christmas Sat 2004-12-25: the NYSE closes Fri 12-24, the Fed does not.
    assert not EXCHANGE.is_open(date(2004, 12, 24))
    assert BANKING.is_open(date(2004, 12, 24))
    assert not SETTLEMENT.is_open(date(2004, 12, 24))
    # Thu 2004-12-23 + 1: Fri 12-24 NYSE closed, Sat, Sun -> Mon 12-27.
    assert SETTLEMENT.add_days(date(2004, 12, 23), 1) == date(2004, 12, 27)


def test_juneteenth():
    # Fri 2021-06-18: the first federal observance, but NYSE open and the Reserve Banks open
    # (June 19, 2021 was a Saturday) -> a settlement business day.
    for cal in ALL:
        assert cal.is_open(date(2021, 6, 18)), cal.name
    # Thu 2021-06-17 + 1 settlement day -> Fri 06-18.
    assert SETTLEMENT.add_days(date(2021, 6, 17), 1) == date(2021, 6, 18)
    # Mon 2022-06-20 (June 19 a Sunday, observed Monday): closed everywhere.
    for cal in ALL:
        assert not cal.is_open(date(2022, 6, 20)), cal.name
    # Fri 2022-06-17 + 1: Sat, Sun, Mon 06-20 Juneteenth -> Tue 06-21.
    assert SETTLEMENT.add_days(date(2022, 6, 17), 1) == date(2022, 6, 21)


def test_thanksgiving_and_early_closes():
    for cal in ALL:
        assert not cal.is_open(date(2002, 11, 28)), cal.name  # Thu, Thanksgiving
        assert cal.is_open(date(2002, 11, 29)), cal.name  # Fri, NYSE 1 p.m. close
        assert cal.is_open(date(2002, 12, 24)), cal.name  # Tue, NYSE 1 p.m. close
    # Domain example (b): USPS deposit Tue 2002-11-26 -> 7th settlement day after:
    # Wed 11-27 (1), Thu 11-28 Thanksgiving (skip), Fri 11-29 (2), Sat, Sun, Mon 12-02 (3),
    # Tue 12-03 (4), Wed 12-04 (5), Thu 12-05 (6), Fri 12-06 (7).
    assert SETTLEMENT.add_days(date(2002, 11, 26), 7) == date(2002, 12, 6)


# -- add_days / roll semantics ------------------------------------------------------------


def test_add_days_from_weekend():
    # Receipt Sat 2002-04-06 -> counts from Mon 04-08: Tue 04-09 (1), Wed 04-10 (2),
    # Thu 04-11 (3).
    assert SETTLEMENT.add_days(date(2002, 4, 6), 3) == date(2002, 4, 11)
    # Receipt Sun 2002-04-07 -> same: Thu 04-11.
    assert SETTLEMENT.add_days(date(2002, 4, 7), 3) == date(2002, 4, 11)
    # Receipt Mon 2002-04-08 (open): Tue (1), Wed (2), Thu 04-11 (3) -- same as the weekend.
    assert SETTLEMENT.add_days(date(2002, 4, 8), 3) == date(2002, 4, 11)
    # Receipt Fri 2002-04-05 (open): Mon 04-08 (1), Tue (2), Wed 04-10 (3).
    assert SETTLEMENT.add_days(date(2002, 4, 5), 3) == date(2002, 4, 10)


def test_add_days_from_holiday():
    # Receipt on Good Friday 2002-03-29 (settlement closed) -> counts from Mon 04-01:
    # Tue 04-02 (1), Wed 04-03 (2), Thu 04-04 (3).
    assert SETTLEMENT.add_days(date(2002, 3, 29), 3) == date(2002, 4, 4)
    # Banking: Good Friday open -> Mon 04-01 (1), Tue 04-02 (2), Wed 04-03 (3).
    assert BANKING.add_days(date(2002, 3, 29), 3) == date(2002, 4, 3)


def test_add_days_zero_and_negative():
    assert SETTLEMENT.add_days(date(2002, 4, 6), 0) == date(2002, 4, 8)  # Sat -> Mon
    assert SETTLEMENT.add_days(date(2002, 4, 8), 0) == date(2002, 4, 8)  # Mon open: itself
    # Sat 2002-03-30 - 1: back past Sat and Good Friday Fri 03-29 -> Thu 03-28.
    assert SETTLEMENT.add_days(date(2002, 3, 30), -1) == date(2002, 3, 28)
    # Tue 2002-04-02 - 2: Mon 04-01 (1), Good Friday skipped, Thu 03-28 (2).
    assert SETTLEMENT.add_days(date(2002, 4, 2), -2) == date(2002, 3, 28)


def test_roll_next_previous():
    good_friday, saturday = date(2002, 3, 29), date(2002, 3, 30)
    # Settlement: Good Friday closed -> Sat, Sun -> Mon 04-01.
    assert SETTLEMENT.roll_forward(good_friday) == date(2002, 4, 1)
    assert BANKING.roll_forward(good_friday) == good_friday  # Fed open: itself
    # next_open is strictly after, even from an open day: Thu 03-28 -> (Fri closed) Mon 04-01.
    assert SETTLEMENT.next_open(date(2002, 3, 28)) == date(2002, 4, 1)
    assert BANKING.next_open(date(2002, 3, 28)) == good_friday
    assert SETTLEMENT.next_open(saturday) == date(2002, 4, 1)  # Sat -> Sun -> Mon
    # previous_open is strictly before: Mon 04-01 -> Sun, Sat, Good Friday -> Thu 03-28.
    assert SETTLEMENT.previous_open(date(2002, 4, 1)) == date(2002, 3, 28)
    assert SETTLEMENT.previous_open(saturday) == date(2002, 3, 28)
    assert BANKING.previous_open(saturday) == good_friday
    assert SETTLEMENT.previous_open(date(2002, 3, 28)) == date(2002, 3, 27)  # Thu -> Wed


# -- count_open_between -------------------------------------------------------------------


def test_count_open_between():
    wed, tue = date(2002, 3, 27), date(2002, 4, 2)
    # (Wed 03-27, Tue 04-02]: Thu 28, [Fri 29 Good Friday, Sat, Sun], Mon 01, Tue 02 = 3.
    assert SETTLEMENT.count_open_between(wed, tue) == 3
    assert BANKING.count_open_between(wed, tue) == 4  # Good Friday counts
    assert SETTLEMENT.count_open_between(wed, wed) == 0  # empty interval
    assert SETTLEMENT.count_open_between(tue, wed) == 0  # reversed: 0, not negative
    # Start excluded, end included: (Wed 03-27, Thu 03-28] = 1; (Thu 03-28, Sun 03-31] = 0.
    assert SETTLEMENT.count_open_between(wed, date(2002, 3, 28)) == 1
    assert SETTLEMENT.count_open_between(date(2002, 3, 28), date(2002, 3, 31)) == 0
    # Closed start: (Sat 03-30, Mon 04-01] = Mon = 1.
    assert SETTLEMENT.count_open_between(date(2002, 3, 30), date(2002, 4, 1)) == 1


def test_count_inverts_add_days_on_open_days():
    start = date(2002, 3, 27)  # Wed, open
    for n in range(40):
        assert SETTLEMENT.count_open_between(start, SETTLEMENT.add_days(start, n)) == n


# -- range and type errors ----------------------------------------------------------------


@pytest.mark.parametrize("cal", ALL, ids=ids(ALL))
@pytest.mark.parametrize("day", [date(1989, 12, 31), date(2036, 1, 1)], ids=str)
def test_range_errors(cal, day):
    with pytest.raises(CalendarRangeError, match=rf"{day}.*{cal.first_date}\.\.2035-12-31"):
        cal.is_open(day)
    for call in (
        lambda: cal.roll_forward(day),
        lambda: cal.next_open(day),
        lambda: cal.previous_open(day),
        lambda: cal.add_days(day, 1),
        lambda: cal.count_open_between(date(2010, 1, 4), day),
        lambda: cal.is_open_array(np.array([date(2010, 1, 4), day], "datetime64[D]")),
    ):
        with pytest.raises(CalendarRangeError):
            call()


def test_range_error_is_a_value_error():
    assert issubclass(CalendarRangeError, ValueError)


def test_fed_calendars_start_in_1999():
    # The package's XFED calendar has no data before 1999.
    assert EXCHANGE.is_open(date(1998, 12, 31))  # Thu
    for cal in (SETTLEMENT, BANKING):
        with pytest.raises(CalendarRangeError, match="1998-12-31"):
            cal.is_open(date(1998, 12, 31))
    assert not SETTLEMENT.is_open(date(1999, 1, 1))  # Fri, New Year's Day


def test_results_outside_range_raise():
    # Mon 2035-12-31 -> next would be in 2036, where there is no holiday data.
    with pytest.raises(CalendarRangeError, match="result 2036-01-"):
        EXCHANGE.next_open(date(2035, 12, 31))
    with pytest.raises(CalendarRangeError, match="result 2036-01-"):
        SETTLEMENT.add_days(date(2035, 12, 28), 5)
    # Tue 1990-01-02 -> previous: Mon 01-01 New Year's closed -> Fri 1989-12-29, out of range.
    with pytest.raises(CalendarRangeError, match="result 1989-12-29"):
        EXCHANGE.previous_open(date(1990, 1, 2))
    assert EXCHANGE.previous_open(date(1990, 1, 3)) == date(1990, 1, 2)  # Wed -> Tue


def test_datetime_refused():
    with pytest.raises(TypeError):
        SETTLEMENT.is_open(datetime(2002, 3, 27, 23, 0))
    with pytest.raises(TypeError):
        SETTLEMENT.add_days("2002-03-27", 3)
    at_night, day = datetime(2002, 3, 27, 23, 0), date(2002, 3, 27)
    for call in (
        lambda: SETTLEMENT.roll_forward(at_night),
        lambda: SETTLEMENT.next_open(at_night),
        lambda: SETTLEMENT.previous_open(np.datetime64("2002-03-27")),
        lambda: SETTLEMENT.add_days(at_night, 3.0),
        lambda: SETTLEMENT.count_open_between(day, at_night),
        lambda: SETTLEMENT.count_open_between(None, day),
    ):
        with pytest.raises(TypeError, match="expected a datetime.date"):
            call()


# -- vectorized twins and an independent reference ----------------------------------------


def _reference(cal):
    """Open test from the holidays package's sets, no numpy."""
    years = range(1999, 2028)
    closed = set().union(*(holidays.financial_holidays(c, years=years) for c in SOURCES[cal.name]))
    return lambda d: d.weekday() < 5 and d not in closed


@pytest.mark.parametrize("cal", ALL, ids=ids(ALL))
def test_vectorized_twins_match_scalar_and_reference(cal):
    ref_open = _reference(cal)
    first = date(2001, 1, 1)
    days = [first + timedelta(days=i) for i in range((date(2026, 12, 31) - first).days + 1)]
    n = np.arange(len(days)) % 8  # 0..7 open days
    ends = [d + timedelta(days=int(k)) for d, k in zip(days, np.arange(len(days)) % 13 - 3, strict=True)]
    arr, ends_arr = np.array(days, "datetime64[D]"), np.array(ends, "datetime64[D]")

    is_open = cal.is_open_array(arr)
    rolled = cal.roll_forward_array(arr)
    added = cal.add_days_array(arr, n)
    counts = cal.count_open_between_array(arr, ends_arr)
    assert np.array_equal(cal.add_days_array(arr, 3), cal.add_days_array(arr, np.full(len(n), 3)))

    for i, d in enumerate(days):
        assert is_open[i] == cal.is_open(d) == ref_open(d), d
        roll = d
        while not ref_open(roll):
            roll += timedelta(days=1)
        assert rolled[i].item() == cal.roll_forward(d) == roll, d
        target, left = roll, int(n[i])
        while left:
            target += timedelta(days=1)
            left -= ref_open(target)
        assert added[i].item() == cal.add_days(d, int(n[i])) == target, d
        expected = sum(ref_open(d + timedelta(days=k)) for k in range(1, (ends[i] - d).days + 1))
        assert counts[i] == cal.count_open_between(d, ends[i]) == expected, d
        nxt = d + timedelta(days=1)
        while not ref_open(nxt):
            nxt += timedelta(days=1)
        assert cal.next_open(d) == nxt, d
        prev = d - timedelta(days=1)
        while not ref_open(prev):
            prev -= timedelta(days=1)
        assert cal.previous_open(d) == prev == cal.add_days(d, -1), d


# Deterministic and bounded in examples, so that the suite's time stays modest.
SCALAR_MATCHES_ARRAY = settings(max_examples=300, deadline=None, derandomize=True, database=None)


@SCALAR_MATCHES_ARRAY
@given(data=st.data(), cal=st.sampled_from(ALL), n=st.integers(-30, 30))
def test_scalar_methods_give_the_array_twins_results(data, cal, n):
    # anywhere in the range, or near either end, where n open days can step out of it
    near_ends = timedelta(days=60)
    in_range = st.one_of(
        st.dates(cal.first_date, cal.last_date),
        st.dates(cal.first_date, cal.first_date + near_ends),
        st.dates(cal.last_date - near_ends, cal.last_date),
    )
    day, other = data.draw(in_range), data.draw(in_range)
    one = np.array([day], "datetime64[D]")

    def both(scalar, array):
        """The scalar call's result and the array call's, or the errors each raised."""
        results = []
        for call in (scalar, lambda: array().item()):
            try:
                results.append(call())
            except CalendarRangeError as e:
                results.append(("CalendarRangeError", str(e)))
        return results

    is_open, is_open_array = both(lambda: cal.is_open(day), lambda: cal.is_open_array(one))
    assert is_open == is_open_array and type(is_open) is bool
    assert cal.roll_forward(day) == cal.roll_forward_array(one).item()
    first, second = both(lambda: cal.add_days(day, n), lambda: cal.add_days_array(one, n))
    assert first == second, (day, n)
    assert type(first) in (date, tuple)
    # next_open and previous_open have no public twin: the array offset with numpy's roll is theirs
    for scalar, offset, roll in ((cal.next_open, 1, "backward"), (cal.previous_open, -1, "forward")):
        first, second = both(functools.partial(scalar, day), functools.partial(cal._offset, one, offset, roll))
        assert first == second, (scalar.__name__, day)
    count = cal.count_open_between(day, other)
    assert count == cal.count_open_between_array(one, np.array([other], "datetime64[D]")).item()
    assert type(count) is int


def test_is_open_array_dtype_and_shape():
    days = np.array([["2002-03-28", "2002-03-29"], ["2002-03-30", "2002-04-01"]], "datetime64[D]")
    # Thu open, Good Friday closed, Sat closed, Mon open.
    assert SETTLEMENT.is_open_array(days).tolist() == [[True, False], [False, True]]
    assert SETTLEMENT.roll_forward_array(days).dtype == np.dtype("datetime64[D]")


# -- cross-check with exchange_calendars --------------------------------------------------


# exchange_calendars 4.13 on pandas 3 warns from inside its own code; not ours to fix.
@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
@pytest.mark.parametrize("mic", ["XNYS", "XNAS"])
def test_trading_days_match_exchange_calendars(mic):
    xcals = pytest.importorskip("exchange_calendars")
    sessions = xcals.get_calendar(mic, start="2001-01-02", end="2025-12-31").sessions
    session_days = set(sessions.date)
    weekdays = np.arange(np.datetime64("2001-01-02"), np.datetime64("2026-01-01"))
    weekdays = weekdays[np.is_busday(weekdays)]
    ours = trading_calendar(mic).is_open_array(weekdays)
    theirs = np.array([d.item() in session_days for d in weekdays])
    mismatches = weekdays[ours != theirs]
    assert mismatches.size == 0, mismatches[:10]
    assert len(weekdays) > 6500 and theirs.sum() == len(session_days)


@pytest.mark.parametrize("cal", ALL, ids=ids(ALL))
def test_table_arithmetic_is_numpys_busday_arithmetic_over_the_whole_range(cal):
    # The look-up tables against numpy's own busday functions on the same closed days, for every
    # day of the range: rolled forward then stepped -3..3 open days (where the answer stays in the
    # range), the open test, and counts over spans of -3..40 days.
    numpy_cal = np.busdaycalendar(weekmask="1111100", holidays=cal.holidays_array)
    days = np.arange(np.datetime64(cal.first_date), np.datetime64(cal.last_date) + 1)
    assert np.array_equal(cal.is_open_array(days), np.is_busday(days, busdaycal=numpy_cal))
    for n in range(-3, 4):
        for roll in ("forward", "backward"):
            expected = np.busday_offset(days, n, roll=roll, busdaycal=numpy_cal)
            inside = (expected >= days[0]) & (expected <= days[-1])
            assert np.array_equal(cal._offset(days[inside], n, roll), expected[inside]), (n, roll)
    for span in (-3, 0, 1, 7, 40):
        ends = np.clip(days + span, days[0], days[-1])
        one = np.timedelta64(1, "D")
        expected = np.maximum(np.busday_count(days + one, ends + one, busdaycal=numpy_cal), 0)
        assert np.array_equal(cal.count_open_between_array(days, ends), expected), span
