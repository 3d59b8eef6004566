"""The earliest allowed date: the first trading day on or after the sale date on which the same
event would be allowed, all else equal; NaT (None) when time alone never cures it.

Exact by construction. A rule's status on day t depends on the facts it reads and on how
``sale_date`` compares with the date facts it names (``Rulebook.date_search``). So a rule
that stops the sale on day t still stops it on every later day before the first of: the next
change of a fact it reads (``derive_facts``), a boundary fact's value after t, or the day after
one. The sale stays stopped until the *latest* of those days over the rules stopping it, and never
cured when one of them has no such day. The search moves every undecided event to that day
(rolled forward to a trading day), judges it there, and repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from compliance.deal.calendars import LAST_DATE
from compliance.deal.periods import ONE_DAY
from compliance.facts.columns import NAT, Facts, NextChanges

# Candidates stop short of the calendar's end, so rolling one forward stays in range.
SEARCH_LIMIT = np.datetime64(LAST_DATE, "D") - 14 * ONE_DAY

LAST_CANDIDATE = SEARCH_LIMIT.astype(date)

# judge(rows, days) -> (stopping, facts, changes): events ``rows`` moved to ``days``; ``stopping``
# an (events x rules) mask of the rules that stop the sale.
Judge = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, Facts, NextChanges]]


def _next_boundary(t: np.ndarray, facts: Facts, names: tuple[str, ...]) -> np.ndarray:
    best = np.full(t.shape, NAT)
    for name in names:
        value = facts.get(name)
        if value is None:
            continue
        for day in (value, value + ONE_DAY):
            best = np.fmin(best, np.where(day > t, day, NAT))
    return best


def next_candidate(
    t: np.ndarray,
    facts: Facts,
    changes: NextChanges,
    stopping: np.ndarray,
    rules: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
) -> np.ndarray:
    """The first day after ``t`` on which no rule in ``stopping`` is sure to stop the sale still
    (NaT: none, time never cures it). ``rules``: per rule, (facts its conditions read, date facts
    it compares with the sale date)."""
    latest = np.full(t.shape, NAT)
    never = np.zeros(t.shape, dtype=bool)
    for j, (reads, boundaries) in enumerate(rules):
        stops = stopping[:, j]
        if not stops.any():
            continue
        free = np.fmin(changes.of(reads), _next_boundary(t, facts, boundaries))
        never |= stops & np.isnat(free)
        latest = np.where(stops, np.fmax(latest, free), latest)
    return np.where(never | ~(latest <= SEARCH_LIMIT), NAT, latest)


def earliest_allowed_dates(
    start: np.ndarray,
    first: tuple[np.ndarray, Facts, NextChanges],
    judge: Judge,
    roll_forward: Callable[[np.ndarray], np.ndarray],
    rules: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
) -> np.ndarray:
    """For events first judged on ``start`` with result ``first`` = (stopping, facts, changes),
    the earliest allowed trading days. ``judge(rows, days)`` judges events ``rows`` moved to
    ``days`` and returns the same three; ``roll_forward`` maps days to the first trading day on
    or after each; ``rules`` as in ``next_candidate``."""
    stopping, facts, changes = first
    allowed = ~stopping.any(axis=1)
    result = np.where(allowed, start, NAT)
    rows = np.flatnonzero(~allowed)
    needed = {name for _, boundaries in rules for name in boundaries} | {"sale_date_is_trading_day"}
    facts = {k: v[rows] for k, v in facts.items() if k in needed}
    # The first interval starts on the sale date: if that is not a trading day, the first trading
    # day after it is judged first.
    candidate = np.where(
        facts["sale_date_is_trading_day"],
        next_candidate(start[rows], facts, changes.take(rows), stopping[rows], rules),
        start[rows] + ONE_DAY,
    )
    while True:
        keep = ~np.isnat(candidate)
        rows, candidate = rows[keep], candidate[keep]
        if not len(rows):
            return result
        t = roll_forward(candidate)
        stopping, facts, changes = judge(rows, t)
        allowed = ~stopping.any(axis=1)
        result[rows[allowed]] = t[allowed]
        waiting = ~allowed
        rows, t = rows[waiting], t[waiting]
        facts = {k: v[waiting] for k, v in facts.items() if k in needed}
        candidate = next_candidate(t, facts, changes.take(waiting), stopping[waiting], rules)


# judge_one(day) -> (stopping, facts, changes): the event moved to ``day``; ``stopping`` the indices
# (in ``rules``) of the rules that stop the sale; ``facts`` Python values; ``changes.of(names)`` the
# first change of any of ``names`` (None: none).
JudgeOne = Callable[[date], tuple[list[int], dict[str, Any], Any]]


def next_candidate_day(t: date, facts: dict[str, Any], changes, stopping: list[int], rules) -> date | None:
    """``next_candidate`` for one event: ``facts`` in Python values, ``stopping`` the indices of
    the rules that stop its sale on ``t``."""
    latest = None
    for j in stopping:
        reads, boundaries = rules[j]
        free = changes.of(reads)
        for name in boundaries:
            value = facts.get(name)
            if value is None:
                continue
            for day in (value, value + timedelta(days=1)):
                if day > t and (free is None or day < free):
                    free = day
        if free is None:
            return None
        latest = free if latest is None else max(latest, free)
    return latest if latest is not None and latest <= LAST_CANDIDATE else None


def earliest_allowed_date(
    start: date,
    first: tuple[list[int], dict[str, Any], Any],
    judge: JudgeOne,
    roll_forward: Callable[[date], date],
    rules: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...],
) -> date | None:
    """``earliest_allowed_dates`` for one event, first judged on ``start`` with result ``first``
    = (stopping, facts, changes) as ``judge`` gives them; None when time alone never cures it."""
    stopping, facts, changes = first
    if not stopping:
        return start
    # As for many events: off a trading day, the first trading day after the sale date comes first.
    if facts["sale_date_is_trading_day"]:
        candidate = next_candidate_day(start, facts, changes, stopping, rules)
    else:
        candidate = start + timedelta(days=1)
    while candidate is not None:
        t = roll_forward(candidate)
        stopping, facts, changes = judge(t)
        if not stopping:
            return t
        candidate = next_candidate_day(t, facts, changes, stopping, rules)
    return None
