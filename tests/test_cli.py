"""The `compliance` command: check, review and rules, and its exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sample_events import ALLOWED

from compliance.cli import main

FIXTURE_NOTICES = Path(__file__).resolve().parent.parent / "fixtures" / "focus_enhancements" / "sale_notices.csv"

ALLOWED = {**ALLOWED, "notice_id": "C1"}


def test_check_prints_the_decision_as_json(capsys):
    assert main(["check", json.dumps(ALLOWED)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "allow"
    assert "17 CFR 230.144(d)(1)" in out["citations"].split(";")
    holding = next(f for f in out["findings"] if f["rule"] == "rule144.holding_period")
    # acquired Wed 2002-01-16 -> one year met Fri 2003-01-17
    assert holding["facts"]["holding_period_satisfied_on"] == "2003-01-17"


def test_check_denied_event_exits_1_and_bad_json_exits_2(capsys):
    assert main(["check", json.dumps({**ALLOWED, "sale_date": "2003-01-16"})]) == 1
    assert main(["check", "{not json"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_review_of_an_unreadable_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "notices.txt"
    bad.write_text("hello")
    assert main(["review", str(bad)]) == 2
    missing_column = tmp_path / "notices.csv"
    pd.DataFrame([{k: v for k, v in ALLOWED.items() if k != "route"}]).to_csv(missing_column, index=False)
    assert main(["review", str(missing_column)]) == 2
    err = capsys.readouterr().err
    assert "not a CSV or Parquet" in err and "route" in err


def test_review_all_allowed_exits_0_and_writes_json(tmp_path):
    notices = tmp_path / "notices.csv"
    pd.DataFrame([ALLOWED]).to_csv(notices, index=False)
    out = tmp_path / "decisions.json"
    assert main(["review", str(notices), "-o", str(out)]) == 0
    assert json.loads(out.read_text())[0]["outcome"] == "allow"


def test_rules_lists_every_rule_with_agreement_sections(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "rule144.volume" in out and "17 CFR 230.144(e)(1)" in out
    assert "Section 1(b)(iii)" in out


def test_sweep_shows_the_suspension_window(capsys):
    # Registered sales of Papell Holdings around the suspension Thu 2002-08-01 .. Tue 2002-08-20:
    # allowed Thu 07-25 .. Wed 07-31, denied 08-01 .. 08-20, allowed again from Wed 08-21.
    status = main(
        [
            "sweep",
            "--investor",
            "Papell Holdings Limited",
            "--route",
            "registration_statement",
            "--from",
            "2002-07-25",
            "--to",
            "2002-08-26",
        ]
    )
    assert status == 1  # some days denied
    out = capsys.readouterr().out
    assert "2002-07-25 .. 2002-07-31  allow" in out
    assert "2002-08-01 .. 2002-08-20  deny  (registration.not_suspended)" in out
    assert "2002-08-21 .. 2002-08-26  allow" in out


def test_review_reads_and_writes_parquet_with_the_same_answers_as_csv(tmp_path):
    sample = pd.read_csv(FIXTURE_NOTICES, dtype=str, keep_default_na=False)
    sample.to_parquet(tmp_path / "notices.parquet", index=False)
    assert main(["review", str(FIXTURE_NOTICES), "-o", str(tmp_path / "from_csv.csv")]) == 1
    assert main(["review", str(tmp_path / "notices.parquet"), "-o", str(tmp_path / "from_parquet.parquet")]) == 1
    from_csv = pd.read_csv(tmp_path / "from_csv.csv", dtype=str, keep_default_na=False)
    from_parquet = pd.read_parquet(tmp_path / "from_parquet.parquet")
    assert len(from_parquet) == len(sample) == len(from_csv)
    assert (from_parquet["outcome"] == "error").sum() >= 1 and (from_parquet["outcome"] == "allow").sum() >= 1
    for column in ("notice_id", "outcome", "failed_rules", "reasons"):
        assert from_parquet[column].tolist() == from_csv[column].tolist(), column
    # Parquet keeps the dates as dates, CSV writes them as text ('' for none)
    earliest = [d.isoformat() if d else "" for d in from_parquet["earliest_allowed_date"]]
    assert earliest == from_csv["earliest_allowed_date"].tolist()


def test_review_summary_cites_each_section_once_per_rule(capsys):
    # registration.effective cites two clauses that the reference deal puts in one Section 3(h)
    main(["review", str(FIXTURE_NOTICES)])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("denied by")]
    assert any("registration.effective" in line for line in lines)
    for line in lines:
        cites = line.split("(", 1)[1].rsplit(")", 1)[0].split("; ")
        assert len(cites) == len(set(cites)), line


def test_review_in_one_thread_writes_the_same_file_and_a_bad_worker_count_exits_2(tmp_path, capsys):
    assert main(["review", str(FIXTURE_NOTICES), "-o", str(tmp_path / "default.csv")]) == 1
    assert main(["review", str(FIXTURE_NOTICES), "-o", str(tmp_path / "one.csv"), "--workers", "1"]) == 1
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "default.csv").read_bytes()
    for bad in ("0", "two"):
        try:
            status = main(["review", str(FIXTURE_NOTICES), "--workers", bad])
        except SystemExit as exit_:
            status = exit_.code
        assert status == 2
    assert "--workers: must be a whole number of at least 1, not 'two'" in capsys.readouterr().err


# --- what review prints without -o ------------------------------------------------------------

HARBOR_NOTICES = FIXTURE_NOTICES.parent.parent / "harbor_2012" / "sale_notices.csv"


def decision_lines(out: str) -> list[str]:
    """The rows of the printed decisions table (after its header, before the summary)."""
    table = out.split("\nAgreement: ")[0].splitlines()
    return [line for line in table[1:] if line.strip() and not line.startswith("...")]


def test_review_prints_the_first_50_decisions_unless_told_to_show_all(capsys):
    notices = len(pd.read_csv(FIXTURE_NOTICES, dtype=str))
    assert notices > 50
    main(["review", str(FIXTURE_NOTICES)])
    out = capsys.readouterr().out
    assert len(decision_lines(out)) == 50
    assert f"\n... {notices - 50} more; use -o FILE or --show all\n" in out
    main(["review", str(FIXTURE_NOTICES), "--show", "all"])
    out = capsys.readouterr().out
    assert len(decision_lines(out)) == notices and "more; use -o FILE" not in out
    main(["review", str(FIXTURE_NOTICES), "--show", "3"])
    assert len(decision_lines(capsys.readouterr().out)) == 3


def test_review_summary_names_the_agreement_used(capsys):
    main(["review", str(HARBOR_NOTICES), "--agreement", "harbor_2012"])
    summary = capsys.readouterr().out.split("\nAgreement: ")[1]
    assert summary.startswith("Securities Purchase Agreement of Harbor Light Therapeutics, Inc. (")
    assert summary.splitlines()[0].endswith("harbor_2012)")
    assert "investor schedule" not in summary


def test_review_with_the_wrong_agreement_says_so_once(capsys):
    # The Harbor notices name Alder (9) and Birch (27), investors of harbor_2012, and one Papell
    # notice (HL-34), an investor of the default agreement: 36 of the 37 are strangers to it.
    main(["review", str(HARBOR_NOTICES)])
    out = capsys.readouterr().out
    hints = [line for line in out.splitlines() if "investor schedule" in line]
    assert hints == [
        "  36 of 37 notices name an investor not on the investor schedule of focus_enhancements: if they "
        "belong to another agreement, name it with --agreement (they fit harbor_2012)"
    ]


def test_review_summary_lists_20_rows_in_error_and_counts_the_rest(tmp_path, capsys):
    # 25 rows in error (affiliate 'maybe'); rows 3 and 24 have no notice_id.
    rows = [{**ALLOWED, "notice_id": f"E{i}", "affiliate": "maybe"} for i in range(1, 26)]
    rows[2]["notice_id"] = rows[23]["notice_id"] = ""
    notices = tmp_path / "notices.csv"
    pd.DataFrame(rows).to_csv(notices, index=False)
    assert main(["review", str(notices)]) == 1
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("  error in ")]
    assert len(errors) == 20
    assert errors[2].startswith("  error in row 3: ")  # line 4 of the file
    assert errors[3].startswith("  error in E4, row 4: ")
    assert not any("(no id)" in line for line in errors)
    assert out.rstrip().endswith("\n  ... and 5 more rows in error")
