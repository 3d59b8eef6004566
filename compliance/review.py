"""Batch review of sale notices: one output row per input row, in input order, vectorized.

Rows are judged in ``sale_date`` order (ties: file order). An allowed row counts toward later rows:
its quantity leaves the investor's position, and an allowed Rule 144 sale joins the seller's
three-month aggregate for the volume limit and Form 144. Denied and error rows count toward
nothing, so the result does not depend on the order of the file.

How: facts are derived for every row at once with no earlier sales counted, and the rulebook
(compiled to numpy) judges them. Rows stopped by a rule that does not read the aggregates are
denied whatever came before. Only the remaining rows are scanned in order, in Python, judging just
the rules that read the aggregates (the same rules, compiled to scalar functions). Then the facts
are derived once more with each row's earlier allowed sales, the whole rulebook judges them, and
the earliest allowed dates are searched for every denied row together. The result is the same as
``check()`` on each row in order with the earlier allowed rows as history (a test holds them equal).
"""
from __future__ import annotations

from collections import deque
from pathlib import Path
import numpy as np
import pandas as pd

from . import vectorized as vz
from .agreement import Agreement, load_agreement
from .check import engine_for, error_decision, evaluate_event, require_clauses, validate_event
from .decision import (OUTPUT_COLUMNS, delivery_note, display_column, order_citations, render_column,
                       rule_citations, undetermined_message)
from .earliest import earliest_allowed_dates
from .facts import Facts, PriorSale, PriorSales, derive_facts
from .model import REQUIRED, EventColumns, InputError, is_missing
from .rulebook import RULES_DIR, Rulebook
from .table import parse_table

AGGREGATES = ("position_available", "volume_aggregate_3m", "amount_aggregate_3m_dollars")


class ReviewError(ValueError):
    """A notice table that cannot be reviewed at all (e.g. a required column is missing)."""


def _parse(notices: pd.DataFrame, agreement: Agreement, rulebook: Rulebook):
    """Valid rows as columns, their positions, and an error text for every other row."""
    missing = [c for c in REQUIRED if c not in notices.columns]
    if missing:
        raise ReviewError(f"missing required column(s): {', '.join(missing)} "
                          f"(required: {', '.join(REQUIRED)})")
    blocks, errors = parse_table(notices, agreement, rulebook)
    if not blocks:
        return EventColumns.from_events([]), np.zeros(0, np.int64), errors, len(notices)
    positions = np.concatenate([p for p, _ in blocks])
    events = EventColumns(**{name: np.concatenate([getattr(b, name) for _, b in blocks])
                             for name in EventColumns.__dataclass_fields__})
    return events, positions, errors, len(notices)


def _sensitive(rulebook: Rulebook) -> np.ndarray:
    return np.array([bool(set(r.condition_facts) & set(AGGREGATES)) for r in rulebook.rules])


