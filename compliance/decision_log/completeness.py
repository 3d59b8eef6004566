"""Whether each batch is complete. A batch of the current format declares, in its row written with
its first records, how many records it will hold, and is sealed (:func:`chain.seal_hash`) in the
transaction that writes its last ones; a batch whose recording stopped before its end (the process
killed or interrupted, an error) has fewer records and no seal. Batches of earlier formats declare
nothing: they predate seals, and whether they are complete is not known."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SEALED, INCOMPLETE, PREDATES_SEALS = "sealed", "incomplete", "predates seals"
"""A batch's state as ``read_log`` shows it on each record (``batch_state``)."""

BATCH_COMPLETENESS = """
SELECT b.batch, b.source, b.recorded_at, b.expected, coalesce(c.found, 0), c.last_hash, s.count, s.hash
FROM batches b
LEFT JOIN (SELECT g.batch, g.found, substr(k.hashes, -32) AS last_hash
           FROM (SELECT batch, sum(count) AS found, max(first_seq) AS last_chunk FROM chunks GROUP BY batch) g
           JOIN chunks k ON k.first_seq = g.last_chunk) c ON c.batch = b.batch
LEFT JOIN seals s ON s.batch = b.batch
ORDER BY b.batch"""


@dataclass(frozen=True)
class BatchCompleteness:
    """One batch as stored: the records it declares (``expected``), those found in the log, the
    stored hash of its last record, and its seal's count and hash (None when it has no seal)."""

    batch: int
    source: str
    recorded_at: str
    expected: int | None
    found: int
    last_hash: bytes | None
    seal_count: int | None
    seal_hash: bytes | None

    @property
    def state(self) -> str:
        """:data:`SEALED` when its seal counts the records it declares and all of them are in the
        log, :data:`PREDATES_SEALS` for a batch that declares nothing, else :data:`INCOMPLETE`."""
        if self.expected is None:
            return PREDATES_SEALS
        if self.seal_count is not None and self.seal_count == self.expected == self.found:
            return SEALED
        return INCOMPLETE

    def __str__(self) -> str:
        return (
            f"batch {self.batch} ({self.source}, recorded {self.recorded_at}): {self.found:,} of "
            f"{self.expected:,} records"
        )


def batch_completeness(con: sqlite3.Connection, version: int) -> dict[int, BatchCompleteness]:
    """Each batch of a log of format ``version`` by its number; empty for the formats before 4,
    whose batches all predate seals."""
    if version < 4:
        return {}
    return {row[0]: BatchCompleteness(*row) for row in con.execute(BATCH_COMPLETENESS)}
