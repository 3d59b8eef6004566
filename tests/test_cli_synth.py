"""``compliance synth``: seeded synthetic notices that ``review`` reads."""

from __future__ import annotations

import pandas as pd
import pytest

from compliance.cli import main
from compliance.contract.event import FIELDS


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_same_seed_gives_the_same_file_and_another_seed_another(tmp_path, suffix):
    first, again, other = (tmp_path / f"{name}{suffix}" for name in ("first", "again", "other"))
    assert main(["synth", "40", "-o", str(first), "--seed", "5"]) == 0
    assert main(["synth", "40", "-o", str(again), "--seed", "5"]) == 0
    assert main(["synth", "40", "-o", str(other), "--seed", "6"]) == 0
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    frame = read(first)
    assert len(frame) == 40
    assert list(frame.columns) == list(FIELDS)


def test_review_reads_a_synthetic_file(tmp_path, capsys):
    notices = tmp_path / "notices.csv"
    assert main(["synth", "30", "-o", str(notices), "--seed", "1"]) == 0
    assert main(["review", str(notices)]) == 1  # a mix: some notices denied
    summary = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Summary:"))
    counts = [int(part.split()[0]) for part in summary.removeprefix("Summary: ").split(" of ")[0].split(", ")]
    assert sum(counts) == 30 and counts[0] > 0 and counts[1] > 0


def test_an_unusable_output_or_seed_exits_2_and_writes_nothing(tmp_path, capsys):
    assert main(["synth", "10", "-o", str(tmp_path / "notices.json")]) == 2
    assert main(["synth", "10", "-o", str(tmp_path / "notices.csv"), "--seed", "-1"]) == 2
    assert main(["synth", "10", "-o", str(tmp_path / "missing" / "notices.csv")]) == 2
    err = capsys.readouterr().err
    assert ".csv or .parquet" in err and "--seed -1" in err and "does not exist" in err
    assert list(tmp_path.iterdir()) == []
