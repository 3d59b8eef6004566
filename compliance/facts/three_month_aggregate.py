"""The seller's three-month aggregate of Rule 144 sales: the amount 144(e)(1) limits (volume) and
144(h)(1) measures against the Form 144 thresholds.

For a sale on day t, the aggregate is, in shares:

    its own quantity
  + the seller's Rule 144 sales stated on the notice (``prior_144_sales_3m``), while in the window
  + the seller's earlier Rule 144 sales still in the window: its history and the earlier allowed
    sales of the same review.

The window holds the sales made *after* ``window_from`` (the fact ``volume_window_starts_after``:
t less the ``aggregation_months`` parameter, month-end clamped): a sale made on ``window_from``
itself is out, one made the day after is in. "Earlier" is review order (``sale_date``, ties in file
order; a history sale before a review row of the same day), so a sale on t itself counts when it
comes first. ``prior_144_sales_3m`` are sales of unknown price dated on the notice's own sale date
(the latest they can be): they leave the window three months after it.

The amount in dollars (144(h)) is the sum, over the sales in the aggregate, of each sale's
quantity times its own price: NaN (unknown) if any of those prices is unknown, so any nonzero
``prior_144_sales_3m`` makes it unknown.

Everything is vectorized over events. The facts (``prior_sales.aggregates``), the ordered scan of
a review and the earliest-date search (``earlier_sales``) all count through
``three_month_aggregate``; the pre-trade check counts one event the same way in Python values
(``compliance.facts.one_event``, held equal by a test).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

NAT = np.datetime64("NaT", "D")


class Ledger(NamedTuple):
    """One seller's Rule 144 sales in the order they count (dates ascending), with cumulative sums
    (length + 1): shares, dollars of the sales with a known price, and sales of unknown price."""

    dates: np.ndarray
    shares: np.ndarray
    dollars: np.ndarray
    unknown: np.ndarray

    @classmethod
    def of(cls, dates: np.ndarray, quantity: np.ndarray, price: np.ndarray) -> Ledger:
        """The ledger of sales (``price`` NaN where unknown), in the order given."""
        amount = quantity * price
        unknown = np.isnan(amount)
        return cls(
            np.asarray(dates, "M8[D]"),
            np.r_[0, np.cumsum(quantity)].astype(np.int64),
            np.r_[0.0, np.cumsum(np.where(unknown, 0.0, amount))],
            np.r_[0, np.cumsum(unknown)].astype(np.int64),
        )


class WindowSales:
    """For each of some events, its investor's earlier Rule 144 sales still in its three-month
    window, in the order they will leave it (oldest first)."""

    def __init__(self, investor, before: np.ndarray, sales: dict[str, Ledger], window_from: np.ndarray):
        """``investor``: each event's investor (array or ``Coded``); ``sales``: per investor, the
        ledger of its earlier Rule 144 sales; ``before``: how many of them precede each event;
        ``window_from``: the day after which a sale is in each event's window."""
        n = len(investor)
        ledgers = list(sales.values())
        self.dates = np.concatenate([s.dates for s in ledgers] + [np.zeros(0, "M8[D]")])
        self.cumulative = np.concatenate([s.shares for s in ledgers] + [np.zeros(1, np.int64)])
        self.dollars = np.concatenate([s.dollars for s in ledgers] + [np.zeros(1)])
        self.unknown = np.concatenate([s.unknown for s in ledgers] + [np.zeros(1, np.int64)])
        self.first = np.zeros(n, np.int64)  # in ``cumulative``: the oldest sale in the window
        self.end = np.zeros(n, np.int64)  # in ``cumulative``: after the newest earlier sale
        self.offset = np.zeros(n, np.int64)  # from ``cumulative`` positions to ``dates`` positions
        date_start = cumulative_start = 0
        for name, ledger in sales.items():
            mine = investor == name
            # the sales made on or before window_from have left the window
            dropped = np.minimum(np.searchsorted(ledger.dates, window_from[mine], side="right"), before[mine])
            self.first[mine], self.end[mine] = cumulative_start + dropped, cumulative_start + before[mine]
            self.offset[mine] = date_start - cumulative_start
            date_start, cumulative_start = date_start + len(ledger.dates), cumulative_start + len(ledger.shares)
        self.count = self.end - self.first

    def left_after(self, k: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Shares still in the window of events ``at`` once ``k`` sales have left it."""
        return self.cumulative[self.end[at]] - self.cumulative[self.first[at] + k]

    def dollars_left_after(self, k: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Their sale price in dollars (NaN where one of their prices is unknown)."""
        start, end = self.first[at] + k, self.end[at]
        known = self.unknown[end] == self.unknown[start]
        return np.where(known, self.dollars[end] - self.dollars[start], np.nan)

    def sold_on(self, k: np.ndarray) -> np.ndarray:
        """The sale date of each event's ``k``-th sale to leave (k >= 1; NaT past the last)."""
        if not len(self.dates):  # no earlier sales at all
            return np.full(np.shape(k), NAT)
        inside = (k >= 1) & (k <= self.count)
        index = np.where(inside, self.first + k - 1 + self.offset, 0)
        return np.where(inside, self.dates[index], NAT)


def three_month_aggregate(
    quantity: np.ndarray,
    declared: np.ndarray,
    sale_price: np.ndarray,
    window: WindowSales,
    at: np.ndarray | None = None,
    exits: np.ndarray | int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The three-month aggregate of events ``at`` of ``window`` (default: all of them, in order):
    shares (int64) and dollars (float64, NaN where a price is unknown). ``quantity``,
    ``declared`` (the ``prior_144_sales_3m`` still in the window, unknown price) and
    ``sale_price`` are those events' own (one per event of ``at``).
    ``exits``: how many of each event's window sales to leave out, oldest first (0: the aggregate
    on its sale date; the earliest-date search asks what remains as sales leave the window)."""
    at = np.arange(len(window.first)) if at is None else at
    k = np.asarray(exits)  # broadcast by the arithmetic
    shares = quantity + declared + window.left_after(k, at)
    dollars = quantity * sale_price + window.dollars_left_after(k, at) + np.where(declared > 0, np.nan, 0.0)
    return shares, dollars
