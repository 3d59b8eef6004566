"""Runs the YAML scenarios of tests/scenarios/: each expected value was worked out by hand in the
comment beside it. Every scenario goes through ``check()`` and through ``review()`` (its event as a
one-row table): both must give the expected decision, and the same output row. An expected
earliest allowed date is also proven exact: the event is allowed on that day and denied on the
trading day before it (when that day is not before the sale date).

A group marked ``batch: true`` is one review: its events are reviewed together (judged in
``sale_date`` order, each seeing the earlier allowed ones), and each scenario's expectation is its
row of that review, which must also equal ``check()``'s path run row by row in that order.

A scenario file names its agreement (a folder of fixtures/) with ``agreement:``; without it the
default agreement is used. Every rule of the rulebook must fail in at least one scenario and pass in
at least one (``test_every_rule_fails_and_passes_in_some_scenario``)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml

import compliance
from compliance.rulebook.durable import engine_for
from compliance.running.review import reference_review

SCENARIOS = Path(__file__).parent / "scenarios"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# A rule that no scenario can make reach a status, for a reason in the fixtures, and how to see
# that the reason still holds (an entry whose reason no longer holds fails the coverage test).
UNREACHABLE = {
    ("registration.no_stop_order", "fail"): (
        "no fixture records a stop order, so no sale date falls in one",
        lambda agreement: agreement.registration_statement is None or not agreement.registration_statement.stop_orders,
    ),
}


def _files():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        yield path, yaml.safe_load(path.read_text())


@cache
def _agreement(name: str | None):
    return compliance.load_agreement(None if name is None else FIXTURES / name)


def _event(group: dict, scenario: dict) -> dict:
    event = {**group["defaults"], **scenario["event"]}
    event = {k: v.isoformat() if isinstance(v, date) else v for k, v in event.items()}
    event = {k: v for k, v in event.items() if v is not None}
    event["notice_id"] = scenario["name"]
    return event


def _cases():
    for path, doc in _files():
        for group in doc["groups"]:
            if not group.get("batch"):
                for scenario in group["scenarios"]:
                    yield pytest.param(
                        doc.get("agreement"),
                        _event(group, scenario),
                        scenario["expected"],
                        id=f"{path.stem}: {scenario['name']}",
                    )


def _batches():
    for path, doc in _files():
        for group in doc["groups"]:
            if group.get("batch"):
                yield pytest.param(
                    doc.get("agreement"),
                    [_event(group, s) for s in group["scenarios"]],
                    [s["expected"] for s in group["scenarios"]],
                    id=f"{path.stem}: {group['name']}",
                )


CASES = list(_cases())


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def _expect(got: dict, expected: dict, reasons: str) -> None:
    """``got``: a decision as values (dates as date or ISO text, lists as lists)."""
    assert got["outcome"] == expected["outcome"], reasons
    for name in ("failed_rules", "citations"):
        if name in expected:
            assert got[name] == expected[name], (name, reasons)
    for name in (
        "earliest_allowed_date",
        "delivery_date",
        "delivery_late_business_days",
        "legend_removal",
        "dwac_eligible",
        "regime",
    ):
        if name in expected:
            assert _iso(got[name]) == _iso(expected[name]), name


@pytest.mark.parametrize("agreement_name, event, expected", CASES)
def test_scenario(agreement_name, event, expected):
    agreement = _agreement(agreement_name)
    decision = compliance.check(event, agreement)
    _expect({name: getattr(decision, name) for name in (*expected, "outcome")}, expected, decision.reasons)

    earliest = decision.earliest_allowed_date
    if earliest is not None:
        assert compliance.check({**event, "sale_date": earliest.isoformat()}, agreement).outcome == "allow"
        before = agreement.trading_calendar.previous_open(earliest)
        if before >= date.fromisoformat(event["sale_date"]):
            assert compliance.check({**event, "sale_date": before.isoformat()}, agreement).outcome == "deny"


def _as_values(row: dict) -> dict:
    """An output row with its lists as lists and '' as None, as ``_expect`` compares."""
    return {
        **row,
        "failed_rules": [r for r in row["failed_rules"].split(";") if r],
        "citations": [c for c in row["citations"].split(";") if c],
        **{name: row[name] or None for name in ("earliest_allowed_date", "delivery_date", "regime")},
        "delivery_late_business_days": int(row["delivery_late_business_days"])
        if row["delivery_late_business_days"]
        else None,
    }


@pytest.mark.parametrize("agreement_name, event, expected", CASES)
def test_scenario_in_a_review(agreement_name, event, expected):
    agreement = _agreement(agreement_name)
    row = compliance.review(pd.DataFrame([event]), agreement, workers=1).iloc[0].to_dict()
    _expect(_as_values(row), expected, row["reasons"])
    alone = compliance.check(event, agreement).to_row()
    assert {k: str(v) for k, v in row.items()} == {k: str(v) for k, v in alone.items()}


@pytest.mark.parametrize("agreement_name, events, expected", list(_batches()))
def test_batch_scenario(agreement_name, events, expected):
    agreement = _agreement(agreement_name)
    notices = pd.DataFrame(events)
    rows = compliance.review(notices, agreement, workers=1)
    for (_, row), wanted in zip(rows.iterrows(), expected, strict=True):
        _expect(_as_values(row.to_dict()), wanted, row["reasons"])
    assert rows.astype(str).equals(reference_review(notices, agreement).astype(str))


def test_every_rule_fails_and_passes_in_some_scenario():
    rulebook = engine_for().rulebook
    seen = set()
    for agreement_name, event, _ in (case.values for case in CASES):
        decision = compliance.check(event, _agreement(agreement_name))
        seen |= {(f.rule, f.status) for f in decision.findings}
    wanted = {(rule.id, status) for rule in rulebook.rules for status in ("fail", "pass")}
    missing = wanted - seen - set(UNREACHABLE)
    assert not missing, sorted(missing)
    agreements = [_agreement(doc.get("agreement")) for _, doc in _files()]
    for (rule, status), (reason, holds) in UNREACHABLE.items():
        assert (rule, status) not in seen, f"{rule} does reach {status}: drop it from UNREACHABLE"
        assert all(holds(a) for a in agreements), f"{rule} {status}: no longer true that {reason}"
