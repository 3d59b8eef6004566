"""How a review's earlier allowed sales bear on its later notices (the batch semantics).

In review order, an allowed sale leaves the investor's position, and an allowed Rule 144 sale
joins the seller's three-month aggregate, for every later notice; denied notices count toward
nothing. Only the rules that read those aggregates (``position_available``,
``volume_aggregate_3m``, ``amount_aggregate_3m_dollars``) depend on the order. This module
decides which notices are allowed in order (``decide_in_order``), computes the aggregates of any
set of counted sales (``ReviewOrder``), and tells the date search which window exits cannot
matter (``postpone_window_exits``). The three-month aggregate itself is counted by
``three_month_aggregate``.
"""

from __future__ import annotations

import numpy as np

from compliance.contract.event import EventColumns
from compliance.contract.history import SaleHistory
from compliance.facts.columns import NAT, Facts, NextChanges, parameter_on
from compliance.facts.prior_sales import (
    WINDOW_EXITS,
    PriorSales,
    aggregates,
    declared_in_window,
    prior_sales,
    window_exit_day,
)
from compliance.facts.three_month_aggregate import Ledger, WindowSales, three_month_aggregate
from compliance.rulebook import vectorized as vz
from compliance.rulebook.loader import Rulebook

# How each aggregate moves as earlier allowed sales are added: +1 it grows, -1 it shrinks.
GROWTH = {"position_available": -1, "volume_aggregate_3m": +1, "amount_aggregate_3m_dollars": +1}


def reads_earlier_sales(rulebook: Rulebook) -> np.ndarray:
    """Per rule, in rulebook order: whether its conditions read an aggregate of earlier sales."""
    return np.array([bool(set(r.condition_facts) & set(GROWTH)) for r in rulebook.rules])


def counting_rules(rulebook: Rulebook) -> tuple[np.ndarray, list, bool]:
    """The rules that read the aggregates and stop sales: their positions in the rulebook, the
    rules, and whether each can only stop more sales as more earlier sales count (then bounds
    and floors reason soundly about them)."""
    positions = np.flatnonzero(reads_earlier_sales(rulebook) & vz.blocks(rulebook, "sale"))
    rules = [rulebook.rules[j] for j in positions]
    return positions, rules, all(_stops_more_with_more_sales(r) for r in rules)


def trend(cond: tuple) -> int | None:
    """How a condition's truth (FALSE < UNKNOWN < TRUE) moves as earlier allowed sales are
    added: +1 it can only rise, -1 only fall, 0 it cannot move, None either way."""
    kind = cond[0]
    if kind in ("true", "false"):
        return 0
    if kind in ("all", "any"):  # minimum and maximum keep a common direction
        trends = {trend(c) for c in cond[1]} - {0}
        return None if None in trends or len(trends) > 1 else (trends.pop() if trends else 0)
    _, name, op, (operand_kind, operand) = cond
    left, right = GROWTH.get(name, 0), GROWTH.get(operand, 0) if operand_kind == "fact" else 0
    if not left and not right:
        return 0
    if (left and right) or op in ("eq", "ne"):
        return None
    rises_with_left = op in ("gt", "ge")
    return (left if rises_with_left else -left) if left else (-right if rises_with_left else right)


def _stops_more_with_more_sales(rule) -> bool:
    """Whether the rule can only start stopping a sale, never stop stopping it, as earlier
    allowed sales are added (it stops when neither its applicability nor its failure is FALSE)."""
    return trend(rule.applies_when) in (0, 1) and trend(rule.fails_if) in (0, 1)


