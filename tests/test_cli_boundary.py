"""The command line's boundary: outputs safe to open, paths checked before a review, unreadable
files refused with the line, exit statuses without tracebacks, signals, agreement directories."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sample_events import ALLOWED, as_text

import compliance
from compliance.cli import main
from compliance.cli.outputs import write_decisions
from compliance.contract.notice_files import MAX_COLUMNS
from compliance.contract.synthetic import synthetic_notices
from compliance.deal.schema import validate_directory

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
FIXTURE_NOTICES = FIXTURES / "focus_enhancements" / "sale_notices.csv"

# Allowed: a Rule 144 sale by a non-affiliate on Mon 2003-02-03, the shares held over a year.
ALLOWED = as_text({**ALLOWED, "notice_id": "C1"})
FORMULAS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)"]


def notices_file(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame([{**ALLOWED, **row} for row in rows]).to_csv(path, index=False)
    return path


def status_of(argv: list[str]) -> int:
    """``main(argv)``'s exit status, argparse's own exits included."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


# --- outputs safe to open ------------------------------------------------------------------


def test_csv_output_guards_formula_cells_and_json_keeps_them(tmp_path):
    # 1,000 shares each: four sales the same day stay far inside the volume limit
    rows = [{"notice_id": text, "quantity": "1000"} for text in FORMULAS] + [
        {"notice_id": "C9", "investor": FORMULAS[1]}
    ]
    notices = notices_file(tmp_path / "notices.csv", rows)
    assert main(["review", str(notices), "-o", str(tmp_path / "out.csv")]) == 1  # the last row is in error
    with open(tmp_path / "out.csv", newline="") as file:
        written = list(csv.DictReader(file))
    assert [r["notice_id"] for r in written] == ["'" + text for text in FORMULAS] + ["C9"]
    assert [r["outcome"] for r in written] == ["allow"] * 4 + ["error"]
    assert written[4]["error"].startswith("row 5: investor=")  # the investor is quoted inside the message
    assert main(["review", str(notices), "-o", str(tmp_path / "out.json")]) == 1
    assert [r["notice_id"] for r in json.loads((tmp_path / "out.json").read_text())][:4] == FORMULAS


def test_csv_guard_covers_every_text_column_and_parquet_keeps_values(tmp_path):
    frame = pd.DataFrame(
        {"notice_id": ["A", "B", "C", "D", "E", "F", "G"], "investor": FORMULAS + ["-2+3", "\t=1", "\r=1"]}
    )
    write_decisions(frame, tmp_path / "out.csv")
    back = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert back["investor"].tolist() == ["'" + text for text in frame["investor"]]
    assert back["notice_id"].tolist() == frame["notice_id"].tolist()
    write_decisions(frame, tmp_path / "out.parquet")
    assert pd.read_parquet(tmp_path / "out.parquet")["investor"].tolist() == frame["investor"].tolist()


