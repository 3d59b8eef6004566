"""The decision log (issue 5): every decision appended to an embedded SQLite database, hash-chained,
verifiable, readable as a DataFrame, and replayable against the current rules.

One table, ``decisions``, one row per decision::

    seq                    1, 2, 3, ... (no gaps; the chain order)
    recorded_at            UTC ISO time of the transaction that appended the record
    source                 'check' or 'review'; batch: one id per check()/review() call
    notice_id              the output row's notice_id
    event                  the input event, JSON text
    output                 the full output row (``Decision.to_row()`` / a review row), JSON text
    rulebook_fingerprint   sha256 over the rule and parameter files, sorted by relative path
    agreement_fingerprint  sha256 over the agreement directory's files, sorted by relative path
    agreement_dir, rules_dir   the directories used (absolute paths)
    engine_version         ``compliance.__version__``
    prev_hash, hash        the chain: ``hash`` is sha256 of the record's canonical JSON (see
                           :func:`canonical`), which includes ``seq`` and ``prev_hash``; the first
                           record's ``prev_hash`` is 64 zeros

The file is marked as ours by ``PRAGMA application_id`` and its schema version by
``PRAGMA user_version``; any other file is refused (:class:`LogError`).

Writers take the write lock with ``BEGIN IMMEDIATE``, read the last record inside the transaction
and append a chunk (default 1,000 records) per transaction, so concurrent writers interleave whole
chunks into one chain and a writer killed mid-batch leaves whole chunks only.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

APPLICATION_ID = 0x52434C47          # 'RCLG': resale-compliance log
SCHEMA_VERSION = 1
GENESIS = "0" * 64
CHUNK = 1_000
TABLE = "decisions"
DECISION_FIELDS = ("outcome", "failed_rules", "citations", "earliest_allowed_date", "delivery_date",
                   "delivery_late_business_days", "legend_removal", "dwac_eligible", "regime", "error")
"""The output fields replay compares (``reasons`` is prose derived from them and is not compared)."""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    seq INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    source TEXT NOT NULL,
    batch TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    event TEXT NOT NULL,
    output TEXT NOT NULL,
    rulebook_fingerprint TEXT NOT NULL,
    agreement_fingerprint TEXT NOT NULL,
    agreement_dir TEXT NOT NULL,
    rules_dir TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)"""
COLUMNS = ("seq", "recorded_at", "source", "batch", "notice_id", "event", "output",
           "rulebook_fingerprint", "agreement_fingerprint", "agreement_dir", "rules_dir",
           "engine_version", "prev_hash", "hash")


class LogError(ValueError):
    """A file that is not a usable decision log (missing, corrupt, foreign, another schema)."""


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
    """Each value of a column as JSON text, encoding every distinct value once."""
    values = series.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        kinds = {type(u) for u in uniques}
        # factorize compares by equality: True == 1 would merge a bool and an int
        if any(issubclass(k, (bool, np.bool_)) for k in kinds) and len(kinds) > 1 and \
                any(issubclass(k, (int, float, np.number)) and not issubclass(k, (bool, np.bool_)) for k in kinds):
            raise TypeError
    except TypeError:
        return np.array([_dumps(v) for v in values], dtype=object)
    encoded = np.array([_dumps(u) for u in uniques] + ["null"], dtype=object)
    return encoded[codes]   # code -1 (missing) picks the trailing "null"


