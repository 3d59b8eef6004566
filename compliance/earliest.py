"""The earliest allowed date: the first trading day on or after the sale date on which the same
event would be allowed, all else equal; None when time alone never cures it.

Exact by construction. Every rule compares facts; the sale date enters only through comparisons
of ``sale_date`` with a date fact (the rulebook's ``sale_date_boundaries``), and every fact is
constant between the change dates that ``derive_facts`` reports. So the outcome can only change on
the first trading day on or after (a) a boundary fact's value or the day after it, or (b) a
change date. The search evaluates
those candidate days in ascending order, adding the candidates each evaluation reveals, and stops
at the first allowed one. When no candidate is left the outcome is the same on every later day.
"""
from __future__ import annotations

import heapq
from datetime import date, timedelta
from typing import Callable

from .calendars import LAST_DATE
from .periods import DAY

# Candidates stop short of the calendar's end, so rolling one forward stays in range.
SEARCH_LIMIT = LAST_DATE - timedelta(days=14)


def candidate_days(facts: dict, changes: set[date], after: date, boundaries: tuple[str, ...]) -> set[date]:
    days = set(changes)
    for name in boundaries:
        value = facts.get(name)
        if isinstance(value, date):
            days.update((value, value + DAY))
    return {d for d in days if after < d <= SEARCH_LIMIT}


def earliest_allowed_date(
    start: date,
    evaluate: Callable[[date], tuple[bool, dict, set[date]]],
    roll_forward: Callable[[date], date],
    boundaries: tuple[str, ...],
) -> date | None:
    """Search from ``start``. ``evaluate(day)`` returns (allowed, facts, change dates) for the
    event on ``day``; ``roll_forward(day)`` is the first trading day on or after ``day``."""
    allowed, facts, changes = evaluate(start)
    if allowed:
        return start
    queue = sorted(candidate_days(facts, changes, start, boundaries) | {start + DAY})
    heapq.heapify(queue)
    seen: set[date] = {start}
    while queue:
        day = roll_forward(heapq.heappop(queue))
        if day in seen:
            continue
        seen.add(day)
        allowed, facts, changes = evaluate(day)
        if allowed:
            return day
        for candidate in candidate_days(facts, changes, day, boundaries):
            heapq.heappush(queue, candidate)
    return None