def test_control_characters_are_escaped_on_the_terminal(tmp_path, capsys):
    notices = notices_file(
        tmp_path / "notices.csv", [{"notice_id": "A\x1b[2J"}, {"notice_id": "B", "investor": "Evil\x1b[2J\x9b"}]
    )
    assert main(["review", str(notices)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out
    assert "A\\x1b[2J" in out  # the decision table
    assert "row 2: investor='Evil\\x1b[2J\\x9b'" in out  # the summary's error line


# --- paths checked before the review -----------------------------------------------------


def test_output_naming_the_input_or_the_log_is_refused(tmp_path, capsys):
    notices = notices_file(tmp_path / "notices.csv", [{}])
    before = notices.read_bytes()
    assert main(["review", str(notices), "-o", str(notices)]) == 2
    assert main(["review", str(notices), "-o", str(tmp_path / "." / "notices.csv")]) == 2
    os.link(notices, tmp_path / "linked.csv")
    assert main(["review", str(notices), "-o", str(tmp_path / "linked.csv")]) == 2
    assert notices.read_bytes() == before
    log = tmp_path / "log.csv"
    assert main(["review", str(notices), "-o", str(log), "--record", str(log)]) == 2
    assert not log.exists()
    assert capsys.readouterr().err.count("choose another output file") == 4


@pytest.mark.parametrize("output", ["missing/out.csv", "out.txt", "."])
def test_unwritable_output_is_refused_before_anything_is_recorded(tmp_path, capsys, output):
    notices = notices_file(tmp_path / "notices.csv", [{}])
    assert main(["review", str(notices), "-o", str(tmp_path / output), "--record", str(tmp_path / "log.db")]) == 2
    assert not (tmp_path / "log.db").exists()
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("record, why", [(".", "is a folder"), ("missing/log.db", "does not exist")])
def test_record_naming_a_folder_or_a_missing_folder_exits_2(tmp_path, capsys, record, why):
    notices = notices_file(tmp_path / "notices.csv", [{}])
    assert main(["review", str(notices), "--record", str(tmp_path / record)]) == 2
    assert main(["check", json.dumps(ALLOWED), "--record", str(tmp_path / record)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == ["compliance review", "compliance check"]
    assert all(why in line for line in err)
    assert not (tmp_path / "missing").exists()


# --- files CSV readers reject ------------------------------------------------------------


def test_a_three_megabyte_field_reads_normally(tmp_path):
    notices = notices_file(tmp_path / "notices.csv", [{}, {"notice_id": "BIG", "investor": "x" * 3_000_000}])
    out = tmp_path / "out.csv"
    assert main(["review", str(notices), "-o", str(out)]) == 1
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["outcome"].tolist() == ["allow", "error"]
    assert written["error"][1].startswith("row 2: investor=")


def test_a_header_of_100000_columns_is_refused_without_reading_the_rows(tmp_path, capsys):
    wide = tmp_path / "wide.csv"
    # The second line is not UTF-8: had the rows been read, that would be the complaint.
    wide.write_bytes(",".join(f"c{i}" for i in range(100_000)).encode() + b"\n\xff\xfe\n")
    assert main(["review", str(wide)]) == 2
    assert f"line 1: 100,000 columns; a notices file may have at most {MAX_COLUMNS:,}" in capsys.readouterr().err


def test_unreadable_csv_names_the_line_and_the_fix(tmp_path, capsys):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(pd.DataFrame([ALLOWED] * 3).to_csv(index=False) + "C1,extra," * 12 + "\n")
    assert main(["review", str(ragged)]) == 2
    # header on line 1, three rows on lines 2-4: the ragged row is line 5
    assert "line 5: 25 fields where the header names 12" in capsys.readouterr().err

    latin = tmp_path / "latin.csv"
    latin.write_bytes(pd.DataFrame([ALLOWED, {**ALLOWED, "notice_id": "Café"}]).to_csv(index=False).encode("latin-1"))
    assert main(["review", str(latin)]) == 2
    # header on line 1, ALLOWED on line 2, 'Café' on line 3 in its first column
    assert "line 3, column notice_id: not utf-8 text (byte 0xe9)" in capsys.readouterr().err
    assert main(["review", str(latin), "--encoding", "latin-1", "-o", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text())[1]["notice_id"] == "Café"

    utf16 = tmp_path / "utf16.csv"
    pd.DataFrame([ALLOWED]).to_csv(utf16, index=False, encoding="utf-16")
    assert main(["review", str(utf16)]) == 2
    assert "line 1: holds NUL bytes" in capsys.readouterr().err
    assert main(["review", str(utf16), "--encoding", "utf-16"]) == 0

    semicolons = tmp_path / "semicolons.csv"
    pd.DataFrame([ALLOWED]).to_csv(semicolons, index=False, sep=";")
    assert main(["review", str(semicolons)]) == 2
    assert "give --delimiter ';'" in capsys.readouterr().err
    assert main(["review", str(semicolons), "--delimiter", ";"]) == 0


def test_a_quote_never_closed_is_refused_and_a_line_break_inside_quotes_is_kept(tmp_path, capsys):
    header = ",".join(ALLOWED)
    row = ",".join(ALLOWED.values())
    unclosed = tmp_path / "unclosed.csv"
    # line 3 opens a quote in its last field that nothing closes: the field would swallow lines 4 and 5
    assert row.endswith(",1.0")
    opened = row.replace("C1", "C2", 1)[:-3] + '"1.0'

    unclosed.write_text(f"{header}\n{row}\n{opened}\n{row}\n{row}\n")
    assert main(["review", str(unclosed)]) == 2
    assert "line 3: a quoted field that is never closed" in capsys.readouterr().err
    # A line break inside quotes is part of the field: the row is read whole (one row, its memo
    # kept as written), while the same break in a notice_id makes that row an error.
    broken = tmp_path / "broken.csv"
    broken.write_text(
        f'{header},memo\n{row},"first line\nsecond line"\n' + row.replace("C1", '"C2\nsecond line"', 1) + ",\n"
    )
    out = tmp_path / "out.json"
    assert main(["review", str(broken), "--extra-columns", "keep", "-o", str(out)]) == 1
    rows = json.loads(out.read_text())
    assert [r["outcome"] for r in rows] == ["allow", "error"]
    assert rows[0]["memo"] == "first line\nsecond line"
    assert "control characters" in rows[1]["error"]


# The old reader (pandas' pyarrow engine, reading a Python file object) aborted the process at exit
# now and then after a parse error, while Arrow's read-ahead thread still waited for the interpreter.
READ_ONLY = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("notice_files", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
try:
    module.read_notices(sys.argv[2])
except module.NoticeFileError:
    sys.exit(2)
"""


@pytest.mark.slow  # 50 fresh interpreters importing pandas and pyarrow: about a minute
def test_an_unreadable_csv_never_aborts_the_process(tmp_path):
    bad = tmp_path / "ragged.csv"
    # Several of Arrow's 1 MB blocks, the bad row in the first: the others are still being read.
    bad.write_text("notice_id,investor,quantity\n" + "a,b,1\n" * 1000 + "a,b,1,2\n" + "a,b,1\n" * 700_000)
    module = ROOT / "compliance" / "contract" / "notice_files.py"
    statuses = [
        subprocess.run(
            [sys.executable, "-c", READ_ONLY, str(module), str(bad)], capture_output=True, text=True
        ).returncode
        for _ in range(50)
    ]
    assert statuses == [2] * 50


# --- exit statuses and tracebacks -----------------------------------------------------------


def test_sweep_with_an_impossible_date_or_a_reversed_range_exits_2(capsys):
    base = ["sweep", "--investor", "Papell Holdings Limited", "--route", "rule_144"]
    assert status_of(base + ["--from", "2003-02-30", "--to", "2003-03-10"]) == 2
    assert status_of(base + ["--from", "2003-03-10", "--to", "2003-03-03"]) == 2
    err = capsys.readouterr().err
    assert "'2003-02-30' is not a date" in err and "--to 2003-03-03 is before --from 2003-03-10" in err
    assert "Traceback" not in err


def test_sweep_exits_0_when_every_day_is_allowed_or_there_is_none(capsys):
    # Registered sales before the suspension (Thu 2002-08-01): Thu 07-25 .. Wed 07-31 all allowed.
    base = ["sweep", "--investor", "Papell Holdings Limited", "--route", "registration_statement"]
    assert main(base + ["--from", "2002-07-25", "--to", "2002-07-31"]) == 0
    # Sat 2002-07-27 and Sun 07-28: nothing to judge
    assert main(base + ["--from", "2002-07-27", "--to", "2002-07-28"]) == 0
    assert "no trading day in the range" in capsys.readouterr().out


def test_an_internal_error_is_one_line_and_the_traceback_needs_debug(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("compliance.cli.review.review", broken)
    assert main(["review", str(FIXTURE_NOTICES)]) == 3
    assert capsys.readouterr().err == "compliance review: internal error: RuntimeError: boom\n"
    assert main(["--debug", "review", str(FIXTURE_NOTICES)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("compliance review: internal error: RuntimeError: boom\n")


def command(*args: str, **popen) -> subprocess.Popen:
    """``compliance ARGS`` in a process of its own, Ctrl-C (SIGINT) as on a terminal."""
    return subprocess.Popen(
        [sys.executable, "-m", "compliance.cli", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **popen,
    )


@pytest.mark.parametrize("args", [("rules",), ("review", str(FIXTURE_NOTICES)), ("--version",)])
def test_output_to_a_closed_pipe_ends_quietly(args):
    process = command(*args, stdout=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before anything is written (compliance rules | head -0)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141
    assert err == b""


def test_output_read_in_part_ends_quietly(tmp_path):
    # 3,000 decisions shown are far more than a pipe holds (64 KiB): the command is still writing
    # when the reader goes, whatever the machine's speed.
    notices = tmp_path / "notices.csv"
    assert main(["synth", "3000", "-o", str(notices)]) == 0
    process = command("review", str(notices), "--show", "all", stdout=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"notice_id ")  # compliance review ... | head -1
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141
    assert err == b""


def test_a_date_given_to_any_option_is_checked(tmp_path, capsys):
    log = tmp_path / "log.db"
    assert main(["review", str(FIXTURE_NOTICES), "-o", str(tmp_path / "out.csv"), "--record", str(log)]) == 1
    assert status_of(["log", "show", str(log), "--since", "yesterday"]) == 2
    assert "argument --since: expected a date YYYY-MM-DD, not 'yesterday'" in capsys.readouterr().err
    assert main(["log", "show", str(log), "--since", "2000-01-01"]) == 0


def test_a_date_set_on_a_sweep_is_checked_before_any_day_is_judged(capsys):
    base = ["sweep", "--investor", "Papell Holdings Limited", "--route", "rule_144"]
    days = ["--from", "2003-02-03", "--to", "2003-02-05"]
    assert status_of(base + days + ["--set", "form_144_filed_on=yesterday"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "compliance sweep: form_144_filed_on='yesterday': must be a date YYYY-MM-DD\n"
    # Rule 144 sales Mon 2003-02-03 .. Wed 02-05 with the Form 144 filed: only the manner of sale
    # (not set) denies them.
    assert status_of(base + days + ["--set", "form_144_filed_on=2003-02-03"]) == 1
    assert "2003-02-03 .. 2003-02-05  deny  (rule144.manner_of_sale)" in capsys.readouterr().out


def test_replay_with_an_unusable_agreement_is_one_error(tmp_path, capsys):
    log = tmp_path / "log.db"
    assert main(["review", str(FIXTURE_NOTICES), "-o", str(tmp_path / "out.csv"), "--record", str(log)]) == 1
    capsys.readouterr()
    assert main(["replay", str(log), "--agreement", str(tmp_path / "nonexistent")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no agreement file" in captured.err


@pytest.fixture(scope="module")
def large_notices(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("large") / "notices.csv"
    synthetic_notices(200_000, seed=1).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("sent, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_review_without_a_traceback_or_an_output_file(tmp_path, large_notices, sent, status):
    out, log = tmp_path / "out.csv", tmp_path / "log.db"
    process = command("review", str(large_notices), "-o", str(out), "--record", str(log), stdout=subprocess.PIPE)
    while not log.exists() and process.poll() is None:  # the log is opened as the review starts
        time.sleep(0.05)
    time.sleep(1)
    assert process.poll() is None, "the review ended before the signal"
    process.send_signal(sent)
    _, err = process.communicate(timeout=300)
    assert process.returncode in (status, -sent)
    assert "Traceback" not in err.decode()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("log.db")) == []


# --- agreement directories ----------------------------------------------------------------


def test_a_symlink_inside_an_agreement_directory_is_refused(tmp_path, capsys):
    directory = tmp_path / "harbor_2012"
    shutil.copytree(FIXTURES / "harbor_2012", directory)
    (directory / "exhibit.txt").symlink_to(FIXTURES / "harbor_2012" / "README.md")
    with pytest.raises(compliance.AgreementError, match="exhibit.txt: a symbolic link"):
        compliance.load_agreement(directory)
    assert main(["validate", str(directory)]) == 2
    assert f"{directory / 'exhibit.txt'}: a symbolic link" in capsys.readouterr().out
    notices = notices_file(tmp_path / "notices.csv", [{}])
    assert main(["review", str(notices), "--agreement", str(directory), "--record", str(tmp_path / "log.db")]) == 2
    assert not (tmp_path / "log.db").exists()


def test_a_pipe_or_a_linked_folder_inside_an_agreement_directory_is_refused(tmp_path):
    directory = tmp_path / "harbor_2012"
    shutil.copytree(FIXTURES / "harbor_2012", directory)
    assert validate_directory(directory) == []
    (directory / "exhibits").mkdir()
    os.mkfifo(directory / "exhibits" / "pipe")
    (directory / "linked").symlink_to(FIXTURES / "focus_enhancements", target_is_directory=True)
    problems = validate_directory(directory)
    assert problems == [
        f"{directory / 'exhibits' / 'pipe'}: not a regular file; an agreement directory must "
        f"hold only files and folders",
        f"{directory / 'linked'}: a symbolic link (to {FIXTURES / 'focus_enhancements'}); an "
        f"agreement directory must hold the files themselves",
    ]


def test_an_agreement_text_outside_the_directory_is_refused(tmp_path, edited_agreement):
    shutil.copy(FIXTURES / "harbor_2012" / "securities_purchase_agreement.txt", tmp_path / "outside.txt")
    with pytest.raises(compliance.AgreementError, match="agreement.text.*outside it"):
        edited_agreement("text: securities_purchase_agreement.txt", "text: ../outside.txt", fixture="harbor_2012")
