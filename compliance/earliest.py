"""The earliest allowed date: the first trading day on or after the sale date on which the same
event would be allowed, all else equal; NaT (None) when time alone never cures it.

Exact by construction. The sale date enters the rules only through comparisons of ``sale_date``
with a date fact (the rulebook's ``sale_date_boundaries``), and every fact is constant until the
event's next change date (``derive_facts``). So from a day t the outcome can next change only on
the first trading day on or after the earliest of: the next change date, a boundary fact's value
after t, or the day after a boundary fact's value. The search moves every undecided event to that
day, judges it there, and repeats; an event with no such day left is never allowed.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .calendars import LAST_DATE
from .facts import NAT, Facts
from .periods import ONE_DAY

# Candidates stop short of the calendar's end, so rolling one forward stays in range.
SEARCH_LIMIT = np.datetime64(LAST_DATE, "D") - 14 * ONE_DAY

Judge = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, Facts, np.ndarray, np.ndarray]]


def never_cured(settled_after: tuple, stopping: np.ndarray, facts: Facts) -> np.ndarray:
    """Events stopped by a rule that reads only constant facts and the sale date, with the sale
    date already past every date that rule compares it with: time cannot cure them.
    ``stopping`` is an (events x rules) mask of failing rules that stop the sale."""
    t = facts["sale_date"]
    never = np.zeros(len(t), dtype=bool)
    for j, boundaries in enumerate(settled_after):
        if boundaries is None or not stopping[:, j].any():
            continue
        settled = np.ones(len(t), dtype=bool)
        for name in boundaries:
            value = facts[name]
            settled &= np.isnat(value) | (t > value)
        never |= stopping[:, j] & settled
    return never


def next_candidate(t: np.ndarray, facts: Facts, next_change: np.ndarray,
                   boundaries: tuple[str, ...]) -> np.ndarray:
    """The earliest day after ``t`` on which an outcome could change (NaT: none)."""
    best = next_change.copy()
    for name in boundaries:
        value = facts.get(name)
        if value is None:
            continue
        for day in (value, value + ONE_DAY):
            later = (day > t) & ((day < best) | np.isnat(best))
            best = np.where(later, day, best)
    return np.where(best <= SEARCH_LIMIT, best, NAT)


def earliest_allowed_dates(start: np.ndarray, first: tuple[np.ndarray, Facts, np.ndarray, np.ndarray],
                           judge: Judge, roll_forward: Callable[[np.ndarray], np.ndarray],
                           boundaries: tuple[str, ...]) -> np.ndarray:
    """For events first judged on ``start`` with result ``first`` = (allowed, facts, next
    change, never cured), the earliest allowed trading days. ``judge(rows, days)`` judges events
    ``rows`` moved to ``days`` and returns the same four; ``roll_forward`` maps days to the first
    trading day on or after each. Events that time cannot cure are not searched further."""
    allowed, facts, next_change, never = first
    result = np.where(allowed, start, NAT)
    rows = np.flatnonzero(~allowed & ~never)
    t = start[rows]
    # The first interval starts on the sale date: if that is not a trading day, the first trading
    # day after it is judged first.
    candidate = np.where(facts["sale_date_is_trading_day"][rows],
                         next_candidate(t, {k: v[rows] for k, v in facts.items()}, next_change[rows], boundaries),
                         t + ONE_DAY)
    while len(rows):
        keep = ~np.isnat(candidate)
        rows, candidate = rows[keep], candidate[keep]
        if not len(rows):
            break
        t = roll_forward(candidate)
        allowed, facts, next_change, never = judge(rows, t)
        result[rows[allowed]] = t[allowed]
        waiting = ~allowed & ~never
        rows, t = rows[waiting], t[waiting]
        facts = {k: v[waiting] for k, v in facts.items()}
        candidate = next_candidate(t, facts, next_change[waiting], boundaries)
    return result
