"""Reading a notices file (CSV or Parquet) into a DataFrame of text cells, or a clear refusal.

Every CSV cell is read as text (the engine parses values itself), empty cells as "". A file that
cannot be read gets a ``NoticeFileError`` naming the file and, where it can be found, the line,
the column and the fix (``--encoding`` with an encoding that reads the file, ``--delimiter``).

Arrow reads the CSV: from the path itself, or from the file's text re-encoded as UTF-8 in memory
for another encoding, never from a Python file object. Arrow reads ahead on threads of its own;
reading a Python object, such a thread needs the interpreter, and one still waiting when the
process exits after a parse error aborted it ("terminate called without an active exception").
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from compliance.contract.event import field_name

# More columns than any notices file needs (the contract has about twenty): a wider header is
# refused before any row is read.
MAX_COLUMNS = 1_000
# The largest field read normally; Arrow needs a whole row inside one block.
MAX_FIELD_BYTES = 64 * 1024 * 1024
# Arrow's own block size, kept for ordinary files (its parsing runs block by block on all cores);
# a file with a longer row is read again with blocks of LONG_ROW_BLOCK.
BLOCK_SIZE = 1 << 20
LONG_ROW_BLOCK = 2 * MAX_FIELD_BYTES
# Delimiters a header of one column probably used instead.
LIKELY_DELIMITERS = (";", "\t", "|", ",")


class NoticeFileError(ValueError):
    """A notices file that cannot be read; the message names the file, and the line where known."""


def read_notices(path: Path | str, encoding: str = "utf-8", delimiter: str = ",") -> pd.DataFrame:
    """The notices in ``path`` (``.csv``, or ``.parquet``/``.pq``), every CSV cell as text.
    ``encoding`` and ``delimiter`` apply to CSV. Raises NoticeFileError naming the file (and the
    line) for a file that is missing, of another kind, not text in ``encoding``, ragged, with a
    quote never closed, with a header of more than ``MAX_COLUMNS`` columns or naming a column
    twice, or with a row longer than ``LONG_ROW_BLOCK`` (a field of ``MAX_FIELD_BYTES`` reads)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, encoding, delimiter)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    raise NoticeFileError(f"{path}: not a CSV or Parquet file (by its extension)")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        columns = len(pq.read_schema(path).names)
        if columns > MAX_COLUMNS:
            raise NoticeFileError(f"{path}: {columns:,} columns; a notices file may have at most {MAX_COLUMNS:,}")
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        if isinstance(exc, NoticeFileError):
            raise
        raise NoticeFileError(f"{path}: cannot be read as Parquet: {exc}") from None


def _read_csv(path: Path, encoding: str, delimiter: str) -> pd.DataFrame:
    if len(delimiter) != 1:
        raise NoticeFileError(f"{path}: the delimiter must be one character, not {delimiter!r}")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise NoticeFileError(f"{path}: unknown encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)") from None
    if codec == "utf-8":
        names = header(path, _first_line(path), delimiter)
        source: str | pa.BufferReader = str(path)
    else:
        data = _as_utf8(path, codec, delimiter)
        names = header(path, data[: (data.find(b"\n") + 1) or len(data)], delimiter)
        source = pa.BufferReader(pa.py_buffer(data))
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    for block_size in (BLOCK_SIZE, LONG_ROW_BLOCK):
        read = pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size)
        try:
            table = pacsv.read_csv(source, read_options=read, parse_options=parse, convert_options=convert)
            break
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc) or block_size == LONG_ROW_BLOCK:
                raise NoticeFileError(_located(path, codec, delimiter, len(names), exc)) from None
            if isinstance(source, pa.BufferReader):
                source.seek(0)
        except OSError as exc:
            raise NoticeFileError(f"{path}: cannot be read: {exc}") from None
    if _holds_line_break(table) and (problem := _unclosed_quote(path, _text(path, codec, delimiter), delimiter)):
        raise NoticeFileError(problem)
    return table.to_pandas()


