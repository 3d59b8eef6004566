"""The vectorized batch review gives the same answers as check() run row by row, in sale_date
order, each row seeing the earlier allowed rows as its history (the batch semantics)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import compliance
from compliance.contract.synthetic import synthetic_notices
from compliance.running import earlier_sales
from compliance.running.review import reference_review

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "focus_enhancements" / "sale_notices.csv"
COLUMNS = [
    "notice_id",
    "outcome",
    "failed_rules",
    "citations",
    "earliest_allowed_date",
    "delivery_date",
    "delivery_late_business_days",
    "legend_removal",
    "dwac_eligible",
    "regime",
    "reasons",
    "error",
]


def test_fast_review_equals_check_row_by_row_on_the_fixture():
    agreement = compliance.load_agreement()
    notices = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    fast = compliance.review(notices, agreement).astype(str).reset_index(drop=True)
    slow = reference_review(notices, agreement).astype(str).reset_index(drop=True)
    for column in COLUMNS:
        differ = fast[column] != slow[column]
        assert not differ.any(), (
            column,
            fast.loc[differ, ["notice_id", column]].to_dict("records"),
            slow.loc[differ, column].tolist(),
        )


@pytest.mark.slow  # 3,000 check() calls with their date searches: about a minute
def test_fast_review_equals_check_row_by_row():
    agreement = compliance.load_agreement()
    notices = synthetic_notices(3000, seed=7, bad_fraction=0.005)
    fast = compliance.review(notices, agreement).astype(str).reset_index(drop=True)
    slow = reference_review(notices, agreement).astype(str).reset_index(drop=True)
    # a mix worth comparing: allowed rows, denied rows cured later, never cured, and errors
    assert (fast["outcome"] == "allow").sum() >= 100
    denied = fast[fast["outcome"] == "deny"]
    assert (denied["earliest_allowed_date"] != "").sum() >= 100 and (denied["earliest_allowed_date"] == "").sum() >= 100
    assert (fast["outcome"] == "error").sum() >= 5
    for column in COLUMNS:
        differ = fast[column] != slow[column]
        assert not differ.any(), (
            column,
            fast.loc[differ, ["notice_id", column]].head(3).to_dict("records"),
            slow.loc[differ, column].head(3).tolist(),
        )


def test_fast_review_equals_check_row_by_row_when_earlier_sales_crowd_out_later_ones():
    # Quantities eight times the usual: positions run out and the three-month aggregates bind, so
    # the ordered decision and the date search's jumps over window exits are both exercised.
    agreement = compliance.load_agreement()
    notices = synthetic_notices(1500, seed=21, bad_fraction=0)
    notices["quantity"] = (pd.to_numeric(notices["quantity"]) * 8).astype(str)
    fast = compliance.review(notices, agreement).astype(str).reset_index(drop=True)
    slow = reference_review(notices, agreement).astype(str).reset_index(drop=True)
    aggregate_rules = fast["failed_rules"].str.contains("event.position|rule144.volume|rule144.form_144")
    assert (aggregate_rules & (fast["earliest_allowed_date"] != "")).sum() >= 20
    assert (aggregate_rules & (fast["earliest_allowed_date"] == "")).sum() >= 20
    for column in COLUMNS:
        differ = fast[column] != slow[column]
        assert not differ.any(), (
            column,
            fast.loc[differ, ["notice_id", column]].head(3).to_dict("records"),
            slow.loc[differ, column].head(3).tolist(),
        )


def test_review_with_a_history_equals_check_row_by_row_on_the_fixture():
    agreement = compliance.load_agreement()
    notices = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    # Sales of every investor spread over the fixture's dates, some without a price.
    history = []
    for k, investor in enumerate(agreement.investors):
        for j, day in enumerate(("2002-06-03", "2003-01-21", "2003-02-10", "2003-04-07", "2003-09-02")):
            route = ("rule_144", "registration_statement", "other_exemption")[(j + k) % 3]
            price = None if (j + k) % 4 == 0 else 1.0 + j / 10
            history.append(
                {
                    "investor": investor,
                    "security": "shares",
                    "quantity": 20_000 * (k + 1),
                    "sale_date": day,
                    "route": route,
                    **({} if price is None else {"sale_price": price}),
                }
            )
    fast = compliance.review(notices, agreement, history=history).astype(str)
    slow = reference_review(notices, agreement, history=history).astype(str)
    plain = compliance.review(notices, agreement).astype(str)
    assert (fast["outcome"] != plain["outcome"]).any()  # the history changes some decisions
    pd.testing.assert_frame_equal(fast, slow)
    assert (fast["outcome"] == "allow").any() and (fast["earliest_allowed_date"] != "").any()
    for row in range(0, len(notices), 7):  # a lone row of the review is check() with the history
        one = notices.iloc[[row]]
        decision = compliance.check(one.iloc[0].to_dict(), agreement, history=history)
        assert compliance.review(one, agreement, history=history).iloc[0]["outcome"] == decision.outcome


def test_fast_review_with_a_history_equals_check_row_by_row_when_sales_crowd():
    # Half the synthetic notices, taken as completed sales (a history), weigh on the other half:
    # positions and three-month aggregates bind, and history sales leave the window.
    agreement = compliance.load_agreement()
    notices = synthetic_notices(800, seed=5, bad_fraction=0)
    notices["quantity"] = (pd.to_numeric(notices["quantity"]) * 4).astype(str)
    history = notices.iloc[::2][["investor", "security", "quantity", "sale_date", "route", "sale_price"]]
    proposed = notices.iloc[1::2]
    fast = compliance.review(proposed, agreement, history=history).astype(str).reset_index(drop=True)
    slow = reference_review(proposed, agreement, history=history).astype(str).reset_index(drop=True)
    plain = compliance.review(proposed, agreement).astype(str).reset_index(drop=True)
    assert (fast["outcome"] != plain["outcome"]).sum() >= 10
    for column in COLUMNS:
        differ = fast[column] != slow[column]
        assert not differ.any(), (
            column,
            fast.loc[differ, ["notice_id", column]].head(3).to_dict("records"),
            slow.loc[differ, column].head(3).tolist(),
        )


def test_the_ordered_scan_counts_the_history_as_the_bounds_do(monkeypatch):
    # Rules taken as unboundable: every candidate row goes through the row-by-row scan, which
    # must add each history sale as the review reaches its date.
    agreement = compliance.load_agreement()
    notices = synthetic_notices(400, seed=5, bad_fraction=0)
    notices["quantity"] = (pd.to_numeric(notices["quantity"]) * 4).astype(str)
    history = notices.iloc[::2][["investor", "security", "quantity", "sale_date", "route", "sale_price"]]
    proposed = notices.iloc[1::2]
    bounded = compliance.review(proposed, agreement, history=history).astype(str)
    counting_rules = earlier_sales.counting_rules
    monkeypatch.setattr(earlier_sales, "counting_rules", lambda rulebook: (*counting_rules(rulebook)[:2], False))
    scanned = compliance.review(proposed, agreement, history=history).astype(str)
    assert (bounded["outcome"] == "allow").sum() >= 20
    pd.testing.assert_frame_equal(bounded, scanned)
