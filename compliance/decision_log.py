"""The decision log: every decision appended to an embedded SQLite database, hash-chained,
verifiable, readable as a DataFrame, and replayable against the current rules.

A *record* is one decision. Format 3, the one this engine writes, stores consecutive records in
chunks, many to an SQLite row, in two tables. ``batches``: one row per ``check()`` or ``review()``
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
    hash                   sha256 of the batch's canonical JSON (:meth:`Batch.canonical`)

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

Every line ends with a newline, which JSON text never holds unescaped. A record's hash is sha256 of
the hash of the record before it (32 zero bytes for record 1) followed by the record's text
(:func:`record_texts`: its seq, batch, the batch's hash, notice_id, event and output), so it covers
every field of the record, its place in the chain and its batch.

Format 2 (one row per record in a ``decisions`` table) and format 1 (a single ``decisions`` table
repeating the batch's fields on every record) are still verified, read and replayed, but not
appended to. The file is marked as ours by ``PRAGMA application_id`` and its format by
``PRAGMA user_version``; any other file is refused (:class:`LogError`).

Writers take the write lock with ``BEGIN IMMEDIATE``, read the last record inside the transaction
and append one chunk (default 10,000 records) per transaction, so concurrent writers interleave whole
chunks into one chain and a writer killed mid-batch leaves whole chunks only.

Recording a review is made cheap four ways, none of which changes a stored byte. The optional C
extension ``compliance._decision_log`` (``_decision_log.c``, built by ``pip install``) joins the
rows' JSON lines from Arrow buffers and Python strings (:class:`_Lines`) and computes the hash
chain straight from the lines' buffers with OpenSSL's sha256 (:func:`record_chain`); without it
the same bytes come from Arrow's join and :func:`record_texts`/:func:`chain_hashes`, which remain
the reference the tests hold the C code to. ``append_review`` encodes the rows a chunk at a time
while a writer thread writes the chunks already encoded (:func:`append`), both threads mostly
outside the GIL. And the encoding thread also hashes each chunk, guessing where the chain will
be; the writer uses those hashes only when the guess is what it finds inside its transaction.
Finally ``review(record=)`` does not wait for the whole result: a :class:`ReviewRecorder` takes
each run of output rows as the review makes it, so the recording overlaps the review's last phase.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:
    from . import _decision_log as _c         # the C loops (compliance/_decision_log.c), optional
except ImportError:                            # not built: the same bytes from the Python versions
    _c = None
_c_chain = _c.chain if _c else None
_c_lines = _c.lines if _c else None

APPLICATION_ID = 0x52434C47          # 'RCLG': resale-compliance log
FORMAT = 3
"""The format this engine writes (``PRAGMA user_version``); it also reads formats 1 and 2."""
GENESIS = "0" * 64
"""The ``prev_hash`` of record 1, as read (hex)."""
CHUNK = 10_000
DECISION_FIELDS = ("outcome", "failed_rules", "citations", "earliest_allowed_date", "delivery_date",
                   "delivery_late_business_days", "legend_removal", "dwac_eligible", "regime", "error")
"""The output fields replay compares (``reasons`` is prose derived from them and is not compared)."""

BATCH_COLUMNS = ("batch", "recorded_at", "source", "rulebook_fingerprint", "agreement_fingerprint",
                 "agreement_dir", "rules_dir", "engine_version", "event_columns", "output_columns", "hash")
DECISION_COLUMNS = ("seq", "batch", "notice_id", "event", "output", "prev_hash", "hash")
CHUNK_COLUMNS = ("first_seq", "count", "batch", "notice_ids", "events", "outputs", "hashes")
FORMAT_1_COLUMNS = ("seq", "recorded_at", "source", "batch", "notice_id", "event", "output",
                    "rulebook_fingerprint", "agreement_fingerprint", "agreement_dir", "rules_dir",
                    "engine_version", "prev_hash", "hash")
LAYOUTS = {1: {"decisions": FORMAT_1_COLUMNS},
           2: {"batches": BATCH_COLUMNS, "decisions": DECISION_COLUMNS},
           3: {"batches": BATCH_COLUMNS, "chunks": CHUNK_COLUMNS}}
"""The tables and columns of each format this engine reads."""
RECORD_COLUMNS = FORMAT_1_COLUMNS
"""The columns of a record as read (:func:`read_log`), whichever format the file has."""

SCHEMA = ("""
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
    hash TEXT NOT NULL
)""", """
CREATE TABLE chunks (
    first_seq INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    notice_ids BLOB NOT NULL,
    events BLOB NOT NULL,
    outputs BLOB NOT NULL,
    hashes BLOB NOT NULL
)""")


class LogError(ValueError):
    """A file that is not a usable decision log (missing, corrupt, foreign, another format)."""


# --- fingerprints ---------------------------------------------------------------------------------

def fingerprint_files(files: Iterable[Path], root: Path) -> str:
    """sha256 over each file's path relative to ``root`` and its bytes, sorted by that path."""
    digest = hashlib.sha256()
    for rel, path in sorted((Path(p).resolve().relative_to(root).as_posix(), Path(p)) for p in files):
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def rulebook_fingerprint(rules_dir: Path | str | None = None) -> str:
    from .check import engine_for
    from .rulebook import RULES_DIR
    files = engine_for(rules_dir or RULES_DIR).rulebook.files
    root = Path(os.path.commonpath([str(Path(f).resolve()) for f in files]))
    return fingerprint_files(files, root)