def _holds_line_break(table: pa.Table) -> bool:
    """Whether the text of any cell may hold a line break (``\\n`` or ``\\r``): read from the
    columns' bytes at once (a pattern matched cell by cell costs more than reading the file)."""
    for column in table.columns:
        for chunk in column.chunks:
            data = chunk.buffers()[2]
            if data is not None:
                byte = np.frombuffer(data, dtype=np.uint8)
                if (byte == 0x0A).any() or (byte == 0x0D).any():
                    return True
    return False


def _first_line(path: Path) -> bytes:
    """The first line of the file ``path``, read alone (at most ``MAX_FIELD_BYTES``)."""
    try:
        with path.open("rb") as file:
            return file.readline(MAX_FIELD_BYTES + 1)
    except OSError as exc:
        raise NoticeFileError(f"{path}: cannot be read: {exc}") from None


def header(path: Path, first: bytes, delimiter: str) -> list[str]:
    """The column names on ``first``, the first line of the CSV file ``path`` as UTF-8: refused
    (naming line 1) when there are more than ``MAX_COLUMNS``, when the line is not UTF-8 text, when
    a name appears twice, or when it is one name that another delimiter would split."""
    if not first.strip():
        raise NoticeFileError(f"{path}: line 1: empty; expected a header naming the columns")
    if b"\0" in first:
        raise NoticeFileError(
            f"{path}: line 1: holds NUL bytes, so it is not UTF-8 text; if the file is "
            f"text in another encoding, give it with --encoding (e.g. --encoding utf-16)"
        )
    text = _decode(path, first, "utf-8", delimiter)
    try:
        names = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise NoticeFileError(f"{path}: line 1: not a CSV header ({exc})") from None
    if len(names) > MAX_COLUMNS:
        raise NoticeFileError(
            f"{path}: line 1: {len(names):,} columns; a notices file may have at most {MAX_COLUMNS:,}"
        )
    for i, name in enumerate(names):
        if name in names[:i]:
            raise NoticeFileError(
                f"{path}: line 1: column {name[:200]!r} is named twice (columns {names.index(name) + 1} and {i + 1})"
            )
    if len(names) == 1:
        others = [d for d in LIKELY_DELIMITERS if d != delimiter and d in names[0]]
        if others:
            given = "tab" if others[0] == "\t" else repr(others[0])
            raise NoticeFileError(
                f"{path}: line 1: one column named {names[0][:200]!r}; if the fields are "
                f"separated by {given}, give --delimiter {given}"
            )
    return names


def _as_utf8(path: Path, encoding: str, delimiter: str) -> bytes:
    """The file's text, in ``encoding``, as UTF-8."""
    return _decode(path, path.read_bytes(), encoding, delimiter).encode("utf-8")


# Encodings a file that is not text in the one given may be in, in the order they are suggested:
# cp1252 reads 0x80-0x9f as the characters Windows puts there (curly quotes, the euro sign),
# where latin-1 has control characters; latin-1 reads any bytes.
LIKELY_ENCODINGS = ("utf-8", "cp1252", "latin-1")


def _decode(path: Path, data: bytes, encoding: str, delimiter: str) -> str:
    """``data`` (the file ``path``, or its first line) as text in ``encoding``, a UTF-8 byte order
    mark dropped; NoticeFileError naming the line and column of the first byte that is not
    ``encoding`` text, and an encoding that reads it."""
    bom = len(codecs.BOM_UTF8) if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        at = exc.start + bom  # utf-8-sig counts from after the mark
        raise NoticeFileError(_encoding_message(path, encoding, data, at, delimiter)) from None


