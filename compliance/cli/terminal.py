"""What the commands print on a terminal: tables with control characters escaped, and progress."""

from __future__ import annotations

import sys
import threading
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


class PhaseTicker:
    """A line on a terminal naming the current phase and the time taken, redrawn every quarter
    second once the run has taken ``after_seconds`` (a quick run shows nothing); cleared at the
    end. Silent when stderr is not a terminal. Use as a context manager; ``tell`` sets the phase."""

    def __init__(self, after_seconds: float = 1.0):
        self.after_seconds = after_seconds
        self.phase = ""
        self._done = threading.Event()
        self._shown = False
        self._thread = threading.Thread(target=self._tick, daemon=True) if sys.stderr.isatty() else None

    def tell(self, text: str) -> None:
        self.phase = text

    def __enter__(self) -> PhaseTicker:
        self._started = time.monotonic()
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread:
            self._thread.join()
        if self._shown:
            print(f"\r{'':<80}\r", end="", file=sys.stderr, flush=True)

    def _tick(self) -> None:
        if self._done.wait(self.after_seconds):
            return
        while not self._done.is_set():
            self._shown = True
            elapsed = time.monotonic() - self._started
            print(f"\r[{elapsed:6.1f} s] {self.phase:<70}", end="", file=sys.stderr, flush=True)
            self._done.wait(0.25)
