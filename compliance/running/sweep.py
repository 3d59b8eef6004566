"""What-if over time: the outcome of the same proposed sale on every trading day of a range.

``sweep`` judges the event with ``compliance.check`` once per trading day of the agreement's
Principal Trading Market, moving only ``sale_date`` (all else equal, as ``earliest_allowed_date``
is defined). It does not use the earliest-date search, so it is an independent, day-by-day view:
its first allowed day equals ``check(event on start).earliest_allowed_date`` whenever that date
falls within the range (a test checks this).

``sweep_bands`` folds the days into runs of the same outcome and the same failing rules, which is
what ``plots.plot_sweep`` draws.

Cost: one ``check`` per trading day (about 10 ms each on the bundled deal), so a year is ~3 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from compliance.contract.history import parse_history
from compliance.deal.agreement import Agreement, load_agreement
from compliance.running.check import check

SWEEP_COLUMNS = ("date", "outcome", "failed_rules")
BAND_COLUMNS = ("start", "end", "outcome", "failed_rules", "deciding_rule", "trading_days")


def _as_date(value: Any, name: str) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "date") and callable(value.date):  # datetime.datetime
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name}: expected a YYYY-MM-DD date, got {value!r}") from None


def trading_days(agreement: Agreement, start: date | str, end: date | str) -> list[date]:
    """The trading days of the agreement's Principal Trading Market from ``start`` to ``end``
    inclusive."""
    first, last = _as_date(start, "start"), _as_date(end, "end")
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    calendar = agreement.trading_calendar
    days, day = [], first
    while day <= last:
        if calendar.is_open(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def sweep(
    event: Mapping[str, Any],
    agreement: Agreement | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    history=None,
) -> pd.DataFrame:
    """One row per trading day from ``start`` to ``end`` (inclusive): ``date`` (a
    ``datetime.date``), ``outcome`` (allow | deny | error) and ``failed_rules`` (rule ids,
    ``;``-separated, as in ``review`` output) of ``check(event with sale_date=date)``.

    ``start`` defaults to the event's ``sale_date``; ``end`` is required. ``history``: the
    seller's completed sales, as for ``check`` (parsed once; a bad row raises ``InputError``)."""
    if agreement is None:
        agreement = load_agreement()
    history = parse_history(history, agreement)
    if start is None:
        start = event.get("sale_date")
    if end is None:
        raise ValueError("end: the last day of the sweep is required")
    rows = []
    for day in trading_days(agreement, start, end):
        decision = check({**event, "sale_date": day.isoformat()}, agreement, history=history)
        rows.append({"date": day, "outcome": decision.outcome, "failed_rules": ";".join(decision.failed_rules)})
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))


def first_allowed_day(frame: pd.DataFrame) -> date | None:
    """The first ``date`` of a sweep whose outcome is allow, or None."""
    allowed = frame.loc[frame["outcome"] == "allow", "date"]
    return allowed.iloc[0] if len(allowed) else None


def sweep_bands(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive trading days with the same outcome and the same failing rules:
    ``start`` and ``end`` (first and last trading day of the run), ``outcome``, ``failed_rules``,
    ``deciding_rule`` (the first failing rule in rulebook order, or "" for an allowed run) and
    ``trading_days`` (the run's length)."""
    bands: list[dict[str, Any]] = []
    for row in frame.itertuples(index=False):
        key = (row.outcome, row.failed_rules)
        if bands and (bands[-1]["outcome"], bands[-1]["failed_rules"]) == key:
            bands[-1]["end"] = row.date
            bands[-1]["trading_days"] += 1
        else:
            bands.append(
                {
                    "start": row.date,
                    "end": row.date,
                    "outcome": row.outcome,
                    "failed_rules": row.failed_rules,
                    "deciding_rule": row.failed_rules.split(";")[0] if row.failed_rules else "",
                    "trading_days": 1,
                }
            )
    return pd.DataFrame(bands, columns=list(BAND_COLUMNS))
