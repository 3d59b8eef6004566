"""Files the commands write, whole or not at all: the decisions (CSV, JSON, Parquet) and
synthetic notices (CSV, Parquet); and the checks made before a command starts that the output and
the decision log can be written."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.compute
import pyarrow.csv
import pyarrow.parquet

from compliance.cli.errors import CommandError
from compliance.decision.output_columns import ABSENT, FLAGS
from compliance.views.output_safety import guard_formulas

OUTPUT_SUFFIXES = (".csv", ".json", ".parquet", ".pq")
NOTICE_SUFFIXES = (".csv", ".parquet", ".pq")  # what ``review`` reads
CSV_SLICE = 100_000  # rows written at a time
# The typed columns of a decision row (``decision/output_columns.py``), which the review gives as
# text with ``ABSENT`` for a value that is not there: in Parquet and JSON each keeps its type and
# an absent value is null. Every other column is written with the type its values have.
COLUMN_TYPES = {
    "earliest_allowed_date": pyarrow.date32(),
    "delivery_date": pyarrow.date32(),
    "delivery_late_business_days": pyarrow.int64(),
    **dict.fromkeys(FLAGS, pyarrow.bool_()),
}


def write_decisions(frame: pd.DataFrame, path: Path) -> None:
    """Write the decisions to ``path`` (.csv, .json, .parquet or .pq), whole or not at all: into a
    temporary file beside it, renamed to ``path`` once complete (removed if anything, Ctrl-C
    included, stops the writing). CSV is text: a text cell that a spreadsheet would take for a
    formula gets a leading ``'`` (``output_safety.guard_formulas``). Parquet and JSON keep each
    value's type (``typed_table``): flags are booleans, dates dates (in JSON, ``YYYY-MM-DD``
    text), counts whole numbers, and a value that is not there is null."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise CommandError(f"{path}: output must end in .csv, .json or .parquet")
    if suffix == ".csv":
        _whole_or_not(path, lambda partial: _write_csv(frame, partial))
    elif suffix == ".json":
        _whole_or_not(path, lambda partial: _write_json(frame, partial))
    else:
        _whole_or_not(path, lambda partial: pyarrow.parquet.write_table(typed_table(frame), partial))


def write_notices(frame: pd.DataFrame, path: Path) -> None:
    """Write sale notices (text columns, as ``review`` reads them) to ``path`` (.csv, .parquet or
    .pq), whole or not at all; every cell as it is (a notice file is input, not a report)."""
    if path.suffix.lower() == ".csv":
        _whole_or_not(path, lambda partial: frame.to_csv(partial, index=False))
    else:
        _whole_or_not(path, lambda partial: frame.to_parquet(partial, index=False))


def _whole_or_not(path: Path, write) -> None:
    """``write(partial)`` into a temporary file beside ``path``, renamed to ``path`` once complete
    (removed if anything, Ctrl-C included, stops the writing)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def typed_table(frame: pd.DataFrame) -> pyarrow.Table:
    """``frame`` as an Arrow table, each column as ``typed_column`` makes it."""
    return pyarrow.table({str(name): typed_column(frame[name], name) for name in frame.columns})


def typed_column(values: pd.Series, name) -> pyarrow.Array:
    """A column of ``COLUMN_TYPES`` in its type, ``ABSENT`` and None as null (a value that is not
    of that type raises ``ArrowInvalid``); any other column as Arrow takes its values
    (``datetime.date`` as date32, None as null), and as text when it holds nothing else or values
    of several kinds (a kept input column mixing numbers and text)."""
    kind = COLUMN_TYPES.get(name)
    if kind is None:
        try:
            array = pyarrow.array(values, from_pandas=True)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):  # a kept input column of mixed values
            return pyarrow.array(values.astype(object).mask(values.isna(), None).map(_text), pyarrow.string())
        return array.cast(pyarrow.string()) if pyarrow.types.is_null(array.type) else array
    if kind == pyarrow.bool_():
        return pyarrow.array(values.mask(values.eq(ABSENT) | values.isna(), None), kind, from_pandas=True)
    # dates and counts, given as text
    text = pyarrow.array(values.astype(object).mask(values.isna(), ABSENT).astype(str), pyarrow.string())
    return pyarrow.compute.if_else(pyarrow.compute.equal(text, ABSENT), None, text).cast(kind)


def _text(value):
    return None if value is None else str(value)


def _write_json(frame: pd.DataFrame, path: Path) -> None:
    """The rows as a JSON array of objects: dates as ``YYYY-MM-DD`` text, and null, booleans and
    whole numbers as themselves. Only the typed columns and those pandas keeps as objects (dates,
    flags) go through ``typed_column``; text and number columns are written as they are."""
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if name not in COLUMN_TYPES and values.dtype != object:
            columns[name] = values
            continue
        array = typed_column(values, name)
        if pyarrow.types.is_date(array.type):
            array = array.cast(pyarrow.string())
        # a whole-number column holding nulls as pandas' nullable Int64, which JSON writes as
        # whole numbers and null (as NumPy it would be floating point)
        columns[name] = array.to_pandas(types_mapper={pyarrow.int64(): pd.Int64Dtype()}.get)
    pd.DataFrame(columns).to_json(path, orient="records", indent=2)


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


def notices_output_problem(output: Path) -> str | None:
    """Why notices cannot be written to ``output``, or None (checked before they are made)."""
    if output.suffix.lower() not in NOTICE_SUFFIXES:
        return f"{output}: notices must be written to a file ending in .csv or .parquet"
    return _unwritable(output, f"a file name ending in {output.suffix}")


def report_problem(report: Path, notices: Path, output: Path | None, record: Path | None) -> str | None:
    """Why the HTML report cannot be written to ``report``, or None (checked before the review)."""
    if report.suffix.lower() not in (".html", ".htm"):
        return f"{report}: the report must be written to a file ending in .html"
    target = report.resolve()
    taken = {"the notices file": notices, "the decisions (-o)": output, "the decision log (--record)": record}
    for what, path in taken.items():
        if path is not None and target == path.resolve():
            return f"{report}: is {what}; choose another report file"
    return _unwritable(report, "a file name ending in .html")


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
