"""Runs the YAML scenarios of tests/scenarios/: each expected value was worked out by hand in the
comment beside it. An expected earliest allowed date is also proven exact: the event is allowed on
that day and denied on the trading day before it (when that day is not before the sale date)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

import compliance

SCENARIOS = Path(__file__).parent / "scenarios"


def _cases():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for scenario in group["scenarios"]:
                event = {**group["defaults"], **scenario["event"]}
                event = {k: v.isoformat() if isinstance(v, date) else v for k, v in event.items()}
                event = {k: v for k, v in event.items() if v is not None}
                event["notice_id"] = scenario["name"]
                yield pytest.param(event, scenario["expected"], id=f"{path.stem}: {scenario['name']}")


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement()


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


@pytest.mark.parametrize("event, expected", list(_cases()))
def test_scenario(event, expected, agreement):
    decision = compliance.check(event, agreement)
    assert decision.outcome == expected["outcome"], decision.reasons
    if "failed_rules" in expected:
        assert decision.failed_rules == expected["failed_rules"], decision.reasons
    if "citations" in expected:
        assert decision.citations == expected["citations"]
    for name in ("earliest_allowed_date", "delivery_date"):
        if name in expected:
            assert _iso(getattr(decision, name)) == _iso(expected[name]), name
    for name in ("delivery_late_business_days", "legend_removal", "dwac_eligible", "regime"):
        if name in expected:
            assert _iso(getattr(decision, name)) == _iso(expected[name]), name

    earliest = decision.earliest_allowed_date
    if earliest is not None:
        assert compliance.check({**event, "sale_date": earliest.isoformat()}, agreement).outcome == "allow"
        before = agreement.trading_calendar.previous_open(earliest)
        if before >= date.fromisoformat(event["sale_date"]):
            assert compliance.check({**event, "sale_date": before.isoformat()}, agreement).outcome == "deny"
