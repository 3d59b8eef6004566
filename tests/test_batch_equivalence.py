"""The vectorized batch review gives the same answers as check() run row by row, in sale_date
order, each row seeing the earlier allowed rows as its history (the batch semantics of issue 3)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

import compliance
from compliance.check import engine_for, error_decision, evaluate_event, validate_event
from compliance.facts import PriorSale
from compliance.model import InputError, is_missing
from compliance.synthetic import synthetic_notices

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "focus_enhancements" / "sale_notices.csv"
COLUMNS = ["notice_id", "outcome", "failed_rules", "citations", "earliest_allowed_date", "delivery_date",
           "delivery_late_business_days", "legend_removal", "dwac_eligible", "regime", "reasons", "error"]


def _records(notices: pd.DataFrame) -> list[dict]:
    return [{k: (None if is_missing(v) else v) for k, v in r.items()} for r in notices.to_dict("records")]


def reference_review(notices: pd.DataFrame, agreement) -> pd.DataFrame:
    """The batch semantics spelled out with check()'s own path, one row at a time."""
    engine = engine_for()
    records = _records(notices)
    ids = pd.Series([str(r["notice_id"]).strip() if r["notice_id"] is not None else None for r in records])
    duplicated = ids.notna() & ids.duplicated(keep=False)
    decisions, valid = {}, []
    for i, record in enumerate(records):
        try:
            if duplicated[i]:
                raise InputError([("notice_id", record["notice_id"], "is not unique in this file")])
            valid.append((i, validate_event(record, agreement, engine.rulebook, allow_extra=True)))
        except InputError as exc:
            decisions[i] = error_decision(record["notice_id"], exc)
    prior = []
    for i, event in sorted(valid, key=lambda item: (item[1].sale_date, item[0])):
        decisions[i] = evaluate_event(event, agreement, engine, tuple(prior))
        if decisions[i].outcome == "allow":
            prior.append(PriorSale(event.investor, event.security, event.route, event.sale_date, event.quantity))
    rows = [decisions[i].to_row() for i in range(len(records))]
    return pd.DataFrame(rows, columns=COLUMNS).astype(str)


def test_fast_review_equals_check_row_by_row_on_the_fixture():
    agreement = compliance.load_agreement()
    notices = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    fast = compliance.review(notices, agreement).astype(str).reset_index(drop=True)
    slow = reference_review(notices, agreement)
    for column in COLUMNS:
        differ = fast[column] != slow[column]
        assert not differ.any(), (column, fast.loc[differ, ["notice_id", column]].to_dict("records"),
                                  slow.loc[differ, column].tolist())


def test_fast_review_equals_check_row_by_row():
    agreement = compliance.load_agreement()
    notices = synthetic_notices(3000, seed=7, bad_fraction=0.005)
    fast = compliance.review(notices, agreement).astype(str).reset_index(drop=True)
    slow = reference_review(notices, agreement)
    # a mix worth comparing: allowed rows, denied rows cured later, never cured, and errors
    assert (fast["outcome"] == "allow").sum() >= 100
    denied = fast[fast["outcome"] == "deny"]
    assert (denied["earliest_allowed_date"] != "").sum() >= 100 and (denied["earliest_allowed_date"] == "").sum() >= 100
    assert (fast["outcome"] == "error").sum() >= 5
    for column in COLUMNS:
        differ = fast[column] != slow[column]
        assert not differ.any(), (column, fast.loc[differ, ["notice_id", column]].head(3).to_dict("records"),
                                  slow.loc[differ, column].head(3).tolist())
