"""The sweep judges every day of its range at once, each day as ``check()`` judges it alone.

On about sixty trading days around the dates that move each route's decision, the sweep equals a
loop of ``check()`` day by day (outcome and failing rules), and its runs start on the dates worked
out by hand from fixtures/focus_enhancements/agreement.yaml (Closing Wed 2002-01-16; 144(e) limit
380,000 shares; registration statement information as of 2001-12-31, suspended 2002-08-01..20,
post-effective amendment Mon 2003-05-12, registration period ends Fri 2004-01-16; 10-Q due
2003-11-14 filed 2003-11-26). The days are alternatives, so none counts another as an earlier
sale; the seller's history counts for every day. A bad event raises ``InputError`` before any day
is judged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import compliance
from compliance.contract.event import InputError
from compliance.rulebook.parameters import Rule144Parameters
from compliance.running.sweep import sweep, sweep_bands, trading_days

FOCUS = Path(__file__).resolve().parent.parent / "fixtures" / "focus_enhancements"
PAPELL = "Papell Holdings Limited"
D = date.fromisoformat


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement(FOCUS)


def proposed(route: str, **changes) -> dict:
    event = {
        "notice_id": "S1",
        "investor": PAPELL,
        "security": "shares",
        "quantity": 100000,
        "route": route,
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "brokers_transaction",
        "sale_price": 1.05,
    }
    return {**event, **changes}


def day_by_day(event: dict, agreement, start: str, end: str, history=None) -> pd.DataFrame:
    rows = []
    for day in trading_days(agreement, start, end):
        decision = compliance.check({**event, "sale_date": day.isoformat()}, agreement, history=history)
        rows.append({"date": day, "outcome": decision.outcome, "failed_rules": ";".join(decision.failed_rules)})
    return pd.DataFrame(rows, columns=["date", "outcome", "failed_rules"])


# A Rule 144 sale of 300,000 shares on Mon 2003-02-03: in the three-month window of every sale
# date through Fri 2003-05-02, out of it from Mon 2003-05-05 (the window of Sat 05-03 starts after
# 02-03).
HISTORY = [
    {"investor": PAPELL, "security": "shares", "quantity": 300000, "sale_date": "2003-02-03", "route": "rule_144"}
]

CASES = {
    # The prospectus's information (as of 2001-12-31) is more than 16 months old from Thu
    # 2003-05-01 until the post-effective amendment of Mon 2003-05-12 (Sun 04-20 is no trading day).
    "stale-prospectus": (
        proposed("registration_statement"),
        ("2003-04-20", "2003-07-20"),
        None,
        [
            ("2003-04-21", "allow", ""),
            ("2003-05-01", "deny", "registration.prospectus_current"),
            ("2003-05-12", "allow", ""),
        ],
    ),
    "suspension": (
        proposed("registration_statement"),
        ("2002-07-01", "2002-09-30"),
        None,
        [
            ("2002-07-01", "allow", ""),
            ("2002-08-01", "deny", "registration.not_suspended"),
            ("2002-08-21", "allow", ""),
        ],
    ),
    # The registration period ends Fri 2004-01-16; Mon 01-19 is Martin Luther King Day.
    "period-ends": (
        proposed("registration_statement", delivery="dwac"),
        ("2003-12-01", "2004-02-27"),
        None,
        [("2003-12-01", "allow", ""), ("2004-01-20", "deny", "registration.within_period")],
    ),
    # One year from Wed 2002-01-16: the anniversary Thu 2003-01-16 still within, Fri 01-17 met.
    "holding-period": (
        proposed("rule_144", form_144_filed_on="2002-12-02"),
        ("2002-12-02", "2003-02-28"),
        None,
        [("2002-12-02", "deny", "rule144.holding_period"), ("2003-01-17", "allow", "")],
    ),
    # 400,000 > 380,000 until a non-affiliate is free of 144(e) after two years: met Sat
    # 2004-01-17, so Tue 01-20; not current from Mon 2003-11-17 to the 10-Q filing Wed 11-26.
    "volume-and-10Q": (
        proposed("rule_144", quantity=400000, form_144_filed_on="2003-11-03"),
        ("2003-11-03", "2004-01-30"),
        None,
        [
            ("2003-11-03", "deny", "rule144.volume"),
            ("2003-11-17", "deny", "rule144.current_public_information;rule144.volume"),
            ("2003-11-26", "deny", "rule144.volume"),
            ("2004-01-20", "allow", ""),
        ],
    ),
    # 300,000 in the window + 100,000 = 400,000 > 380,000 through Fri 2003-05-02.
    "history": (
        proposed("rule_144", form_144_filed_on="2003-03-03"),
        ("2003-03-03", "2003-05-30"),
        HISTORY,
        [("2003-03-03", "deny", "rule144.volume"), ("2003-05-05", "allow", "")],
    ),
    # The shares are acquired at the Closing, Wed 2002-01-16.
    "acquired": (
        proposed("other_exemption"),
        ("2001-12-03", "2002-02-28"),
        None,
        [("2001-12-03", "deny", "event.acquired"), ("2002-01-16", "allow", "")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sweep_equals_check_day_by_day(agreement, case):
    event, (start, end), history, runs = CASES[case]
    frame = sweep(event, agreement, start, end, history=history)
    expected = day_by_day(event, agreement, start, end, history)
    assert 55 <= len(frame) <= 70
    pd.testing.assert_frame_equal(frame, expected)
    bands = sweep_bands(frame)
    assert [(b.start, b.outcome, b.failed_rules) for b in bands.itertuples()] == [(D(s), o, f) for s, o, f in runs]


def test_no_day_counts_another_as_an_earlier_sale(agreement):
    # 300,000 shares alone are within the 380,000 limit (and the position of 1,128,718); any two
    # days together, 600,000, are not. The Form 144 filed Mon 2003-02-03 covers the range.
    event = proposed("rule_144", quantity=300000, form_144_filed_on="2003-02-03")
    frame = sweep(event, agreement, "2003-02-03", "2003-04-30")
    assert len(frame) == 61
    assert (frame["outcome"] == "allow").all()
    as_sales = pd.DataFrame([{**event, "notice_id": f"S{i}", "sale_date": d} for i, d in enumerate(frame["date"])])
    in_order = compliance.review(as_sales, agreement)
    assert list(in_order["outcome"]) == ["allow"] + ["deny"] * 60
    assert set(in_order["failed_rules"][1:]) == {"rule144.volume"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"investor": "Papel Holdings Limited"}, "investor"),
        ({"quantity": "-5"}, "quantity"),
        ({"route": "rule144"}, "route"),
        ({"sale_date": "1997-04-28"}, "sale_date"),  # before the earliest encoded version of Rule 144
    ],
)
def test_a_bad_event_raises_naming_the_field_before_any_day_is_judged(agreement, change, field):
    told = []
    event = {**proposed("rule_144"), **change}
    with pytest.raises(InputError) as raised:
        sweep(event, agreement, event.get("sale_date", "2003-02-03"), "2003-03-31", progress=told.append)
    assert [f for f, _, _ in raised.value.problems] == [field]
    assert not any(text.startswith("judging") for text in told)


def test_a_day_the_input_contract_refuses_is_an_error_day(agreement, monkeypatch):
    # Were Wed 2003-02-05 a date no version of Rule 144 covered, check() would refuse the event on
    # that day; the sweep gives that day as an error, and judges the others.
    refused = D("2003-02-05")
    covered = Rule144Parameters.uncovered
    monkeypatch.setattr(
        Rule144Parameters, "uncovered", lambda self, day: "not covered" if day == refused else covered(self, day)
    )
    event = proposed("rule_144", form_144_filed_on="2003-02-03")
    frame = sweep(event, agreement, "2003-02-03", "2003-02-07")
    pd.testing.assert_frame_equal(frame, day_by_day(event, agreement, "2003-02-03", "2003-02-07"))
    assert list(frame["outcome"]) == ["allow", "allow", "error", "allow", "allow"]
    assert frame["failed_rules"][2] == ""


def test_progress_is_told_each_phase(agreement):
    told = []
    frame = sweep(proposed("registration_statement"), agreement, "2002-07-01", "2002-09-30", progress=told.append)
    assert told == ["validating the event", f"judging {len(frame)} trading days"]
