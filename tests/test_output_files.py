"""The decision files: Parquet and JSON keep each output column's type, CSV stays text."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.parquet
import pytest

from compliance.cli import main
from compliance.cli.outputs import write_decisions
from compliance.contract.notice_files import read_notices
from compliance.running.review import review

FIXTURE_NOTICES = Path(__file__).resolve().parent.parent / "fixtures" / "focus_enhancements" / "sale_notices.csv"
FLAGS = ("legend_removal", "dwac_eligible")
DATES = ("earliest_allowed_date", "delivery_date")
COUNT = "delivery_late_business_days"


@pytest.fixture(scope="module")
def decisions():
    result = review(read_notices(FIXTURE_NOTICES))
    # The fixture holds allowed, denied and erroneous rows, delivery dates and late days: every
    # kind of value (and of absence) the typed columns can hold is written below.
    assert {"allow", "deny", "error"} <= set(result["outcome"])
    assert (result["delivery_date"] != "").any() and (result["delivery_date"] == "").any()
    assert (result[COUNT].isin(["", "0"])).any() and (~result[COUNT].isin(["", "0"])).any()
    return result


def expected(frame, column) -> list:
    """The review's text or flag of ``column`` as the typed value it stands for ('' is None)."""
    values = frame[column].tolist()
    if column in DATES:
        return [date.fromisoformat(v) if v else None for v in values]
    if column == COUNT:
        return [int(v) if v else None for v in values]
    if column in FLAGS:
        return [None if v == "" else v for v in values]
    return values


def test_parquet_keeps_flags_boolean_dates_dates_and_absent_values_null(decisions, tmp_path):
    write_decisions(decisions, tmp_path / "out.parquet")
    table = pyarrow.parquet.read_table(tmp_path / "out.parquet")
    assert table.column_names == list(decisions.columns)
    assert table.num_rows == len(decisions)
    for column in FLAGS:
        assert table.schema.field(column).type == pyarrow.bool_()
    for column in DATES:
        assert table.schema.field(column).type == pyarrow.date32()
    assert table.schema.field(COUNT).type == pyarrow.int64()
    for column in decisions.columns:
        assert table.column(column).to_pylist() == expected(decisions, column), column
    errors = (decisions["outcome"] == "error").to_numpy()
    assert table.column("legend_removal").null_count == errors.sum() > 0


def test_json_writes_true_false_iso_dates_and_null(decisions, tmp_path):
    write_decisions(decisions, tmp_path / "out.json")
    rows = json.loads((tmp_path / "out.json").read_text())
    assert len(rows) == len(decisions)
    for column in decisions.columns:
        assert [r[column] for r in rows] == [
            v.isoformat() if isinstance(v, date) else v for v in expected(decisions, column)
        ], column
    assert {type(r["legend_removal"]) for r in rows} == {bool, type(None)}
    assert {type(r[COUNT]) for r in rows} == {int, type(None)}


def test_csv_stays_the_review_text(decisions, tmp_path):
    write_decisions(decisions, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(decisions)
    for column in decisions.columns:
        assert [r[column] for r in rows] == decisions[column].astype(str).tolist(), column


def test_a_plan_keeps_its_dates_and_a_missing_form_144_date_is_null(tmp_path):
    # Papell sells its whole position under the registration statement on Thu 2002-07-25, the
    # first day; no Form 144 is filed for a registered sale, so form_144_filed_on is null.
    out = tmp_path / "plan.parquet"
    args = ["--investor", "Papell Holdings Limited", "--route", "registration_statement", "--from", "2002-07-25"]
    assert main(["plan", *args, "-o", str(out)]) == 0
    table = pyarrow.parquet.read_table(out)
    assert table.schema.field("sale_date").type == pyarrow.date32()
    assert table.schema.field("quantity").type == pyarrow.int64()
    assert table.column("sale_date").to_pylist() == [date(2002, 7, 25)]
    assert table.column("form_144_filed_on").to_pylist() == [None]
    assert main(["plan", *args, "-o", str(tmp_path / "plan.json")]) == 0
    step = json.loads((tmp_path / "plan.json").read_text())[0]
    assert step["sale_date"] == "2002-07-25" and step["form_144_filed_on"] is None


@pytest.mark.parametrize("suffix", [".parquet", ".json"])
def test_a_kept_column_of_mixed_values_is_written_as_text(tmp_path, suffix):
    frame = pd.DataFrame({"notice_id": ["A", "B", "C"], "memo": [1, "two", None]})
    path = tmp_path / f"out{suffix}"
    write_decisions(frame, path)
    back = (
        pyarrow.parquet.read_table(path).column("memo").to_pylist()
        if suffix == ".parquet"
        else [r["memo"] for r in json.loads(path.read_text())]
    )
    assert back == ["1", "two", None]
