"""The facts that count a review's earlier allowed sales: the position still available and the
three-month Rule 144 aggregates (144(e), 144(h)), and when the oldest of those sales leaves each
event's window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compliance.contract.event import EventColumns
from compliance.deal.periods import (
    first_day_window_start_reaches,
)
from compliance.facts.columns import Facts, NextChanges, parameter_on, per_distinct
from compliance.facts.three_month_aggregate import WindowSales, three_month_aggregate
from compliance.rulebook.parameters import Rule144Parameters

# What changes when an earlier sale leaves the three-month window: the aggregates can only fall.
WINDOW_EXITS = ("volume_aggregate_3m", "amount_aggregate_3m_dollars")


@dataclass(frozen=True)
class PriorSales:
    """For each event, the allowed sales that come before it in the same review.

    ``sold``: shares of the event's investor and security already sold (int64, per event).
    ``rule_144``: per investor, the dates (ascending) and cumulative quantities (length + 1) of
    its allowed Rule 144 sales, in review order; ``before``: how many of them precede each event.
    """

    sold: np.ndarray
    rule_144: dict[str, tuple[np.ndarray, np.ndarray]]
    before: np.ndarray

    @classmethod
    def none(cls, n: int) -> PriorSales:
        return cls(np.zeros(n, np.int64), {}, np.zeros(n, np.int64))

    def take(self, rows) -> PriorSales:
        return PriorSales(self.sold[rows], self.rule_144, self.before[rows])


def count_earlier_sales(
    facts: Facts, changes: NextChanges, events: EventColumns, params: Rule144Parameters, prior: PriorSales
) -> None:
    """Set in ``facts`` the facts that count the earlier allowed sales ``prior`` (see
    ``aggregates``), and in ``changes`` the day the oldest of them leaves each event's window.
    The other facts do not depend on earlier sales: a review derives them once and recounts."""
    counted, oldest = aggregates(events, facts["position_held"], prior, facts["volume_window_starts_after"])
    facts.update(counted)
    changes.add(window_exit_day(oldest, parameter_on(params, "aggregation_months", events.sale_date)), *WINDOW_EXITS)


def window_exit_day(sold_on: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The first sale date whose ``months`` window no longer holds a sale made on ``sold_on``."""
    return per_distinct(
        lambda day, m: first_day_window_start_reaches(day, m, strictly_after=False), sold_on, months.astype(np.int64)
    )


def aggregates(
    events: EventColumns, position_held: np.ndarray, prior: PriorSales, window_from: np.ndarray
) -> tuple[Facts, np.ndarray]:
    """The facts that count earlier allowed sales of the same review: the position still
    available, the three-month Rule 144 aggregate (``three_month_aggregate``) with the earlier
    sales made after ``window_from``; and the date of the oldest earlier sale still in
    each event's window (NaT: none), the first to leave it."""
    window = WindowSales(events.investor, prior.before, prior.rule_144, window_from)
    shares, dollars = three_month_aggregate(events.quantity, events.prior_144_sales_3m, events.sale_price, window)
    oldest = window.sold_on(np.ones(len(events), np.int64))
    return {
        "position_available": position_held - prior.sold,
        "volume_aggregate_3m": shares,
        "amount_aggregate_3m_dollars": dollars,
    }, oldest
