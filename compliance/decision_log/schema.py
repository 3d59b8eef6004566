"""The decision log's file layout: the tables and columns of each format this engine reads, the
schema of the one it writes, and the error for a file that is not a usable log."""

from __future__ import annotations

APPLICATION_ID = 0x52434C47  # 'RCLG': resale-compliance log
FORMAT = 4
"""The format this engine writes (``PRAGMA user_version``); it also reads formats 1, 2 and 3."""
GENESIS = "0" * 64
"""The ``prev_hash`` of record 1, as read (hex)."""

EARLIER_BATCH_COLUMNS = (
    "batch",
    "recorded_at",
    "source",
    "rulebook_fingerprint",
    "agreement_fingerprint",
    "agreement_dir",
    "rules_dir",
    "engine_version",
    "event_columns",
    "output_columns",
    "hash",
)
"""The ``batches`` table of formats 2 and 3, whose batches do not declare their size."""
HISTORYLESS_BATCH_COLUMNS = (*EARLIER_BATCH_COLUMNS[:-1], "expected", "key_id", "hash")
"""The ``batches`` table of a format 4 log written before batches recorded the seller's history;
such a log gains the ``history`` column (NULL for its batches) when it is next appended to."""
BATCH_COLUMNS = (*HISTORYLESS_BATCH_COLUMNS, "history")
DECISION_COLUMNS = ("seq", "batch", "notice_id", "event", "output", "prev_hash", "hash")
CHUNK_COLUMNS = ("first_seq", "count", "batch", "notice_ids", "events", "outputs", "hashes")
SEAL_COLUMNS = ("batch", "count", "hash")
FORMAT_1_COLUMNS = (
    "seq",
    "recorded_at",
    "source",
    "batch",
    "notice_id",
    "event",
    "output",
    "rulebook_fingerprint",
    "agreement_fingerprint",
    "agreement_dir",
    "rules_dir",
    "engine_version",
    "prev_hash",
    "hash",
)
LAYOUTS = {
    1: {"decisions": FORMAT_1_COLUMNS},
    2: {"batches": EARLIER_BATCH_COLUMNS, "decisions": DECISION_COLUMNS},
    3: {"batches": EARLIER_BATCH_COLUMNS, "chunks": CHUNK_COLUMNS},
    4: {"batches": BATCH_COLUMNS, "chunks": CHUNK_COLUMNS, "seals": SEAL_COLUMNS},
}
"""The tables and columns of each format this engine reads."""
OLDER_LAYOUTS = {(4, "batches"): HISTORYLESS_BATCH_COLUMNS}
"""The other columns a table of a format may have: those of a log written before a column was added."""
RECORD_COLUMNS = (*FORMAT_1_COLUMNS, "batch_state", "history")
"""The columns of a record as read (:func:`read_log`), whichever format the file has (``history``
None where the batch was given none or its format did not record it)."""

ADD_HISTORY = "ALTER TABLE batches ADD COLUMN history TEXT"
"""Brings a format 4 log's ``batches`` table from :data:`HISTORYLESS_BATCH_COLUMNS` to
:data:`BATCH_COLUMNS`; its batches' hashes are unchanged (a NULL history is not hashed)."""

SCHEMA = (
    """
CREATE TABLE batches (
    batch INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    source TEXT NOT NULL,
    rulebook_fingerprint TEXT NOT NULL,
    agreement_fingerprint TEXT NOT NULL,
    agreement_dir TEXT NOT NULL,
    rules_dir TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    event_columns TEXT NOT NULL,
    output_columns TEXT NOT NULL,
    expected INTEGER NOT NULL,
    key_id TEXT,
    hash TEXT NOT NULL,
    history TEXT
)""",
    """
CREATE TABLE chunks (
    first_seq INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    notice_ids BLOB NOT NULL,
    events BLOB NOT NULL,
    outputs BLOB NOT NULL,
    hashes BLOB NOT NULL
)""",
    """
CREATE TABLE seals (
    batch INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    hash BLOB NOT NULL
)""",
)


class LogError(ValueError):
    """A file that is not a usable decision log (missing, corrupt, foreign, another format), or a
    log key that cannot be used."""
