"""Batch review of sale notices: one output row per input row, in input order, vectorized.

Rows are judged in ``sale_date`` order (ties: file order). An allowed row counts toward later rows:
its quantity leaves the investor's position, and an allowed Rule 144 sale joins the seller's
three-month aggregate for the volume limit and Form 144. Denied and error rows count toward
nothing, so the file's order matters only among rows of the same ``sale_date``. (``judge_apart``
judges rows as alternatives instead, none counting toward another: a sweep's days.)

How: facts are derived for every row at once with no earlier sales counted, and the rulebook
(compiled to numpy) judges them. Rows stopped by a rule that does not read the aggregates are
denied whatever came before. For the others, the set of allowed rows is squeezed between a set
known allowed and a set possibly allowed until the two meet (``decide_in_order``), vectorized;
rows the bounds leave undecided are scanned in order in Python with the same rules compiled to
scalar functions. Then only the aggregate facts are recounted with each row's earlier allowed
sales, the rules reading them judged again, and the earliest allowed dates searched for every
denied row together. The result is the same as ``check()`` on each row in order with the earlier
allowed rows as history (a test holds them equal).

Rows of different sellers never count toward each other, so a large batch is judged in groups of
sellers side by side, in threads (``workers``), as its columns are parsed and its output rendered
(``workers.py``); the answers do not depend on the number of threads (a test holds that too).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from compliance.contract.event import (
    Coded,
    EventColumns,
    InputError,
    is_missing,
    notice_id_text,
    validate_event,
)
from compliance.contract.history import SaleHistory, parse_history
from compliance.contract.table import column_problems, missing_columns, parse_table
from compliance.deal.agreement import Agreement, load_agreement
from compliance.decision.earliest import earliest_allowed_dates
from compliance.decision.findings import (
    delivery_note,
    display_arrow,
    display_codes,
    order_citations,
    render_column,
    rule_citations,
    undetermined_message,
)
from compliance.decision.output_columns import (
    ABSENT,
    ALLOW,
    ALLOWED_REASON,
    DENY,
    ERROR_OUTCOME,
    ERROR_REASON,
    FLAGS,
    OUTCOMES,
    OUTPUT_COLUMNS,
    REASON_SEPARATOR,
    SALE,
    cited_status,
    joined,
)
from compliance.facts.columns import Facts
from compliance.facts.derive import derive_facts
from compliance.facts.prior_sales import count_earlier_sales, prior_sales
from compliance.rulebook import vectorized as vz
from compliance.rulebook.durable import engine_for
from compliance.rulebook.loader import RULES_DIR, Rulebook
from compliance.running.check import error_decision, evaluate_event, require_clauses
from compliance.running.earlier_sales import (
    ReviewOrder,
    SalesHistory,
    decide_in_order,
    postpone_window_exits,
    reads_earlier_sales,
)
from compliance.running.memory import release_free_memory
from compliance.workers import in_parallel, worker_count

# Rows whose output text is built at once: the intermediate texts of a whole large batch would
# double its peak memory.
OUTPUT_CHUNK = 100_000
# When decisions are recorded, each run of output rows is recorded while the next is made: smaller
# runs overlap more of the recording, but below about 25,000 rows the per-run cost of rendering shows.
RECORDED_OUTPUT_CHUNK = 25_000
# Below this many valid notices, groups of sellers are judged one after the other: the threads and
# the merge would cost more than they save.
PARALLEL_MIN_ROWS = 200_000


class ReviewError(ValueError):
    """A notice table that cannot be reviewed at all (e.g. a required column is missing)."""


class ColumnError(ReviewError, InputError):
    """A notice table whose columns the input contract refuses (unknown, repeated); ``problems``
    as ``InputError``'s, each naming the column."""


