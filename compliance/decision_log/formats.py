"""The two earlier formats, verified and read but not appended to. Format 1: one ``decisions``
table repeating the batch's fields on every record. Format 2: a ``batches`` table and one
``decisions`` row per record."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable

from .batches import stored_batches
from .encoding import _encode
from .schema import DECISION_COLUMNS, FORMAT_1_COLUMNS


def _format_1_records(con: sqlite3.Connection) -> Iterable[tuple[int, str, str, str, str]]:
    for row in con.execute(f"SELECT {', '.join(FORMAT_1_COLUMNS)} FROM decisions ORDER BY seq"):
        yield row[0], row[12], row[13], _format_1_hash(*row[:13]), ""


def _format_1_hash(
    seq,
    recorded_at,
    source,
    batch,
    notice_id,
    event,
    output,
    rulebook_fingerprint,
    agreement_fingerprint,
    agreement_dir,
    rules_dir,
    engine_version,
    prev_hash,
) -> str:
    """Format 1's record hash: sha256 of a JSON object of the record's fields with sorted keys and
    no spaces, in which ``event`` and ``output`` appear as the stored JSON texts, verbatim."""
    s = _encode
    text = (
        f'{{"agreement_dir":{s(agreement_dir)},"agreement_fingerprint":{s(agreement_fingerprint)},'
        f'"batch":{s(batch)},"engine_version":{s(engine_version)},"event":{event},'
        f'"notice_id":{s(notice_id)},"output":{output},"prev_hash":{s(prev_hash)},'
        f'"recorded_at":{s(recorded_at)},"rulebook_fingerprint":{s(rulebook_fingerprint)},'
        f'"rules_dir":{s(rules_dir)},"seq":{int(seq)},"source":{s(source)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _format_2_records(con: sqlite3.Connection) -> Iterable[tuple[int, str, str, str, str]]:
    batches = {
        batch_id: (batch.hash if batch else "", problem)
        for batch_id, (batch, problem) in stored_batches(con, 2).items()
    }
    for seq, batch_id, notice_id, event, output, prev_hash, stored_hash in con.execute(
        f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions ORDER BY seq"
    ):
        batch_hash, problem = batches.get(batch_id, ("", f"its batch {batch_id} is missing"))
        yield (
            seq,
            prev_hash,
            stored_hash,
            _format_2_hash(prev_hash, seq, batch_id, batch_hash, event, output, notice_id),
            problem,
        )


def _format_2_hash(
    prev_hash: str, seq: int, batch: int, batch_hash: str, event: str, output: str, notice_id: str
) -> str:
    """Format 2's record hash: sha256 (hex) of the record's fields joined by newlines in this
    order, UTF-8 (``notice_id``, which may hold a newline, last)."""
    return hashlib.sha256(
        f"{prev_hash}\n{seq}\n{batch}\n{batch_hash}\n{event}\n{output}\n{notice_id}".encode()
    ).hexdigest()


READ = {
    1: f"SELECT {', '.join(FORMAT_1_COLUMNS)}, NULL AS event_columns, NULL AS output_columns FROM decisions",
    2: (
        "SELECT d.seq, b.recorded_at, b.source, d.batch, d.notice_id, d.event, d.output, "
        "b.rulebook_fingerprint, b.agreement_fingerprint, b.agreement_dir, b.rules_dir, b.engine_version, "
        "d.prev_hash, d.hash, b.event_columns, b.output_columns "
        "FROM decisions d LEFT JOIN batches b ON b.batch = d.batch"
    ),
}
"""Formats 1 and 2: each record with the columns of :data:`RECORD_COLUMNS`, then the batch's column
lists."""