def _encoding_message(path: Path, encoding: str, data: bytes, at: int, delimiter: str) -> str:
    """The message for ``data`` (the file ``path``, or its first line), which is not text in
    ``encoding`` from byte offset ``at``: the line (lines counted from 1, by line feeds), the
    column, and the first of ``LIKELY_ENCODINGS`` that reads all of ``data``, with the character
    the byte is in it."""
    line = data.count(b"\n", 0, at) + 1
    byte = data[at]
    where = f"line {line}"
    if column := _column_at(data, at, encoding, delimiter):
        where += f", {column}"
    readable = next(e for e in LIKELY_ENCODINGS if e != encoding and _reads(data, e))
    character = f", where 0x{byte:02x} is {bytes([byte]).decode(readable)!r}" if readable != "utf-8" else ""
    return (
        f"{path}: {where}: not {encoding} text (byte 0x{byte:02x}); it reads as {readable}{character}: "
        f"if that is its encoding, give --encoding {readable}"
    )


def _reads(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _column_at(data: bytes, at: int, encoding: str, delimiter: str) -> str | None:
    """Which column of the CSV ``data`` byte offset ``at`` falls in: "column NAME" (from the
    header), "column N of the header" when it is in the header itself, "column N" past the
    header's columns; None where the text before it is not CSV."""
    before = data[:at].decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    # A character stands in for the byte, so that the row being read ends inside its field.
    reader = csv.reader(io.StringIO(before + "?", newline=""), delimiter=delimiter)
    limit = csv.field_size_limit(MAX_FIELD_BYTES)
    rows, last = 0, []
    try:
        for row in reader:  # the last row read is the one the byte is in
            rows, last = rows + 1, row
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    number = len(last)
    if rows == 1:
        return f"column {number} of the header"
    first = data[: (data.find(b"\n") + 1) or len(data)]
    text = first.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace").rstrip("\r\n")
    try:
        names = next(csv.reader([text], delimiter=delimiter))
    except (csv.Error, StopIteration):
        names = []
    return f"column {field_name(names[number - 1])}" if number <= len(names) else f"column {number}"


def _located(path: Path, encoding: str, delimiter: str, columns: int, exc: Exception) -> str:
    """The message for a file Arrow refused: the first line that is not valid text in
    ``encoding`` (raised as NoticeFileError), the line of a quote never closed, or the first line
    whose row has a number of fields other than the header's ``columns``, found by reading the file
    again in Python (Arrow, parsing blocks in parallel, does not know the line)."""
    if "straddling" in str(exc):
        return f"{path}: a row longer than {LONG_ROW_BLOCK // 2**20} MB (at most {MAX_FIELD_BYTES // 2**20} MB a field)"
    text = _text(path, encoding, delimiter)
    if unclosed := _unclosed_quote(path, text, delimiter):
        return unclosed
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    limit = csv.field_size_limit(MAX_FIELD_BYTES)
    line = 1
    try:
        for row in reader:
            if reader.line_num > 1 and row and len(row) != columns:
                return (
                    f"{path}: line {line}: {len(row)} fields where the header names {columns}; "
                    f"if the fields are separated by another character, give it with --delimiter"
                )
            line = reader.line_num + 1
    except csv.Error as error:
        return f"{path}: line {line}: not CSV ({error})"
    finally:
        csv.field_size_limit(limit)
    return f"{path}: cannot be read as CSV: {exc}"


def _unclosed_quote(path: Path, text: str, delimiter: str) -> str | None:
    """The message for a quoted field of ``text`` (the file ``path``) that is never closed, naming
    the line where it opens, or None. Arrow reads such a field to the end of the file, the rows
    after it included, so a file with a line break inside a cell is read again in Python to tell
    the two apart."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    limit = csv.field_size_limit(MAX_FIELD_BYTES)
    line = 1
    try:
        for _ in reader:
            line = reader.line_num + 1
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            return (
                f"{path}: line {line}: a quoted field that is never closed (it would run to the end "
                f"of the file, taking the rows after it)"
            )
    finally:
        csv.field_size_limit(limit)
    return None


def _text(path: Path, encoding: str, delimiter: str) -> str:
    """The whole file as text; NoticeFileError naming the line and column where it is not
    ``encoding``."""
    return _decode(path, path.read_bytes(), encoding, delimiter)