def _parse(notices: pd.DataFrame, agreement: Agreement, rulebook: Rulebook, workers: int | None = None):
    """Valid rows as columns, in input order, their positions, and an error text (``in_row``) for
    every other row."""
    blocks, errors = parse_table(notices, agreement, rulebook, workers)
    errors = {i: (notice_id, in_row(i, message)) for i, (notice_id, message) in errors.items()}
    if not blocks:
        return EventColumns.from_events([]), np.zeros(0, np.int64), errors, len(notices)
    if len(blocks) == 1:
        ((positions, events),) = blocks
        return events, positions, errors, len(notices)
    positions = np.concatenate([p for p, _ in blocks])
    events = EventColumns(
        **{name: _concatenate([getattr(b, name) for _, b in blocks]) for name in EventColumns.__dataclass_fields__}
    )
    in_input_order = np.argsort(positions, kind="stable")
    return events.take(in_input_order), positions[in_input_order], errors, len(notices)


def in_row(position: int, error: object) -> str:
    """The error text of the input row at ``position`` (from 0): "row N: ..." with N the data row
    number, from 1 (in a CSV file without line breaks inside a field, row N is on line N + 1,
    after the header)."""
    return f"row {position + 1}: {error}"


def _concatenate(columns: list):
    return Coded.concatenate(columns) if isinstance(columns[0], Coded) else np.concatenate(columns)


def review_frame(
    notices: pd.DataFrame,
    agreement: Agreement,
    rules_dir: Path | str = RULES_DIR,
    progress=None,
    on_output=None,
    output_chunk: int = OUTPUT_CHUNK,
    workers: int | None = None,
    history: SaleHistory | None = None,
) -> pd.DataFrame:
    """The batch review, with the sellers' parsed ``history``; ``progress(text)``, if given, is
    told each phase as it starts, and ``on_output(start, frame)`` is given the output rows from
    input row ``start`` on, ``output_chunk`` rows at a time, as soon as they are made.
    ``workers``: threads to use (default: ``workers.worker_count()``; the answers are the same
    with any number)."""
    workers = workers or worker_count()
    tell = progress or (lambda text: None)

    def progress(text: str) -> None:
        release_free_memory()  # what the last phase freed
        tell(text)

    engine = engine_for(rules_dir)
    rulebook = engine.rulebook
    require_clauses(agreement, rulebook)
    progress(f"parsing {len(notices):,} notices")
    events, positions, errors, n_rows = _parse(notices, agreement, rulebook, workers)
    if not len(events):
        facts, _ = derive_facts(events, agreement, rulebook.parameters)
        return _output_frame(
            rulebook,
            agreement,
            events,
            facts,
            vz.statuses(rulebook, facts, 0),
            events.sale_date,
            positions,
            errors,
            notices.index,
            on_output,
            output_chunk,
            workers,
        )
    groups = seller_groups(events.investor, workers if len(events) >= PARALLEL_MIN_ROWS else 1)
    judged = events.without_ids()
    if len(groups) == 1:
        progress(f"judging {len(events):,} valid notices")
        facts, status, earliest = _judge(judged, positions, agreement, rulebook, progress, history)
    else:
        progress(f"judging {len(events):,} valid notices, {len(groups)} groups of sellers in parallel")
        quiet = lambda text: release_free_memory()  # noqa: E731  (the groups' phases overlap: not told)
        parts = list(
            in_parallel(
                lambda rows: _judge(judged.take(rows), positions[rows], agreement, rulebook, quiet, history),
                groups,
                workers,
            )
        )
        release_free_memory()
        facts_of = [p[0] for p in parts]  # each fact leaves its parts as it is merged: one copy at a time
        facts = {name: _scattered([f.pop(name) for f in facts_of], groups, len(events)) for name in list(facts_of[0])}
        status, earliest = (_scattered([p[k] for p in parts], groups, len(events)) for k in (1, 2))
        del parts, facts_of
    progress("writing reasons")
    # Whoever takes the runs of output (the decision log's recorder) works in a thread of its own:
    # leave it a core.
    output_workers = workers if on_output is None else max(1, workers - 1)
    return _output_frame(
        rulebook,
        agreement,
        events,
        facts,
        status,
        earliest,
        positions,
        errors,
        notices.index,
        on_output,
        output_chunk,
        output_workers,
    )