def agreement_fingerprint(directory: Path | str) -> str:
    root = Path(directory).resolve()
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
             and not p.name.startswith(".")]
    return fingerprint_files(files, root)


# --- JSON encoding --------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A JSON-ready Python value (numpy scalars, dates, NaN/NaT as null)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    return _encode(value if type(value) is str else _plain(value))


def _encode_column(series: pd.Series) -> np.ndarray:
    """Each value of a column as JSON text, encoding every distinct value of each type once
    (equality alone would merge True, 1 and 1.0)."""
    values = series.to_numpy(dtype=object)
    try:
        codes, _ = pd.factorize(values)
    except TypeError:                # unhashable values (lists, dicts): one by one
        return np.array([_dumps(v) for v in values], dtype=object)
    types, _ = pd.factorize(np.fromiter(map(type, values), dtype=object, count=len(values)))
    groups, _ = pd.factorize((codes + 1) * (types.max() + 1) + types)
    _, first = np.unique(groups, return_index=True)
    return np.array([_dumps(values[i]) for i in first], dtype=object)[groups]


def _verbatim_text(series: pd.Series) -> pa.StringArray | None:
    """The column as Arrow strings when every value is a string that JSON holds verbatim between
    quotes (no quote, backslash or control character); otherwise None."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return None
    try:
        text = pa.array(series, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if isinstance(text, pa.ChunkedArray):   # a review's text columns come in chunks
        text = text.combine_chunks()
    if text.null_count:
        return None
    data = text.buffers()[2]             # the strings' bytes end to end (None when all are empty)
    if data is None or not data.size:
        return text
    if _c is not None:
        return text if _c.verbatim(data) else None
    if np.frombuffer(data, dtype=np.uint8).min() < 0x20:
        return None
    contents = data.to_pybytes()         # searched by memchr, no array per test
    return None if b'"' in contents or b"\\" in contents else text


def _buffers(array: pa.Array) -> tuple[pa.Buffer, pa.Buffer | None, int]:
    """A string array as the C loops read it: its offsets, its data (None when it holds no bytes),
    its offset."""
    return array.buffers()[1], array.buffers()[2], array.offset


class _Lines:
    """The values of ``columns`` (Series of ``rows`` values each) as JSON lines, row by row:
    ``opening``, the row's values' JSON texts separated by commas, ``closing`` and a newline.

    Columns of plain strings are joined without a Python step per value; any other column is
    encoded once per distinct value (NaN, None and NaT as null, numpy scalars as numbers, dates
    ISO). Rows are encoded a range at a time (:meth:`lines`) and each range gets the bytes it gets
    when all rows are encoded at once: whether a column is plain strings, and the text of each
    distinct value, are decided over the whole column. With the C extension the rows are joined
    by C, which also writes an object column's strings, booleans and nulls itself; without it,
    by Arrow, all rows at once."""

    def __init__(self, columns: Sequence[pd.Series], rows: int, opening: str, closing: str):
        self.columns = list(columns)
        self.rows, self.opening, self.closing = rows, opening, closing
        # per column: ("text", its verbatim Arrow strings), ("objects", its values, for C to
        # write) or ("encoded", its values' JSON texts as Arrow strings, None until needed)
        self.kinds: list[tuple[str, Any]] = []
        if _c_lines is not None:
            self.kinds = [("objects", c.to_numpy(dtype=object)) if c.dtype == object else self._kind(c)
                          for c in self.columns]

    @staticmethod
    def _kind(column: pd.Series) -> tuple[str, Any]:
        text = _verbatim_text(column)
        return ("encoded", None) if text is None else ("text", text)

    @cached_property
    def _all(self) -> pa.StringArray:
        """All rows, joined by Arrow (without the C extension)."""
        return _arrow_lines(self.columns, self.opening, self.closing)

    def lines(self, start: int = 0, stop: int | None = None) -> pa.StringArray:
        """Rows ``start`` to ``stop`` (default: to the end)."""
        stop = self.rows if stop is None else min(stop, self.rows)
        n = max(stop - start, 0)
        if not n:
            return pa.array([], type=pa.string())
        if not self.columns:
            return pa.array([self.opening + self.closing + "\n"] * n, type=pa.string())
        if _c_lines is None:
            return self._all.slice(start, n)
        while True:
            pieces: list[Any] = []
            literal = self.opening       # the text between the previous column's values and the next
            for j, (kind, source) in enumerate(self.kinds):
                if kind == "text":
                    pieces += [(literal + '"').encode(), _buffers(source.slice(start, n))]
                    literal = '",'
                    continue
                if kind == "objects":
                    values = np.ascontiguousarray(source[start:stop])
                else:
                    if source is None:
                        source = pa.array(_encode_column(self.columns[j]), type=pa.string())
                        self.kinds[j] = (kind, source)
                    values = _buffers(source.slice(start, n))
                pieces += [literal.encode(), values]
                literal = ","
            pieces.append((literal[:-1] + self.closing + "\n").encode())
            try:
                joined = _c_lines(n, pieces)
            except OverflowError:        # 2 GiB of text or more: as Arrow joins it
                return self._all.slice(start, n)
            if isinstance(joined, int):  # an object column C does not write: decided as Arrow does
                j = joined // 2
                self.kinds[j] = self._kind(self.columns[j])
                continue
            offsets, data = joined
            return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _arrow_lines(columns: Sequence[pd.Series], opening: str, closing: str) -> pa.StringArray:
    """:meth:`_Lines.lines` of all rows by Arrow's join (the columns hold at least one row)."""
    pieces: list[Any] = []
    literal = opening                # the text between the previous column's values and the next
    for column in columns:
        text = _verbatim_text(column)
        if text is None:
            pieces += [literal, pa.array(_encode_column(column), type=pa.string())]
            literal = ","
        else:
            pieces += [literal + '"', text]
            literal = '",'
    pieces.append(literal[:-1] + closing + "\n")
    return pc.binary_join_element_wise(*pieces, "")


