"""What ``check(record=)`` and ``review(record=)`` call: a check's decision as a batch of one,
sealed with its record in one transaction; a review's rows in chunks, the batch declaring the
review's number of rows and sealed with its last chunk; and the recorder that takes a review's
output while the review runs. With ``COMPLIANCE_LOG_KEY`` set, the batch's records are keyed."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .batches import history_text, new_batch, unread_history_text
from .chain import Decisions
from .encoding import _dumps, _notice_id_lines, _row_lines
from .keys import log_key
from .writing import append

CHUNK = 10_000


def append_check(
    path: Path | str, event: Any, decision, agreement, rules_dir=None, history=None, history_error: str | None = None
) -> None:
    """Record one ``check()`` decision: a batch of one, written sealed in one transaction.
    ``history``: the parsed history the check was given (``contract.history.SaleHistory``), or None;
    ``history_error``: why the history it was given could not be read, if it could not."""
    row = decision.to_row()
    if isinstance(event, Mapping):
        columns, values = list(event), _dumps(list(event.values()))
    else:
        columns, values = None, _dumps(event)
    key = log_key()
    batch = new_batch(
        "check",
        agreement.directory,
        rules_dir,
        columns,
        list(row),
        1,
        key and key.id,
        history_text(history) if history_error is None else unread_history_text(history_error),
    )
    append(path, batch, [Decisions.of([str(row["notice_id"])], [values], [_dumps(list(row.values()))])], key)


def append_review(
    path: Path | str,
    notices: pd.DataFrame,
    result: pd.DataFrame,
    agreement,
    rules_dir=None,
    chunk_size: int = CHUNK,
    history=None,
) -> None:
    """Record every row of one ``review()``: the notice row as the event, the output row; one
    chunk row per ``chunk_size`` records; the parsed ``history`` the review was given, if any."""
    key = log_key()
    batch = new_batch(
        "review",
        agreement.directory,
        rules_dir,
        list(notices.columns),
        list(result.columns),
        len(result),
        key and key.id,
        history_text(history),
    )
    notice_ids, events, outputs = _notice_id_lines(result["notice_id"]), _row_lines(notices), _row_lines(result)

    def chunks() -> Iterable[Decisions]:  # encoded one at a time, as the writer asks
        for start in range(0, len(result), chunk_size):
            stop = start + chunk_size
            yield Decisions(notice_ids.lines(start, stop), events.lines(start, stop), outputs.lines(start, stop))

    append(path, batch, chunks(), key)


class ReviewRecorder:
    """Records a review's decisions while the review is still writing its output: ``add`` hands
    over each run of output rows as soon as it is made, and a thread of the recorder's own encodes,
    hashes and appends it (the C loops and SQLite release the GIL), so recording overlaps the
    review's last phase instead of following it. The records are those ``append_review`` makes of
    the finished result, chunked where the output was, in a batch that declares one record per
    notice, with the parsed ``history`` the review was given. ``close`` returns once every chunk,
    and with the last the batch's seal, is committed (or raises what went wrong, the batch left
    unsealed). ``abandon``, for a review that stopped (an exception, KeyboardInterrupt, a signal
    handler raising), stops after the chunks the writer already holds: they stay, whole, and the
    batch stays unsealed, which ``log verify`` reports and ``replay`` leaves out."""

    def __init__(
        self,
        path: Path | str,
        notices: pd.DataFrame,
        output_columns: Sequence[str],
        agreement,
        rules_dir=None,
        history=None,
    ):
        self.key = log_key()
        self.batch = new_batch(
            "review",
            agreement.directory,
            rules_dir,
            list(notices.columns),
            list(output_columns),
            len(notices),
            self.key and self.key.id,
            history_text(history),
        )
        self.events = _row_lines(notices)
        self.recorded = 0
        self.stopping = threading.Event()
        self.handed: queue.Queue[tuple[int, pd.DataFrame] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._record, args=(path,), name="decision-log-recorder", daemon=True)
        self.thread.start()

    def _record(self, path: Path | str) -> None:
        def chunks() -> Iterable[Decisions]:
            while not self.stopping.is_set() and (item := self.handed.get()) is not None:
                start, output = item
                yield Decisions(
                    _notice_id_lines(output["notice_id"]).lines(),
                    self.events.lines(start, start + len(output)),
                    _row_lines(output).lines(),
                )

        try:
            self.recorded = append(path, self.batch, chunks(), self.key)
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
        if self.recorded != self.batch.expected:
            raise ValueError(
                f"the review handed {self.recorded:,} of its {self.batch.expected:,} decisions "
                f"to the decision log; the batch is left unsealed"
            )

    def abandon(self) -> None:
        self.stopping.set()
        self._hand(None)
        self.thread.join()
