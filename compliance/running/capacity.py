"""How much may I sell? The largest whole number of shares ``check()`` would allow for an event on
its sale date, given the seller's history, and the rules that stop one share more.

Allowing is monotone in the quantity: more shares only raise the position used and the
three-month aggregates, which the rules only ever limit. So the answer is found by a search over
quantities, each round judging a spread of quantities at once with the rulebook compiled to numpy
(the review's path); the rules binding at the answer are those ``check()``'s own path
(durable_rules) finds failing one share more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from compliance.contract.event import EventColumns, SaleEvent, validate_event
from compliance.contract.history import SaleHistory, parse_history
from compliance.deal.agreement import Agreement, load_agreement
from compliance.decision.findings import Decision, compose
from compliance.decision.output_columns import SALE
from compliance.facts.derive import derive_facts, row
from compliance.facts.prior_sales import PriorSales, prior_sales
from compliance.rulebook import vectorized as vz
from compliance.rulebook.durable import DurableRulesEngine, engine_for
from compliance.rulebook.loader import RULES_DIR
from compliance.running.check import require_clauses

# Quantities judged at once in each round of the search: a position of a million shares takes
# four rounds.
SPREAD = 64


@dataclass
class Capacity:
    """The most shares allowed (``quantity``, 0 if none) on ``sale_date``, and the sale rules that
    stop one share more: their ids, citations, and a sentence each (``reasons``)."""

    quantity: int
    sale_date: date
    binding_rules: list[str]
    citations: list[str]
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "sale_date": self.sale_date.isoformat(),
            "binding_rules": list(self.binding_rules),
            "citations": list(self.citations),
            "reasons": list(self.reasons),
        }


def prior_of(event: SaleEvent, history: SaleHistory) -> PriorSales:
    """The event's earlier sales: its seller's history dated on or before its sale date."""
    return prior_sales(EventColumns.from_events([event]), history)


def allowed_quantities(
    event: SaleEvent, quantities: np.ndarray, agreement: Agreement, engine: DurableRulesEngine, prior: PriorSales
) -> np.ndarray:
    """Whether each of ``quantities`` of ``event`` would be allowed on its sale date."""
    n = len(quantities)
    columns = EventColumns.from_events([event]).take(np.zeros(n, np.int64))
    columns = dataclasses.replace(columns, quantity=np.asarray(quantities, np.int64))
    rulebook = engine.rulebook
    facts, _ = derive_facts(columns, agreement, rulebook.parameters, prior.take(np.zeros(n, np.int64)))
    stopping = vz.failing(vz.statuses(rulebook, facts, n)) & vz.blocks(rulebook, SALE)
    return ~stopping.any(axis=1)


def largest_allowed(
    event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine, prior: PriorSales, ceiling: int
) -> int:
    """The largest quantity from 1 to ``ceiling`` allowed (0 if none), allowing being monotone."""
    lo, hi = 0, ceiling + 1  # lo allowed (0: by convention), hi denied (past the ceiling)
    while hi - lo > 1:
        points = np.unique(np.linspace(lo + 1, hi - 1, min(SPREAD, hi - lo - 1)).round().astype(np.int64))
        allowed = allowed_quantities(event, points, agreement, engine, prior)
        passing, failing = points[allowed], points[~allowed]
        lo = int(passing.max()) if len(passing) else lo
        hi = int(failing[failing > lo].min()) if (failing > lo).any() else hi
    return lo


def decision_at(
    event: SaleEvent, quantity: int, agreement: Agreement, engine, prior: PriorSales
) -> tuple[Decision, dict[str, Any]]:
    """``check()``'s own judgement (durable_rules) of ``quantity`` shares on the sale date, without
    an earliest-date search, and the facts it judged."""
    columns = EventColumns.from_events([dataclasses.replace(event, quantity=quantity)])
    facts, _ = derive_facts(columns, agreement, engine.rulebook.parameters, prior)
    values = row(facts, 0)
    return compose(engine.rulebook, engine.evaluate(values), values, agreement, event.notice_id), values


def already_counted(binding: list, rulebook, facts: dict[str, Any], quantity: int) -> list[str]:
    """Where a binding rule reads the three-month aggregate: how much of it earlier sales take."""
    reads = {name for r in rulebook.rules if r.id in {f.rule for f in binding} for name in r.condition_facts}
    aggregate = facts.get("volume_aggregate_3m")
    if "volume_aggregate_3m" not in reads or aggregate is None:
        return []
    return [
        f"{aggregate - quantity:,} shares already in the three-month aggregate "
        f"(Rule 144 sales after {facts['volume_window_starts_after']}, and any stated on the notice)"
    ]


def capacity_of(event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine, history: SaleHistory) -> Capacity:
    """The capacity of a validated ``event`` (its quantity ignored) given a parsed ``history``."""
    prior = prior_of(event, history)
    held = agreement.investors[event.investor]
    position = held.shares if event.security == "shares" else held.warrant_shares
    ceiling = max(int(position - prior.sold[0]), 0)
    quantity = largest_allowed(event, agreement, engine, prior, ceiling)
    beyond, facts = decision_at(event, quantity + 1, agreement, engine, prior)
    binding = [f for f in beyond.findings if f.failing and SALE in f.blocks]
    citations = list(dict.fromkeys(c for f in binding for c in f.citations))
    reasons = [f"{f.rule}: {f.message}" for f in binding]
    reasons += already_counted(binding, engine.rulebook, facts, quantity + 1)
    return Capacity(quantity, event.sale_date, [f.rule for f in binding], citations, reasons)


def event_without_quantity(event: Mapping[str, Any], agreement: Agreement, engine: DurableRulesEngine) -> SaleEvent:
    """``event`` validated with its quantity left out (a placeholder of one share), and a
    ``notice_id`` if it has none."""
    raw = {"notice_id": "capacity", **dict(event), "quantity": 1}
    return validate_event(raw, agreement, engine.rulebook)


def capacity(
    event: Mapping[str, Any],
    agreement: Agreement | str | Path | None = None,
    history=None,
    *,
    rules_dir: Path | str = RULES_DIR,
) -> Capacity:
    """How much may be sold: for ``event`` with its quantity left out, the largest whole number of
    shares ``check(event, agreement, history=history)`` would allow on its sale date (0 if
    none), with the rules that stop one share more. Bad input (event or history) raises
    ``InputError``."""
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    engine = engine_for(rules_dir)
    require_clauses(agreement, engine.rulebook)
    sales = parse_history(history, agreement)
    return capacity_of(event_without_quantity(event, agreement, engine), agreement, engine, sales)
