"""The facts that count a seller's earlier sales (its history, and a review's earlier allowed
sales): the position still available and the three-month Rule 144 aggregates (144(e), 144(h)),
and when the oldest of those sales leaves each event's window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compliance.contract.event import SECURITIES, EventColumns
from compliance.contract.history import SaleHistory
from compliance.deal.periods import (
    first_day_window_start_reaches,
)
from compliance.facts.columns import NAT, Facts, NextChanges, parameter_on, per_distinct
from compliance.facts.three_month_aggregate import Ledger, WindowSales, three_month_aggregate
from compliance.rulebook.parameters import Rule144Parameters

# What changes when an earlier sale leaves the three-month window: the aggregates can only fall.
WINDOW_EXITS = ("volume_aggregate_3m", "amount_aggregate_3m_dollars")
# The same, when the sales stated on the notice (``prior_144_sales_3m``) leave it: a source of its
# own, which the date search's shortcut over earlier sales (``postpone``) leaves alone.
DECLARED_EXIT = (*WINDOW_EXITS, "prior_144_sales_3m")

# Per investor, raw Rule 144 sales in the order they count: dates, quantities, prices (NaN: unknown).
RawSales = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class PriorSales:
    """For each event, the sales that come before it: its seller's history and the allowed sales
    before it in the same review.

    ``sold``: shares of the event's investor and security already sold (int64, per event).
    ``rule_144``: per investor, the ledger of its Rule 144 sales in the order they count;
    ``before``: how many of them precede each event. ``declared_on``: the day each event's
    ``prior_144_sales_3m`` were made (its own sale date, kept when the date search moves the
    event; None: the events' sale dates)."""

    sold: np.ndarray
    rule_144: dict[str, Ledger]
    before: np.ndarray
    declared_on: np.ndarray | None = None

    @classmethod
    def none(cls, n: int) -> PriorSales:
        return cls(np.zeros(n, np.int64), {}, np.zeros(n, np.int64))

    def take(self, rows) -> PriorSales:
        declared_on = None if self.declared_on is None else self.declared_on[rows]
        return PriorSales(self.sold[rows], self.rule_144, self.before[rows], declared_on)


def prior_sales(
    events: EventColumns,
    history: SaleHistory | None,
    sold: np.ndarray | None = None,
    counted: RawSales | None = None,
    before: np.ndarray | None = None,
) -> PriorSales:
    """Each event's earlier sales: the ``history`` sales of its investor dated on or before its
    sale date, and (in a review) the ``counted`` Rule 144 sales, of which ``before`` precede each
    event, and ``sold`` shares of its investor and security. A history sale of the same day comes
    before the review's sales of that day."""
    n = len(events)
    sold = np.zeros(n, np.int64) if sold is None else sold.copy()
    before = np.zeros(n, np.int64) if before is None else before.copy()
    raw = dict(counted or {})
    history = history if history is not None else SaleHistory.empty()
    t = events.sale_date
    for name in dict.fromkeys(history.investor.tolist()):
        mine, of_seller = events.investor == name, history.investor == name
        for security in SECURITIES:
            same = of_seller & (history.security == security)
            running = np.r_[0, np.cumsum(history.quantity[same])]
            rows = mine & (events.security == security)
            sold[rows] += running[np.searchsorted(history.sale_date[same], t[rows], side="right")]
        rule_144 = of_seller & (history.route == "rule_144")
        dates = history.sale_date[rule_144]
        before[mine] += np.searchsorted(dates, t[mine], side="right")
        review_dates, review_quantity, review_price = raw.get(name, (dates[:0], np.zeros(0, np.int64), np.zeros(0)))
        merged_dates = np.concatenate([dates, review_dates])
        source = np.r_[np.zeros(len(dates)), np.ones(len(review_dates))]
        order = np.lexsort((np.arange(len(merged_dates)), source, merged_dates))
        raw[name] = (
            merged_dates[order],
            np.concatenate([history.quantity[rule_144], review_quantity])[order],
            np.concatenate([history.sale_price[rule_144], review_price])[order],
        )
    return PriorSales(sold, {name: Ledger.of(*sales) for name, sales in raw.items()}, before, t.copy())


def count_earlier_sales(
    facts: Facts, changes: NextChanges, events: EventColumns, params: Rule144Parameters, prior: PriorSales
) -> None:
    """Set in ``facts`` the facts that count the earlier sales ``prior`` (see ``aggregates``), and
    in ``changes`` the day the oldest of them, and the day the sales stated on the notice, leave
    each event's window. The other facts do not depend on earlier sales: a review derives them once
    and recounts."""
    counted, oldest = aggregates(events, facts["position_held"], prior, facts["volume_window_starts_after"])
    facts.update(counted)
    months = parameter_on(params, "aggregation_months", events.sale_date)
    changes.add(window_exit_day(oldest, months), *WINDOW_EXITS)
    declared = declared_in_window(events, prior, facts["volume_window_starts_after"]) > 0
    changes.add(window_exit_day(np.where(declared, declared_on(events, prior), NAT), months), *DECLARED_EXIT)


def window_exit_day(sold_on: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The first sale date whose ``months`` window no longer holds a sale made on ``sold_on``
    (NaT: none, where ``sold_on`` is NaT)."""
    return per_distinct(
        lambda day, m: first_day_window_start_reaches(day, m, strictly_after=False), sold_on, months.astype(np.int64)
    )


def declared_on(events: EventColumns, prior: PriorSales) -> np.ndarray:
    """The day each event's ``prior_144_sales_3m`` were made."""
    return events.sale_date if prior.declared_on is None else prior.declared_on


def declared_in_window(events: EventColumns, prior: PriorSales, window_from: np.ndarray) -> np.ndarray:
    """Each event's ``prior_144_sales_3m`` while in its window (made after ``window_from``), else 0."""
    return np.where(declared_on(events, prior) > window_from, events.prior_144_sales_3m, 0)


def aggregates(
    events: EventColumns, position_held: np.ndarray, prior: PriorSales, window_from: np.ndarray
) -> tuple[Facts, np.ndarray]:
    """The facts that count earlier sales: the position still available, the three-month Rule
    144 aggregate (``three_month_aggregate``) with the earlier sales made after ``window_from``;
    and the date of the oldest earlier sale still in each event's window (NaT: none), the first
    to leave it."""
    window = WindowSales(events.investor, prior.before, prior.rule_144, window_from)
    shares, dollars = three_month_aggregate(
        events.quantity, declared_in_window(events, prior, window_from), events.sale_price, window
    )
    oldest = window.sold_on(np.ones(len(events), np.int64))
    return {
        "position_available": position_held - prior.sold,
        "volume_aggregate_3m": shares,
        "amount_aggregate_3m_dollars": dollars,
    }, oldest