def _judge(
    events: EventColumns,
    positions: np.ndarray,
    agreement: Agreement,
    rulebook: Rulebook,
    progress,
    history: SaleHistory | None = None,
) -> tuple[Facts, np.ndarray, np.ndarray]:
    """The facts, rule statuses (rows x rules) and earliest allowed dates of valid ``events`` (at
    input ``positions``, ascending), each row judged with its seller's ``history`` and the earlier
    allowed rows of the same seller counted."""
    order = np.lexsort((positions, events.sale_date))  # ties in file order
    params = rulebook.parameters

    facts, changes = derive_facts(events, agreement, params)  # no earlier sale counted yet
    status = vz.statuses(rulebook, facts, len(events))
    blind = ~reads_earlier_sales(rulebook)  # rules whose outcome does not depend on the order
    stopped_by_others = (vz.failing(status) & vz.blocks(rulebook, "sale") & blind).any(axis=1)
    progress(f"deciding {int((~stopped_by_others).sum()):,} notices in sale_date order")
    review_order = ReviewOrder(events, facts, order, history)
    allowed = decide_in_order(review_order, ~stopped_by_others, rulebook)

    prior = review_order.prior_sales(allowed)
    count_earlier_sales(facts, changes, events, params, prior)  # and re-judge the rules that read them
    counting = np.flatnonzero(reads_earlier_sales(rulebook))
    status[:, counting] = vz.rule_statuses([rulebook.rules[j] for j in counting], facts, len(events))
    stops_sale = vz.blocks(rulebook, "sale")
    stopping = vz.failing(status) & stops_sale
    if (stopping.any(axis=1) == allowed).any():
        raise AssertionError("the ordered decision and the final judgement disagree")

    def judge(rows: np.ndarray, days: np.ndarray):
        moved, earlier = events.take(rows).on(days), prior.take(rows)
        later, later_changes = derive_facts(moved, agreement, params, earlier)
        later_stopping = vz.failing(vz.statuses(rulebook, later, len(rows))) & stops_sale
        postpone_window_exits(rulebook, moved, later, later_changes, later_stopping, earlier)
        return later_stopping, later, later_changes

    postpone_window_exits(rulebook, events, facts, changes, stopping, prior)
    progress(f"searching earliest allowed dates for {int((~allowed).sum()):,} denied notices")
    earliest = earliest_allowed_dates(
        events.sale_date,
        (stopping, facts, changes),
        judge,
        agreement.trading_calendar.roll_forward_array,
        rulebook.date_search,
    )
    return facts, status, earliest


def judge_apart(
    events: EventColumns, agreement: Agreement, rulebook: Rulebook, history: SaleHistory | None = None
) -> tuple[Facts, np.ndarray]:
    """The facts and rule statuses (rows x rules) of valid ``events``, each row judged on its own
    sale date as ``check()`` judges it: with its seller's ``history`` dated on or before that
    date, and none of the other rows counted as earlier sales. For rows that are alternatives
    rather than a sequence of sales (a sweep's days); no ordered decision, no earliest-date search."""
    facts, _ = derive_facts(events, agreement, rulebook.parameters, prior_sales(events, history))
    return facts, vz.statuses(rulebook, facts, len(events))


def seller_groups(investor: Coded, groups: int) -> list[np.ndarray]:
    """The rows of each of at most ``groups`` groups of sellers (row indices, ascending), as even in
    rows as whole sellers allow: the largest seller first, each to the group with the fewest rows.
    Rows of different sellers never count toward each other (positions and Rule 144 aggregates are
    per seller), so the groups can be judged apart. Empty groups are left out."""
    counts = np.bincount(investor.codes + 1)  # code -1 (absent) never reaches a valid event
    members: list[list[int]] = [[] for _ in range(max(1, groups))]
    sizes = [0] * len(members)
    for code in np.argsort(-counts, kind="stable").tolist():
        if counts[code]:
            emptiest = sizes.index(min(sizes))
            members[emptiest].append(code - 1)
            sizes[emptiest] += int(counts[code])
    return [np.flatnonzero(np.isin(investor.codes, codes)) for codes in members if codes]