class ReviewOrder:
    """The review order, and what the aggregates of any set of counted (allowed) rows are."""

    def __init__(self, events: EventColumns, facts: Facts, order: np.ndarray, history: SaleHistory | None = None):
        self.events, self.facts, self.order, self.history = events, facts, order, history
        self.rank = np.empty(len(events), np.int64)
        self.rank[order] = np.arange(len(events))
        self.investor, self.investors = events.investor.codes, events.investor.distinct
        holding = self.investor.astype(np.int64) * 2 + (events.security == "warrant_shares")
        # rows grouped by (investor, security), in review order within each group
        self.by_holding = order[np.argsort(holding[order], kind="stable")]
        self.holding_starts = np.flatnonzero(np.r_[True, np.diff(holding[self.by_holding]) != 0])
        self.holding_sizes = np.diff(np.r_[self.holding_starts, len(events)])
        self.quantity_by_holding = events.quantity[self.by_holding]
        # per investor: its rows in review order
        self.by_investor = [order[(self.investor == k)[order]] for k in range(len(self.investors))]
        self.rule_144 = events.route == "rule_144"
        self.coded: dict[str, np.ndarray | vz.Coded] = {}

    def prior_sales(self, counted: np.ndarray) -> PriorSales:
        """Each row's earlier sales: its seller's history and the ``counted`` rows before it in
        review order."""
        events = self.events
        quantity = np.where(counted[self.by_holding], self.quantity_by_holding, 0)
        running = np.cumsum(quantity) - quantity
        sold = np.empty(len(events), np.int64)
        sold[self.by_holding] = running - np.repeat(running[self.holding_starts], self.holding_sizes)
        rule_144 = counted & self.rule_144
        groups, before = {}, np.zeros(len(events), np.int64)
        for investor, mine in zip(self.investors, self.by_investor, strict=True):
            counts = rule_144[mine]
            sales = mine[counts]
            groups[investor] = (events.sale_date[sales], events.quantity[sales], events.sale_price[sales])
            before[mine] = np.cumsum(counts) - counts  # counted sales earlier in review order
        return prior_sales(events, self.history, sold, groups, before)

    def _column(self, name: str):
        """A fact column, text coded once for all the rounds."""
        if name not in self.coded:
            self.coded[name] = vz.coded(self.facts[name])
        return self.coded[name]

    def passing(self, rules, rows: np.ndarray, counted: np.ndarray) -> np.ndarray:
        """Whether ``rules`` let each of ``rows`` through when the earlier ``counted`` rows count."""
        names = {n for r in rules for n in r.condition_facts} - set(GROWTH)
        facts = {n: self._column(n)[rows] for n in names if n in self.facts}
        prior = self.prior_sales(counted)
        counts, _ = aggregates(
            self.events.take(rows),
            self.facts["position_held"][rows],
            prior.take(rows),
            self.facts["volume_window_starts_after"][rows],
        )
        facts.update(counts)
        return ~vz.failing(vz.rule_statuses(rules, facts, len(rows))).any(axis=1)


