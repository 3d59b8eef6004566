"""A table of sale notices parsed column by column, by distinct value.

The row parser (``event.parse_event``) is the authority on what the input contract accepts, and
this module asks it: each column is factorized, each *distinct* value is parsed once by the row
parser's own field method, and the answers are spread back to the rows. A million notices carry a
few thousand distinct dates and a handful of distinct routes, so this costs one hash pass per
column. Cross-field checks (contradictions, the Schedule of investors, the supported dates,
unique ``notice_id``) are then vectorized; every row failing any of them is handed whole to the
row parser, which names the field and value that are wrong.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from compliance.contract.event import (
    BLANKS,
    DELIVERIES,
    FIELDS,
    MANNERS_OF_SALE,
    REQUIRED,
    ROUTES,
    SECURITIES,
    WARRANT_EXERCISES,
    Coded,
    EventColumns,
    InputError,
    _Parser,
    field_name,
    is_missing,
    notice_id_text,
    shown,
    unknown_field,
    validate_event,
)
from compliance.deal.agreement import Agreement
from compliance.workers import in_parallel

Parsed = tuple[np.ndarray, np.ndarray]  # (values per row, row accepted)


# Cell types whose values are keyed by (type, value) in a column of mixed types; any other object
# (a list, a dict, an array, an instance of any other class, subclasses included) is keyed by its
# identity, so that no hash or comparison of its own runs and each such cell gets the row
# parser's answer on its own.
_PLAIN = frozenset(
    [str, int, float, bool, date, datetime, pd.Timestamp, np.datetime64, np.bool_]
    + [np.dtype(c).type for c in "bBhHiIlLqQefdg"]
)


def _key(value: Any):
    return (type(value).__name__, value) if type(value) in _PLAIN else ("object", id(value))


def _distinct(cells: pd.Series) -> tuple[np.ndarray, list]:
    """Codes and distinct values of a column; code -1 for missing cells (None, NaN, NaT).

    Python objects that compare equal across types (True == 1 == 1.0) would share one code, and
    the row parser answers them differently; a column of mixed object types is therefore
    factorized on (type, value), and other objects by identity (``_key``)."""
    if cells.dtype != object or pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        try:
            codes, uniques = pd.factorize(cells)
            return codes, list(uniques)
        except Exception:  # noqa: BLE001  (an Arrow column of lists, say: keyed cell by cell below)
            pass
    values = cells.tolist()
    codes, _ = pd.factorize(pd.Series([None if is_missing(v) else _key(v) for v in values], dtype=object))
    present, first = np.unique(codes, return_index=True)  # a cell of each code, codes ascending
    return codes, [values[i] for i in first[present >= 0].tolist()]


def by_distinct_value(cells: pd.Series, parse_one: Callable[[Any], tuple[Any, bool]], dtype) -> Parsed:
    """``parse_one(value) -> (parsed, accepted)`` applied once per distinct value (and once to
    None for the missing cells), spread back to every row as an array of ``dtype`` (text,
    ``dtype`` object: as ``Coded``)."""
    codes, uniques = _distinct(cells)
    answers = [parse_one(v) for v in uniques] + [parse_one(None)]  # code -1 takes the last
    accepted = np.array([ok for _, ok in answers], dtype=bool)
    if dtype is object:  # text: coded by parsed value (cells that differ may parse alike)
        text = Coded.of([v for v, _ in answers])
        return Coded(text.codes[codes], text.distinct), accepted[codes]
    values = np.array([_as(v, dtype) for v, _ in answers], dtype=dtype)
    return values[codes], accepted[codes]


def _as(value: Any, dtype) -> Any:
    """A parsed value, or the column's placeholder where the parser gave none (missing or
    rejected: rejected rows never leave this module as accepted)."""
    if value is not None:
        return value
    return {"M": "NaT", "f": np.nan, "i": 0, "b": False}.get(np.dtype(dtype).kind)


def _field(method: str, field: str, timezone, *args) -> Callable[[Any], tuple[Any, bool]]:
    """The row parser's ``method`` for ``field`` as a function of one cell."""

    def parse_one(value):
        parser = _Parser({field: value}, timezone)
        parsed = getattr(parser, method)(field, *args)
        return parsed, not parser.problems

    return parse_one


def _cells(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype=object)