def json_values(series: pd.Series) -> pa.StringArray:
    """Each value of ``series`` as a JSON line (its JSON text followed by a newline), encoded as
    :func:`json_rows` encodes it."""
    return _Lines([series], len(series), "", "").lines()


def json_rows(frame: pd.DataFrame) -> pa.StringArray:
    """Each row of ``frame`` as a JSON line: the JSON array of its values, in column order, followed
    by a newline (see :class:`_Lines`)."""
    return _row_lines(frame).lines()


def _row_lines(frame: pd.DataFrame) -> _Lines:
    return _Lines([frame.iloc[:, j] for j in range(frame.shape[1])], len(frame), "[", "]")


# --- batches, records and the chain -----------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """What every decision recorded by one ``check()``/``review()`` call shares."""
    recorded_at: str
    source: str
    rulebook_fingerprint: str
    agreement_fingerprint: str
    agreement_dir: str
    rules_dir: str
    engine_version: str
    event_columns: tuple[str, ...] | None
    output_columns: tuple[str, ...]

    def canonical(self) -> str:
        """The text the batch's hash is taken over: its fields as a JSON object with sorted keys,
        no spaces, the column lists as JSON arrays."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


def new_batch(source: str, agreement_dir: Path | str, rules_dir: Path | str | None,
              event_columns: Sequence[str] | None, output_columns: Sequence[str]) -> Batch:
    """A batch recorded now, with the fingerprints of the rulebook and agreement as they are now."""
    from . import __version__
    from .rulebook import RULES_DIR
    rules_dir = Path(rules_dir or RULES_DIR).resolve()
    return Batch(recorded_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"), source=source,
                 rulebook_fingerprint=rulebook_fingerprint(rules_dir),
                 agreement_fingerprint=agreement_fingerprint(agreement_dir),
                 agreement_dir=str(Path(agreement_dir).resolve()), rules_dir=str(rules_dir),
                 engine_version=__version__,
                 event_columns=None if event_columns is None else tuple(map(str, event_columns)),
                 output_columns=tuple(map(str, output_columns)))


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
        return cls(json_values(pd.Series(list(notice_ids), dtype=object)),
                   pa.array([e + "\n" for e in events], type=pa.string()),
                   pa.array([o + "\n" for o in outputs], type=pa.string()))

    def __len__(self) -> int:
        return len(self.notice_ids)

    def slice(self, start: int, length: int) -> Decisions:
        return Decisions(self.notice_ids.slice(start, length), self.events.slice(start, length),
                         self.outputs.slice(start, length))


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


def record_texts(first_seq: int, batch: int, batch_hash: str, notice_ids: pa.Array, events: pa.Array,
                 outputs: pa.Array) -> list[bytes]:
    """Each record's text, UTF-8, that its hash is taken over: its seq (``first_seq`` for the first
    of the columns' records, then one more for each), batch and the batch's hash (hex), each
    followed by a newline, then its notice_id, event and output lines. No line holds a newline
    but the one ending it, so the text reads back one way only."""
    if not len(notice_ids):
        return []
    seqs = pc.cast(pc.cast(pa.array(np.arange(first_seq, first_seq + len(notice_ids), dtype=np.int64)),
                           pa.string()), pa.binary())
    shared = pa.scalar(f"\n{batch}\n{batch_hash}\n".encode(), pa.binary())
    lines = [pc.cast(c, pa.binary()) for c in (notice_ids, events, outputs)]
    texts = pc.binary_join_element_wise(seqs, shared, *lines, b"\0", b"")   # JSON lines hold no NUL byte
    records = texts.buffers()[2].to_pybytes().split(b"\0")
    records.pop()
    return records


def record_hash(prev_hash: bytes, text: bytes) -> bytes:
    """A record's chain hash: sha256 (32-byte digest) of the record before it's hash and the
    record's text (:func:`record_texts`)."""
    return hashlib.sha256(prev_hash + text).digest()


