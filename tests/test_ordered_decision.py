"""The ordered decision of a batch review (which rows earlier allowed sales crowd out), decided by
tightening bounds, against the plain scan in review order; and the check on rule conditions that
licenses the bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import compliance
from compliance.contract.synthetic import synthetic_notices
from compliance.contract.table import parse_table
from compliance.facts.derive import derive_facts
from compliance.rulebook import vectorized as vz
from compliance.rulebook.durable import engine_for
from compliance.running.earlier_sales import (
    ReviewOrder,
    counting_rules,
    decide_in_order,
    reads_earlier_sales,
    scan_in_order,
    trend,
)


def _crowded_review(n: int, seed: int):
    """Notices asking for several times the investors' positions, so earlier allowed sales deny
    later ones by position, volume and Form 144 aggregates."""
    agreement = compliance.load_agreement()
    rulebook = engine_for().rulebook
    notices = synthetic_notices(n, seed=seed, bad_fraction=0)
    notices["quantity"] = (pd.to_numeric(notices["quantity"]) * 8).astype(str)
    ((positions, events),) = parse_table(notices, agreement, rulebook)[0]
    facts, _ = derive_facts(events, agreement, rulebook.parameters)
    stops = vz.failing(vz.statuses(rulebook, facts, len(events))) & vz.blocks(rulebook, "sale")
    candidates = ~(stops & ~reads_earlier_sales(rulebook)).any(axis=1)
    order = np.lexsort((positions, events.sale_date))
    return rulebook, ReviewOrder(events, facts, order), candidates


@pytest.mark.parametrize("seed", [3, 11])
def test_bounds_decide_the_same_rows_as_the_scan_in_order(seed):
    rulebook, review_order, candidates = _crowded_review(4000, seed)
    _, rules, _ = counting_rules(rulebook)
    scanned = scan_in_order(
        review_order.events, review_order.facts, candidates, np.zeros(len(candidates), bool), review_order.order, rules
    )
    bounded = decide_in_order(review_order, candidates, rulebook)
    assert np.array_equal(bounded, scanned)
    crowded_out = candidates & ~scanned
    passes_alone = review_order.passing(rules, np.flatnonzero(crowded_out), np.zeros(len(candidates), bool))
    # the case worth testing: rows that would pass alone but are denied because of earlier sales
    assert passes_alone.sum() >= 50


def _cmp(name, op, operand, fact=False):
    return ("cmp", name, op, ("fact" if fact else "const", operand))


@pytest.mark.parametrize(
    "condition, expected",
    [
        (_cmp("quantity", "gt", "position_available", fact=True), +1),  # available shrinks: more true
        (_cmp("position_available", "lt", "quantity", fact=True), +1),
        (_cmp("volume_aggregate_3m", "gt", "volume_limit", fact=True), +1),
        (_cmp("amount_aggregate_3m_dollars", "le", 50000), -1),
        (_cmp("volume_aggregate_3m", "eq", 5000), None),
        (_cmp("volume_aggregate_3m", "gt", "position_available", fact=True), None),
        (_cmp("route", "eq", "rule_144"), 0),
        (("all", [_cmp("route", "eq", "rule_144"), _cmp("volume_aggregate_3m", "gt", 5000)]), +1),
        (("any", [_cmp("volume_aggregate_3m", "gt", 5000), _cmp("amount_aggregate_3m_dollars", "lt", 1)]), None),
        (("true",), 0),
    ],
)
def test_trend_of_a_condition_as_earlier_sales_are_added(condition, expected):
    assert trend(condition) == expected


def test_every_aggregate_rule_of_the_rulebook_can_be_bounded():
    # else every review falls back to the scan, row by row
    _, rules, boundable = counting_rules(engine_for().rulebook)
    assert len(rules) >= 3 and boundable, [r.id for r in rules]
