"""Calendar-month periods (compliance/periods.py). Expected dates worked out by hand."""

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compliance.deal.periods import (
    PERIOD_COUNTING,
    add_months,
    first_day_window_start_reaches,
    period_satisfied_on,
    window_start,
)


@pytest.mark.parametrize(
    "start, months, anniversary, day_after",
    [
        # Wed 2002-01-16 + 12 months = Thu 2003-01-16; satisfied Fri 2003-01-17 (domain.md §3)
        (date(2002, 1, 16), 12, date(2003, 1, 16), date(2003, 1, 17)),
        # 144(k): + 24 months = Fri 2004-01-16; satisfied Sat 2004-01-17
        (date(2002, 1, 16), 24, date(2004, 1, 16), date(2004, 1, 17)),
        # Fri 2007-08-31 + 6 months: February 2008 has 29 days -> 2008-02-29; satisfied Sat 2008-03-01
        (date(2007, 8, 31), 6, date(2008, 2, 29), date(2008, 3, 1)),
        # Sun 2008-08-31 + 6 months: February 2009 has 28 days -> clamped 2009-02-28; satisfied 03-01
        (date(2008, 8, 31), 6, date(2009, 2, 28), date(2009, 3, 1)),
        # Fri 2008-02-29 + 12 months: no 2009-02-29 -> clamped 2009-02-28; satisfied Sun 2009-03-01
        (date(2008, 2, 29), 12, date(2009, 2, 28), date(2009, 3, 1)),
        # Tue 2009-03-31 + 6 months: no 09-31 -> 2009-09-30; satisfied Thu 2009-10-01
        (date(2009, 3, 31), 6, date(2009, 9, 30), date(2009, 10, 1)),
    ],
)
def test_period_satisfied_on_both_conventions(start, months, anniversary, day_after):
    assert add_months(start, months) == anniversary
    assert period_satisfied_on(start, months, "anniversary") == anniversary
    assert period_satisfied_on(start, months, "day_after") == day_after


def test_unknown_counting_convention_is_refused():
    with pytest.raises(ValueError, match="period counting"):
        period_satisfied_on(date(2002, 1, 16), 12, "end_of_month")


def test_window_start_clamps_like_add_months():
    # 2003-05-31 less 3 months: no 02-31 -> 2003-02-28
    assert window_start(date(2003, 5, 31), 3) == date(2003, 2, 28)
    # 2003-04-30 less 16 months = 2001-12-30
    assert window_start(date(2003, 4, 30), 16) == date(2001, 12, 30)


@pytest.mark.parametrize(
    "anchor, months, strictly_after, expected",
    [
        # A sale on 2003-01-31 stops counting in a 3-month window on the first t whose window start
        # (t less 3 months) is on or after 01-31: t=04-30 -> 01-30 (still counts); t=05-01 -> 02-01.
        (date(2003, 1, 31), 3, False, date(2003, 5, 1)),
        # A sale on 2003-02-10: t=05-10 -> window start 02-10 = anchor, it no longer counts on 05-10.
        (date(2003, 2, 10), 3, False, date(2003, 5, 10)),
        # Prospectus information as of 2001-12-31 becomes older than 16 months on the first t whose
        # t less 16 months is after 12-31: t=2003-04-30 -> 2001-12-30; t=2003-05-01 -> 2002-01-01.
        (date(2001, 12, 31), 16, True, date(2003, 5, 1)),
        # A report due 2003-11-14 leaves a 12-month look-back when t less 12 months > 11-14: 2004-11-15.
        (date(2003, 11, 14), 12, True, date(2004, 11, 15)),
    ],
)
def test_first_day_window_start_reaches(anchor, months, strictly_after, expected):
    got = first_day_window_start_reaches(anchor, months, strictly_after=strictly_after)
    assert got == expected
    # and the day before, the window start had not yet reached the anchor
    before = window_start(got - timedelta(days=1), months)
    assert before < anchor if not strictly_after else before <= anchor


def test_month_arithmetic_matches_pendulum_on_every_day_2000_2010():
    pendulum = pytest.importorskip("pendulum")
    import numpy as np

    days = np.arange(np.datetime64("2000-01-01"), np.datetime64("2011-01-01"))
    for months in (3, 6, 9, 12, 16, 24, -3, -12, -16):
        got = add_months(days, months)
        for day, result in zip(days.astype(object), got.astype(object), strict=True):
            expected = pendulum.date(day.year, day.month, day.day).add(months=months)
            assert result == date(expected.year, expected.month, expected.day), (day, months)


