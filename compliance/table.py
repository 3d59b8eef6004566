"""A table of sale notices parsed column by column, by distinct value.

The row parser (``model.parse_event``) is the authority on what the input contract accepts, and
this module asks it: each column is factorized, each *distinct* value is parsed once by the row
parser's own field method, and the answers are spread back to the rows. A million notices carry a
few thousand distinct dates and a handful of distinct routes, so this costs one hash pass per
column. Cross-field checks (contradictions, the Schedule of investors, the supported dates,
unique ``notice_id``) are then vectorized; every row failing any of them is handed whole to the
row parser, which names the field and value that are wrong.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .agreement import Agreement
from .check import validate_event
from .model import (DELIVERIES, MANNERS_OF_SALE, ROUTES, SECURITIES, WARRANT_EXERCISES, Coded, EventColumns,
                    InputError, _Parser, is_missing)
from .workers import in_parallel

Parsed = tuple[np.ndarray, np.ndarray]  # (values per row, row accepted)


def _distinct(cells: pd.Series) -> tuple[np.ndarray, list]:
    """Codes and distinct values of a column; code -1 for missing cells (None, NaN, NaT).

    Python objects that compare equal across types (True == 1 == 1.0) would share one code, and
    the row parser answers them differently; a column of mixed object types is therefore
    factorized on (type, value)."""
    if cells.dtype == object and pd.api.types.infer_dtype(cells, skipna=True) not in ("string", "empty"):
        keyed = pd.Series([None if is_missing(v) else (type(v).__name__, v) for v in cells], dtype=object)
        codes, keys = pd.factorize(keyed)
        return codes, [value for _, value in keys]
    codes, uniques = pd.factorize(cells)
    return codes, list(uniques)


def by_distinct_value(cells: pd.Series, parse_one: Callable[[Any], tuple[Any, bool]],
                      dtype) -> Parsed:
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
        cells.dtype == object and pd.api.types.infer_dtype(cells, skipna=True) == "string")
    if text_column:
        present = cells.notna().to_numpy()
        stripped = cells.str.strip()
        ids = stripped.where(present, None).to_numpy(dtype=object)
        accepted = present & (stripped != "").fillna(False).to_numpy(dtype=bool)
        keys = stripped
    else:
        ids, accepted = by_distinct_value(cells, _field("text", "notice_id", timezone, True), object)
        ids = np.asarray(ids)
        keys = pd.Series(ids, dtype=object)
    if _all_distinct(keys):  # the usual case, and cheaper to establish than which ones repeat
        return ids, accepted, np.zeros(len(cells), dtype=bool)
    duplicated = keys.duplicated(keep=False).to_numpy() & accepted
    return ids, accepted, duplicated


def _all_distinct(keys: pd.Series) -> bool:
    """Whether the present values of ``keys`` are all distinct. Sorting a million text keys in
    Arrow and comparing neighbours is several times faster than hashing them."""
    values = pc.drop_null(pa.array(keys, from_pandas=True))
    ordered = values.take(pc.sort_indices(values))
    return len(ordered) < 2 or not pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py()


def parse_table(frame: pd.DataFrame, agreement: Agreement, rulebook,
                workers: int | None = None) -> tuple[list, dict[int, tuple]]:
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
    for (field, *_, name), (values, accepted) in zip(fields, parsed):
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
    for i, raw in zip(slow.tolist(), frame.iloc[slow].to_dict(orient="records")):
        record = {k: (None if is_missing(v) else v) for k, v in raw.items()}
        try:
            if duplicated[i]:
                raise InputError([("notice_id", record.get("notice_id"), "is not unique in this file")])
            slow_events.append(validate_event(record, agreement, rulebook, allow_extra=True))
            slow_positions.append(i)
        except InputError as exc:
            errors[i] = (record.get("notice_id"), str(exc))
    fast = np.flatnonzero(ok & ~duplicated)
    if len(fast) < len(frame):
        columns = {k: v[fast] for k, v in columns.items()}
    blocks = [(fast, EventColumns(**columns))] if len(fast) else []
    if slow_events:
        blocks.append((np.array(slow_positions, dtype=np.int64), EventColumns.from_events(slow_events)))
    return blocks, errors
