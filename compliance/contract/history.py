"""A seller's history: the holder's completed sales before a proposed one, read through the same
value parser as a sale event (numbers, dates and text follow the same rules).

Columns: ``investor`` (an investor of the agreement), ``security`` (shares | warrant_shares),
``quantity`` (whole number > 0), ``sale_date`` (YYYY-MM-DD), ``route`` (registration_statement |
rule_144 | other_exemption); optional ``sale_price`` (US$ per share) and ``notice_id``. A history
sale is a fact: it is not judged again. A bad row makes the whole history unusable
(``InputError`` naming "history row N", N counted from 1, and the field).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compliance.contract.event import ROUTES, SECURITIES, InputError, _Parser
from compliance.deal.agreement import Agreement

HISTORY_REQUIRED = ("investor", "security", "quantity", "sale_date", "route")
HISTORY_OPTIONAL = ("sale_price", "notice_id")
HISTORY_FIELDS = HISTORY_REQUIRED + HISTORY_OPTIONAL


@dataclass(frozen=True)
class SaleHistory:
    """Completed sales as columns, sorted by ``sale_date`` (ties in the order given).
    ``sale_price``: float64, NaN where not given."""

    investor: np.ndarray  # object (str)
    security: np.ndarray  # object (str)
    quantity: np.ndarray  # int64
    sale_date: np.ndarray  # datetime64[D]
    route: np.ndarray  # object (str)
    sale_price: np.ndarray  # float64
    notice_id: np.ndarray  # object (str or None)

    @classmethod
    @functools.cache
    def empty(cls) -> SaleHistory:
        """No sales: one history shared by every caller (its columns have no rows to change)."""
        text = np.zeros(0, dtype=object)
        return cls(text, text, np.zeros(0, np.int64), np.zeros(0, "M8[D]"), text, np.zeros(0), text)

    def __len__(self) -> int:
        return len(self.quantity)

    def take(self, rows) -> SaleHistory:
        return SaleHistory(**{name: getattr(self, name)[rows] for name in self.__dataclass_fields__})


def _row_problems(i: int, problems: list[tuple[Any, Any, str]]) -> list[tuple[Any, Any, str]]:
    return [(f"history row {i + 1}: {field}", value, what) for field, value, what in problems]


def parse_history(history: Any, agreement: Agreement) -> SaleHistory:
    """A history given as a DataFrame, a list of mappings, a CSV or Parquet path, or None (no
    sales), parsed and checked against the agreement's investors. Raises ``InputError``."""
    if history is None:
        return SaleHistory.empty()
    if isinstance(history, SaleHistory):
        return history
    if isinstance(history, (str, Path)):
        history = read_history_file(history)
    if isinstance(history, pd.DataFrame):
        unknown = [c for c in history.columns if c not in HISTORY_FIELDS]
        if unknown:
            raise InputError(
                [("history", c, f"is not a history column ({', '.join(HISTORY_FIELDS)})") for c in unknown]
            )
        history = history.to_dict("records")
    if not isinstance(history, (list, tuple)):
        raise InputError([("history", type(history).__name__, "must be a DataFrame or a list of mappings")])
    rows = []
    for i, raw in enumerate(history):
        if not isinstance(raw, Mapping):
            raise InputError([(f"history row {i + 1}", raw, "must be a mapping of history columns")])
        unknown = [k for k in raw if k not in HISTORY_FIELDS]
        if unknown:
            raise InputError(_row_problems(i, [(k, raw[k], "is not a history column") for k in unknown]))
        p = _Parser(dict(raw), agreement.company_timezone)
        row = (
            p.text("investor", True),
            p.choice("security", SECURITIES, True),
            p.whole("quantity", True, 1),
            p.day("sale_date", True),
            p.choice("route", ROUTES, True),
            p.price("sale_price"),
            p.text("notice_id", False),
        )
        if not p.problems and row[0] not in agreement.investors:
            p.fail("investor", f"is not an investor of the agreement ({', '.join(agreement.investors)})")
        if p.problems:
            raise InputError(_row_problems(i, p.problems))
        rows.append(row)
    if not rows:
        return SaleHistory.empty()
    investor, security, quantity, sale_date, route, price, notice_id = zip(*rows, strict=True)
    dates = np.array(sale_date, dtype="M8[D]")
    order = np.argsort(dates, kind="stable")
    return SaleHistory(
        np.array(investor, dtype=object),
        np.array(security, dtype=object),
        np.array(quantity, dtype=np.int64),
        dates,
        np.array(route, dtype=object),
        np.array([np.nan if v is None else v for v in price], dtype=np.float64),
        np.array(notice_id, dtype=object),
    ).take(order)


def read_history_file(path: str | Path) -> pd.DataFrame:
    """A history table from a .parquet file or a CSV file (every cell read as text); a file that
    cannot be read raises ``InputError`` naming it."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001  (missing, unreadable, not a table: the history is unusable)
        raise InputError([("history", str(path), f"cannot be read ({type(exc).__name__}: {exc})")]) from None
