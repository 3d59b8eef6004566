"""Verifying a log: walking its chain in ``seq`` order and naming the first record whose sequence,
batch or hash is not what it should be."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .batches import _batch_hashes
from .chain import _column_lines, record_chain
from .formats import _format_1_records, _format_2_records
from .schema import CHUNK_COLUMNS, GENESIS, LogError
from .store import open_for_reading

@dataclass
class Verification:
    ok: bool
    records: int                      # records checked (all of them when ok)
    first_bad: int | None = None      # seq of the first bad record
    problem: str = ""
    head: str = GENESIS               # hash of the last good record

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.records} records, chain intact; head hash {self.head}"
        return f"BAD: record {self.first_bad}: {self.problem} ({self.records} records before it are intact)"


def verify(path: Path | str) -> Verification:
    """Walk the chain in ``seq`` order; the first record with a sequence gap, a batch that is
    missing or edited, or a hash that does not match its fields and the hash of the record before
    it is named."""
    con, version = open_for_reading(path)
    try:
        if version == 3:
            return _walk_chunks(con)
        return _walk(_format_1_records(con) if version == 1 else _format_2_records(con))
    except sqlite3.DatabaseError as exc:
        raise LogError(f"{path}: cannot be read: {exc}") from None
    finally:
        con.close()


def _gap(expected_seq: int, seq: int) -> str:
    what = "deleted" if seq > expected_seq else "out of order"
    return f"sequence gap: expected record {expected_seq}, found {seq} (record(s) {what})"


def _walk(records: Iterable[tuple[int, str, str, str, str]]) -> Verification:
    """Formats 1 and 2. ``records``: (seq, prev_hash, hash, the hash recomputed from the record's
    fields, what is wrong with the record's batch or ''), in ``seq`` order."""
    expected_seq, prev, n = 1, GENESIS, 0
    for seq, stored_prev, stored_hash, recomputed, batch_problem in records:
        if seq != expected_seq:
            return Verification(False, n, seq, _gap(expected_seq, seq), prev)
        if stored_prev != prev:
            return Verification(False, n, seq, "prev_hash is not the hash of the record before it "
                                               "(a record was removed, inserted or reordered)", prev)
        if batch_problem:
            return Verification(False, n, seq, batch_problem, prev)
        if recomputed != stored_hash:
            return Verification(False, n, seq, "hash does not match the record's fields "
                                               "(the record was edited or moved)", prev)
        prev, expected_seq, n = stored_hash, expected_seq + 1, n + 1
    return Verification(True, n, None, "", prev)


def _walk_chunks(con: sqlite3.Connection) -> Verification:
    """Format 3: the chunks in ``first_seq`` order, and each chunk's records in turn."""
    batches = _batch_hashes(con)
    expected_seq, prev, n = 1, bytes(32), 0
    for first_seq, count, batch_id, notice_ids, events, outputs, hashes in con.execute(
            f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks ORDER BY first_seq"):
        if first_seq != expected_seq:
            return Verification(False, n, first_seq, _gap(expected_seq, first_seq), prev.hex())
        batch_hash, problem = batches.get(batch_id, ("", f"its batch {batch_id} is missing"))
        if problem:
            return Verification(False, n, first_seq, problem, prev.hex())
        columns = [_column_lines(_stored_bytes(c)) for c in (notice_ids, events, outputs)]
        hashes = _stored_bytes(hashes)
        stored = [hashes[i:i + 32] for i in range(0, len(hashes), 32)]
        whole = min(len(stored), *map(len, columns))
        # Up to the first record whose hash differs from the stored one, the chain recomputed from
        # the chunk's first record is the chain of the stored hashes
        recomputed = record_chain(prev, first_seq, batch_id, batch_hash, *(c.slice(0, whole) for c in columns))
        if recomputed != hashes[:32 * whole]:
            k = next(k for k in range(whole) if recomputed[32 * k:32 * k + 32] != stored[k])
            return Verification(False, n + k, first_seq + k, "hash does not match the record's fields and "
                                "the hash of the record before it (the record was edited or moved, or "
                                "one before it in its chunk removed)", (stored[k - 1] if k else prev).hex())
        if whole:
            prev, n = stored[whole - 1], n + whole
        if not count == whole == len(stored) == max(map(len, columns)):
            return Verification(False, n, first_seq + whole, (
                f"the chunk of records {first_seq}-{first_seq + count - 1} holds {len(columns[0])} "
                f"notice ids, {len(columns[1])} events, {len(columns[2])} outputs and {len(stored)} "
                f"hashes (records were removed or inserted)"), prev.hex())
        expected_seq = first_seq + count
    return Verification(True, n, None, "", prev.hex())


def _stored_bytes(value: Any) -> bytes:
    """A chunk's column as bytes, also when an edit stored it as text or a number."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")