def chain_hashes(prev_hash: bytes, texts: Iterable[bytes]) -> bytes:
    """The chain hashes of consecutive records after the one whose hash is ``prev_hash``, 32 bytes
    each, end to end: :func:`record_hash` applied along the chain."""
    sha = hashlib.sha256
    hashes = []
    for text in texts:
        prev_hash = sha(prev_hash + text).digest()
        hashes.append(prev_hash)
    return b"".join(hashes)


_OFFSET_TYPES = (pa.string(), pa.binary())
"""The array types whose buffers the C chain reads (32-bit offsets)."""


def record_chain(prev_hash: bytes, first_seq: int, batch: int, batch_hash: str, notice_ids: pa.Array,
                 events: pa.Array, outputs: pa.Array) -> bytes:
    """:func:`chain_hashes` of the :func:`record_texts` of these records: by the C extension
    (``compliance._chain``) straight from the arrays' buffers when it is built and the arrays are
    plain string or binary arrays without nulls, otherwise in Python. Both give the same bytes."""
    columns = (notice_ids, events, outputs)
    n = len(notice_ids)
    if (_c_chain is None or any(c.type not in _OFFSET_TYPES or c.null_count or len(c) != n for c in columns)):
        return chain_hashes(prev_hash, record_texts(first_seq, batch, batch_hash, *columns))
    if not n:
        return b""
    return _c_chain(prev_hash, first_seq, f"\n{batch}\n{batch_hash}\n".encode(), n,
                    [(c.buffers()[1], c.buffers()[2], c.offset) for c in columns])


def _format_2_hash(prev_hash: str, seq: int, batch: int, batch_hash: str, event: str, output: str,
                   notice_id: str) -> str:
    """Format 2's record hash: sha256 (hex) of the record's fields joined by newlines in this
    order, UTF-8 (``notice_id``, which may hold a newline, last)."""
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{batch}\n{batch_hash}\n{event}\n{output}\n{notice_id}"
                          .encode("utf-8")).hexdigest()


# --- opening a log ----------------------------------------------------------------------------------

