"""The second bundled deal end to end (SYNTHETIC: fixtures/harbor_2012/): review its
sale_notices.csv and compare every column of expected_decisions.csv, row by row (each value worked
out by hand; see the `worked` column). The twin of tests/test_fixture.py, per row so that the rows
waiting for a facts change can be marked one by one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import compliance
from compliance.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "harbor_2012"
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


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURE / name, dtype=str, keep_default_na=False)


NOTICE_IDS = list(_read("sale_notices.csv")["notice_id"])


@pytest.fixture(scope="module")
def reviewed():
    notices, expected = _read("sale_notices.csv"), _read("expected_decisions.csv")
    result = compliance.review(notices, compliance.load_agreement(FIXTURE))
    return notices, expected.set_index("notice_id", drop=False), result.set_index("notice_id", drop=False)


def test_rows_out_equal_rows_in_in_order(reviewed):
    notices, expected, result = reviewed
    assert len(notices) >= 20
    assert list(result["notice_id"]) == list(notices["notice_id"])
    assert list(expected["notice_id"]) == list(notices["notice_id"])
    assert (expected["worked"].str.len() > 20).all(), "every expectation is worked out in `worked`"


@pytest.mark.parametrize("notice_id", NOTICE_IDS)
def test_every_column_matches_the_hand_worked_expectation(reviewed, notice_id):
    _, expected, result = reviewed
    got = {c: ("" if str(result.loc[notice_id, c]) == "nan" else str(result.loc[notice_id, c])) for c in COMPARED}
    want = {c: expected.loc[notice_id, c] for c in COMPARED}
    assert got == want, f"{notice_id}: {result.loc[notice_id, 'reasons']}"


def test_the_fixture_covers_what_the_issue_asks(reviewed):
    notices, expected, _ = reviewed
    rows = notices.set_index("notice_id").join(expected.drop(columns="notice_id"))
    regimes = set(rows.loc[rows["outcome"] != "error", "regime"])
    assert regimes == {"2008-02-15"}
    # Hurricane Sandy in the two-Trading-Day term; DWAC before and after the FAST date
    assert {"2012-10-31", "2012-11-01", "2012-11-02"} <= set(rows["delivery_date"])
    dwac = rows[rows["delivery"] == "dwac"]
    assert set(dwac.loc[dwac["sale_date"] < "2013-01-02", "failed_rules"]) == {"dtc.dwac_request"}
    assert set(dwac.loc[dwac["sale_date"] >= "2013-01-02", "dwac_eligible"]) == {"True"}
    # both the non-affiliate and the affiliate Rule 144 paths
    r144 = rows[rows["route"] == "rule_144"]
    assert set(r144["affiliate"]) == {"true", "false"}
    assert "riskless_principal" in set(r144.loc[r144["outcome"] == "allow", "manner_of_sale"])
    for rule in (
        "rule144.holding_period",
        "rule144.current_public_information",
        "rule144.volume",
        "rule144.manner_of_sale",
        "rule144.form_144",
    ):
        assert rows["failed_rules"].str.contains(rule, regex=False).any(), rule


def test_command_line_review_of_the_second_deal(tmp_path, capsys):
    out = tmp_path / "decisions.csv"
    status = main(["review", str(FIXTURE / "sale_notices.csv"), "--agreement", str(FIXTURE), "-o", str(out)])
    assert status == 1  # denials and errors by design
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = _read("expected_decisions.csv")
    assert list(written["outcome"]) == list(expected["outcome"])
    assert "Section 4.1(c)" in " ".join(written["citations"])
    assert "Summary:" in capsys.readouterr().out
