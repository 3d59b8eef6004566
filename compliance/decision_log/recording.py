"""What ``check(record=)`` and ``review(record=)`` call: a check's decision as a batch of one, a
review's rows in chunks, and the recorder that takes a review's output while the review runs."""
from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .batches import new_batch
from .chain import Decisions
from .encoding import _dumps, _notice_id_lines, _row_lines
from .writing import append

CHUNK = 10_000



def append_check(path: Path | str, event: Any, decision, agreement, rules_dir=None) -> None:
    """Record one ``check()`` decision: a batch of one."""
    row = decision.to_row()
    if isinstance(event, Mapping):
        columns, values = list(event), _dumps(list(event.values()))
    else:
        columns, values = None, _dumps(event)
    batch = new_batch("check", agreement.directory, rules_dir, columns, list(row))
    append(path, batch, [Decisions.of([str(row["notice_id"])], [values], [_dumps(list(row.values()))])])



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
