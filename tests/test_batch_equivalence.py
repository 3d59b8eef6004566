"""The vectorized batch review gives the same answers as check() run row by row, in sale_date
order, each row seeing the earlier allowed rows as its history (the batch semantics)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import compliance
from compliance.contract.synthetic import synthetic_notices
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
