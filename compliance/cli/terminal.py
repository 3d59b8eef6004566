"""What the commands print on a terminal: tables with control characters escaped, and progress."""

from __future__ import annotations

import sys
import time

import pandas as pd

from compliance.views.output_safety import CONTROL_PATTERN, printable


def printable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with control characters escaped (``printable``) in the text cells that hold any,
    for a terminal; the frame itself when none does."""
    shown = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype == bool or pd.api.types.is_numeric_dtype(values):
            continue
        has_control = values.astype(str).str.contains(CONTROL_PATTERN.pattern, regex=True).to_numpy(dtype=bool)
        if has_control.any():
            if shown is frame:
                shown = frame.astype(object)
            shown.loc[has_control, column] = values[has_control].map(printable)
    return shown


def progress(total: int):
    """Phase lines on a terminal for long runs; silent when stderr is not a terminal."""
    if not sys.stderr.isatty() or total < 20_000:
        return None
    started = time.monotonic()

    def report(text: str) -> None:
        print(f"\r[{time.monotonic() - started:6.1f} s] {text:<70}", end="", file=sys.stderr, flush=True)

    return report