def frame_json(frame: pd.DataFrame) -> list[str]:
    """Each row of ``frame`` as a JSON object text (keys in column order)."""
    if not len(frame):
        return []
    names = [json.dumps(str(c), ensure_ascii=False) for c in frame.columns]
    template = "{" + ",".join(f"{n.replace('%', '%%')}:%s" for n in names) + "}"
    columns = [_encode_column(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return [template % row for row in zip(*columns)]


# --- records and the chain --------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What every record of one batch shares."""
    source: str
    batch: str
    rulebook_fingerprint: str
    agreement_fingerprint: str
    agreement_dir: str
    rules_dir: str
    engine_version: str


def context(source: str, agreement_dir: Path | str, rules_dir: Path | str | None = None) -> Context:
    from . import __version__
    from .rulebook import RULES_DIR
    rules_dir = Path(rules_dir or RULES_DIR).resolve()
    return Context(source=source, batch=uuid.uuid4().hex,
                   rulebook_fingerprint=rulebook_fingerprint(rules_dir),
                   agreement_fingerprint=agreement_fingerprint(agreement_dir),
                   agreement_dir=str(Path(agreement_dir).resolve()), rules_dir=str(rules_dir),
                   engine_version=__version__)


def canonical(seq: int, recorded_at: str, source: str, batch: str, notice_id: str, event: str,
              output: str, rulebook_fingerprint: str, agreement_fingerprint: str, agreement_dir: str,
              rules_dir: str, engine_version: str, prev_hash: str) -> str:
    """The text a record's hash is taken over: a JSON object with sorted keys and no spaces, in
    which ``event`` and ``output`` appear as the stored JSON texts, verbatim."""
    s = _encode
    return (f'{{"agreement_dir":{s(agreement_dir)},"agreement_fingerprint":{s(agreement_fingerprint)},'
            f'"batch":{s(batch)},"engine_version":{s(engine_version)},"event":{event},'
            f'"notice_id":{s(notice_id)},"output":{output},"prev_hash":{s(prev_hash)},'
            f'"recorded_at":{s(recorded_at)},"rulebook_fingerprint":{s(rulebook_fingerprint)},'
            f'"rules_dir":{s(rules_dir)},"seq":{int(seq)},"source":{s(source)}}}')


def record_hash(*fields) -> str:
    return hashlib.sha256(canonical(*fields).encode("utf-8")).hexdigest()


def _chain(ctx: Context, recorded_at: str, seq: int, prev: str, chunk: list[tuple[str, str, str]]) -> list[tuple]:
    """The rows of ``chunk`` chained after (``seq``, ``prev``): the same text as :func:`canonical`
    with the fields every record of the chunk shares encoded once."""
    s = _encode
    head = (f'{{"agreement_dir":{s(ctx.agreement_dir)},"agreement_fingerprint":{s(ctx.agreement_fingerprint)},'
            f'"batch":{s(ctx.batch)},"engine_version":{s(ctx.engine_version)},"event":')
    tail = (f'","recorded_at":{s(recorded_at)},"rulebook_fingerprint":{s(ctx.rulebook_fingerprint)},'
            f'"rules_dir":{s(ctx.rules_dir)},"seq":')
    end = f',"source":{s(ctx.source)}}}'
    const = (recorded_at, ctx.source, ctx.batch)
    shared = (ctx.rulebook_fingerprint, ctx.agreement_fingerprint, ctx.agreement_dir, ctx.rules_dir,
              ctx.engine_version)
    sha = hashlib.sha256
    rows = []
    for notice_id, event, output in chunk:
        seq += 1
        text = f'{head}{event},"notice_id":{s(notice_id)},"output":{output},"prev_hash":"{prev}{tail}{seq}{end}'
        h = sha(text.encode("utf-8")).hexdigest()
        rows.append((seq, *const, notice_id, event, output, *shared, prev, h))
        prev = h
    return rows


# --- opening a log ----------------------------------------------------------------------------------

def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=120, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 120000")
    return con


def _check_ours(con: sqlite3.Connection, path: Path, allow_fresh: bool) -> bool:
    """True when the file is a fresh empty database (to initialise); raises for a foreign one."""
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.DatabaseError as exc:
        raise LogError(f"{path}: not a decision log (not an SQLite database: {exc})") from None
    if app == 0 and not tables:
        if allow_fresh:
            return True
        raise LogError(f"{path}: not a decision log (an empty database)")
    if app != APPLICATION_ID:
        raise LogError(f"{path}: not a decision log (a foreign SQLite database, application_id={app})")
    if version != SCHEMA_VERSION:
        raise LogError(f"{path}: decision log schema version {version}; this engine reads version {SCHEMA_VERSION}")
    if TABLE not in tables:
        raise LogError(f"{path}: decision log without its '{TABLE}' table (damaged)")
    found = [r[1] for r in con.execute(f"PRAGMA table_info({TABLE})")]
    if tuple(found) != COLUMNS:
        raise LogError(f"{path}: decision log table '{TABLE}' has columns {found}, expected {list(COLUMNS)}")
    return False


def open_for_writing(path: Path | str) -> sqlite3.Connection:
    path = Path(path)
    if path.exists() and path.is_file() and path.stat().st_size and not _looks_sqlite(path):
        raise LogError(f"{path}: not a decision log (not an SQLite database)")
    con = _connect(path)
    try:
        _check_ours(con, path, allow_fresh=True)      # refuse a foreign file before touching it
        try:
            con.execute("PRAGMA page_size = 16384")      # effective only on a new file
            con.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a killed process (not a power cut before the
            # next checkpoint); FULL would fsync every chunk
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise LogError(f"{path}: not a decision log ({exc})") from None
        try:
            if _check_ours(con, path, allow_fresh=True):
                con.execute(SCHEMA)
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except BaseException:
        con.close()
        raise
    return con


def _looks_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def open_for_reading(path: Path | str) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise LogError(f"{path}: no such decision log")
    if not _looks_sqlite(path):
        raise LogError(f"{path}: not a decision log (not an SQLite database)")
    con = _connect(path)
    try:
        _check_ours(con, path, allow_fresh=False)
    except BaseException:
        con.close()
        raise
    return con


# --- appending --------------------------------------------------------------------------------------

def append(path: Path | str, ctx: Context, entries: Iterable[tuple[str, str, str]],
           chunk_size: int = CHUNK) -> int:
    """Append ``(notice_id, event_json, output_json)`` entries, one transaction per chunk; returns
    the number appended. Entries may be a generator (consumed chunk by chunk)."""
    con = open_for_writing(path)
    n = 0
    try:
        iterator = iter(entries)
        while True:
            chunk = []
            for entry in iterator:
                chunk.append(entry)
                if len(chunk) >= chunk_size:
                    break
            if not chunk:
                break
            _append_chunk(con, ctx, chunk)
            n += len(chunk)
    finally:
        con.close()
    return n


def _append_chunk(con: sqlite3.Connection, ctx: Context, chunk: list[tuple[str, str, str]]) -> None:
    con.execute("BEGIN IMMEDIATE")
    try:
        last = con.execute(f"SELECT seq, hash FROM {TABLE} ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = last if last else (0, GENESIS)
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        rows = _chain(ctx, now, seq, prev, chunk)
        con.executemany(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                        rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def append_check(path: Path | str, event: Any, decision, agreement, rules_dir=None) -> None:
    """Record one ``check()`` decision."""
    row = decision.to_row()
    ctx = context("check", agreement.directory, rules_dir)
    append(path, ctx, [(str(row["notice_id"]), _dumps(event), _dumps(row))])


def append_review(path: Path | str, notices: pd.DataFrame, result: pd.DataFrame, agreement,
                  rules_dir=None, chunk_size: int = CHUNK) -> None:
    """Record every row of one ``review()``: the notice row as the event, the output row."""
    ctx = context("review", agreement.directory, rules_dir)
    events = frame_json(notices)
    outputs = frame_json(result)
    ids = ["" if v is None else str(v) for v in result["notice_id"].tolist()]
    append(path, ctx, zip(ids, events, outputs), chunk_size)


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
    """Walk the chain in ``seq`` order; the first record with a sequence gap, a ``prev_hash`` that
    is not the previous record's hash, or a hash that does not match its fields is named."""
    con = open_for_reading(path)
    try:
        cursor = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY seq")
        expected_seq, prev, n = 1, GENESIS, 0
        for row in cursor:
            seq, stored_prev, stored_hash = row[0], row[12], row[13]
            if seq != expected_seq:
                what = "deleted" if seq > expected_seq else "out of order"
                return Verification(False, n, seq, f"sequence gap: expected record {expected_seq}, "
                                                   f"found {seq} (record(s) {what})", prev)
            if stored_prev != prev:
                return Verification(False, n, seq, "prev_hash is not the hash of the record before it "
                                                   "(a record was removed, inserted or reordered)", prev)
            if record_hash(*row[:13]) != stored_hash:
                return Verification(False, n, seq, "hash does not match the record's fields "
                                                   "(the record was edited or moved)", prev)
            prev, expected_seq, n = stored_hash, expected_seq + 1, n + 1
        return Verification(True, n, None, "", prev)
    except sqlite3.DatabaseError as exc:
        raise LogError(f"{path}: cannot be read: {exc}") from None
    finally:
        con.close()


# --- reading ----------------------------------------------------------------------------------------

def _rows(path, notice: str | None = None, since: str | date | None = None) -> pd.DataFrame:
    con = open_for_reading(path)
    try:
        where, params = [], []
        if notice is not None:
            where.append("notice_id = ?")
            params.append(str(notice))
        if since is not None:
            since = since.isoformat() if isinstance(since, date) else str(since)
            where.append("recorded_at >= ?")
            params.append(since)
        sql = f"SELECT {', '.join(COLUMNS)} FROM {TABLE}" + (" WHERE " + " AND ".join(where) if where else "")
        return pd.read_sql_query(sql + " ORDER BY seq", con, params=params)
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
        raise LogError(f"{path}: cannot be read: {exc}") from None
    finally:
        con.close()


def read_log(path: Path | str, notice: str | None = None, since: str | date | None = None) -> pd.DataFrame:
    """The records as a DataFrame: the log's columns, ``event`` as a dict, and the output row's
    fields as columns of their own (``output`` keeps the whole row as a dict). ``notice`` keeps
    one notice_id; ``since`` keeps records recorded on or after a date (UTC, YYYY-MM-DD)."""
    from .decision import OUTPUT_COLUMNS
    frame = _rows(path, notice, since)
    frame["event"] = [json.loads(e) for e in frame["event"]]
    frame["output"] = [json.loads(o) for o in frame["output"]]
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
            events = [json.loads(e) for e in group["event"]]
            if group["source"].iloc[0] == "review":
                now = review(pd.DataFrame(events), agreement, rules_dir=rules_dir).to_dict("records")
            else:
                now = [check(e, agreement, rules_dir=rules_dir).to_row() for e in events]
        except (AgreementError, RulebookError, ValueError, OSError, KeyError, TypeError) as exc:
            result.failures.extend((s, f"{type(exc).__name__}: {exc}") for s in seqs)
            continue
        rules_changed = group["rulebook_fingerprint"].to_numpy() != current_rules
        agreement_changed = group["agreement_fingerprint"].to_numpy() != fingerprints[directory]
        for k, (seq, notice_id, output) in enumerate(zip(seqs, group["notice_id"], group["output"])):
            old = json.loads(output)
            changes = {f: (old.get(f), now[k].get(f)) for f in fields if not _same(old.get(f), now[k].get(f))}
            if changes:
                cause = {(True, True): "rulebook and agreement", (True, False): "rulebook",
                         (False, True): "agreement", (False, False): "neither"}[
                    (bool(rules_changed[k]), bool(agreement_changed[k]))]
                result.differences.append(Difference(int(seq), notice_id, cause, changes))
    result.differences.sort(key=lambda d: d.seq)
    result.failures.sort()
    return result
