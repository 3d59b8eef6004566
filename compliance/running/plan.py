"""When can I be out? The fastest sell-down of an investor's whole position in one security: on
each trading day from the start, the capacity (``capacity``) given the seller's history and the
plan's own earlier steps.

The plan does not walk every day. After a day on which nothing (more) can be sold, it jumps to
the earliest day on which one share would be allowed (the earliest-allowed-date search of
``check()``, exact by construction), so a plan of years takes a step per day on which something
can be sold and a search per pause.

On the Rule 144 route a step assumes, where it sells more with one, a Form 144 filed on its own
sale date (144(h)), and says so (``form_144_filed_on``); a notice the event itself names is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compliance.contract.event import InputError, SaleEvent, _Parser
from compliance.contract.history import SaleHistory, parse_history
from compliance.deal.agreement import Agreement, load_agreement
from compliance.decision.earliest import SEARCH_LIMIT
from compliance.decision.output_columns import REASON_SEPARATOR
from compliance.rulebook.durable import DurableRulesEngine, engine_for
from compliance.rulebook.loader import RULES_DIR
from compliance.running.capacity import Capacity, capacity_of, event_without_quantity, prior_of
from compliance.running.check import evaluate_event, require_clauses

PLAN_COLUMNS = (
    "sale_date",
    "quantity",
    "cumulative",
    "remaining",
    "binding_rules",
    "citations",
    "form_144_filed_on",
    "reasons",
)


def _with_step(history: SaleHistory, event: SaleEvent, quantity: int) -> SaleHistory:
    """``history`` and a sale of ``quantity`` shares of ``event`` on its sale date, at its price."""
    step = SaleHistory(
        np.array([event.investor], dtype=object),
        np.array([event.security], dtype=object),
        np.array([quantity], np.int64),
        np.array([event.sale_date], "M8[D]"),
        np.array([event.route], dtype=object),
        np.array([np.nan if event.sale_price is None else event.sale_price]),
        np.array([None], dtype=object),
    )
    merged = SaleHistory(
        **{name: np.concatenate([getattr(history, name), getattr(step, name)]) for name in step.__dataclass_fields__}
    )
    return merged.take(np.argsort(merged.sale_date, kind="stable"))


def _versions(event: SaleEvent, day: date) -> list[SaleEvent]:
    """The event on ``day``: as given, and (Rule 144 route, no notice named) with a Form 144
    filed that day."""
    moved = event.on(day)
    if event.route != "rule_144" or event.form_144_filed_on is not None:
        return [moved]
    return [moved, dataclasses.replace(moved, form_144_filed_on=day)]


def _best(versions: list[SaleEvent], agreement, engine, history) -> tuple[SaleEvent, Capacity]:
    """The version selling the most (the first of equals: no Form 144 assumed when none helps)."""
    best = None
    for version in versions:
        found = capacity_of(version, agreement, engine, history)
        if best is None or found.quantity > best[1].quantity:
            best = (version, found)
    return best


def _next_day(versions: list[SaleEvent], agreement, engine: DurableRulesEngine, history) -> date | None:
    """The earliest day after the versions' sale date on which one share of one of them would be
    allowed (None: time alone never allows it)."""
    days = []
    for version in versions:
        one = dataclasses.replace(version, quantity=1)
        found = evaluate_event(one, agreement, engine, prior_of(one, history)).earliest_allowed_date
        if found is not None:
            days.append(found)
    return min(days) if days else None


def plan_of(
    event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine, history: SaleHistory, start: date, end: date
) -> pd.DataFrame:
    """The plan of a validated ``event`` (its quantity ignored) from ``start`` to ``end``."""
    held = agreement.investors[event.investor]
    position = held.shares if event.security == "shares" else held.warrant_shares
    calendar = agreement.trading_calendar
    roll = lambda d: calendar.roll_forward_array(np.array([d], "M8[D]"))[0].astype(date)  # noqa: E731
    first = day = roll(start)
    steps, blocked, cumulative = [], None, 0
    remaining = position - int(prior_of(event.on(day), history).sold[0])
    while remaining > 0 and day <= end:
        versions = _versions(event, day)
        version, found = _best(versions, agreement, engine, history)
        if found.quantity > 0:
            cumulative += found.quantity
            remaining -= found.quantity
            assumed = version.form_144_filed_on if version.form_144_filed_on != event.form_144_filed_on else None
            notes = [f"assumes a Form 144 filed on {day.isoformat()} (144(h))"] if assumed else []
            steps.append(
                (
                    day,
                    found.quantity,
                    cumulative,
                    remaining,
                    found.binding_rules,
                    found.citations,
                    assumed,
                    REASON_SEPARATOR.join(notes + found.reasons),
                )
            )
            history = _with_step(history, version, found.quantity)
            day = roll(np.datetime64(day, "D") + np.timedelta64(1, "D"))
            continue
        following = _next_day(versions, agreement, engine, history)
        if following is None:
            blocked = {"from": day, "remaining": remaining, **found.to_dict()}
            break
        # The search finds a later day whenever one share is denied today (always moving on).
        day = max(following, roll(np.datetime64(day, "D") + np.timedelta64(1, "D")))
    frame = pd.DataFrame(steps, columns=list(PLAN_COLUMNS))
    frame.attrs["position"] = position
    frame.attrs["remaining"] = remaining
    frame.attrs["out_on"] = (steps[-1][0] if steps else first) if remaining <= 0 else None
    frame.attrs["blocked"] = blocked
    return frame


def plan(
    event: Mapping[str, Any],
    agreement: Agreement | str | Path | None = None,
    history=None,
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    rules_dir: Path | str = RULES_DIR,
) -> pd.DataFrame:
    """The fastest sell-down of the event's investor's whole position in its security from
    ``start`` (default: the event's sale date) to ``end`` (default: the last date searched):
    one row per trading day with a sale (``PLAN_COLUMNS``). ``attrs``: ``position``,
    ``remaining`` (unsold at the end), ``out_on`` (the day the position is gone: its last sale, or
    the start when nothing is left to sell; None while some remains), and
    ``blocked`` (None, or where the rest cannot be sold at all: ``from``, ``remaining``, the
    binding rules, citations and reasons). Bad input raises ``InputError``."""
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    engine = engine_for(rules_dir)
    require_clauses(agreement, engine.rulebook)
    sales = parse_history(history, agreement)
    raw = dict(event)
    if start is not None:
        raw["sale_date"] = start
    parsed = event_without_quantity(raw, agreement, engine)
    parser = _Parser({"end": end}, agreement.company_timezone)
    last = parser.day("end", False)
    if parser.problems:
        raise InputError(parser.problems)
    limit = SEARCH_LIMIT.astype(date)
    return plan_of(parsed, agreement, engine, sales, parsed.sale_date, min(last or limit, limit))