def _scan(events: EventColumns, facts: Facts, candidates: np.ndarray, order: np.ndarray,
          rulebook: Rulebook) -> np.ndarray:
    """Decide, in review order, the rows whose fate depends on earlier allowed sales."""
    allowed = np.zeros(len(events), dtype=bool)
    rules = [r for r, s in zip(rulebook.rules, _sensitive(rulebook)) if s and "sale" in r.blocks]
    judges = [vz.scalar_status(r) for r in rules]
    names = sorted({n for r in rules for n in r.condition_facts} - set(AGGREGATES))
    rows = order[candidates[order]]
    if not len(rows):
        return allowed
    columns = {n: _python_values(facts[n][rows]) for n in names}
    window_start = facts["volume_window_starts_after"][rows].astype(np.int64).tolist()
    day = events.sale_date[rows].astype(np.int64).tolist()
    held = facts["position_held"][rows].tolist()
    base = (events.quantity[rows] + events.prior_144_sales_3m[rows]).tolist()
    price = [None if np.isnan(p) else p for p in events.sale_price[rows].tolist()]
    investor, security, route = (events.investor[rows].tolist(), events.security[rows].tolist(),
                                 events.route[rows].tolist())
    quantity = events.quantity[rows].tolist()
    sold: dict[tuple[str, str], int] = {}
    windows: dict[str, deque] = {}
    totals: dict[str, int] = {}
    for k, i in enumerate(rows.tolist()):
        window = windows.setdefault(investor[k], deque())
        while window and window[0][0] <= window_start[k]:
            totals[investor[k]] -= window.popleft()[1]
        aggregate = base[k] + totals.get(investor[k], 0)
        f = {n: columns[n][k] for n in names}
        f["position_available"] = held[k] - sold.get((investor[k], security[k]), 0)
        f["volume_aggregate_3m"] = aggregate
        f["amount_aggregate_3m_dollars"] = None if price[k] is None else aggregate * price[k]
        if all(judge(f) in (vz.PASS, vz.NOT_APPLICABLE) for judge in judges):
            allowed[i] = True
            sold[(investor[k], security[k])] = sold.get((investor[k], security[k]), 0) + quantity[k]
            if route[k] == "rule_144":
                window.append((day[k], quantity[k]))
                totals[investor[k]] = totals.get(investor[k], 0) + quantity[k]
    return allowed


def _python_values(column: np.ndarray) -> list:
    kind = column.dtype.kind
    if kind == "M":
        return [None if v is None else v for v in column.astype("M8[D]").astype(object)]
    if kind == "f":
        return [None if v != v else v for v in column.tolist()]
    return column.tolist()


def prior_sales(events: EventColumns, allowed: np.ndarray, order: np.ndarray) -> PriorSales:
    """Each row's earlier allowed sales, in review order."""
    rank = np.empty(len(events), np.int64)
    rank[order] = np.arange(len(events))
    sold = np.zeros(len(events), np.int64)
    before = np.zeros(len(events), np.int64)
    groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for investor in np.unique(events.investor):
        mine = events.investor == investor
        for security in np.unique(events.security[mine]):
            rows = mine & (events.security == security)
            sold[rows] = _before(rank, rows & allowed, events.quantity, rank[rows])
        sales = order[(mine & allowed & (events.route == "rule_144"))[order]]
        groups[investor] = (events.sale_date[sales],
                            np.concatenate([[0], np.cumsum(events.quantity[sales])]))
        before[mine] = np.searchsorted(rank[sales], rank[mine])
    return PriorSales(sold, groups, before)


