"""What every decision of one ``check()``/``review()`` call shares (a batch): the fingerprints of
the rulebook and of the agreement directory, the batch's fields and its hash."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from compliance.bundled import RULES_DIR
from compliance.rulebook.files import fingerprint_files
from compliance.rulebook.files import rulebook_fingerprint as fingerprint_of_rulebook

from .schema import EARLIER_BATCH_COLUMNS, HISTORYLESS_BATCH_COLUMNS
from .store import has_history


def rulebook_fingerprint(rules_dir: Path | str | None = None) -> str:
    return fingerprint_of_rulebook(rules_dir or RULES_DIR)


def agreement_fingerprint(directory: Path | str) -> str:
    root = Path(directory).resolve()
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")]
    return fingerprint_files(files, root)


@dataclass(frozen=True)
class Batch:
    """What every decision recorded by one ``check()``/``review()`` call shares. ``expected``: how
    many decisions the call records (None for a batch of formats 2 and 3, which predate it);
    ``key_id``: the id of the log key its records are keyed with (:mod:`.keys`), None when they
    are not keyed; ``history``: the seller's history the call was given (:func:`history_text`),
    None when it was given none."""

    recorded_at: str
    source: str
    rulebook_fingerprint: str
    agreement_fingerprint: str
    agreement_dir: str
    rules_dir: str
    engine_version: str
    event_columns: tuple[str, ...] | None
    output_columns: tuple[str, ...]
    expected: int | None = None
    key_id: str | None = None
    history: str | None = None

    def canonical(self) -> str:
        """The text the batch's hash is taken over: its fields as a JSON object with sorted keys,
        no spaces, the column lists as JSON arrays, the history as its JSON text (without
        ``expected`` and ``key_id`` for a batch that predates them, and without ``history`` when it
        is None, so that the hash of a batch recorded before them is the one its format stored)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if self.expected is None:
            del fields["expected"], fields["key_id"]
        if self.history is None:
            del fields["history"]
        return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def history_text(sales) -> str | None:
    """A parsed history (``contract.history.SaleHistory``) as canonical JSON text: an array of its
    sales in its order, each an object of the history columns with sorted keys (``sale_date`` as
    YYYY-MM-DD, ``sale_price`` and ``notice_id`` null where not given), no spaces; None for no
    sales. ``parse_history`` reads the text's array back to the same sales."""
    if sales is None or not len(sales):
        return None
    rows = [
        {
            "investor": str(sales.investor[i]),
            "security": str(sales.security[i]),
            "quantity": int(sales.quantity[i]),
            "sale_date": str(sales.sale_date[i]),
            "route": str(sales.route[i]),
            "sale_price": None if sales.sale_price[i] != sales.sale_price[i] else float(sales.sale_price[i]),
            "notice_id": sales.notice_id[i],
        }
        for i in range(len(sales))
    ]
    return json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def unread_history_text(error: str) -> str:
    """The history of a ``check()`` given a seller's history it could not read, as JSON text: an
    object ``{"unread": error}`` (a read history is an array), so that ``replay`` knows the
    decision cannot be judged again with the history it was given."""
    return json.dumps({"unread": error}, ensure_ascii=False, separators=(",", ":"))


def new_batch(
    source: str,
    agreement_dir: Path | str,
    rules_dir: Path | str | None,
    event_columns: Sequence[str] | None,
    output_columns: Sequence[str],
    expected: int,
    key_id: str | None = None,
    history: str | None = None,
) -> Batch:
    """A batch of ``expected`` decisions recorded now, with the fingerprints of the rulebook and
    agreement as they are now, and the ``history`` (:func:`history_text`) the call was given."""
    from compliance._version import __version__
    from compliance.rulebook.loader import RULES_DIR

    rules_dir = Path(rules_dir or RULES_DIR).resolve()
    return Batch(
        recorded_at=datetime.now(UTC).isoformat(timespec="microseconds"),
        source=source,
        rulebook_fingerprint=rulebook_fingerprint(rules_dir),
        agreement_fingerprint=agreement_fingerprint(agreement_dir),
        agreement_dir=str(Path(agreement_dir).resolve()),
        rules_dir=str(rules_dir),
        engine_version=__version__,
        event_columns=None if event_columns is None else tuple(map(str, event_columns)),
        output_columns=tuple(map(str, output_columns)),
        expected=int(expected),
        key_id=key_id,
        history=history,
    )


def stored_batch(
    recorded_at,
    source,
    rulebook_fingerprint,
    agreement_fingerprint,
    agreement_dir,
    rules_dir,
    engine_version,
    event_columns,
    output_columns,
    expected=None,
    key_id=None,
    history=None,
) -> Batch:
    """A batch from its stored fields (the column lists as JSON text)."""
    events, outputs = json.loads(event_columns), json.loads(output_columns)
    if not (events is None or isinstance(events, list)) or not isinstance(outputs, list):
        raise ValueError("column lists must be JSON arrays")
    return Batch(
        recorded_at,
        source,
        rulebook_fingerprint,
        agreement_fingerprint,
        agreement_dir,
        rules_dir,
        engine_version,
        None if events is None else tuple(events),
        tuple(outputs),
        expected,
        key_id,
        history,
    )


def stored_batches(con: sqlite3.Connection, version: int) -> dict[int, tuple[Batch | None, str]]:
    """Each batch of a log of format ``version`` (2 or later) as stored, and what is wrong with it
    or '' (None for a batch whose fields cannot be read)."""
    columns = HISTORYLESS_BATCH_COLUMNS if version >= 4 else EARLIER_BATCH_COLUMNS
    history = "history" if version >= 4 and has_history(con) else "NULL"
    batches: dict[int, tuple[Batch | None, str]] = {}
    for batch_id, *fields, stored, given in con.execute(f"SELECT {', '.join(columns)}, {history} FROM batches"):
        try:
            batch = stored_batch(*fields, history=given)
        except (TypeError, ValueError):
            batches[batch_id] = (None, f"its batch {batch_id} is damaged (column lists that are not JSON arrays)")
            continue
        problem = (
            ""
            if batch.hash == stored
            else (
                f"its batch {batch_id} does not match the batch's hash (the batch's time, source, "
                f"fingerprints, directories, engine version, columns, size, key or history were edited)"
            )
        )
        batches[batch_id] = (batch, problem)
    return batches