def postpone_window_exits(
    rulebook: Rulebook,
    events: EventColumns,
    facts: Facts,
    changes: NextChanges,
    stopping: np.ndarray,
    prior: PriorSales,
) -> None:
    """Earlier sales leave the three-month window one by one, and each exit only lowers the
    aggregates. For a sale stopped by aggregate-reading rules, the exits that matter start with
    the first one after which one of those rules would let it through (found by bisection, the
    rules being monotone in the aggregates); none, if they would stop it with the window empty.
    The date search then jumps there instead of halting at every exit (a busy seller has one
    nearly every day)."""
    counting, rules, boundable = counting_rules(rulebook)
    if not boundable:
        return
    rows = np.flatnonzero(stopping[:, counting].any(axis=1))
    stops = stopping[rows][:, counting]
    names = {n for r in rules for n in r.condition_facts}
    known = {n: vz.coded(facts[n][rows]) for n in names if n in facts}
    window_from = facts["volume_window_starts_after"][rows]
    declared = declared_in_window(events.take(rows), prior.take(rows), window_from)
    quantity, price = events.quantity[rows], events.sale_price[rows]
    window = WindowSales(events.investor[rows], prior.before[rows], prior.rule_144, window_from)

    def cured_after(k: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Whether one of the stopping rules of rows ``at`` passes after ``k`` exits."""
        trial = {n: v[at] for n, v in known.items()}
        trial["volume_aggregate_3m"], trial["amount_aggregate_3m_dollars"] = three_month_aggregate(
            quantity[at], declared[at], price[at], window, at, k
        )
        return (stops[at] & ~vz.failing(vz.rule_statuses(rules, trial, len(at)))).any(axis=1)

    everything = np.arange(len(rows))
    lo = np.zeros(len(rows), np.int64)  # after lo exits: still stopped
    hi = np.where(cured_after(window.count, everything), window.count, window.count + 1)
    while (busy := np.flatnonzero(hi - lo > 1)).size:
        mid = (lo[busy] + hi[busy]) // 2
        cured = cured_after(mid, busy)
        hi[busy[cured]], lo[busy[~cured]] = mid[cured], mid[~cured]
    months = parameter_on(rulebook.parameters, "aggregation_months", events.sale_date[rows])
    first_useful = np.where(hi <= window.count, window_exit_day(window.sold_on(hi), months), NAT)
    changes.postpone(WINDOW_EXITS, rows, first_useful)


def decide_in_order(review_order: ReviewOrder, candidates: np.ndarray, rulebook: Rulebook) -> np.ndarray:
    """Which ``candidates`` (rows no rule blind to the aggregates stops) are allowed when the
    rows are judged in ``order``, each counting the earlier allowed ones.

    The allowed set A is squeezed between a set known allowed (K) and a set possibly allowed
    (P), K within A within P. When the rules that read the aggregates only stop more sales as
    more earlier sales count (checked on their conditions), a row passing with all of P counted
    is in A, and a row failing with only K counted is not: both bounds tighten, vectorized,
    until they settle. Rows still undecided then (or all, for rules that cannot be bounded so)
    are judged one by one in order."""
    _, rules, boundable = counting_rules(rulebook)
    events, facts, order = review_order.events, review_order.facts, review_order.order
    known = np.zeros(len(events), dtype=bool)
    possible = candidates.copy()
    if boundable:
        rows = np.flatnonzero(candidates)
        while len(rows):
            sure = review_order.passing(rules, rows, possible)
            maybe = review_order.passing(rules, rows, known)
            known[rows[sure]] = True
            possible[rows[~maybe]] = False
            still = ~sure & maybe
            if still.all():
                break
            rows = rows[still]
    undecided = possible & ~known
    if not undecided.any():
        return known
    return scan_in_order(events, facts, known | undecided, known, order, rules, review_order.history)


def scan_in_order(
    events: EventColumns,
    facts: Facts,
    rows_mask: np.ndarray,
    known: np.ndarray,
    order: np.ndarray,
    rules,
    history: SaleHistory | None = None,
) -> np.ndarray:
    """Decide, in review order, the rows of ``rows_mask`` not ``known`` to be allowed: each judged
    with the scalar rules on its own facts, its seller's ``history`` and the aggregates of the rows
    allowed before it."""
    allowed = np.zeros(len(events), dtype=bool)
    judges = [vz.scalar_status(r) for r in rules]
    names = sorted({n for r in rules for n in r.condition_facts} - set(GROWTH))
    rows = order[rows_mask[order]]
    columns = {n: _python_values(facts[n][rows]) for n in names}
    window_from = facts["volume_window_starts_after"][rows]
    held = facts["position_held"][rows].tolist()
    quantity, declared, price = events.quantity[rows], events.prior_144_sales_3m[rows], events.sale_price[rows]
    investor, security, route = (
        events.investor[rows].tolist(),
        events.security[rows].tolist(),
        events.route[rows].tolist(),
    )
    sale_date, forced = events.sale_date[rows], known[rows].tolist()
    sales = SalesHistory(len(rows), history)
    for k, i in enumerate(rows.tolist()):
        sales.add_history_until(sale_date[k])
        if not forced[k]:
            one = slice(k, k + 1)
            prior = sales.before(investor[k], security[k])
            window = WindowSales(np.array(investor[one], dtype=object), prior.before, prior.rule_144, window_from[one])
            shares, dollars = three_month_aggregate(quantity[one], declared[one], price[one], window)
            f = {n: columns[n][k] for n in names}
            f["position_available"] = held[k] - int(prior.sold[0])
            f["volume_aggregate_3m"] = int(shares[0])
            f["amount_aggregate_3m_dollars"] = None if np.isnan(dollars[0]) else float(dollars[0])
            if not all(judge(f) in (vz.PASS, vz.NOT_APPLICABLE) for judge in judges):
                continue
        allowed[i] = True
        sales.add(investor[k], security[k], route[k], sale_date[k], int(quantity[k]), float(price[k]))
    return allowed


def _python_values(column: np.ndarray) -> list:
    kind = column.dtype.kind
    if kind == "M":
        return [None if v is None else v for v in column.astype("M8[D]").astype(object)]
    if kind == "f":
        return [None if v != v else v for v in column.tolist()]
    return column.tolist()


class SalesHistory:
    """A seller's sales so far, appended one at a time in review order: its history (as the
    review reaches each history sale's date) and the review's allowed sales. For the ordered scan
    and the row-by-row reference (``review.reference_review``), each event's earlier sales in
    constant time, so that checking a hundred thousand rows in order does not grow quadratically."""

    def __init__(self, capacity: int, history: SaleHistory | None = None):
        """``capacity``: the most review sales that will be added; ``history``: completed sales,
        added by ``add_history_until``."""
        self.history = history if history is not None else SaleHistory.empty()
        self.next_history = 0
        self.capacity = capacity + len(self.history)
        self.sold: dict[tuple[str, str], int] = {}
        self.ledgers: dict[str, Ledger] = {}  # cumulative sums, grown in place
        self.count: dict[str, int] = {}

    def add_history_until(self, day) -> None:
        """Add the history sales dated on or before ``day`` not yet added."""
        h, day = self.history, np.datetime64(day, "D")
        while self.next_history < len(h) and h.sale_date[self.next_history] <= day:
            i = self.next_history
            self.add(h.investor[i], h.security[i], h.route[i], h.sale_date[i], int(h.quantity[i]), h.sale_price[i])
            self.next_history += 1

    def add(self, investor: str, security: str, route: str, sale_date, quantity: int, price: float) -> None:
        """``price``: US$ per share, NaN where unknown."""
        self.sold[investor, security] = self.sold.get((investor, security), 0) + quantity
        if route != "rule_144":
            return
        if investor not in self.count:
            n = self.capacity
            self.ledgers[investor] = Ledger(
                np.full(n, NAT), np.zeros(n + 1, np.int64), np.zeros(n + 1), np.zeros(n + 1, np.int64)
            )
            self.count[investor] = 0
        k, ledger = self.count[investor], self.ledgers[investor]
        unknown = price is None or price != price
        ledger.dates[k] = np.datetime64(sale_date, "D")
        ledger.shares[k + 1] = ledger.shares[k] + quantity
        ledger.dollars[k + 1] = ledger.dollars[k] + (0.0 if unknown else quantity * price)
        ledger.unknown[k + 1] = ledger.unknown[k] + unknown
        self.count[investor] = k + 1

    def before(self, investor: str, security: str) -> PriorSales:
        """The earlier sales, for one event of ``investor`` and ``security``."""
        k = self.count.get(investor, 0)
        groups = {investor: Ledger(*(c[: k + (j > 0)] for j, c in enumerate(self.ledgers[investor])))} if k else {}
        return PriorSales(np.array([self.sold.get((investor, security), 0)], np.int64), groups, np.array([k], np.int64))
