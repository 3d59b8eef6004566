"""Values as JSON lines: plain JSON-ready values, the JSON text of each value of a column, and
rows of columns joined into one JSON line each, by the C loops when they are built and by Arrow
otherwise (the same bytes either way)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from compliance.contract.event import shown

try:
    from . import _loops as _c  # the C loops (_loops.c), optional
except ImportError:  # not built: the same bytes from the Python versions
    _c = None
_c_lines = _c.lines if _c else None


_NESTING_LIMIT = 100  # deeper input is recorded by its shown text, as the error decision quotes it


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON-ready Python value (numpy scalars, dates, NaN/NaT as null). A value nested deeper
    than ``_NESTING_LIMIT``, or one whose text cannot be had, is recorded as ``shown`` quotes it in
    the error decision."""
    if depth > _NESTING_LIMIT:
        return shown(value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    if isinstance(value, Mapping):
        return {_key(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v, depth + 1) for v in value]
    try:
        if pd.isna(value):
            return None
    except Exception:  # noqa: BLE001  (an object's own __bool__ or __array__ may raise anything)
        pass
    return _key(value)


def _key(value: Any) -> str:
    """``str(value)``, or ``shown(value)`` where ``str`` raises (any object can sit in a cell)."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        return shown(value)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    return _encode(value if type(value) is str else _plain(value))


def _encode_column(series: pd.Series) -> np.ndarray:
    """Each value of a column as JSON text, encoding every distinct value of each type once
    (equality alone would merge True, 1 and 1.0)."""
    values = series.to_numpy(dtype=object)
    try:
        codes, _ = pd.factorize(values)
    except TypeError:  # unhashable values (lists, dicts): one by one
        return np.array([_dumps(v) for v in values], dtype=object)
    types, _ = pd.factorize(np.fromiter(map(type, values), dtype=object, count=len(values)))
    groups, _ = pd.factorize((codes + 1) * (types.max() + 1) + types)
    _, first = np.unique(groups, return_index=True)
    return np.array([_dumps(values[i]) for i in first], dtype=object)[groups]


def _verbatim_text(series: pd.Series) -> pa.StringArray | None:
    """The column as Arrow strings when every value is a string that JSON holds verbatim between
    quotes (no quote, backslash or control character); otherwise None."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return None
    try:
        text = pa.array(series, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if isinstance(text, pa.ChunkedArray):  # a review's text columns come in chunks
        text = text.combine_chunks()
    if text.null_count:
        return None
    data = text.buffers()[2]  # the strings' bytes end to end (None when all are empty)
    if data is None or not data.size:
        return text
    if _c is not None:
        return text if _c.verbatim(data) else None
    if np.frombuffer(data, dtype=np.uint8).min() < 0x20:
        return None
    contents = data.to_pybytes()  # searched by memchr, no array per test
    return None if b'"' in contents or b"\\" in contents else text


def _buffers(array: pa.Array) -> tuple[pa.Buffer, pa.Buffer | None, int]:
    """A string array as the C loops read it: its offsets, its data (None when it holds no bytes),
    its offset."""
    return array.buffers()[1], array.buffers()[2], array.offset


class _Lines:
    """The values of ``columns`` (Series of ``rows`` values each) as JSON lines, row by row:
    ``opening``, the row's values' JSON texts separated by commas, ``closing`` and a newline.

    Columns of plain strings are joined without a Python step per value; any other column is
    encoded once per distinct value (NaN, None and NaT as null, numpy scalars as numbers, dates
    ISO). Rows are encoded a range at a time (:meth:`lines`) and each range gets the bytes it gets
    when all rows are encoded at once: whether a column is plain strings, and the text of each
    distinct value, are decided over the whole column. With the C extension the rows are joined
    by C, which also writes an object column's strings, booleans and nulls itself; without it,
    by Arrow, all rows at once."""

    def __init__(self, columns: Sequence[pd.Series], rows: int, opening: str, closing: str):
        self.columns = list(columns)
        self.rows, self.opening, self.closing = rows, opening, closing
        # per column: ("text", its verbatim Arrow strings), ("objects", its values, for C to
        # write) or ("encoded", its values' JSON texts as Arrow strings, None until needed)
        self.kinds: list[tuple[str, Any]] = []
        if _c_lines is not None:
            self.kinds = [
                ("objects", c.to_numpy(dtype=object)) if c.dtype == object else self._kind(c) for c in self.columns
            ]

    @staticmethod
    def _kind(column: pd.Series) -> tuple[str, Any]:
        text = _verbatim_text(column)
        return ("encoded", None) if text is None else ("text", text)

    @cached_property
    def _all(self) -> pa.StringArray:
        """All rows, joined by Arrow (without the C extension)."""
        return _arrow_lines(self.columns, self.opening, self.closing)

    def lines(self, start: int = 0, stop: int | None = None) -> pa.StringArray:
        """Rows ``start`` to ``stop`` (default: to the end)."""
        stop = self.rows if stop is None else min(stop, self.rows)
        n = max(stop - start, 0)
        if not n:
            return pa.array([], type=pa.string())
        if not self.columns:
            return pa.array([self.opening + self.closing + "\n"] * n, type=pa.string())
        if _c_lines is None:
            return self._all.slice(start, n)
        while True:
            pieces: list[Any] = []
            literal = self.opening  # the text between the previous column's values and the next
            for j, (kind, source) in enumerate(self.kinds):
                if kind == "text":
                    pieces += [(literal + '"').encode(), _buffers(source.slice(start, n))]
                    literal = '",'
                    continue
                if kind == "objects":
                    values = np.ascontiguousarray(source[start:stop])
                else:
                    if source is None:
                        source = pa.array(_encode_column(self.columns[j]), type=pa.string())
                        self.kinds[j] = (kind, source)
                    values = _buffers(source.slice(start, n))
                pieces += [literal.encode(), values]
                literal = ","
            pieces.append((literal[:-1] + self.closing + "\n").encode())
            try:
                joined = _c_lines(n, pieces)
            except OverflowError:  # 2 GiB of text or more: as Arrow joins it
                return self._all.slice(start, n)
            if isinstance(joined, int):  # an object column C does not write: decided as Arrow does
                j = joined // 2
                self.kinds[j] = self._kind(self.columns[j])
                continue
            offsets, data = joined
            return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _arrow_lines(columns: Sequence[pd.Series], opening: str, closing: str) -> pa.StringArray:
    """:meth:`_Lines.lines` of all rows by Arrow's join (the columns hold at least one row)."""
    pieces: list[Any] = []
    literal = opening  # the text between the previous column's values and the next
    for column in columns:
        text = _verbatim_text(column)
        if text is None:
            pieces += [literal, pa.array(_encode_column(column), type=pa.string())]
            literal = ","
        else:
            pieces += [literal + '"', text]
            literal = '",'
    pieces.append(literal[:-1] + closing + "\n")
    return pc.binary_join_element_wise(*pieces, "")


def json_values(series: pd.Series) -> pa.StringArray:
    """Each value of ``series`` as a JSON line (its JSON text followed by a newline), encoded as
    :func:`json_rows` encodes it."""
    return _Lines([series], len(series), "", "").lines()


def json_rows(frame: pd.DataFrame) -> pa.StringArray:
    """Each row of ``frame`` as a JSON line: the JSON array of its values, in column order, followed
    by a newline (see :class:`_Lines`)."""
    return _row_lines(frame).lines()


def _row_lines(frame: pd.DataFrame) -> _Lines:
    return _Lines([frame.iloc[:, j] for j in range(frame.shape[1])], len(frame), "[", "]")


def _notice_id_lines(ids: pd.Series) -> _Lines:
    """Output notice ids as JSON lines, each as its text (None as ""); strings as they are."""
    if not (isinstance(ids.dtype, pd.StringDtype) and not ids.isna().any()):
        values = ids.to_numpy(dtype=object)
        if set(map(type, values)) - {str}:
            values = np.array(["" if v is None else str(v) for v in values], dtype=object)
        ids = pd.Series(values, dtype=object, copy=False)
    return _Lines([ids], len(ids), "", "")
