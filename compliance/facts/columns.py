"""What every family of facts shares: the ``Facts`` mapping, ``NAT``, each fact's next change
(``NextChanges``), and the column helpers (a span of days, date arithmetic once per distinct value,
dated windows such as a suspension).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compliance.deal.agreement import Window
from compliance.deal.periods import (
    ONE_DAY,
)
from compliance.kept import built_once
from compliance.rulebook.parameters import Rule144Parameters

NAT = np.datetime64("NaT", "D")


Facts = dict[str, np.ndarray]


class NextChanges:
    """For each event, per fact, the first day after its sale date on which that fact could take
    another value with the event unchanged (NaT: never). Recorded by source, each source naming
    the facts it moves; a fact no source names keeps its value whatever the sale date."""

    def __init__(self, sale_date: np.ndarray):
        self.t = sale_date
        self.sources: dict[tuple[str, ...], np.ndarray] = {}

    def add(self, days, *facts: str) -> None:
        """A change of ``facts`` on ``days`` (one per event, or one for all; NaT: none), or on each
        of several such rows stacked (a 2-D array: one row per source of change)."""
        days = np.asarray(days, dtype="M8[D]")
        later = np.where(days > self.t, days, NAT)  # broadcasts a single day
        self._merge(facts, np.fmin.reduce(later, axis=0) if later.ndim > self.t.ndim else later)

    def add_dates(self, days, *facts: str) -> None:
        """A change of ``facts`` on each of ``days`` (the same dates for every event)."""
        days = np.unique(np.asarray(days, dtype="M8[D]"))
        if not len(days):
            return
        i = np.searchsorted(days, self.t, side="right")
        self._merge(facts, np.where(i < len(days), days[np.minimum(i, len(days) - 1)], NAT))

    def _merge(self, facts: tuple[str, ...], later: np.ndarray) -> None:
        known = self.sources.get(facts)
        self.sources[facts] = later if known is None else np.fmin(known, later)

    def postpone(self, facts: tuple[str, ...], rows: np.ndarray, days: np.ndarray) -> None:
        """Move the changes recorded as ``facts`` for ``rows`` (indices) to ``days`` (NaT: none):
        a caller has shown that the changes before those days cannot matter there."""
        if facts in self.sources:
            self.sources[facts][rows] = days

    def of(self, names) -> np.ndarray:
        """The first change of any of ``names``."""
        names = set(names)
        out = None
        for facts, days in self.sources.items():
            if not names.isdisjoint(facts):
                out = days.copy() if out is None else np.fmin(out, days)
        return np.full(self.t.shape, NAT) if out is None else out

    def take(self, rows) -> NextChanges:
        taken = NextChanges(self.t[rows])
        taken.sources = {facts: days[rows] for facts, days in self.sources.items()}
        return taken


def span(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every calendar day from the earliest to the latest of ``t``, and the index of each of ``t``
    in it."""
    if len(t) <= 1:
        return t, np.zeros(len(t), np.int64)
    first = t.min()
    return np.arange(first, t.max() + ONE_DAY), (t - first).astype(np.int64)


def per_distinct(compute, days: np.ndarray, months: np.ndarray, absent=NAT) -> np.ndarray:
    """``compute(days, months)`` (a date column and a whole number of months or weeks, NaT giving
    ``absent``) evaluated once per distinct (day, months) pair and spread back; NaT days are not
    computed."""
    out = np.full(days.shape, absent)
    if len(days) == 1:  # one event: nothing to share
        if not np.isnat(days[0]):
            out[:] = compute(days, int(months[0]))
        return out
    present = ~np.isnat(days)
    if not present.any():
        return out
    for m in np.unique(months[present]).tolist():
        rows = present & (months == m)
        codes, distinct = pd.factorize(days[rows].view(np.int64))
        out[rows] = compute(distinct.view("M8[D]"), m)[codes]
    return out


def in_windows(windows: tuple[Window, ...], t: np.ndarray, changes: NextChanges | None, fact: str) -> np.ndarray:
    """Whether each of ``t`` falls in one of ``windows`` (an open end: for ever); a window's first
    day and the day after its last change ``fact`` (recorded in ``changes`` unless None)."""
    inside = np.zeros(t.shape, dtype=bool)
    for w in windows:
        start = np.datetime64(w.start, "D")
        end = NAT if w.end is None else np.datetime64(w.end, "D")
        if changes is not None:
            changes.add(np.array([[start], [end + ONE_DAY]]), fact)
        inside |= (t >= start) & (np.isnat(end) | (t <= end))
    return inside


def parameter_on(params: Rule144Parameters, name: str, days: np.ndarray) -> np.ndarray:
    """The value of a Rule 144 parameter in force on each of ``days``."""
    versions, values = built_once(_parameter_versions, params, name)
    return values[np.searchsorted(versions, days, side="right") - 1]


def _parameter_versions(params: Rule144Parameters, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The versions of Rule 144 (``datetime64[D]``) and the parameter's value in each."""
    return np.array(params.versions, dtype="M8[D]"), np.array([params.value(name, v) for v in params.versions])
