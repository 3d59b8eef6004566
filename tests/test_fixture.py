"""The bundled fixture end to end: review fixtures/focus_enhancements/sale_notices.csv and compare
every column of expected_decisions.csv (each value worked out by hand; see its `worked` column)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import compliance
from compliance.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "focus_enhancements"
COMPARED = [
    "outcome",
    "failed_rules",
    "earliest_allowed_date",
    "delivery_date",
    "delivery_late_business_days",
    "legend_removal",
    "dwac_eligible",
    "regime",
    "citations",
]


@pytest.fixture(scope="module")
def reviewed():
    notices = pd.read_csv(FIXTURE / "sale_notices.csv", dtype=str, keep_default_na=False)
    expected = pd.read_csv(FIXTURE / "expected_decisions.csv", dtype=str, keep_default_na=False)
    return notices, expected, compliance.review(notices, compliance.load_agreement())


def test_rows_out_equal_rows_in_in_order(reviewed):
    notices, expected, result = reviewed
    assert len(notices) >= 40
    assert list(result["notice_id"]) == list(notices["notice_id"])
    assert list(expected["notice_id"]) == list(notices["notice_id"])


@pytest.mark.parametrize("column", COMPARED)
def test_every_column_matches_the_hand_worked_expectation(reviewed, column):
    _, expected, result = reviewed
    got = result[column].astype(str).where(result[column].astype(str) != "nan", "")
    mismatches = [
        (nid, exp, g) for nid, exp, g in zip(expected["notice_id"], expected[column], got, strict=True) if exp != g
    ]
    assert not mismatches, f"{column}: (notice, expected, got) {mismatches}"


def test_error_rows_name_field_and_value(reviewed):
    _, expected, result = reviewed
    errors = result[result["outcome"] == "error"]
    assert len(errors) >= 5
    assert (errors["error"].str.len() > 0).all()
    assert not (errors["legend_removal"].astype(str) == "True").any()


def test_command_line_review_of_the_fixture(tmp_path, capsys):
    out = tmp_path / "decisions.csv"
    status = main(["review", str(FIXTURE / "sale_notices.csv"), "-o", str(out)])
    assert status == 1  # the fixture holds denials and errors by design
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = pd.read_csv(FIXTURE / "expected_decisions.csv", dtype=str, keep_default_na=False)
    assert list(written["outcome"]) == list(expected["outcome"])
    assert "Summary:" in capsys.readouterr().out
