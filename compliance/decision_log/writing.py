"""Appending records to the chain: one chunk per transaction, the batch row with the first, the
batch's seal with the last, and a writer thread that writes the chunks already encoded while the
caller encodes and hashes the next."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .batches import Batch
from .chain import Decisions, _stored_column, record_chain, seal_hash
from .encoding import _encode
from .keys import LogKey
from .schema import BATCH_COLUMNS, CHUNK_COLUMNS, SEAL_COLUMNS
from .store import open_for_writing

INSERT_BATCH = (
    f"INSERT INTO batches ({', '.join(BATCH_COLUMNS[1:])}) VALUES ({', '.join('?' * (len(BATCH_COLUMNS) - 1))})"
)
INSERT_CHUNK = f"INSERT INTO chunks VALUES ({', '.join('?' * len(CHUNK_COLUMNS))})"
INSERT_SEAL = f"INSERT INTO seals VALUES ({', '.join('?' * len(SEAL_COLUMNS))})"
LAST_RECORD = "SELECT first_seq + count - 1, substr(hashes, -32) FROM chunks ORDER BY first_seq DESC LIMIT 1"


def append(path: Path | str, batch: Batch, chunks: Iterable[Decisions], key: LogKey | None = None) -> int:
    """Append each of ``chunks`` as one chunk row in a transaction of its own; returns the number
    of records appended, once every chunk is committed. The batch row, which declares how many
    records the batch holds (``batch.expected``), is written with the first non-empty chunk, so a
    call that appends nothing leaves no batch; the batch's seal is written with the chunk that
    brings it to that number, so a batch whose chunks stop short (the process killed, an error in
    ``chunks``) stays unsealed, with whole chunks. A chunk that would go past that number is
    refused (ValueError) and the batch stays unsealed. ``key``: the log key the records are keyed
    with, the one whose id the batch holds (None for a batch that is not keyed).

    A list of chunks is written by the calling thread. Any other iterable (a generator encoding
    each chunk as it is asked for) is consumed, and each chunk hashed ahead, by the calling thread
    while a writer thread writes the chunks already made, so that encoding and hashing one chunk
    overlap writing the one before (the C loops and SQLite release the GIL). At most two chunks
    wait for the writer; an error in it is raised here, and stops the chunks' consumption; an
    error in the iterable or the hashing stops the writer after the chunk it is writing."""
    if batch.expected is None or batch.expected < 0:
        raise ValueError("a batch must declare how many records it holds")
    if batch.key_id != (None if key is None else key.id):
        raise ValueError("the batch's key id is not the id of the key given")
    con = open_for_writing(path)
    try:
        if isinstance(chunks, (list, tuple)):
            n, batch_id = 0, None
            for decisions in chunks:
                if len(decisions):
                    batch_id = _append_chunk(con, batch, key, batch_id, n, decisions)
                    n += len(decisions)
            return n
        return _append_in_thread(con, batch, key, chunks)
    finally:
        con.close()


@dataclass(frozen=True)
class _Guess:
    """A chunk's hashes computed ahead of its transaction, from where the chain was expected to be:
    valid if the chunk's first record is ``first_seq``, of batch ``batch_id``, after the record
    whose hash is ``prev`` (not so when another writer appended in between)."""

    first_seq: int
    prev: bytes
    batch_id: int
    hashes: bytes


def _append_in_thread(con: sqlite3.Connection, batch: Batch, key: LogKey | None, chunks: Iterable[Decisions]) -> int:
    pending: queue.Queue[tuple[Decisions, _Guess] | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        batch_id, written = None, 0
        while (item := pending.get()) is not None:
            if failed or stop.is_set():
                continue  # drained, not written
            try:
                batch_id = _append_chunk(con, batch, key, batch_id, written, *item)
                written += len(item[0])
            except BaseException as exc:  # raised by the calling thread
                failed.append(exc)

    # The calling thread hashes each chunk as well as encoding it, expecting the chain to go on from
    # the log's last record as it is now, in a batch numbered next, and the writer's records to
    # follow each other; the writer checks that in each transaction and hashes again if not. So
    # hashing, like encoding, overlaps writing, and the two threads' work is about even.
    last_seq, prev = con.execute(LAST_RECORD).fetchone() or (0, bytes(32))
    batch_id = con.execute("SELECT coalesce(max(batch), 0) + 1 FROM batches").fetchone()[0]
    writer = threading.Thread(target=write, name="decision-log-writer", daemon=True)
    writer.start()
    n = 0
    try:
        for decisions in chunks:
            if failed:
                break
            if len(decisions):
                hashes = record_chain(
                    prev,
                    last_seq + 1,
                    batch_id,
                    batch.hash,
                    decisions.notice_ids,
                    decisions.events,
                    decisions.outputs,
                    key,
                )
                pending.put((decisions, _Guess(last_seq + 1, prev, batch_id, hashes)))
                last_seq, prev = last_seq + len(decisions), hashes[-32:]
                n += len(decisions)
    except BaseException:
        stop.set()
        raise
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]
    return n


def _append_chunk(
    con: sqlite3.Connection,
    batch: Batch,
    key: LogKey | None,
    batch_id: int | None,
    written: int,
    decisions: Decisions,
    guess: _Guess | None = None,
) -> int:
    """Append one chunk in one transaction (and the batch row first, when ``batch_id`` is None; the
    seal after it, when the chunk brings the ``written`` records of the batch to those it
    declares); returns the batch's id. The columns are laid out before the write lock is taken;
    the seqs and hashes, which depend on the last record, after (unless ``guess`` holds them)."""
    if written + len(decisions) > batch.expected:
        raise ValueError(
            f"a batch that declares {batch.expected:,} records was given "
            f"{written + len(decisions):,} or more; it is left unsealed"
        )
    columns = [_stored_column(c) for c in (decisions.notice_ids, decisions.events, decisions.outputs)]
    con.execute("BEGIN IMMEDIATE")
    try:
        if batch_id is None:
            batch_id = con.execute(
                INSERT_BATCH,
                (
                    batch.recorded_at,
                    batch.source,
                    batch.rulebook_fingerprint,
                    batch.agreement_fingerprint,
                    batch.agreement_dir,
                    batch.rules_dir,
                    batch.engine_version,
                    _encode(batch.event_columns),
                    _encode(batch.output_columns),
                    batch.expected,
                    batch.key_id,
                    batch.hash,
                    batch.history,
                ),
            ).lastrowid
        last_seq, prev = con.execute(LAST_RECORD).fetchone() or (0, bytes(32))
        if guess is not None and (guess.first_seq, guess.prev, guess.batch_id) == (last_seq + 1, prev, batch_id):
            hashes = guess.hashes
        else:
            hashes = record_chain(
                prev, last_seq + 1, batch_id, batch.hash, decisions.notice_ids, decisions.events, decisions.outputs, key
            )
        con.execute(INSERT_CHUNK, (last_seq + 1, len(decisions), batch_id, *columns, hashes))
        if written + len(decisions) == batch.expected:
            con.execute(
                INSERT_SEAL,
                (batch_id, batch.expected, seal_hash(hashes[-32:], batch_id, batch.hash, batch.expected, key)),
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return batch_id