def test_not_a_time_passes_through():
    import numpy as np

    days = np.array(["2002-01-16", "NaT"], dtype="M8[D]")
    out = period_satisfied_on(days, 12)
    assert out[0] == np.datetime64("2003-01-17") and np.isnat(out[1])


# -- a date is computed in plain Python; the array functions are its reference ----------------

# Deterministic and bounded in examples, so that the suite's time stays modest.
SCALAR_MATCHES_ARRAY = settings(max_examples=500, deadline=None, derandomize=True, database=None)


def _as_array(func, day, *args, **kwargs):
    """``func`` of ``day`` as a one-day array, back as a date (None for NaT)."""
    return func(np.array([day], dtype="M8[D]"), *args, **kwargs)[0].astype(date)


@SCALAR_MATCHES_ARRAY
@given(
    day=st.dates(date(1901, 1, 1), date(2099, 12, 31)),
    months=st.integers(-120, 120),
    counting=st.sampled_from(PERIOD_COUNTING),
    strictly_after=st.booleans(),
)
def test_a_date_gives_the_array_result(day, months, counting, strictly_after):
    # The array functions' month table covers 1900-01..2101-01: stay where every month they look
    # up (the day's, months either way, and the week around the anniversary) is inside it: months
    # numbered from year 0, 1900-02 to 2100-11.
    month, first_month, last_month = day.year * 12 + day.month - 1, 1900 * 12 + 1, 2100 * 12 + 10
    assume(month - abs(months) >= first_month and month + abs(months) <= last_month)
    assert add_months(day, months) == _as_array(add_months, day, months)
    assert window_start(day, months) == _as_array(window_start, day, months)
    assert period_satisfied_on(day, months, counting) == _as_array(period_satisfied_on, day, months, counting)
    got = first_day_window_start_reaches(day, months, strictly_after=strictly_after)
    assert got == _as_array(first_day_window_start_reaches, day, months, strictly_after=strictly_after)
    assert type(got) is date


def test_a_date_takes_numpy_integers_and_datetimes_as_the_array_path_does():
    assert add_months(date(2003, 1, 31), np.int64(1)) == date(2003, 2, 28)
    assert add_months(datetime(2003, 1, 31, 12, 0), 1) == date(2003, 2, 28)
    assert type(add_months(datetime(2003, 1, 31, 12, 0), 1)) is date
    # months that are no integer go through the array function
    assert add_months(date(2003, 1, 31), 1.0) == date(2003, 2, 28)


@pytest.mark.parametrize(
    "day, months, expected",
    [
        # 2100 is no leap year (divisible by 100, not by 400): 2100-01-31 + 1 month -> 2100-02-28
        (date(2100, 1, 31), 1, date(2100, 2, 28)),
        # nor is 1900: 1900-03-31 less 1 month -> 1900-02-28
        (date(1900, 3, 31), -1, date(1900, 2, 28)),
        # 2000 is (divisible by 400): 1999-11-30 + 3 months -> 2000-02-29
        (date(1999, 11, 30), 3, date(2000, 2, 29)),
    ],
)
def test_century_leap_years(day, months, expected):
    assert add_months(day, months) == _as_array(add_months, day, months) == expected


@pytest.mark.parametrize("day", [date(1899, 12, 31), date(2101, 1, 1)], ids=str)
def test_a_date_outside_the_table_is_refused_as_an_array_is(day):
    for arg in (day, np.array([day], dtype="M8[D]")):
        with pytest.raises(ValueError, match="add_months covers days from 1900-01-01 to 2100-12-31"):
            add_months(arg, 1)


@pytest.mark.parametrize(
    "day, months",
    [
        (date(1900, 1, 15), -1),  # 1899-12-15: a month before the table
        (date(2100, 12, 15), 2),  # 2101-02-15: a month after it
    ],
    ids=str,
)
def test_an_array_result_outside_the_table_is_refused_not_wrapped(day, months):
    with pytest.raises(ValueError, match="add_months gives days from 1900-01-01 to 2101-01-31"):
        add_months(np.array([day], dtype="M8[D]"), months)