def _before(rank: np.ndarray, counted: np.ndarray, quantity: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Sum of ``quantity`` over ``counted`` rows whose rank is below each of ``at``."""
    ranks = rank[counted]
    order = np.argsort(ranks)
    cumulative = np.concatenate([[0], np.cumsum(quantity[counted][order])])
    return cumulative[np.searchsorted(ranks[order], at)]


def review_frame(notices: pd.DataFrame, agreement: Agreement,
                 rules_dir: Path | str = RULES_DIR, progress=None) -> pd.DataFrame:
    """The batch review; ``progress(text)``, if given, is told each phase as it starts."""
    progress = progress or (lambda text: None)
    engine = engine_for(rules_dir)
    rulebook = engine.rulebook
    require_clauses(agreement, rulebook)
    progress(f"parsing {len(notices):,} notices")
    events, positions, errors, n_rows = _parse(notices, agreement, rulebook)
    frame = pd.DataFrame(index=range(n_rows), columns=list(OUTPUT_COLUMNS), dtype=object)
    for i, (notice_id, message) in errors.items():
        frame.iloc[i] = [notice_id if isinstance(notice_id, str) else ("" if notice_id is None else str(notice_id)),
                         "error", "", "", "", "", "", "", "", "", f"Input error: {message}", message]
    frame.index = notices.index
    if not len(events):
        return frame
    progress(f"judging {len(events):,} valid notices")
    order = np.lexsort((positions, events.sale_date))  # ties in file order
    params = rulebook.parameters

    facts, _ = derive_facts(events, agreement, params)
    first = vz.statuses(rulebook, facts, len(events))
    stopped_by_others = (vz.failing(first) & vz.blocks(rulebook, "sale") & ~_sensitive(rulebook)).any(axis=1)
    progress(f"scanning {int((~stopped_by_others).sum()):,} notices in sale_date order")
    allowed = _scan(events, facts, ~stopped_by_others, order, rulebook)

    prior = prior_sales(events, allowed, order)
    facts, changes = derive_facts(events, agreement, params, prior)
    status = vz.statuses(rulebook, facts, len(events))
    stops_sale = vz.blocks(rulebook, "sale")
    stopping = vz.failing(status) & stops_sale
    if (stopping.any(axis=1) == allowed).any():
        raise AssertionError("the ordered scan and the final judgement disagree")

    def judge(rows: np.ndarray, days: np.ndarray):
        later, later_changes = derive_facts(events.take(rows).on(days), agreement, params, prior.take(rows))
        return vz.failing(vz.statuses(rulebook, later, len(rows))) & stops_sale, later, later_changes

    progress(f"searching earliest allowed dates for {int((~allowed).sum()):,} denied notices")
    earliest = earliest_allowed_dates(events.sale_date, (stopping, facts, changes), judge,
                                      agreement.trading_calendar.roll_forward_array, rulebook.date_search)
    progress("writing reasons")
    out = _outputs(rulebook, agreement, events, facts, status, earliest)
    frame.iloc[positions] = out[list(OUTPUT_COLUMNS)].to_numpy()
    return frame


def _outputs(rulebook: Rulebook, agreement: Agreement, events: EventColumns, facts: Facts,
             status: np.ndarray, earliest: np.ndarray) -> pd.DataFrame:
    n = len(events)
    failing = vz.failing(status)
    sale, legend, dwac = (vz.blocks(rulebook, w) for w in ("sale", "legend_removal", "dwac"))
    deny = (failing & sale).any(axis=1)
    failed_sale = failing & sale
    passing_sale = (status == vz.PASS) & sale
    chosen = np.where(deny[:, None], failed_sale, passing_sale)
    weights = 1 << np.arange(len(rulebook.rules), dtype=np.int64)
    keys = chosen.astype(np.int64) @ weights
    unique, inverse = np.unique(keys, return_inverse=True)
    failed_text, citation_text = [], []
    for key in unique:
        rules = [r for j, r in enumerate(rulebook.rules) if key >> j & 1]
        citation_text.append(";".join(order_citations(c for r in rules for c in rule_citations(r, agreement))))
        failed_text.append(";".join(r.id for r in rules))
    failed_rules = np.array(failed_text, dtype=object)[inverse]
    failed_rules = np.where(deny, failed_rules, "")

    return pd.DataFrame({
        "notice_id": events.notice_id,
        "outcome": np.where(deny, "deny", "allow"),
        "failed_rules": failed_rules,
        "citations": np.array(citation_text, dtype=object)[inverse],
        "earliest_allowed_date": display_column(earliest, missing=""),
        "delivery_date": display_column(facts["delivery_date"], missing=""),
        "delivery_late_business_days": display_column(facts["delivery_late_business_days"], missing=""),
        "legend_removal": ~(failing & legend).any(axis=1),
        "dwac_eligible": ~(failing & dwac).any(axis=1),
        "regime": facts["regime"],
        "reasons": _reasons(rulebook, agreement, facts, status, deny, passing_sale.sum(axis=1)),
        "error": "",
    })


def _reasons(rulebook: Rulebook, agreement: Agreement, facts: Facts, status: np.ndarray,
             deny: np.ndarray, passing: np.ndarray) -> np.ndarray:
    """The same plain-English reasons as ``Decision.reasons``, message by message, each message
    rendered for all the rows that carry it at once."""
    reasons = np.full(len(deny), "", dtype=object)

    def append(rows: np.ndarray, messages) -> None:
        if len(rows):
            before = reasons[rows]
            reasons[rows] = np.where(before == "", messages, before + " " + messages)

    allowed = np.flatnonzero(~deny)
    append(allowed, "Allowed: all " + display_column(passing[allowed], missing="") + " applicable rules pass.")
    failing = vz.failing(status)
    for j, rule in enumerate(rulebook.rules):
        if "sale" in rule.blocks:
            _append_messages(append, failing[:, j] & deny, status[:, j], rule, facts)
    for j, rule in enumerate(rulebook.rules):
        if rule.against == "company":
            _append_messages(append, failing[:, j], status[:, j], rule, facts)
    for route in np.unique(facts["route"]).tolist():
        for known in (False, True):
            note = delivery_note(route, known, agreement)
            if note:
                append(np.flatnonzero((facts["route"] == route) & (facts["delivery_date_known"] == known)), note)
    return reasons


def _append_messages(append, selected: np.ndarray, codes: np.ndarray, rule, facts: Facts) -> None:
    """Append ``rule``'s message to each selected row: its fail message with the row's facts, or
    the undetermined message naming the absent facts."""
    rows = np.flatnonzero(selected & (codes == vz.UNDETERMINED))
    if len(rows):
        names = list(rule.condition_facts)
        absent = np.array([~np.broadcast_to(vz.present(facts[n][rows]), len(rows)) if n in facts
                           else np.ones(len(rows), bool) for n in names]).T
        patterns, which = np.unique(absent, axis=0, return_inverse=True)
        texts = np.array([undetermined_message(rule, [n for n, a in zip(names, p) if a]) for p in patterns],
                         dtype=object)
        append(rows, texts[which.ravel()])
    rows = np.flatnonzero(selected & (codes == vz.FAIL))
    if len(rows):
        shown = {n: display_column(facts[n][rows], missing="unknown") for n in rule.facts_used if n in facts}
        append(rows, render_column(rule.message_fail, shown, len(rows)))


def reference_review(notices: pd.DataFrame, agreement: Agreement,
                     rules_dir: Path | str = RULES_DIR) -> pd.DataFrame:
    """The batch semantics spelled out with ``check()``'s own path (durable_rules), one row at a
    time in review order, each row seeing the earlier allowed rows as its history. Slow; the
    tests and the benchmark hold ``review()`` equal to it."""
    engine = engine_for(rules_dir)
    records = [{k: (None if is_missing(v) else v) for k, v in r.items()} for r in notices.to_dict("records")]
    ids = pd.Series([None if r.get("notice_id") is None else str(r["notice_id"]).strip() for r in records],
                    dtype=object)
    duplicated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    decisions, valid = {}, []
    for i, record in enumerate(records):
        try:
            if duplicated[i]:
                raise InputError([("notice_id", record["notice_id"], "is not unique in this file")])
            valid.append((i, validate_event(record, agreement, engine.rulebook, allow_extra=True)))
        except InputError as exc:
            decisions[i] = error_decision(record.get("notice_id"), exc)
    prior: list[PriorSale] = []
    for i, event in sorted(valid, key=lambda item: (item[1].sale_date, item[0])):
        decisions[i] = evaluate_event(event, agreement, engine, tuple(prior))
        if decisions[i].outcome == "allow":
            prior.append(PriorSale(event.investor, event.security, event.route, event.sale_date, event.quantity))
    rows = [decisions[i].to_row() for i in range(len(records))]
    return pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), index=notices.index)


def review(notices: pd.DataFrame, agreement: Agreement | str | Path | None = None, *,
           rules_dir: Path | str = RULES_DIR, progress=None, record: str | Path | None = None) -> pd.DataFrame:
    """Review a DataFrame of sale notices; returns the output columns, index preserved.
    ``record``: a decision log (``compliance.decision_log``) to append every decision to."""
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    result = review_frame(notices, agreement, rules_dir, progress)
    if record is not None:
        from .decision_log import append_review
        append_review(record, notices, result, agreement, rules_dir)
    return result
