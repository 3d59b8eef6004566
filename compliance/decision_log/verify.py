"""Verifying a log: walking its chain in ``seq`` order and naming the first record whose sequence,
batch or hash is not what it should be; then every batch that is not complete or whose seal does
not match, every record the key does not cover, and a chain that does not end at the head the
caller expects."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .batches import Batch, stored_batches
from .chain import _column_lines, record_chain, seal_hash
from .completeness import INCOMPLETE, batch_completeness
from .formats import _format_1_records, _format_2_records
from .keys import KEY_VARIABLE, LogKey
from .schema import CHUNK_COLUMNS, GENESIS, LogError
from .store import open_for_reading


@dataclass
class Verification:
    """``intact``: the chain walk found no bad record (``first_bad`` and ``problem`` name the first
    one otherwise); ``records``: the records walked before it; ``head``: the hash of the last of
    them; ``expected_head_at``: the record whose hash is the head the caller expects.
    ``findings``: everything else that makes the log fail verification (incomplete batches, seals,
    keys, the expected head), one line each; ``notes``: what a reader should know that is not a
    failure (records that predate seals)."""

    intact: bool
    records: int
    first_bad: int | None = None
    problem: str = ""
    head: str = GENESIS
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expected_head_at: int | None = None  # the record whose hash is the expected head, if walked

    @property
    def ok(self) -> bool:
        return self.intact and not self.findings

    def __str__(self) -> str:
        if not self.intact:
            first = f"BAD: record {self.first_bad}: {self.problem} ({self.records} records before it are intact)"
        else:
            first = f"{'OK' if self.ok else 'BAD'}: {self.records} records, chain intact; head hash {self.head}"
        return "\n".join([first, *self.findings, *(f"note: {n}" for n in self.notes)])


def verify(path: Path | str, *, key: LogKey | None = None, expect_head: str | None = None) -> Verification:
    """Walk the chain in ``seq`` order; the first record with a sequence gap, a batch that is
    missing or edited, or a hash that does not match its fields and the hash of the record before
    it is named. Then every batch whose recording did not end (unsealed: its records found of
    those it declared) or whose seal does not match is named; with ``key``, every record not keyed
    with it; without, the keyed records, which cannot be checked. ``expect_head``: the hash (hex)
    the chain must end at (a head printed earlier), which catches records deleted from the end."""
    if expect_head is not None and not _is_hash(expect_head):
        raise LogError(f"the expected head must be a record's hash, 64 hex digits, not {expect_head[:80]!r}")
    con, version = open_for_reading(path)
    try:
        if version >= 3:
            result = _walk_chunks(con, version, key, expect_head)
        else:
            records = _format_1_records(con) if version == 1 else _format_2_records(con)
            result = _walk(records, expect_head)
            if key is not None:
                result.findings.append(
                    f"NOT KEYED: all {result.records:,} records are not keyed (format "
                    f"{version} predates keyed logs), and {KEY_VARIABLE} is set"
                )
        if version < 4:
            result.notes.append(
                f"the log's {result.records:,} records predate seals (format {version}): "
                f"whether each batch was recorded to its end is not known"
            )
    except sqlite3.DatabaseError as exc:
        raise LogError(f"{path}: cannot be read: {exc}") from None
    finally:
        con.close()
    if result.intact and expect_head is not None and result.head != expect_head.lower():
        result.findings.append(_head_finding(result, expect_head.lower()))
    return result


def _head_finding(result: Verification, expected: str) -> str:
    seen_at = result.expected_head_at
    if seen_at is not None:
        return (
            f"HEAD: the chain goes on past the expected head (record {seen_at}): "
            f"{_records(result.records - seen_at)} after it"
        )
    return (
        f"HEAD: the expected head {expected} is not in the chain, which ends at record {result.records} "
        f"(hash {result.head}): records were deleted from its end, or its end was rewritten"
    )


def _gap(expected_seq: int, seq: int) -> str:
    what = "deleted" if seq > expected_seq else "out of order"
    return f"sequence gap: expected record {expected_seq}, found {seq} (record(s) {what})"


def _walk(records: Iterable[tuple[int, str, str, str, str]], expect_head: str | None) -> Verification:
    """Formats 1 and 2. ``records``: (seq, prev_hash, hash, the hash recomputed from the record's
    fields, what is wrong with the record's batch or ''), in ``seq`` order."""
    expected_seq, prev, n, seen_at = 1, GENESIS, 0, None
    for seq, stored_prev, stored_hash, recomputed, batch_problem in records:
        if seq != expected_seq:
            return Verification(False, n, seq, _gap(expected_seq, seq), prev)
        if stored_prev != prev:
            return Verification(
                False,
                n,
                seq,
                "prev_hash is not the hash of the record before it (a record was removed, inserted or reordered)",
                prev,
            )
        if batch_problem:
            return Verification(False, n, seq, batch_problem, prev)
        if recomputed != stored_hash:
            return Verification(
                False, n, seq, "hash does not match the record's fields (the record was edited or moved)", prev
            )
        prev, expected_seq, n = stored_hash, expected_seq + 1, n + 1
        if expect_head is not None and stored_hash == expect_head.lower():
            seen_at = seq
    return Verification(True, n, None, "", prev, expected_head_at=seen_at)


def _records(n: int) -> str:
    return f"{n:,} record{'' if n == 1 else 's'}"


def _batch_list(ids: Iterable[int]) -> str:
    """Batch numbers as runs ('1-7, 9'), at most ten runs named."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    named = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:10]]
    return (
        ("batch " if len(runs) == 1 and runs[0][0] == runs[0][1] else "batches ")
        + ", ".join(named)
        + (f" and {len(runs) - 10} more runs" if len(runs) > 10 else "")
    )


def _walk_chunks(con: sqlite3.Connection, version: int, key: LogKey | None, expect_head: str | None) -> Verification:
    """Formats 3 and 4: the chunks in ``first_seq`` order, and each chunk's records in turn; then
    (format 4) each batch's completeness and seal, and the records the key does not cover."""
    batches = stored_batches(con, version)
    expected_seq, prev, n, seen_at = 1, bytes(32), 0, None
    wanted = None if expect_head is None else bytes.fromhex(expect_head)
    uncovered: dict[str, dict[int, int]] = {"unkeyed": {}, "other key": {}, "no key": {}}  # batch -> records
    result = None
    for first_seq, count, batch_id, notice_ids, events, outputs, hashes in con.execute(
        f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks ORDER BY first_seq"
    ):
        if first_seq != expected_seq:
            result = Verification(False, n, first_seq, _gap(expected_seq, first_seq), prev.hex())
            break
        batch, problem = batches.get(batch_id, (None, f"its batch {batch_id} is missing"))
        if problem:
            result = Verification(False, n, first_seq, problem, prev.hex())
            break
        columns = [_column_lines(_stored_bytes(c)) for c in (notice_ids, events, outputs)]
        hashes = _stored_bytes(hashes)
        stored = [hashes[i : i + 32] for i in range(0, len(hashes), 32)]
        whole = min(len(stored), *map(len, columns))
        coverage = _coverage(batch, key)
        if coverage:
            uncovered[coverage][batch_id] = uncovered[coverage].get(batch_id, 0) + count
        if coverage in ("other key", "no key"):
            recomputed = hashes[: 32 * whole]  # HMACs under a key this walk does not have: as stored
        else:
            # Up to the first record whose hash differs from the stored one, the chain recomputed
            # from the chunk's first record is the chain of the stored hashes
            recomputed = record_chain(
                prev,
                first_seq,
                batch_id,
                batch.hash,
                *(c.slice(0, whole) for c in columns),
                key if batch.key_id is not None else None,
            )
        if recomputed != hashes[: 32 * whole]:
            k = next(k for k in range(whole) if recomputed[32 * k : 32 * k + 32] != stored[k])
            result = Verification(
                False,
                n + k,
                first_seq + k,
                "hash does not match the record's fields and "
                "the hash of the record before it (the record was edited or moved, or "
                "one before it in its chunk removed)",
                (stored[k - 1] if k else prev).hex(),
            )
            break
        if wanted is not None and wanted in stored[:whole]:
            seen_at = first_seq + stored.index(wanted)
        if whole:
            prev, n = stored[whole - 1], n + whole
        if not count == whole == len(stored) == max(map(len, columns)):
            result = Verification(
                False,
                n,
                first_seq + whole,
                (
                    f"the chunk of records {first_seq}-{first_seq + count - 1} holds {len(columns[0])} "
                    f"notice ids, {len(columns[1])} events, {len(columns[2])} outputs and {len(stored)} "
                    f"hashes (records were removed or inserted)"
                ),
                prev.hex(),
            )
            break
        expected_seq = first_seq + count
    if result is None:
        result = Verification(True, n, None, "", prev.hex(), expected_head_at=seen_at)
    result.findings += _key_findings(uncovered, batches, key)
    result.findings += _batch_findings(con, version, batches, key)
    return result


def _coverage(batch: Batch, key: LogKey | None) -> str:
    """How ``key`` covers a batch's records: '' (checked with it, or unkeyed and no key given),
    'unkeyed' (a key is given, the batch is not keyed), 'other key' (keyed with another key) or
    'no key' (keyed, no key given)."""
    if batch.key_id is None:
        return "" if key is None else "unkeyed"
    if key is None:
        return "no key"
    return "" if batch.key_id == key.id else "other key"


def _key_findings(uncovered: dict[str, dict[int, int]], batches: dict, key: LogKey | None) -> list[str]:
    findings = []
    if uncovered["unkeyed"]:
        findings.append(
            f"NOT KEYED: {_records(sum(uncovered['unkeyed'].values()))}, in "
            f"{_batch_list(uncovered['unkeyed'])}: not keyed, and {KEY_VARIABLE} is set"
        )
    if uncovered["other key"]:
        ids = sorted({batches[b][0].key_id for b in uncovered["other key"]})
        findings.append(
            f"KEYED DIFFERENTLY: {_records(sum(uncovered['other key'].values()))}, in "
            f"{_batch_list(uncovered['other key'])}: keyed with key id {', '.join(ids)}, not "
            f"with the key {KEY_VARIABLE} holds (key id {key.id})"
        )
    if uncovered["no key"]:
        ids = sorted({batches[b][0].key_id for b in uncovered["no key"]})
        findings.append(
            f"NOT CHECKED: {_records(sum(uncovered['no key'].values()))}, in "
            f"{_batch_list(uncovered['no key'])}: keyed, not checked (key id {', '.join(ids)}; "
            f"{KEY_VARIABLE} is not set)"
        )
    return findings


def _batch_findings(con: sqlite3.Connection, version: int, batches: dict, key: LogKey | None) -> list[str]:
    """Format 4: each batch that is not sealed, whose seal does not count what it declares and
    holds, or whose seal does not match its last record."""
    findings = []
    for state in batch_completeness(con, version).values():
        batch = batches[state.batch][0]
        if state.seal_count is None:
            findings.append(
                f"INCOMPLETE: {state}, not sealed (its recording stopped before its end); replay leaves it out"
            )
        elif state.state == INCOMPLETE:
            findings.append(
                f"SEAL: {state}, sealed with {state.seal_count:,} (records were removed or added, or the seal edited)"
            )
        elif batch is not None and _coverage(batch, key) in ("", "unkeyed"):
            expected = seal_hash(
                _stored_bytes(state.last_hash),
                state.batch,
                batch.hash,
                state.seal_count,
                key if batch.key_id is not None else None,
            )
            if expected != _stored_bytes(state.seal_hash):
                findings.append(
                    f"SEAL: the seal of batch {state.batch} does not match the batch's last record "
                    f"(the seal or the batch's end was edited)"
                )
    return findings


def _is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def _stored_bytes(value: Any) -> bytes:
    """A chunk's column as bytes, also when an edit stored it as text or a number."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")