def _scattered(parts: list, groups: list[np.ndarray], n: int):
    """One column of ``n`` rows (or rows x k) from its parts, part i going to rows ``groups[i]``."""
    if isinstance(parts[0], Coded):
        distinct = list(dict.fromkeys(v for p in parts for v in p.distinct))
        where = {v: k for k, v in enumerate(distinct)}
        codes = np.empty(n, np.int64)  # the merged values may outnumber any part's
        for part, rows in zip(parts, groups, strict=True):
            remap = np.array([where[v] for v in part.distinct] + [-1], dtype=codes.dtype)
            codes[rows] = remap[part.codes]
        return Coded(codes, distinct)
    out = np.empty((n, *parts[0].shape[1:]), parts[0].dtype)
    for part, rows in zip(parts, groups, strict=True):
        out[rows] = part
    return out


def _output_frame(
    rulebook: Rulebook,
    agreement: Agreement,
    events: EventColumns,
    facts: Facts,
    status: np.ndarray,
    earliest: np.ndarray,
    positions: np.ndarray,
    errors: dict[int, tuple],
    index: pd.Index,
    on_output,
    output_chunk: int,
    workers: int,
) -> pd.DataFrame:
    """The output table, built ``output_chunk`` input rows at a time, ``workers`` runs at once: the
    judged events (in input order, at ``positions``) and the rows in error; each run handed to
    ``on_output`` in input order as soon as it and those before it are made."""
    n_rows = len(index)
    failed = np.array(sorted(errors), dtype=np.int64)

    def run(start: int) -> dict:
        end = min(start + output_chunk, n_rows)
        lo, hi = np.searchsorted(positions, [start, end])
        rows = slice(lo, hi)
        in_error = failed[(failed >= start) & (failed < end)].tolist()
        return _outputs(
            rulebook,
            agreement,
            events.take(rows),
            {k: v[rows] for k, v in facts.items()},
            status[rows],
            earliest[rows],
            positions[rows] - start,
            end - start,
            [(i - start, *errors[i]) for i in in_error],
        )

    starts = range(0, n_rows, output_chunk)
    chunks = []
    for start, chunk in zip(starts, in_parallel(run, starts, workers), strict=True):
        chunks.append(chunk)
        if on_output is not None:
            on_output(start, _frame([chunk], index[start : start + output_chunk]))
    release_free_memory()
    return _frame(chunks, index)


def _frame(chunks: list[dict], index: pd.Index) -> pd.DataFrame:
    """The output table from its chunks (consecutive rows, in input order). Text columns come as
    Arrow makes them for pandas (``str``, Arrow-backed, in pandas 3), one Arrow chunk per output
    chunk; the flags are objects (True, False, or '' where the row is in error)."""
    columns = {}
    for column in OUTPUT_COLUMNS:
        parts = [c[column] for c in chunks]
        if column in FLAGS:
            columns[column] = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
        else:
            columns[column] = pa.chunked_array(parts, type=pa.string()).to_pandas().array
    return pd.DataFrame(columns, index=index, copy=False)


def _placed(
    texts: list[str],
    codes: np.ndarray,
    at: np.ndarray,
    n: int,
    errors: list[tuple],
    error_texts: list[str] | None = None,
) -> pa.Array:
    """A text column of ``n`` rows: ``texts[codes]`` at rows ``at`` (the judged rows), and at the
    rows of ``errors`` the ``error_texts`` (one each) or ''."""
    extra = error_texts if error_texts is not None else [ABSENT]
    full = np.empty(n, np.int64)
    full[at] = codes
    full[[row for row, *_ in errors]] = len(texts) + (np.arange(len(errors)) if error_texts is not None else 0)
    return pa.array(list(texts) + extra, pa.string()).take(pa.array(full))


