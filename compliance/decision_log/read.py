"""Reading a log, whichever its format: as a DataFrame, one row per record, the batch's fields and
whether the batch is complete on each, ``event`` and ``output`` decoded; and the hash of its last
record, its head."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from .completeness import PREDATES_SEALS, batch_completeness
from .formats import READ
from .schema import EARLIER_BATCH_COLUMNS, FORMAT_1_COLUMNS, GENESIS, LogError
from .store import has_history, open_for_reading

BATCH_FIELDS = EARLIER_BATCH_COLUMNS[1:-1]  # what a batch row holds for its records, between its id and hash
READ_CHUNKS = (
    f"SELECT c.first_seq, c.count, c.batch, c.notice_ids, c.events, c.outputs, c.hashes, c.prev_hash, "
    f"{', '.join('b.' + f for f in BATCH_FIELDS)}, {{history}} "
    f"FROM (SELECT *, lag(substr(hashes, -32)) OVER (ORDER BY first_seq) AS prev_hash FROM chunks) c "
    f"LEFT JOIN batches b ON b.batch = c.batch"
)
"""Formats 3 and 4: each chunk, the hash of the record before its first, its batch's fields and
history (``{history}``: ``b.history``, or ``NULL`` for a log whose batches do not record it)."""
HEAD = {
    1: "SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1",
    2: "SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1",
    3: "SELECT hex(substr(hashes, -32)) FROM chunks ORDER BY first_seq DESC LIMIT 1",
    4: "SELECT hex(substr(hashes, -32)) FROM chunks ORDER BY first_seq DESC LIMIT 1",
}
"""Each format: the stored hash of the last record (hex)."""


def _json_lines(data: bytes) -> list[Any]:
    """The JSON values of a stored column, one per line."""
    return json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")


def _chunk_rows(con: sqlite3.Connection, path, where: str, params: list) -> pd.DataFrame:
    """Format 3 and 4's records, one row per record, ``event`` and ``output`` decoded to lists."""
    columns: dict[str, list] = {name: [] for name in (*FORMAT_1_COLUMNS, "event_columns", "output_columns", "history")}
    history = "b.history" if has_history(con) else "NULL"
    for first_seq, count, batch_id, notice_ids, events, outputs, hashes, prev, *fields, given in con.execute(
        READ_CHUNKS.format(history=history) + where + " ORDER BY c.first_seq", params
    ):
        if fields[0] is None:
            raise LogError(
                f"{path}: record {first_seq} belongs to batch {batch_id}, which is missing "
                f"(see 'compliance log verify')"
            )
        records = {
            "notice_id": _json_lines(notice_ids),
            "event": _json_lines(events),
            "output": _json_lines(outputs),
            "hash": [hashes[i : i + 32].hex() for i in range(0, len(hashes), 32)],
        }
        if any(len(values) != count for values in records.values()):
            raise LogError(
                f"{path}: the chunk of records {first_seq}-{first_seq + count - 1} is damaged "
                f"(see 'compliance log verify')"
            )
        records["prev_hash"] = [GENESIS if prev is None else prev.hex(), *records["hash"][:-1]]
        records["seq"] = range(first_seq, first_seq + count)
        records["batch"] = [batch_id] * count
        records.update({name: [value] * count for name, value in zip(BATCH_FIELDS, fields, strict=True)})
        records["history"] = [given] * count
        for name, values in records.items():
            columns[name].extend(values)
    return pd.DataFrame(columns)


def _rows(path, notice: str | None = None, since: str | date | None = None) -> pd.DataFrame:
    """The records in ``seq`` order, ``event`` and ``output`` decoded to dicts, the state of
    each record's batch (``batch_state``: sealed, incomplete or predates seals), and the history
    its batch was given (``history``: JSON text, None when none or not recorded)."""
    con, version = open_for_reading(path)
    try:
        batches = batch_completeness(con, version)
        where, params = [], []
        if since is not None:
            since = since.isoformat() if isinstance(since, date) else str(since)
            where.append("recorded_at >= ?")
            params.append(since)
        if version >= 3:
            frame = _chunk_rows(con, path, " WHERE " + " AND ".join(where) if where else "", params)
            if notice is not None:
                frame = frame[frame["notice_id"] == str(notice)].reset_index(drop=True)
        else:
            if notice is not None:
                where.append("notice_id = ?")
                params.append(str(notice))
            sql = READ[version] + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
            frame = pd.read_sql_query(sql, con, params=params)
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
        raise LogError(f"{path}: cannot be read: {exc}") from None
    finally:
        con.close()
    frame["batch_state"] = [batches[b].state if b in batches else PREDATES_SEALS for b in frame["batch"]]
    # object, None where no history was given (formats 1 and 2 predate recording it), not NaN
    given = frame["history"] if "history" in frame else [None] * len(frame)
    frame["history"] = pd.Series([h if isinstance(h, str) else None for h in given], index=frame.index, dtype=object)
    if version == 1:
        frame["event"] = [json.loads(e) for e in frame["event"]]
        frame["output"] = [json.loads(o) for o in frame["output"]]
        return frame.drop(columns=["event_columns", "output_columns"])
    if version == 2:
        orphans = frame["recorded_at"].isna()
        if orphans.any():
            seq, batch = frame.loc[orphans, ["seq", "batch"]].iloc[0]
            raise LogError(
                f"{path}: record {seq} belongs to batch {batch}, which is missing (see 'compliance log verify')"
            )
        frame["event"] = [json.loads(e) for e in frame["event"]]
        frame["output"] = [json.loads(o) for o in frame["output"]]
    names = {text: json.loads(text) for text in {*frame["event_columns"], *frame["output_columns"]}}
    frame["event"] = [
        e if names[c] is None else dict(zip(names[c], e, strict=True))
        for e, c in zip(frame["event"], frame["event_columns"], strict=True)
    ]
    frame["output"] = [
        dict(zip(names[c], o, strict=True)) for o, c in zip(frame["output"], frame["output_columns"], strict=True)
    ]
    return frame.drop(columns=["event_columns", "output_columns"])


def read_log(path: Path | str, notice: str | None = None, since: str | date | None = None) -> pd.DataFrame:
    """The records as a DataFrame: the batch's fields on each record, ``event`` and ``output`` as
    dicts, ``batch_state`` (``sealed``; ``incomplete``: its recording stopped before its end;
    ``predates seals``: recorded in an earlier format, which did not record whether a batch was
    complete), and the output row's fields as columns of their own. ``notice`` keeps one notice_id;
    ``since`` keeps records recorded on or after a date (UTC, YYYY-MM-DD)."""
    from compliance.decision.findings import OUTPUT_COLUMNS

    frame = _rows(path, notice, since)
    for column in OUTPUT_COLUMNS:
        if column != "notice_id":
            frame[column] = [o.get(column) for o in frame["output"]]
    return frame


def head(path: Path | str) -> str:
    """The stored hash of the log's last record (hex; 64 zeros for a log without records): the
    value ``verify(..., expect_head=)`` later holds the log to."""
    con, version = open_for_reading(path)
    try:
        row = con.execute(HEAD[version]).fetchone()
    except sqlite3.DatabaseError as exc:
        raise LogError(f"{path}: cannot be read: {exc}") from None
    finally:
        con.close()
    return GENESIS if row is None else str(row[0]).lower()
