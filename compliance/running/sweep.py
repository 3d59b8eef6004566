"""What-if over time: the outcome of the same proposed sale on every trading day of a range.

``sweep`` judges the event on every trading day of the agreement's Principal Trading Market,
moving only ``sale_date`` (all else equal, as ``earliest_allowed_date`` is defined). The days are
alternatives, not a sequence of sales: each is judged as ``check()`` judges it, with the seller's
history and without the other days, all at once with the rulebook compiled to numpy
(``review.judge_apart``). It does not use the earliest-date search, so it is an independent,
day-by-day view: its first allowed day equals ``check(event on start).earliest_allowed_date``
whenever that date falls within the range, and every day's outcome and failing rules equal
``check()``'s on that day (tests check both).

``sweep_bands`` folds the days into runs of the same outcome and the same failing rules, which is
what ``plots.plot_sweep`` draws.

Cost: the event read through the input contract once per day, and one vectorized judgement of
all the days: eight years (2,015 trading days) take about 0.1 s (``bench/sweep_benchmark.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from compliance.contract.event import EventColumns, InputError, SaleEvent, validate_event
from compliance.contract.history import parse_history
from compliance.deal.agreement import Agreement, load_agreement
from compliance.decision.output_columns import SALE, joined
from compliance.rulebook import vectorized as vz
from compliance.rulebook.durable import engine_for
from compliance.running.check import require_clauses
from compliance.running.review import judge_apart

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
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    return days[agreement.trading_calendar.is_open_array(days)].astype(object).tolist()


def sweep(
    event: Mapping[str, Any],
    agreement: Agreement | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    history=None,
    progress=None,
) -> pd.DataFrame:
    """One row per trading day from ``start`` to ``end`` (inclusive): ``date`` (a
    ``datetime.date``), ``outcome`` (allow | deny | error) and ``failed_rules`` (rule ids,
    ``;``-separated, as in ``review`` output) of ``check(event with sale_date=date)``.

    ``start`` defaults to the event's ``sale_date``; ``end`` is required. ``history``: the
    seller's completed sales, as for ``check`` (parsed once; a bad row raises ``InputError``).
    The event is validated once, on ``start``: a bad field raises ``InputError`` naming it, and no
    day is judged. A day the event is not valid on (a date no encoded version of Rule 144
    covers) is an error day. ``progress(text)``, if given, is told each phase as it starts, as
    ``review``'s is."""
    tell = progress or (lambda text: None)
    if agreement is None:
        agreement = load_agreement()
    rulebook = engine_for().rulebook
    require_clauses(agreement, rulebook)
    history = parse_history(history, agreement)
    if start is None:
        start = event.get("sale_date")
    if end is None:
        raise ValueError("end: the last day of the sweep is required")
    days = trading_days(agreement, start, end)
    tell("validating the event")
    validate_event({**event, "sale_date": _as_date(start, "start")}, agreement, rulebook)
    parsed = [_parsed_on(event, day, agreement, rulebook) for day in days]
    valid = np.array([p is not None for p in parsed], dtype=bool)
    outcome = np.full(len(days), "error", dtype=object)
    failed = np.full(len(days), "", dtype=object)
    if valid.any():
        tell(f"judging {int(valid.sum()):,} trading days")
        events = EventColumns.from_events([p for p in parsed if p is not None])
        _, status = judge_apart(events, agreement, rulebook, history)
        outcome[valid], failed[valid] = _outcomes(rulebook, status)
    return pd.DataFrame({"date": days, "outcome": outcome, "failed_rules": failed}, columns=list(SWEEP_COLUMNS))


def _parsed_on(event: Mapping[str, Any], day: date, agreement: Agreement, rulebook) -> SaleEvent | None:
    """The event moved to ``day`` as the input contract reads it (as ``check()`` does), or None
    where it is not valid on that day."""
    try:
        return validate_event({**event, "sale_date": day}, agreement, rulebook)
    except InputError:
        return None


def _outcomes(rulebook, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a status matrix: allow or deny, and the failing rules that block the sale, in
    rulebook order (as ``Decision.failed_rules``)."""
    stopping = vz.failing(status) & vz.blocks(rulebook, SALE)
    patterns, which = np.unique(stopping, axis=0, return_inverse=True)
    ids = [r.id for r in rulebook.rules]
    texts = np.array([joined(i for i, stops in zip(ids, p, strict=True) if stops) for p in patterns], dtype=object)
    return np.where(stopping.any(axis=1), "deny", "allow").astype(object), texts[which.ravel()]


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