def _connect(path: Path) -> sqlite3.Connection:
    # A writer's connection is used by its writer thread (:func:`append`), one thread at a time
    con = sqlite3.connect(str(path), timeout=120, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 120000")
    return con


def _looks_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _format_of(con: sqlite3.Connection, path: Path, allow_fresh: bool) -> int | None:
    """The file's format, or None for a fresh empty database (to initialise); raises for anything
    that is not a decision log of a format this engine reads."""
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.DatabaseError as exc:
        raise LogError(f"{path}: not a decision log (not an SQLite database: {exc})") from None
    if app == 0 and not tables:
        if allow_fresh:
            return None
        raise LogError(f"{path}: not a decision log (an empty database)")
    if app != APPLICATION_ID:
        raise LogError(f"{path}: not a decision log (a foreign SQLite database, application_id={app})")
    if version not in LAYOUTS:
        raise LogError(f"{path}: decision log format {version}; this engine reads formats "
                       f"{', '.join(map(str, sorted(LAYOUTS)))} (a newer engine wrote it?)")
    for table, columns in LAYOUTS[version].items():
        if table not in tables:
            raise LogError(f"{path}: decision log without its '{table}' table (damaged)")
        found = tuple(r[1] for r in con.execute(f"PRAGMA table_info({table})"))
        if found != columns:
            raise LogError(f"{path}: decision log table '{table}' has columns {list(found)}, "
                           f"expected {list(columns)}")
    return version


def open_for_writing(path: Path | str) -> sqlite3.Connection:
    path = Path(path)
    if path.exists() and path.is_file() and path.stat().st_size and not _looks_sqlite(path):
        raise LogError(f"{path}: not a decision log (not an SQLite database)")
    con = _connect(path)
    try:
        _format_of(con, path, allow_fresh=True)      # refuse a foreign file before touching it
        try:
            # SQLite's rollback journal, not its write-ahead log: a chunk is appended to new pages,
            # so the journal holds little and the chunk is written once, where the write-ahead
            # log would write it twice (to the log, then to the file at a checkpoint). A commit
            # syncs the file: a committed chunk survives the writer being killed or a power cut
            con.execute("PRAGMA page_size = 65536")      # effective only on a new file
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise LogError(f"{path}: not a decision log ({exc})") from None
        try:
            version = _format_of(con, path, allow_fresh=True)
            if version is None:
                for statement in SCHEMA:
                    con.execute(statement)
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {FORMAT}")
            elif version != FORMAT:
                raise LogError(f"{path}: decision log format {version}, written by an earlier engine: "
                               f"it can be verified, shown and replayed but not appended to; "
                               f"record to a new file")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except BaseException:
        con.close()
        raise
    return con


def open_for_reading(path: Path | str) -> tuple[sqlite3.Connection, int]:
    """A connection to an existing decision log, and the log's format."""
    path = Path(path)
    if not path.is_file():
        raise LogError(f"{path}: no such decision log")
    if not _looks_sqlite(path):
        raise LogError(f"{path}: not a decision log (not an SQLite database)")
    con = _connect(path)
    try:
        version = _format_of(con, path, allow_fresh=False)
    except BaseException:
        con.close()
        raise
    return con, version


# --- appending --------------------------------------------------------------------------------------

INSERT_BATCH = (f"INSERT INTO batches ({', '.join(BATCH_COLUMNS[1:])}) "
                f"VALUES ({', '.join('?' * (len(BATCH_COLUMNS) - 1))})")
INSERT_CHUNK = f"INSERT INTO chunks VALUES ({', '.join('?' * len(CHUNK_COLUMNS))})"
LAST_RECORD = "SELECT first_seq + count - 1, substr(hashes, -32) FROM chunks ORDER BY first_seq DESC LIMIT 1"


def append(path: Path | str, batch: Batch, chunks: Iterable[Decisions]) -> int:
    """Append each of ``chunks`` as one chunk row in a transaction of its own; returns the number
    of records appended, once every chunk is committed. The batch row is written with the first
    non-empty chunk, so a call that appends nothing leaves no batch.

    A list of chunks is written by the calling thread. Any other iterable (a generator encoding
    each chunk as it is asked for) is consumed, and each chunk hashed ahead, by the calling thread
    while a writer thread writes the chunks already made, so that encoding and hashing one chunk
    overlap writing the one before (the C loops and SQLite release the GIL). At most two chunks
    wait for the writer; an error in it is raised here, and stops the chunks' consumption; an
    error in the iterable or the hashing stops the writer after the chunk it is writing."""
    con = open_for_writing(path)
    try:
        if isinstance(chunks, (list, tuple)):
            n, batch_id = 0, None
            for decisions in chunks:
                if len(decisions):
                    batch_id = _append_chunk(con, batch, batch_id, decisions)
                    n += len(decisions)
            return n
        return _append_in_thread(con, batch, chunks)
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


def _append_in_thread(con: sqlite3.Connection, batch: Batch, chunks: Iterable[Decisions]) -> int:
    pending: queue.Queue[tuple[Decisions, _Guess] | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        batch_id = None
        while (item := pending.get()) is not None:
            if failed or stop.is_set():
                continue                 # drained, not written
            try:
                batch_id = _append_chunk(con, batch, batch_id, *item)
            except BaseException as exc:   # raised by the calling thread
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
                hashes = record_chain(prev, last_seq + 1, batch_id, batch.hash, decisions.notice_ids,
                                      decisions.events, decisions.outputs)
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


def _append_chunk(con: sqlite3.Connection, batch: Batch, batch_id: int | None, decisions: Decisions,
                  guess: _Guess | None = None) -> int:
    """Append one chunk in one transaction (and the batch row first, when ``batch_id`` is None);
    returns the batch's id. The columns are laid out before the write lock is taken; the seqs and
    hashes, which depend on the last record, after (unless ``guess`` holds them)."""
    columns = [_stored_column(c) for c in (decisions.notice_ids, decisions.events, decisions.outputs)]
    con.execute("BEGIN IMMEDIATE")
    try:
        if batch_id is None:
            batch_id = con.execute(INSERT_BATCH, (
                batch.recorded_at, batch.source, batch.rulebook_fingerprint, batch.agreement_fingerprint,
                batch.agreement_dir, batch.rules_dir, batch.engine_version,
                _encode(batch.event_columns), _encode(batch.output_columns), batch.hash)).lastrowid
        last_seq, prev = con.execute(LAST_RECORD).fetchone() or (0, bytes(32))
        if guess is not None and (guess.first_seq, guess.prev, guess.batch_id) == (last_seq + 1, prev, batch_id):
            hashes = guess.hashes
        else:
            hashes = record_chain(prev, last_seq + 1, batch_id, batch.hash, decisions.notice_ids,
                                  decisions.events, decisions.outputs)
        con.execute(INSERT_CHUNK, (last_seq + 1, len(decisions), batch_id, *columns, hashes))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return batch_id


def append_check(path: Path | str, event: Any, decision, agreement, rules_dir=None) -> None:
    """Record one ``check()`` decision: a batch of one."""
    row = decision.to_row()
    if isinstance(event, Mapping):
        columns, values = list(event), _dumps(list(event.values()))
    else:
        columns, values = None, _dumps(event)
    batch = new_batch("check", agreement.directory, rules_dir, columns, list(row))
    append(path, batch, [Decisions.of([str(row["notice_id"])], [values], [_dumps(list(row.values()))])])


def _notice_id_lines(ids: pd.Series) -> _Lines:
    """Output notice ids as JSON lines, each as its text (None as ""); strings as they are."""
    if not (isinstance(ids.dtype, pd.StringDtype) and not ids.isna().any()):
        values = ids.to_numpy(dtype=object)
        if set(map(type, values)) - {str}:
            values = np.array(["" if v is None else str(v) for v in values], dtype=object)
        ids = pd.Series(values, dtype=object, copy=False)
    return _Lines([ids], len(ids), "", "")


def append_review(path: Path | str, notices: pd.DataFrame, result: pd.DataFrame, agreement,
                  rules_dir=None, chunk_size: int = CHUNK) -> None:
    """Record every row of one ``review()``: the notice row as the event, the output row; one
    chunk row per ``chunk_size`` records."""
    batch = new_batch("review", agreement.directory, rules_dir, list(notices.columns), list(result.columns))
    notice_ids, events, outputs = _notice_id_lines(result["notice_id"]), _row_lines(notices), _row_lines(result)

    def chunks() -> Iterable[Decisions]:        # encoded one at a time, as the writer asks
        for start in range(0, len(result), chunk_size):
            stop = start + chunk_size
            yield Decisions(notice_ids.lines(start, stop), events.lines(start, stop), outputs.lines(start, stop))

    append(path, batch, chunks())


class ReviewRecorder:
    """Records a review's decisions while the review is still writing its output: ``add`` hands
    over each run of output rows as soon as it is made, and a thread of the recorder's own encodes,
    hashes and appends it (the C loops and SQLite release the GIL), so recording overlaps the
    review's last phase instead of following it. The records are those ``append_review`` makes of
    the finished result, chunked where the output was. ``close`` returns once every chunk is
    committed (or raises what went wrong); ``abandon`` stops after the chunks already handed over."""

    def __init__(self, path: Path | str, notices: pd.DataFrame, output_columns: Sequence[str], agreement,
                 rules_dir=None):
        self.batch = new_batch("review", agreement.directory, rules_dir, list(notices.columns), list(output_columns))
        self.events = _row_lines(notices)
        self.handed: queue.Queue[tuple[int, pd.DataFrame] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._record, args=(path,), name="decision-log-recorder", daemon=True)
        self.thread.start()

    def _record(self, path: Path | str) -> None:
        def chunks() -> Iterable[Decisions]:
            while (item := self.handed.get()) is not None:
                start, output = item
                yield Decisions(_notice_id_lines(output["notice_id"]).lines(),
                                self.events.lines(start, start + len(output)), _row_lines(output).lines())
        try:
            append(path, self.batch, chunks())
        except BaseException as exc:
            self.error = exc

    def _hand(self, item) -> None:
        while self.thread.is_alive():
            try:
                self.handed.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def add(self, start: int, output: pd.DataFrame) -> None:
        """Record ``output``, the output rows of input rows ``start`` onwards (rows in order, each
        run following the one before)."""
        if self.error is not None:
            raise self.error
        self._hand((start, output))

    def close(self) -> None:
        self._hand(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        self._hand(None)
        self.thread.join()


# --- verifying --------------------------------------------------------------------------------------

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


def _batch_hashes(con: sqlite3.Connection) -> dict[int, tuple[str, str]]:
    """Each batch's hash recomputed from its fields, and what is wrong with the batch or ''."""
    batches: dict[int, tuple[str, str]] = {}
    for batch_id, *fields, stored in con.execute(f"SELECT {', '.join(BATCH_COLUMNS)} FROM batches"):
        try:
            batch = _batch(*fields)
        except (TypeError, ValueError):
            batches[batch_id] = ("", f"its batch {batch_id} is damaged (column lists that are not JSON arrays)")
            continue
        problem = "" if batch.hash == stored else (
            f"its batch {batch_id} does not match the batch's hash (the batch's time, source, "
            f"fingerprints, directories, engine version or columns were edited)")
        batches[batch_id] = (batch.hash, problem)
    return batches


def _format_2_records(con: sqlite3.Connection) -> Iterable[tuple[int, str, str, str, str]]:
    batches = _batch_hashes(con)
    for seq, batch_id, notice_id, event, output, prev_hash, stored_hash in con.execute(
            f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions ORDER BY seq"):
        batch_hash, problem = batches.get(batch_id, ("", f"its batch {batch_id} is missing"))
        yield (seq, prev_hash, stored_hash,
               _format_2_hash(prev_hash, seq, batch_id, batch_hash, event, output, notice_id), problem)


def _batch(recorded_at, source, rulebook_fingerprint, agreement_fingerprint, agreement_dir, rules_dir,
           engine_version, event_columns, output_columns) -> Batch:
    """A batch from its stored fields (the column lists as JSON text)."""
    events, outputs = json.loads(event_columns), json.loads(output_columns)
    if not (events is None or isinstance(events, list)) or not isinstance(outputs, list):
        raise ValueError("column lists must be JSON arrays")
    return Batch(recorded_at, source, rulebook_fingerprint, agreement_fingerprint, agreement_dir, rules_dir,
                 engine_version, None if events is None else tuple(events), tuple(outputs))


def _format_1_records(con: sqlite3.Connection) -> Iterable[tuple[int, str, str, str, str]]:
    for row in con.execute(f"SELECT {', '.join(FORMAT_1_COLUMNS)} FROM decisions ORDER BY seq"):
        yield row[0], row[12], row[13], _format_1_hash(*row[:13]), ""


def _format_1_hash(seq, recorded_at, source, batch, notice_id, event, output, rulebook_fingerprint,
                   agreement_fingerprint, agreement_dir, rules_dir, engine_version, prev_hash) -> str:
    """Format 1's record hash: sha256 of a JSON object of the record's fields with sorted keys and
    no spaces, in which ``event`` and ``output`` appear as the stored JSON texts, verbatim."""
    s = _encode
    text = (f'{{"agreement_dir":{s(agreement_dir)},"agreement_fingerprint":{s(agreement_fingerprint)},'
            f'"batch":{s(batch)},"engine_version":{s(engine_version)},"event":{event},'
            f'"notice_id":{s(notice_id)},"output":{output},"prev_hash":{s(prev_hash)},'
            f'"recorded_at":{s(recorded_at)},"rulebook_fingerprint":{s(rulebook_fingerprint)},'
            f'"rules_dir":{s(rules_dir)},"seq":{int(seq)},"source":{s(source)}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading ----------------------------------------------------------------------------------------

READ = {
    1: f"SELECT {', '.join(FORMAT_1_COLUMNS)}, NULL AS event_columns, NULL AS output_columns FROM decisions",
    2: ("SELECT d.seq, b.recorded_at, b.source, d.batch, d.notice_id, d.event, d.output, "
        "b.rulebook_fingerprint, b.agreement_fingerprint, b.agreement_dir, b.rules_dir, b.engine_version, "
        "d.prev_hash, d.hash, b.event_columns, b.output_columns "
        "FROM decisions d LEFT JOIN batches b ON b.batch = d.batch"),
}
"""Formats 1 and 2: each record with the columns of :data:`RECORD_COLUMNS`, then the batch's column
lists."""
BATCH_FIELDS = ("recorded_at", "source", "rulebook_fingerprint", "agreement_fingerprint", "agreement_dir",
                "rules_dir", "engine_version", "event_columns", "output_columns")
READ_CHUNKS = (
    f"SELECT c.first_seq, c.count, c.batch, c.notice_ids, c.events, c.outputs, c.hashes, c.prev_hash, "
    f"{', '.join('b.' + f for f in BATCH_FIELDS)} "
    f"FROM (SELECT *, lag(substr(hashes, -32)) OVER (ORDER BY first_seq) AS prev_hash FROM chunks) c "
    f"LEFT JOIN batches b ON b.batch = c.batch")
"""Format 3: each chunk, the hash of the record before its first, and its batch's fields."""


def _json_lines(data: bytes) -> list[Any]:
    """The JSON values of a stored column, one per line."""
    return json.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")


def _chunk_rows(con: sqlite3.Connection, path, where: str, params: list) -> pd.DataFrame:
    """Format 3's records, one row per record, ``event`` and ``output`` decoded to lists."""
    columns: dict[str, list] = {name: [] for name in (*RECORD_COLUMNS, "event_columns", "output_columns")}
    for (first_seq, count, batch_id, notice_ids, events, outputs, hashes, prev, *fields) in con.execute(
            READ_CHUNKS + where + " ORDER BY c.first_seq", params):
        if fields[0] is None:
            raise LogError(f"{path}: record {first_seq} belongs to batch {batch_id}, which is missing "
                           f"(see 'compliance log verify')")
        records = {"notice_id": _json_lines(notice_ids), "event": _json_lines(events),
                   "output": _json_lines(outputs), "hash": [hashes[i:i + 32].hex() for i in range(0, len(hashes), 32)]}
        if any(len(values) != count for values in records.values()):
            raise LogError(f"{path}: the chunk of records {first_seq}-{first_seq + count - 1} is damaged "
                           f"(see 'compliance log verify')")
        records["prev_hash"] = [GENESIS if prev is None else prev.hex(), *records["hash"][:-1]]
        records["seq"] = range(first_seq, first_seq + count)
        records["batch"] = [batch_id] * count
        records.update({name: [value] * count for name, value in zip(BATCH_FIELDS, fields)})
        for name, values in records.items():
            columns[name].extend(values)
    return pd.DataFrame(columns)


def _rows(path, notice: str | None = None, since: str | date | None = None) -> pd.DataFrame:
    """The records in ``seq`` order, ``event`` and ``output`` decoded to dicts."""
    con, version = open_for_reading(path)
    try:
        where, params = [], []
        if since is not None:
            since = since.isoformat() if isinstance(since, date) else str(since)
            where.append("recorded_at >= ?")
            params.append(since)
        if version == 3:
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
    if version == 1:
        frame["event"] = [json.loads(e) for e in frame["event"]]
        frame["output"] = [json.loads(o) for o in frame["output"]]
        return frame.drop(columns=["event_columns", "output_columns"])
    if version == 2:
        orphans = frame["recorded_at"].isna()
        if orphans.any():
            seq, batch = frame.loc[orphans, ["seq", "batch"]].iloc[0]
            raise LogError(f"{path}: record {seq} belongs to batch {batch}, which is missing "
                           f"(see 'compliance log verify')")
        frame["event"] = [json.loads(e) for e in frame["event"]]
        frame["output"] = [json.loads(o) for o in frame["output"]]
    names = {text: json.loads(text) for text in {*frame["event_columns"], *frame["output_columns"]}}
    frame["event"] = [e if names[c] is None else dict(zip(names[c], e))
                      for e, c in zip(frame["event"], frame["event_columns"])]
    frame["output"] = [dict(zip(names[c], o)) for o, c in zip(frame["output"], frame["output_columns"])]
    return frame.drop(columns=["event_columns", "output_columns"])


def read_log(path: Path | str, notice: str | None = None, since: str | date | None = None) -> pd.DataFrame:
    """The records as a DataFrame: the batch's fields on each record, ``event`` and ``output`` as
    dicts, and the output row's fields as columns of their own. ``notice`` keeps one notice_id;
    ``since`` keeps records recorded on or after a date (UTC, YYYY-MM-DD)."""
    from .decision import OUTPUT_COLUMNS
    frame = _rows(path, notice, since)
    for column in OUTPUT_COLUMNS:
        if column != "notice_id":
            frame[column] = [o.get(column) for o in frame["output"]]
    return frame


# --- replay -----------------------------------------------------------------------------------------

def _same(a: Any, b: Any) -> bool:
    norm = lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)  # noqa: E731
    return norm(a) == norm(b)


@dataclass
class Difference:
    seq: int
    notice_id: str
    cause: str                                  # rulebook | agreement | rulebook and agreement | neither
    changes: dict[str, tuple[Any, Any]]         # field -> (recorded, now)


@dataclass
class Replay:
    records: int
    differences: list[Difference] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)   # (seq, why it could not replay)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.failures

    @property
    def changed(self) -> set[str]:
        return {d.notice_id for d in self.differences}

    def grouped(self) -> dict[str, list[Difference]]:
        groups: dict[str, list[Difference]] = {}
        for d in self.differences:
            groups.setdefault(d.cause, []).append(d)
        return groups

    def report(self) -> str:
        lines = [f"Replayed {self.records} records: {len(self.differences)} decisions now differ"
                 + (f", {len(self.failures)} could not be replayed" if self.failures else "")]
        titles = {"rulebook": "rulebook changed", "agreement": "agreement changed",
                  "rulebook and agreement": "rulebook and agreement changed",
                  "neither": "neither rulebook nor agreement changed"}
        for cause, diffs in self.grouped().items():
            lines.append(f"\n{titles.get(cause, cause)}: {len(diffs)}")
            for d in diffs:
                what = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in d.changes.items())
                lines.append(f"  record {d.seq} {d.notice_id}: {what}")
        for seq, why in self.failures:
            lines.append(f"  record {seq}: could not replay: {why}")
        return "\n".join(lines)


def replay(path: Path | str, agreement_dir: Path | str | None = None, *, rules_dir: Path | str | None = None,
           fields: tuple[str, ...] = DECISION_FIELDS) -> Replay:
    """Re-evaluate every recorded event with the current rules (``rules_dir``, default the bundled
    rules) and its recorded agreement directory (or ``agreement_dir``); report every decision whose
    ``fields`` now differ, with the cause: the rulebook fingerprint changed, the agreement's, both,
    or neither. A ``check()`` record is replayed with ``check()``; the records of one ``review()``
    batch are reviewed again together, in their order, so that each sees the same earlier sales."""
    from .agreement import AgreementError, load_agreement
    from .check import check
    from .review import review
    from .rulebook import RULES_DIR, RulebookError

    rules_dir = Path(rules_dir or RULES_DIR).resolve()
    frame = _rows(path)
    result = Replay(records=len(frame))
    if not len(frame):
        return result
    try:
        current_rules = rulebook_fingerprint(rules_dir)
    except (RulebookError, OSError) as exc:
        raise LogError(f"the current rulebook {rules_dir} cannot be loaded: {exc}") from None
    agreements: dict[str, Any] = {}
    fingerprints: dict[str, str] = {}

    def agreement_for(directory: str):
        if directory not in agreements:
            agreements[directory] = load_agreement(directory)
            fingerprints[directory] = agreement_fingerprint(directory)
        return agreements[directory]

    for batch, group in frame.groupby("batch", sort=False):
        seqs = group["seq"].tolist()
        directory = str(agreement_dir) if agreement_dir is not None else group["agreement_dir"].iloc[0]
        try:
            agreement = agreement_for(directory)
            events = list(group["event"])
            if group["source"].iloc[0] == "review":
                now = review(pd.DataFrame(events), agreement, rules_dir=rules_dir).to_dict("records")
            else:
                now = [check(e, agreement, rules_dir=rules_dir).to_row() for e in events]
        except (AgreementError, RulebookError, ValueError, OSError, KeyError, TypeError) as exc:
            result.failures.extend((s, f"{type(exc).__name__}: {exc}") for s in seqs)
            continue
        rules_changed = group["rulebook_fingerprint"].to_numpy() != current_rules
        agreement_changed = group["agreement_fingerprint"].to_numpy() != fingerprints[directory]
        for k, (seq, notice_id, old) in enumerate(zip(seqs, group["notice_id"], group["output"])):
            changes = {f: (old.get(f), now[k].get(f)) for f in fields if not _same(old.get(f), now[k].get(f))}
            if changes:
                cause = {(True, True): "rulebook and agreement", (True, False): "rulebook",
                         (False, True): "agreement", (False, False): "neither"}[
                    (bool(rules_changed[k]), bool(agreement_changed[k]))]
                result.differences.append(Difference(int(seq), notice_id, cause, changes))
    result.differences.sort(key=lambda d: d.seq)
    result.failures.sort()
    return result
