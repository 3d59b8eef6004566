"""Text made safe for where it goes: a terminal, and a spreadsheet opening a CSV file.

A value from a notices file is the sender's text. Printed raw, its control characters drive the
terminal (``\\x1b[2J`` clears the screen, others retitle the window or move the cursor); written
raw into a CSV file, a cell beginning with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) is taken as a formula by a spreadsheet that opens the file.
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

# C0 controls, DEL and C1 controls, each shown as the escape Python would write for it.
_CONTROL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_ESCAPES = {code: f"\\x{code:02x}" for code in _CONTROL}
CONTROL_PATTERN = re.compile("[\x00-\x1f\x7f-\x9f]")

# The first characters that make a spreadsheet read a cell as a formula.
FORMULA_START = "^[=+\\-@\t\r]"
FORMULA_GUARD = "'"


def printable(text: object) -> str:
    """``text`` as a string with every control character (U+0000..U+001F, U+007F..U+009F,
    newline and tab included) replaced by its ``\\xNN`` escape; other characters are kept."""
    return str(text).translate(_ESCAPES)


def printable_lines(text: object) -> str:
    """``printable`` applied to each line of ``text``, the line breaks kept (for messages of
    several lines)."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def guard_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A text column with ``'`` put before every cell that begins with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return; the column itself when no cell does (nulls stay null)."""
    starts = pc.match_substring_regex(column, FORMULA_START)
    if not pc.any(starts).as_py():
        return column
    return pc.if_else(starts, pc.binary_join_element_wise(FORMULA_GUARD, column, ""), column)
