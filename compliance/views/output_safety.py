"""Text made safe for where it goes: a terminal, and a spreadsheet opening a CSV file.

A value from a notices file is the sender's text. Printed raw, its control characters drive the
terminal (``\\x1b[2J`` clears the screen, others retitle the window or move the cursor); written
raw into a CSV file, a cell beginning with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) is taken as a formula by a spreadsheet that opens the file.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# C0 controls, DEL and C1 controls, each shown as the escape Python would write for it.
_CONTROL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_ESCAPES = {code: f"\\x{code:02x}" for code in _CONTROL}
CONTROL_PATTERN = re.compile("[\x00-\x1f\x7f-\x9f]")

# The first characters that make a spreadsheet read a cell as a formula (all ASCII: one byte each
# in UTF-8).
FORMULA_START = b"=+-@\t\r"
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[np.frombuffer(FORMULA_START, dtype=np.uint8)] = True
FORMULA_GUARD = "'"


def printable(text: object) -> str:
    """``text`` as a string with every control character (U+0000..U+001F, U+007F..U+009F,
    newline and tab included) replaced by its ``\\xNN`` escape; other characters are kept."""
    return str(text).translate(_ESCAPES)


def printable_lines(text: object) -> str:
    """``printable`` applied to each line of ``text``, the line breaks kept (for messages of
    several lines)."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def guard_formulas(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column (Arrow ``string`` or ``large_string``) with ``'`` put before every cell that
    begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return; the column itself when no
    cell does. Nulls stay null."""
    starts = [_starts_formula(chunk) for chunk in column.chunks]
    if not any(part.any() for part in starts):
        return column
    starts = pa.chunked_array(starts, pa.bool_())
    guard, joiner = pa.scalar(FORMULA_GUARD, column.type), pa.scalar("", column.type)
    return pc.if_else(starts, pc.binary_join_element_wise(guard, column, joiner), column)


def _starts_formula(chunk: pa.Array) -> np.ndarray:
    """Whether each cell's first byte is one of ``FORMULA_START``, read from the array's offsets
    and bytes directly (a regular expression over every cell costs twice the CSV writing)."""
    _, offsets, data = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    first = bounds[:-1]
    filled = bounds[1:] > first
    if chunk.null_count:
        filled &= chunk.is_valid().to_numpy(zero_copy_only=False)
    if data is None or not filled.any():
        return np.zeros(len(chunk), dtype=bool)
    # an empty last cell's offset is the data's end: clipped, and then discarded by ``filled``
    return _FORMULA_BYTE.take(np.frombuffer(data, dtype=np.uint8).take(first, mode="clip")) & filled