def _notice_ids(cells: pd.Series, timezone) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parsed ids, accepted, duplicated. Ids are nearly all distinct, so text columns are checked
    with vectorized string operations rather than one parser call per id."""
    text_column = isinstance(cells.dtype, pd.StringDtype) or (
        cells.dtype == object and pd.api.types.infer_dtype(cells, skipna=True) == "string"
    )
    if text_column:
        present = cells.notna().to_numpy()
        stripped = cells.str.strip(BLANKS)
        ids = stripped.where(present, None).to_numpy(dtype=object)
        accepted = present & (stripped != "").fillna(False).to_numpy(dtype=bool)
        accepted &= ~_with_controls(stripped)
        keys = stripped
    else:
        ids, accepted = by_distinct_value(cells, _field("text", "notice_id", timezone, True), object)
        ids = np.asarray(ids)
        keys = pd.Series(ids, dtype=object)
    if _all_distinct(keys):  # the usual case, and cheaper to establish than which ones repeat
        return ids, accepted, np.zeros(len(cells), dtype=bool)
    duplicated = keys.duplicated(keep=False).to_numpy() & accepted
    return ids, accepted, duplicated


_CONTROL = r"[\x00-\x1f\x7f-\x9f]"  # as model._CONTROL, in Arrow's regular expressions


def _with_controls(text: pd.Series) -> np.ndarray:
    """Which cells of a text column (None: absent) hold a control character. The UTF-8 bytes of
    all of them are scanned at once (C0 and DEL are bytes below 0x20 and 0x7f, C1 is 0xc2 followed
    by 0x80-0x9f); only when some cell holds one are the cells searched one by one."""
    cells = pa.array(text, from_pandas=True)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    if not (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
        cells = cells.cast(pa.large_string())  # all absent
    data = cells.buffers()[2]
    if data is not None and data.size:
        raw = np.frombuffer(data, dtype=np.uint8)
        if (raw < 0x20).any() or (raw == 0x7F).any() or ((raw[:-1] == 0xC2) & (raw[1:] < 0xA0)).any():
            found = pc.match_substring_regex(cells, _CONTROL).fill_null(False)
            return found.to_numpy(zero_copy_only=False)
    return np.zeros(len(text), dtype=bool)


def _all_distinct(keys: pd.Series) -> bool:
    """Whether the present values of ``keys`` are all distinct. Sorting a million text keys in
    Arrow and comparing neighbours is several times faster than hashing them."""
    values = pc.drop_null(pa.array(keys, from_pandas=True))
    ordered = values.take(pc.sort_indices(values))
    return len(ordered) < 2 or not pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py()


EXTRA_COLUMNS = ("refuse", "keep")
_TWIN = re.compile(r"(.+)\.([0-9]+)")  # how readers rename a repeated header: quantity, quantity.1
_NAMED = 100  # unknown columns named one by one in an error; the rest are counted


def column_problems(columns: pd.Index, extra_columns: str, output_columns) -> tuple[list, list]:
    """``(problems, kept)`` for a table's column names: every name given more than once, or in a
    reader's renaming of a repeated header (``quantity.1`` beside ``quantity``, or after a field of
    the contract), is a problem; a name that is not a field of the input contract is one too
    (named with the field it resembles), unless ``extra_columns`` is "keep": then it is kept
    (``kept``, in table order), and a problem only where it would collide with an output column.
    Per column, never per row."""
    if extra_columns not in EXTRA_COLUMNS:
        raise ValueError(f"extra_columns must be one of {', '.join(EXTRA_COLUMNS)}, not {extra_columns!r}")
    problems, kept = [], []
    names = list(columns)
    present = set(names)
    for name in dict.fromkeys(columns[columns.duplicated()]):
        problems.append(("column", name, "appears more than once"))
    unknown = []
    for name in dict.fromkeys(names):
        if isinstance(name, str) and name in FIELDS:
            continue
        twin = _TWIN.fullmatch(name) if isinstance(name, str) else None
        if twin and (twin[1] in FIELDS or twin[1] in present):
            base = shown(twin[1])
            problems.append(
                (
                    "column",
                    name,
                    f"looks like a second {base} column (a reader renames a "
                    f"repeated header {base} to {shown(twin[1] + '.1')})",
                )
            )
        elif extra_columns == "refuse":
            unknown.append(name)
        elif name in set(output_columns):
            problems.append(
                (
                    "column",
                    name,
                    "is not a field of the input contract, and an output column has its name: it cannot be kept",
                )
            )
        else:
            kept.append(name)
    for name in unknown[:_NAMED]:
        problems.append(("column", name, unknown_field(name, listing=False)))
    if len(unknown) > _NAMED:
        problems.append(("columns", f"{len(unknown) - _NAMED:,} more", "are not fields of the input contract"))
    if unknown:
        problems[-1] = (
            *problems[-1][:2],
            problems[-1][2] + f" (the fields: {', '.join(FIELDS)}; to carry "
            "other columns through to the output unchanged, keep them: extra_columns='keep', "
            "--extra-columns keep)",
        )
    return problems, kept


def missing_columns(columns: pd.Index) -> str | None:
    """The message for a table (``columns``: its header) without every required column, or None:
    the columns missing, the header as found, and for each missing column the names of the header
    that resemble it (``difflib``, case and surrounding spaces set aside; names of other fields
    are never offered). A name that differs from a required column only in case or surrounding
    spaces is not taken for it: the message says so."""
    names = list(columns)
    present = set(names)
    missing = [c for c in REQUIRED if c not in present]
    if not missing:
        return None
    plural = "s" if len(missing) > 1 else ""
    parts = [f"missing required column{plural} {', '.join(missing)} (required: {', '.join(REQUIRED)})"]
    listed = ", ".join(field_name(n) for n in names[:_NAMED])
    more = f", and {len(names) - _NAMED:,} more" if len(names) > _NAMED else ""
    parts.append(f"the header has: {listed}{more}" if names else "the header names no column")
    others = {}  # lower-cased, stripped text -> the header's names that read so
    for name in names:
        if isinstance(name, str) and name not in FIELDS:
            others.setdefault(name.strip(BLANKS).lower(), []).append(name)
    for column in missing:
        near = [n for key in difflib.get_close_matches(column, others, n=3, cutoff=0.6) for n in others[key]]
        if not near:
            continue
        hint = f"for {column}, did you mean {' or '.join(repr(n[:200]) for n in near)}?"
        if column in others:
            hint += (
                f" (column names must match exactly: {others[column][0][:200]!r} differs from {column} only in "
                f"case or surrounding spaces and is not taken for it; rename it {column})"
            )
        parts.append(hint)
    return "; ".join(parts)


def parse_table(
    frame: pd.DataFrame, agreement: Agreement, rulebook, workers: int | None = None
) -> tuple[list, dict[int, tuple]]:
    """Parse every row, ``workers`` columns at a time (default: ``workers.worker_count()``).
    Returns ``(valid, errors)``: ``valid`` a list of (row positions, EventColumns) blocks and
    ``errors`` {row position: (notice_id, message)}."""
    tz = agreement.company_timezone
    fields = [  # (input column, row parser method, dtype, its arguments, name in EventColumns)
        ("investor", "choice", object, (tuple(agreement.investors), True), None),
        ("security", "choice", object, (SECURITIES, True), None),
        ("quantity", "whole", np.int64, (True, 1), None),
        ("sale_date", "day", "M8[D]", (True,), None),
        ("route", "choice", object, (ROUTES, True), None),
        ("affiliate", "flag", bool, (True,), None),
        ("notice_received_at", "local_day", "M8[D]", (), "notice_received_on"),
        ("certificate_received_at", "local_day", "M8[D]", (), "certificate_received_on"),
        ("delivered_at", "local_day", "M8[D]", (), "delivered_on"),
        ("delivery", "choice", object, (DELIVERIES, False, "certificate"), None),
        ("opinion_of_counsel", "flag", bool, (False,), None),
        ("company_advised", "flag", bool, (False,), None),
        ("warrant_exercised_on", "day", "M8[D]", (False,), None),
        ("warrant_exercise", "choice", object, (WARRANT_EXERCISES, False), None),
        ("manner_of_sale", "choice", object, (MANNERS_OF_SALE, False), None),
        ("form_144_filed_on", "day", "M8[D]", (False,), None),
        ("sale_price", "price", np.float64, (), None),
        ("prior_144_sales_3m", "whole", np.int64, (False, 0, 0), None),
    ]

    def parse(spec) -> Parsed:
        if spec == "notice_id":
            return _notice_ids(_cells(frame, "notice_id"), tz)
        field, method, dtype, args, _ = spec
        return by_distinct_value(_cells(frame, field), _field(method, field, tz, *args), dtype)

    (ids, ok, duplicated), *parsed = in_parallel(parse, ["notice_id", *fields], workers)
    columns: dict[str, np.ndarray] = {"notice_id": ids}
    for (field, *_, name), (values, accepted) in zip(fields, parsed, strict=True):
        columns[name or field] = values
        ok &= accepted

    # What parse_event and validate_event check across fields; failing rows go to them.
    shares = columns["security"] == "shares"
    ok &= ~(shares & (~np.isnat(columns["warrant_exercised_on"]) | (columns["warrant_exercise"] != None)))  # noqa: E711
    received = np.maximum(columns["notice_received_on"], columns["certificate_received_on"])
    delivered = ~np.isnat(columns["delivered_on"])
    ok &= ~(delivered & (np.isnat(received) | (columns["delivered_on"] < received)))
    ok &= columns["sale_date"] >= np.datetime64(rulebook.parameters.versions[0], "D")

    errors: dict[int, tuple] = {}
    slow_positions, slow_events = [], []
    slow = np.flatnonzero(~ok | duplicated)
    for i, raw in zip(slow.tolist(), frame.iloc[slow].to_dict(orient="records"), strict=True):
        record = {k: (None if is_missing(v) else v) for k, v in raw.items()}
        try:
            if duplicated[i]:
                raise InputError([("notice_id", record.get("notice_id"), "is not unique in this file")])
            slow_events.append(validate_event(record, agreement, rulebook, allow_extra=True))
            slow_positions.append(i)
        except InputError as exc:
            errors[i] = (notice_id_text(record.get("notice_id")), str(exc))
    fast = np.flatnonzero(ok & ~duplicated)
    if len(fast) < len(frame):
        columns = {k: v[fast] for k, v in columns.items()}
    blocks = [(fast, EventColumns(**columns))] if len(fast) else []
    if slow_events:
        blocks.append((np.array(slow_positions, dtype=np.int64), EventColumns.from_events(slow_events)))
    return blocks, errors