def _outputs(
    rulebook: Rulebook,
    agreement: Agreement,
    events: EventColumns,
    facts: Facts,
    status: np.ndarray,
    earliest: np.ndarray,
    at: np.ndarray,
    n: int,
    errors: list[tuple],
) -> dict[str, pa.Array | np.ndarray]:
    """The output columns of ``n`` consecutive input rows: the judged ``events`` go to rows ``at``;
    ``errors``, (row, notice_id, message), to the others."""
    failing = vz.failing(status)
    sale = vz.blocks(rulebook, SALE)
    deny = (failing & sale).any(axis=1)
    cited = {outcome: _having(status, cited_status(outcome)) & sale for outcome in (ALLOW, DENY)}
    chosen = np.where(deny[:, None], cited[DENY], cited[ALLOW])
    weights = 1 << np.arange(len(rulebook.rules), dtype=np.int64)
    keys = chosen.astype(np.int64) @ weights
    unique, inverse = np.unique(keys, return_inverse=True)
    failed_text, citation_text = [], []
    for key in unique:
        rules = [r for j, r in enumerate(rulebook.rules) if key >> j & 1]
        citation_text.append(joined(order_citations(c for r in rules for c in rule_citations(r, agreement))))
        failed_text.append(joined(r.id for r in rules))
    inverse = inverse.ravel()
    ids = np.empty(n, dtype=object)
    ids[at] = events.notice_id
    for row, notice_id, _ in errors:
        ids[row] = notice_id if isinstance(notice_id, str) else (ABSENT if notice_id is None else str(notice_id))
    messages = [message for *_, message in errors]

    def shown(column) -> pa.Array:
        codes, texts = display_codes(column, missing=ABSENT)
        return _placed(texts, np.where(codes < 0, len(texts) - 1, codes), at, n, errors)

    def flag(blocked: np.ndarray) -> np.ndarray:
        codes = np.full(n, 2, np.int8)
        codes[at] = ~(failing & blocked).any(axis=1)
        return np.array([False, True, ABSENT], dtype=object)[codes]

    regime = facts["regime"]  # Coded: every event on or after the first version of Rule 144
    return {
        "notice_id": pa.array(ids, pa.string()),
        "outcome": _placed(list(OUTCOMES), deny.view(np.uint8), at, n, errors, [ERROR_OUTCOME] * len(errors)),
        "failed_rules": _placed(failed_text + [ABSENT], np.where(deny, inverse, len(failed_text)), at, n, errors),
        "citations": _placed(citation_text, inverse, at, n, errors),
        "earliest_allowed_date": shown(earliest),
        "delivery_date": shown(facts["delivery_date"]),
        "delivery_late_business_days": shown(facts["delivery_late_business_days"]),
        **{column: flag(vz.blocks(rulebook, *blocked)) for column, blocked in FLAGS.items()},
        "regime": _placed(regime.distinct, regime.codes, at, n, errors),
        "reasons": _reasons(
            rulebook,
            agreement,
            facts,
            status,
            deny,
            cited[ALLOW].sum(axis=1),
            at,
            n,
            errors,
            [ERROR_REASON.format(error=m) for m in messages],
        ),
        "error": _placed([ABSENT], np.zeros(len(at), np.int64), at, n, errors, messages),
    }


