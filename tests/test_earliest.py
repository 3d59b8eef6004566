"""The earliest allowed date is exact: on seeded random events it equals the first allowed trading
day found by brute force, judging every trading day from the sale date on."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

import compliance
from compliance.contract.event import validate_event
from compliance.rulebook.durable import engine_for
from compliance.running.check import decision_on, evaluate_event

HORIZON = timedelta(days=800)
INVESTORS = [
    "Stone Street Limited Partnership",
    "Folkinburg Investments",
    "Boat Basin Investments LLC",
    "Papell Holdings Limited",
]


def random_event(rng: random.Random, i: int) -> dict:
    sale = date(2002, 1, 2) + timedelta(days=rng.randrange(0, 6 * 365))
    event = {
        "notice_id": f"R{i}",
        "investor": rng.choice(INVESTORS),
        "security": rng.choice(["shares", "shares", "warrant_shares"]),
        "quantity": rng.choice([400, 4000, 60000, 200000, 390000]),
        "sale_date": sale.isoformat(),
        "route": rng.choice(["registration_statement", "rule_144", "rule_144", "other_exemption"]),
        "affiliate": rng.random() < 0.3,
        "opinion_of_counsel": rng.random() < 0.9,
        "company_advised": rng.random() < 0.9,
        "manner_of_sale": rng.choice(["brokers_transaction", "market_maker", "riskless_principal", "other"]),
        "sale_price": rng.choice([0.5, 1.0, 3.0]),
        "delivery": rng.choice(["certificate", "dwac"]),
    }
    if rng.random() < 0.7:
        event["form_144_filed_on"] = (sale + timedelta(days=rng.randrange(-20, 20))).isoformat()
    if event["security"] == "warrant_shares":
        exercised = date(2002, 1, 16) + timedelta(days=rng.randrange(-30, 4 * 365 + 30))
        event["warrant_exercised_on"] = exercised.isoformat()
        event["warrant_exercise"] = rng.choice(["cash", "cashless"])
    return event


def brute_force_earliest(event, agreement, engine):
    calendar = agreement.trading_calendar
    day = calendar.roll_forward(event.sale_date)
    while day <= event.sale_date + HORIZON:
        if decision_on(event, agreement, engine, day).outcome == "allow":
            return day
        day = calendar.next_open(day)
    return None


@pytest.mark.slow  # about 17,000 durable_rules evaluations: a minute or two
def test_earliest_allowed_date_matches_brute_force():
    agreement = compliance.load_agreement()
    engine = engine_for()
    rng = random.Random(2002)
    later = 0
    for i in range(32):
        event = validate_event(random_event(rng, i), agreement, engine.rulebook)
        searched = evaluate_event(event, agreement, engine).earliest_allowed_date
        brute = brute_force_earliest(event, agreement, engine)
        if searched is not None and searched > event.sale_date + HORIZON:
            assert brute is None, event
        else:
            assert searched == brute, event
        later += searched is not None and searched > event.sale_date
    # the sample must exercise the search, not only "allowed now" and "never"
    assert later >= 6
