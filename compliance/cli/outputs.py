"""Files the commands write: the decisions (CSV, JSON, Parquet), whole or not at all, and the
checks made before a review starts that the output and the decision log can be written."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.csv

from compliance.cli.errors import CommandError
from compliance.views.output_safety import guard_formulas

OUTPUT_SUFFIXES = (".csv", ".json", ".parquet", ".pq")
CSV_SLICE = 100_000  # rows written at a time


def write_decisions(frame: pd.DataFrame, path: Path) -> None:
    """Write the decisions to ``path`` (.csv, .json, .parquet or .pq), whole or not at all: into a
    temporary file beside it, renamed to ``path`` once complete (removed if anything, Ctrl-C
    included, stops the writing). In CSV, a text cell that a spreadsheet would take for a formula
    gets a leading ``'`` (``output_safety.guard_formulas``); JSON and Parquet keep every value as
    it is."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise CommandError(f"{path}: output must end in .csv, .json or .parquet")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if suffix == ".csv":
            _write_csv(frame, partial)
        elif suffix == ".json":
            frame.to_json(partial, orient="records", indent=2)
        else:
            frame.astype(str).to_parquet(partial, index=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Arrow's writer: a third of DataFrame.to_csv's time on a million decisions; it quotes every
    # text cell, which any CSV reader takes the same way. In slices, so the text is not held twice.
    schema = pyarrow.schema([(str(c), pyarrow.string()) for c in frame.columns])
    with pyarrow.csv.CSVWriter(path, schema) as writer:
        for start in range(0, max(len(frame), 1), CSV_SLICE):
            part = frame.iloc[start : start + CSV_SLICE].astype(str)
            table = pyarrow.Table.from_pandas(part, schema=schema, preserve_index=False)
            writer.write_table(pyarrow.Table.from_arrays([guard_formulas(c) for c in table.columns], schema=schema))


def output_problem(output: Path, notices: Path, record: Path | None) -> str | None:
    """Why the decisions cannot be written to ``output``, or None: checked before the review
    starts, so that nothing is judged or recorded for a file that could not be written."""
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        return f"{output}: output must end in .csv, .json or .parquet"
    target = output.resolve()
    if target == notices.resolve() or (target.exists() and notices.exists() and os.path.samefile(target, notices)):
        return f"{output}: is the notices file itself; choose another output file"
    if record is not None and target == record.resolve():
        return f"{output}: is the decision log (--record); choose another output file"
    return _unwritable(output, f"a file name ending in {output.suffix}")


def log_problem(record: Path) -> str | None:
    """Why ``record`` cannot be a decision log to append to, or None (checked before the review)."""
    return _unwritable(record, f"the decision log's file (e.g. {record / 'decisions.db'})")


def _unwritable(path: Path, expected: str) -> str | None:
    """Why a file cannot be written at ``path`` (a folder, no such folder, no permission), or None."""
    target = path.resolve()
    if target.is_dir():
        return f"{path}: is a folder; expected {expected}"
    if not target.parent.is_dir():
        return f"{path}: the folder {path.parent} does not exist"
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return f"{path}: cannot be written here (permission denied)"
    return None