def _having(status: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Where a status code is one of ``names`` (compared code by code: faster than ``np.isin``)."""
    found = np.zeros(status.shape, dtype=bool)
    for name in names:
        found |= status == vz.STATUS_NAMES.index(name)
    return found


def _reasons(
    rulebook: Rulebook,
    agreement: Agreement,
    facts: Facts,
    status: np.ndarray,
    deny: np.ndarray,
    passing: np.ndarray,
    at: np.ndarray,
    n: int,
    errors: list[tuple],
    error_texts: list[str],
) -> pa.Array:
    """The same plain-English reasons as ``Decision.reasons``, message by message, each message
    rendered for all the rows that carry it at once; for ``n`` rows, the judged events at rows
    ``at``, the ``error_texts`` at the rows of ``errors``."""
    appended_rows, appended_messages = [], []

    def append(rows: np.ndarray, messages) -> None:
        """``messages``: an Arrow string array, one per row (event), or one text for all."""
        if len(rows):
            appended_rows.append(at[rows])
            appended_messages.append(
                messages
                if isinstance(messages, pa.Array)
                else pa.array([messages], pa.string()).take(np.zeros(len(rows), np.int64))
            )

    allowed = np.flatnonzero(~deny)
    append(
        allowed,
        render_column(ALLOWED_REASON, {"passing": display_arrow(passing[allowed], missing=ABSENT)}, len(allowed)),
    )
    failing = vz.failing(status)
    for j, rule in enumerate(rulebook.rules):
        if SALE in rule.blocks:
            _append_messages(append, failing[:, j] & deny, status[:, j], rule, facts)
    for j, rule in enumerate(rulebook.rules):
        if rule.against == "company":
            _append_messages(append, failing[:, j], status[:, j], rule, facts)
    for route in facts["route"].present_values():
        for known, owed in ((False, False), (False, True), (True, False), (True, True)):
            note = delivery_note(route, known, owed, agreement)
            if note:
                match = (facts["delivery_date_known"] == known) & (facts["delivery_date_owed"] == owed)
                append(np.flatnonzero((facts["route"] == route) & match), note)
    if errors:
        appended_rows.append(np.array([row for row, *_ in errors], dtype=np.int64))
        appended_messages.append(pa.array(error_texts, pa.string()))
    return _joined_per_row(n, appended_rows, appended_messages)


def _joined_per_row(n: int, rows: list[np.ndarray], messages: list[pa.Array]) -> pa.Array:
    """For each of ``n`` rows, its messages in the order appended, joined by ``REASON_SEPARATOR``
    ('' for none). The join runs in Arrow, not in a Python loop over rows."""
    if not rows:
        return pa.array([ABSENT], pa.string()).take(pa.array(np.zeros(n, np.int64)))
    row = np.concatenate(rows)
    order = np.argsort(row, kind="stable")
    offsets = np.searchsorted(row[order], np.arange(n + 1))
    ordered = pa.concat_arrays(messages).take(pa.array(order))
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), ordered)
    return pc.binary_join(lists, REASON_SEPARATOR)


def _append_messages(append, selected: np.ndarray, codes: np.ndarray, rule, facts: Facts) -> None:
    """Append ``rule``'s message to each selected row: its fail message with the row's facts, or
    the undetermined message naming the absent facts."""
    rows = np.flatnonzero(selected & (codes == vz.UNDETERMINED))
    if len(rows):
        names = list(rule.condition_facts)
        absent = np.array(
            [
                ~np.broadcast_to(vz.present(facts[n][rows]), len(rows)) if n in facts else np.ones(len(rows), bool)
                for n in names
            ]
        ).T
        patterns, which = np.unique(absent, axis=0, return_inverse=True)
        texts = pa.array(
            [undetermined_message(rule, [n for n, a in zip(names, p, strict=True) if a]) for p in patterns], pa.string()
        )
        append(rows, texts.take(pa.array(which.ravel())))
    rows = np.flatnonzero(selected & (codes == vz.FAIL))
    if len(rows):
        shown = {n: display_arrow(facts[n][rows], missing="unknown") for n in rule.facts_used if n in facts}
        append(rows, render_column(rule.message_fail, shown, len(rows)))


def reference_review(
    notices: pd.DataFrame, agreement: Agreement, rules_dir: Path | str = RULES_DIR, history=None
) -> pd.DataFrame:
    """The batch semantics spelled out with ``check()``'s own path (durable_rules), one row at a
    time in review order, each row seeing its seller's ``history`` and the earlier allowed rows.
    Slow; the tests and the benchmark hold ``review()`` equal to it."""
    engine = engine_for(rules_dir)
    history = parse_history(history, agreement)
    records = [{k: (None if is_missing(v) else v) for k, v in r.items()} for r in notices.to_dict("records")]
    ids = pd.Series([notice_id_text(r.get("notice_id")) for r in records], dtype=object)
    duplicated = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    decisions, valid = {}, []
    for i, record in enumerate(records):
        try:
            if duplicated[i]:
                raise InputError([("notice_id", record["notice_id"], "is not unique in this file")])
            valid.append((i, validate_event(record, agreement, engine.rulebook, allow_extra=True)))
        except InputError as exc:
            decisions[i] = replace(error_decision(record.get("notice_id"), exc), error=in_row(i, exc))
    sales = SalesHistory(len(valid), history)
    for i, event in sorted(valid, key=lambda item: (item[1].sale_date, item[0])):
        sales.add_history_until(event.sale_date)
        decisions[i] = evaluate_event(event, agreement, engine, sales.before(event.investor, event.security))
        if decisions[i].outcome == "allow":
            price = np.nan if event.sale_price is None else event.sale_price
            sales.add(event.investor, event.security, event.route, event.sale_date, event.quantity, price)
    rows = [decisions[i].to_row() for i in range(len(records))]
    return pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), index=notices.index)


def review(
    notices: pd.DataFrame,
    agreement: Agreement | str | Path | None = None,
    *,
    rules_dir: Path | str = RULES_DIR,
    progress=None,
    record: str | Path | None = None,
    workers: int | None = None,
    extra_columns: str = "refuse",
    history=None,
) -> pd.DataFrame:
    """Review a DataFrame of sale notices; returns the output columns, index preserved.
    ``record``: a decision log (``compliance.decision_log``) to append every decision to.
    ``workers``: threads the review may use (default: one per core, at most
    ``workers.MAX_WORKERS``; 1 keeps it in the calling thread); the answers do not depend on it.
    ``extra_columns``: "refuse" (a column that is not a field of the input contract raises
    ``ColumnError``, an ``InputError``) or "keep" (such columns follow the output columns,
    unchanged; nothing reads them, and they are not recorded). Repeated columns raise either way,
    and so does a required column missing (``ReviewError`` naming the header and its names like
    the column). A row in error has the error text "row N: ..." (N counted from 1).
    ``history``: the sellers' completed sales before these notices (``contract.history``: a
    DataFrame, a list of mappings or a file); a bad history row raises ``InputError``."""
    problems, kept = column_problems(notices.columns, extra_columns, OUTPUT_COLUMNS)
    if problems:
        raise ColumnError(problems)
    if missing := missing_columns(notices.columns):
        raise ReviewError(missing)
    judged = notices.drop(columns=kept) if kept else notices
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    sales = parse_history(history, agreement)
    if record is None:
        return _with_kept(
            review_frame(judged, agreement, rules_dir, progress, workers=workers, history=sales), notices, kept
        )
    from compliance.decision_log import ReviewRecorder

    recorder = ReviewRecorder(record, judged, OUTPUT_COLUMNS, agreement, rules_dir, sales)
    try:
        result = review_frame(
            judged, agreement, rules_dir, progress, recorder.add, RECORDED_OUTPUT_CHUNK, workers, sales
        )
        recorder.close()
    except BaseException:  # an error or KeyboardInterrupt: what was written stays; unsealed unless all was
        recorder.abandon()
        raise
    return _with_kept(result, notices, kept)


def _with_kept(result: pd.DataFrame, notices: pd.DataFrame, kept: list) -> pd.DataFrame:
    """``result`` with the ``kept`` columns of ``notices`` after its own, cell for cell as given."""
    for name in kept:
        result.insert(len(result.columns), name, notices[name].array)
    return result
