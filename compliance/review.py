"""Batch review of sale notices: one output row per input row, in input order.

Rows are judged in ``sale_date`` order (ties: file order). An allowed row counts toward later rows:
its quantity leaves the investor's position, and an allowed Rule 144 sale joins the seller's
three-month aggregate for the volume limit and Form 144. Denied and error rows count toward
nothing, so the result does not depend on the order of the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .agreement import Agreement, load_agreement
from .check import engine_for, error_decision, evaluate_event, require_clauses, validate_event
from .decision import OUTPUT_COLUMNS, Decision
from .facts import PriorSale
from .model import REQUIRED, InputError, SaleEvent, is_missing
from .rulebook import RULES_DIR


class ReviewError(ValueError):
    """A notice table that cannot be reviewed at all (e.g. a required column is missing)."""


def _records(notices: pd.DataFrame) -> list[dict[str, Any]]:
    records = notices.to_dict(orient="records")
    return [{k: (None if is_missing(v) else v) for k, v in r.items()} for r in records]


def review_decisions(notices: pd.DataFrame, agreement: Agreement,
                     rules_dir: Path | str = RULES_DIR) -> list[Decision]:
    """The decisions of every notice, in input order."""
    missing = [c for c in REQUIRED if c not in notices.columns]
    if missing:
        raise ReviewError(f"missing required column(s): {', '.join(missing)} "
                          f"(required: {', '.join(REQUIRED)})")
    engine = engine_for(rules_dir)
    require_clauses(agreement, engine.rulebook)
    records = _records(notices)
    ids = pd.Series([r.get("notice_id") for r in records], dtype=object)
    duplicated = ids.notna() & ids.astype(str).duplicated(keep=False)

    decisions: list[Decision | None] = [None] * len(records)
    valid: list[tuple[int, SaleEvent]] = []
    for i, record in enumerate(records):
        try:
            if duplicated.iloc[i]:
                raise InputError([("notice_id", record["notice_id"], "is not unique in this file")])
            valid.append((i, validate_event(record, agreement, engine.rulebook, allow_extra=True)))
        except InputError as exc:
            decisions[i] = error_decision(record.get("notice_id"), exc)

    prior: list[PriorSale] = []
    for i, event in sorted(valid, key=lambda item: (item[1].sale_date, item[0])):
        decision = evaluate_event(event, agreement, engine, tuple(prior))
        decisions[i] = decision
        if decision.outcome == "allow":
            prior.append(PriorSale(event.investor, event.security, event.route,
                                   event.sale_date, event.quantity))
    return decisions  # type: ignore[return-value]


def review(notices: pd.DataFrame, agreement: Agreement | str | Path | None = None, *,
           rules_dir: Path | str = RULES_DIR) -> pd.DataFrame:
    """Review a DataFrame of sale notices; returns the output columns, index preserved."""
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    decisions = review_decisions(notices, agreement, rules_dir)
    return pd.DataFrame([d.to_row() for d in decisions], columns=list(OUTPUT_COLUMNS),
                        index=notices.index)
