"""The decision log: every decision appended to an embedded SQLite database, hash-chained,
verifiable, readable as a DataFrame, and replayable against the current rules.

A *record* is one decision. Format 4, the one this engine writes, stores consecutive records in
chunks, many to an SQLite row, in three tables. ``batches``: one row per ``check()`` or ``review()``
call that recorded decisions, holding what all of that call's decisions share::

    batch                  1, 2, 3, ...
    recorded_at            UTC ISO time at which the call began recording
    source                 'check' or 'review'
    rulebook_fingerprint   sha256 over the rule and parameter files, sorted by relative path
    agreement_fingerprint  sha256 over the agreement directory's files, sorted by relative path
    agreement_dir, rules_dir   the directories used (absolute paths)
    engine_version         ``compliance.__version__``
    event_columns          JSON array: the names of the values in each decision's ``event``
                           (JSON null when check() was given an event that is not a mapping)
    output_columns         JSON array: the names of the values in each decision's ``output``
    expected               how many decisions the call records (1 for check(), one per notice
                           for review()), written before the first of them
    key_id                 the id of the log key the batch's records are keyed with (``keys``),
                           NULL when they are not keyed
    hash                   sha256 of the batch's canonical JSON (:meth:`Batch.canonical`)
    history                JSON array: the seller's history the call was given, as parsed
                           (:func:`history_text`), NULL when it was given none; ``replay``
                           gives it back. A format 4 log written before this column gains it
                           (NULL for its batches, whose hashes do not change) when appended to

``chunks``: one row per run of consecutive records of one batch, written in one transaction::

    first_seq              the seq of the chunk's first record (records are numbered 1, 2, 3, ...
                           without gaps, in chain order)
    count                  how many records the chunk holds
    batch                  the ``batches`` row of the call that made the decisions
    notice_ids             UTF-8, one line per record: the output row's notice_id as a JSON string
    events                 UTF-8, one line per record: the input event as a JSON array of values in
                           ``event_columns`` order
    outputs                UTF-8, one line per record: the full output row (``Decision.to_row()`` /
                           a review row) as a JSON array of values in ``output_columns`` order
    hashes                 the records' chain hashes, 32-byte sha256 digests end to end

``seals``: one row per batch whose every record was written, in the transaction that wrote its
last chunk (a check's batch row, record and seal are one transaction)::

    batch                  the batch
    count                  its records, as it declared
    hash                   :func:`seal_hash` over the hash of the batch's last record

Every line ends with a newline, which JSON text never holds unescaped. A record's hash is sha256 of
the hash of the record before it (32 zero bytes for record 1) followed by the record's text
(:func:`record_texts`: its seq, batch, the batch's hash, notice_id, event and output), so it covers
every field of the record, its place in the chain and its batch; with ``COMPLIANCE_LOG_KEY`` set
when the batch is recorded, HMAC-SHA256 under that key of the same bytes (``keys``). A batch
without a seal is incomplete (``completeness``): its recording stopped before its end.
:func:`verify` names each one with its counts, :func:`read_log` marks its records
(``batch_state``), ``compliance.running.replay`` leaves them out. :func:`head` is the last record's hash, which
``verify(expect_head=)`` holds the log to, so that records deleted from its end, or an end
rewritten and hashed again, are found.

Format 3 (the same, without ``expected``, ``key_id`` and seals: its batches predate seals, and
whether each was recorded to its end is not known), format 2 (one row per record in a
``decisions`` table) and format 1 (a single ``decisions`` table repeating the batch's fields on
every record) are still verified, read and replayed, but not appended to. The file is marked as
ours by ``PRAGMA application_id`` and its format by ``PRAGMA user_version``; any other file is
refused (:class:`LogError`).

Writers take the write lock with ``BEGIN IMMEDIATE``, read the last record inside the transaction
and append one chunk (default 10,000 records) per transaction, so concurrent writers interleave whole
chunks into one chain and a writer killed mid-batch leaves whole chunks only.

Recording a review is made cheap four ways, none of which changes a stored byte. The optional C
extension ``compliance.decision_log._loops`` (``_loops.c``, built by ``pip install``) joins the
rows' JSON lines from Arrow buffers and Python strings (``encoding._Lines``) and computes the hash
chain straight from the lines' buffers with OpenSSL's sha256 or HMAC (:func:`record_chain`);
without it the same bytes come from Arrow's join and :func:`record_texts`/:func:`chain_hashes`,
which remain the reference the tests hold the C code to. ``append_review`` encodes the rows a chunk at a time
while a writer thread writes the chunks already encoded (:func:`append`), both threads mostly
outside the GIL. And the encoding thread also hashes each chunk, guessing where the chain will
be; the writer uses those hashes only when the guess is what it finds inside its transaction.
Finally ``review(record=)`` does not wait for the whole result: a :class:`ReviewRecorder` takes
each run of output rows as the review makes it, so the recording overlaps the review's last phase.

The modules, one job each: ``schema`` (the formats' tables and columns), ``encoding`` (values as
JSON lines), ``batches`` (what a call's decisions share, fingerprints), ``keys`` (the log key),
``chain`` (record texts, the hash chain, seals), ``store`` (opening a log), ``writing`` (appending
chunks and seals), ``recording`` (what ``check()`` and ``review()`` call), ``completeness``
(whether each batch is sealed), ``verify``, ``read``, ``formats`` (formats 1 and 2) and
``_loops.c`` (the C loops). Replaying a log re-runs the engine, so it lives with the running code
(``compliance.running.replay``).
"""

from .batches import Batch, agreement_fingerprint, fingerprint_files, history_text, new_batch, rulebook_fingerprint
from .chain import Decisions, chain_hashes, record_chain, record_hash, record_texts, seal_hash
from .completeness import INCOMPLETE, PREDATES_SEALS, SEALED
from .encoding import json_rows, json_values
from .keys import KEY_VARIABLE, LogKey, log_key
from .read import head, read_log
from .recording import CHUNK, ReviewRecorder, append_check, append_review
from .schema import (
    APPLICATION_ID,
    BATCH_COLUMNS,
    CHUNK_COLUMNS,
    DECISION_COLUMNS,
    EARLIER_BATCH_COLUMNS,
    FORMAT,
    FORMAT_1_COLUMNS,
    GENESIS,
    LAYOUTS,
    RECORD_COLUMNS,
    SEAL_COLUMNS,
    LogError,
)
from .store import open_for_reading, open_for_writing
from .verify import Verification, verify
from .writing import append

__all__ = [
    "APPLICATION_ID",
    "BATCH_COLUMNS",
    "CHUNK",
    "CHUNK_COLUMNS",
    "DECISION_COLUMNS",
    "EARLIER_BATCH_COLUMNS",
    "FORMAT",
    "FORMAT_1_COLUMNS",
    "GENESIS",
    "INCOMPLETE",
    "KEY_VARIABLE",
    "LAYOUTS",
    "PREDATES_SEALS",
    "RECORD_COLUMNS",
    "SEALED",
    "SEAL_COLUMNS",
    "Batch",
    "Decisions",
    "LogError",
    "LogKey",
    "ReviewRecorder",
    "Verification",
    "agreement_fingerprint",
    "append",
    "append_check",
    "append_review",
    "chain_hashes",
    "fingerprint_files",
    "head",
    "json_rows",
    "json_values",
    "log_key",
    "new_batch",
    "history_text",
    "open_for_reading",
    "open_for_writing",
    "read_log",
    "record_chain",
    "record_hash",
    "record_texts",
    "rulebook_fingerprint",
    "seal_hash",
    "verify",
]
