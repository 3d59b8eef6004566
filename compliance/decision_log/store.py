"""Opening a decision log: telling the formats apart, refusing foreign files, and creating a fresh
log of the format this engine writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .schema import ADD_HISTORY, APPLICATION_ID, FORMAT, LAYOUTS, OLDER_LAYOUTS, SCHEMA, LogError


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
        raise LogError(
            f"{path}: decision log format {version}; this engine reads formats "
            f"{', '.join(map(str, sorted(LAYOUTS)))} (a newer engine wrote it?)"
        )
    for table, columns in LAYOUTS[version].items():
        if table not in tables:
            raise LogError(f"{path}: decision log without its '{table}' table (damaged)")
        found = tuple(r[1] for r in con.execute(f"PRAGMA table_info({table})"))
        if found != columns and found != OLDER_LAYOUTS.get((version, table)):
            raise LogError(f"{path}: decision log table '{table}' has columns {list(found)}, expected {list(columns)}")
    return version


def has_history(con: sqlite3.Connection) -> bool:
    """Whether the log's ``batches`` table records each batch's history (format 4, unless written
    before batches recorded it)."""
    return any(r[1] == "history" for r in con.execute("PRAGMA table_info(batches)"))


def open_for_writing(path: Path | str) -> sqlite3.Connection:
    path = Path(path)
    if path.exists() and path.is_file() and path.stat().st_size and not _looks_sqlite(path):
        raise LogError(f"{path}: not a decision log (not an SQLite database)")
    con = _connect(path)
    try:
        _format_of(con, path, allow_fresh=True)  # refuse a foreign file before touching it
        try:
            # SQLite's rollback journal, not its write-ahead log: a chunk is appended to new pages,
            # so the journal holds little and the chunk is written once, where the write-ahead
            # log would write it twice (to the log, then to the file at a checkpoint). A commit
            # syncs the file: a committed chunk survives the writer being killed or a power cut
            con.execute("PRAGMA page_size = 65536")  # effective only on a new file
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
                raise LogError(
                    f"{path}: decision log format {version}, written by an earlier engine: "
                    f"it can be verified, shown and replayed but not appended to; "
                    f"record to a new file"
                )
            elif not has_history(con):
                con.execute(ADD_HISTORY)
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
