"""The records' hash chain: a run of records as columns of JSON lines, each record's text, its
hash, and the chain of hashes along consecutive records, by the C loops straight from the Arrow
buffers when they are built, or by the Python functions here, which are the reference."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .encoding import json_values
from .keys import LogKey, keyed_hash

try:
    from ._loops import chain as _c_chain  # the C loops (_loops.c), optional
except ImportError:  # not built: the same bytes from the Python versions
    _c_chain = None


@dataclass(frozen=True)
class Decisions:
    """Consecutive decisions of one batch, column-wise: Arrow string arrays of equal length holding
    each decision's JSON lines (:func:`json_rows`): its notice_id as a JSON string, its event and
    its output as JSON arrays in the batch's column orders."""

    notice_ids: pa.Array
    events: pa.Array
    outputs: pa.Array

    @classmethod
    def of(cls, notice_ids: Sequence[str], events: Sequence[str], outputs: Sequence[str]) -> Decisions:
        """Decisions from Python lists: notice ids as plain strings, events and outputs as JSON texts
        (without newlines)."""
        return cls(
            json_values(pd.Series(list(notice_ids), dtype=object)),
            pa.array([e + "\n" for e in events], type=pa.string()),
            pa.array([o + "\n" for o in outputs], type=pa.string()),
        )

    def __len__(self) -> int:
        return len(self.notice_ids)

    def slice(self, start: int, length: int) -> Decisions:
        return Decisions(
            self.notice_ids.slice(start, length), self.events.slice(start, length), self.outputs.slice(start, length)
        )


def _stored_column(lines: pa.Array) -> memoryview:
    """The lines end to end, as a chunk's column is stored: a view of the array's bytes."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
    data = lines.buffers()[2]
    return memoryview(data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])) if data is not None else b"")


def _column_lines(stored: bytes) -> pa.BinaryArray:
    """A stored chunk column's lines, each with its newline (bytes after the last newline, which a
    column as written never has, are left out)."""
    ends = np.flatnonzero(np.frombuffer(stored, dtype=np.uint8) == ord("\n")) + 1
    offsets = np.concatenate([[0], ends]).astype(np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(stored)])


def record_texts(
    first_seq: int, batch: int, batch_hash: str, notice_ids: pa.Array, events: pa.Array, outputs: pa.Array
) -> list[bytes]:
    """Each record's text, UTF-8, that its hash is taken over: its seq (``first_seq`` for the first
    of the columns' records, then one more for each), batch and the batch's hash (hex), each
    followed by a newline, then its notice_id, event and output lines. No line holds a newline
    but the one ending it, so the text reads back one way only."""
    if not len(notice_ids):
        return []
    seqs = pc.cast(
        pc.cast(pa.array(np.arange(first_seq, first_seq + len(notice_ids), dtype=np.int64)), pa.string()), pa.binary()
    )
    shared = pa.scalar(f"\n{batch}\n{batch_hash}\n".encode(), pa.binary())
    lines = [pc.cast(c, pa.binary()) for c in (notice_ids, events, outputs)]
    texts = pc.binary_join_element_wise(seqs, shared, *lines, b"\0", b"")  # JSON lines hold no NUL byte
    records = texts.buffers()[2].to_pybytes().split(b"\0")
    records.pop()
    return records


def record_hash(prev_hash: bytes, text: bytes, key: LogKey | None = None) -> bytes:
    """A record's chain hash: sha256 (32-byte digest) of the record before it's hash and the
    record's text (:func:`record_texts`); HMAC-SHA256 under ``key`` for a keyed batch."""
    return keyed_hash(key, prev_hash + text)


def chain_hashes(prev_hash: bytes, texts: Iterable[bytes], key: LogKey | None = None) -> bytes:
    """The chain hashes of consecutive records after the one whose hash is ``prev_hash``, 32 bytes
    each, end to end: :func:`record_hash` applied along the chain."""
    hashes = []
    for text in texts:
        prev_hash = keyed_hash(key, prev_hash + text)
        hashes.append(prev_hash)
    return b"".join(hashes)


_OFFSET_TYPES = (pa.string(), pa.binary())
"""The array types whose buffers the C chain reads (32-bit offsets)."""


def record_chain(
    prev_hash: bytes,
    first_seq: int,
    batch: int,
    batch_hash: str,
    notice_ids: pa.Array,
    events: pa.Array,
    outputs: pa.Array,
    key: LogKey | None = None,
) -> bytes:
    """:func:`chain_hashes` of the :func:`record_texts` of these records (under ``key`` for a keyed
    batch): by the C extension straight from the arrays' buffers when it is built and the arrays
    are plain string or binary arrays without nulls, otherwise in Python. Both give the same bytes."""
    columns = (notice_ids, events, outputs)
    n = len(notice_ids)
    if _c_chain is None or any(c.type not in _OFFSET_TYPES or c.null_count or len(c) != n for c in columns):
        return chain_hashes(prev_hash, record_texts(first_seq, batch, batch_hash, *columns), key)
    if not n:
        return b""
    return _c_chain(
        prev_hash,
        first_seq,
        f"\n{batch}\n{batch_hash}\n".encode(),
        n,
        [(c.buffers()[1], c.buffers()[2], c.offset) for c in columns],
        None if key is None else key.secret,
    )


def seal_hash(last_hash: bytes, batch: int, batch_hash: str, count: int, key: LogKey | None = None) -> bytes:
    """A batch's seal: the chain hash (:func:`record_hash`, under the batch's key) of the text
    "seal", the batch, its hash and its number of records, one to a line, after the hash of the
    batch's last record. It says that the batch ends there, with that many records."""
    return record_hash(last_hash, f"seal\n{batch}\n{batch_hash}\n{count}\n".encode(), key)
