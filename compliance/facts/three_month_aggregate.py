"""The seller's three-month aggregate of Rule 144 sales: the amount 144(e)(1) limits (volume) and
144(h)(1) measures against the Form 144 thresholds.

For a sale on day t, the aggregate is, in shares:

    its own quantity
  + the seller's Rule 144 sales in the three months before t stated on the notice
    (``prior_144_sales_3m``, made outside this review)
  + the seller's earlier allowed Rule 144 sales of the same review still in the window.

The window holds the sales made *after* ``window_from`` (the fact ``volume_window_starts_after``:
t less the ``aggregation_months`` parameter, month-end clamped): a sale made on ``window_from``
itself is out, one made the day after is in. "Earlier" is review order (``sale_date``, ties in file
order), so a sale on t itself counts when it comes first. The amount in dollars is the share
aggregate times this sale's price (NaN without a price: the dollar limb is then unknown).

Everything is vectorized over events; one event is arrays of length one. The per-event path
(``facts.aggregates``), the ordered scan of a review and the earliest-date search
(``earlier_sales``) all count through ``three_month_aggregate``.
"""

from __future__ import annotations

import numpy as np

NAT = np.datetime64("NaT", "D")


class WindowSales:
    """For each of some events, its investor's earlier allowed Rule 144 sales still in its
    three-month window, in the order they will leave it (oldest first)."""

    def __init__(self, investor, before: np.ndarray, sales: dict, window_from: np.ndarray):
        """``investor``: each event's investor (array or ``Coded``); ``sales``: per investor, the
        dates (ascending) and cumulative quantities (length + 1) of its allowed Rule 144 sales in
        review order; ``before``: how many of them precede each event; ``window_from``: the day
        after which a sale is in each event's window."""
        n = len(investor)
        self.dates = np.concatenate([d for d, _ in sales.values()] + [np.zeros(0, "M8[D]")])
        self.cumulative = np.concatenate([c for _, c in sales.values()] + [np.zeros(1, np.int64)])
        self.first = np.zeros(n, np.int64)  # in ``cumulative``: the oldest sale in the window
        self.end = np.zeros(n, np.int64)  # in ``cumulative``: after the newest earlier sale
        self.offset = np.zeros(n, np.int64)  # from ``cumulative`` positions to ``dates`` positions
        date_start = cumulative_start = 0
        for name, (dates, cumulative) in sales.items():
            mine = investor == name
            # the sales made on or before window_from have left the window
            dropped = np.minimum(np.searchsorted(dates, window_from[mine], side="right"), before[mine])
            self.first[mine], self.end[mine] = cumulative_start + dropped, cumulative_start + before[mine]
            self.offset[mine] = date_start - cumulative_start
            date_start, cumulative_start = date_start + len(dates), cumulative_start + len(cumulative)
        self.count = self.end - self.first

    def left_after(self, k: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Shares still in the window of events ``at`` once ``k`` sales have left it."""
        return self.cumulative[self.end[at]] - self.cumulative[self.first[at] + k]

    def sold_on(self, k: np.ndarray) -> np.ndarray:
        """The sale date of each event's ``k``-th sale to leave (k >= 1; NaT past the last)."""
        inside = (k >= 1) & (k <= self.count)
        index = np.where(inside, self.first + k - 1 + self.offset, 0)
        return np.where(inside, self.dates[index] if len(self.dates) else NAT, NAT)


def three_month_aggregate(
    quantity: np.ndarray,
    prior_144_sales_3m: np.ndarray,
    sale_price: np.ndarray,
    window: WindowSales,
    at: np.ndarray | None = None,
    exits: np.ndarray | int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The three-month aggregate of events ``at`` of ``window`` (default: all of them, in order):
    shares (int64) and dollars (float64, NaN where ``sale_price`` is NaN). ``quantity``,
    ``prior_144_sales_3m`` and ``sale_price`` are those events' own (one per event of ``at``).
    ``exits``: how many of each event's window sales to leave out, oldest first (0: the aggregate
    on its sale date; the earliest-date search asks what remains as sales leave the window)."""
    at = np.arange(len(window.first)) if at is None else at
    shares = quantity + prior_144_sales_3m + window.left_after(np.broadcast_to(exits, at.shape), at)
    return shares, shares * sale_price
