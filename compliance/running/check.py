"""The pre-trade check: one proposed sale in, one explained decision out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from compliance.contract.event import EventColumns, InputError, SaleEvent, notice_id_text, validate_event
from compliance.contract.history import parse_history
from compliance.deal.agreement import Agreement, AgreementError, load_agreement
from compliance.decision.earliest import earliest_allowed_date
from compliance.decision.findings import Decision, compose
from compliance.facts.one_event import EventChanges, event_facts
from compliance.facts.prior_sales import PriorSales, prior_sales
from compliance.kept import built_once
from compliance.rulebook import vectorized as vz
from compliance.rulebook.durable import DurableRulesEngine, engine_for
from compliance.rulebook.loader import RULES_DIR, Rulebook


def _search_terms(rulebook: Rulebook) -> tuple:
    """What the earliest-date search needs of the rulebook, once per rulebook: its rules compiled
    to scalar status functions, the positions of the rules that stop the sale, and
    ``Rulebook.date_search``."""
    return built_once(_searched, rulebook, keep=8)


def _searched(rulebook: Rulebook) -> tuple:
    return (
        [vz.scalar_status(r) for r in rulebook.rules],
        np.flatnonzero(vz.blocks(rulebook, "sale")).tolist(),
        rulebook.date_search,
    )


def scalar_rulebook(rulebook: Rulebook) -> list:
    """The rulebook compiled to scalar status functions, once per rulebook."""
    return _search_terms(rulebook)[0]


def _decide(
    event: SaleEvent, prior: PriorSales | None, agreement: Agreement, engine: DurableRulesEngine
) -> tuple[Decision, dict, EventChanges]:
    """The durable_rules decision on ``event``, with its facts and their next changes."""
    facts, changes = event_facts(event, agreement, engine.rulebook.parameters, prior)
    decision = compose(engine.rulebook, engine.evaluate(facts), facts, agreement, event.notice_id)
    return decision, facts, changes


def decision_on(event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine, day: date) -> Decision:
    """The decision on ``event`` moved to ``day``, without an earliest-date search."""
    return _decide(event.on(day), None, agreement, engine)[0]


def evaluate_event(
    event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine, prior: PriorSales | None = None
) -> Decision:
    """Judge a validated event with durable_rules on its sale date, then search for its earliest
    allowed date, judging it on each candidate day with the same rules compiled to scalar
    functions (a test holds both compilations equal). ``prior``: earlier allowed sales of the
    same review and the seller's history (none for a lone check)."""
    start = event.sale_date
    prior = prior or PriorSales.none(1)
    if prior.declared_on is None:  # the stated sales stay dated on the sale date as the search moves
        prior = PriorSales(prior.sold, prior.rule_144, prior.before, np.array([start], "M8[D]"))
    rulebook = engine.rulebook
    decision, facts, changes = _decide(event, prior, agreement, engine)
    scalar_statuses, stops_sale, date_search = _search_terms(rulebook)

    def judge(day: date):
        later, later_changes = event_facts(event.on(day), agreement, rulebook.parameters, prior)
        stopping = [j for j in stops_sale if scalar_statuses[j](later) in vz.STOPPING]
        return stopping, later, later_changes

    failed = set(decision.failed_rules)
    stopping = [j for j in stops_sale if rulebook.rules[j].id in failed]
    decision.earliest_allowed_date = earliest_allowed_date(
        start, (stopping, facts, changes), judge, agreement.trading_calendar.roll_forward, date_search
    )
    return decision


def error_decision(notice_id: Any, error: Exception) -> Decision:
    """The error decision on an event whose ``notice_id`` is as given (shown only where it is a
    usable id)."""
    return Decision(notice_id=notice_id_text(notice_id), outcome="error", error=str(error))


def _given_notice_id(event: Any) -> Any:
    try:
        return event.get("notice_id") if isinstance(event, Mapping) else None
    except Exception:  # noqa: BLE001  (a mapping of any kind: the error decision names no id)
        return None


def require_clauses(agreement: Agreement, rulebook: Rulebook) -> None:
    """Every clause key the rulebook cites must be mapped by the agreement to a section."""
    missing = sorted(rulebook.clause_keys - set(agreement.clauses))
    if missing:
        raise AgreementError(
            f"{agreement.directory / 'agreement.yaml'}: field 'clauses': "
            f"no section for clause key(s) {', '.join(missing)} cited by the rulebook"
        )


def check(
    event: Mapping[str, Any],
    agreement: Agreement | str | Path | None = None,
    *,
    rules_dir: Path | str = RULES_DIR,
    record: str | Path | None = None,
    history=None,
) -> Decision:
    """Judge one proposed sale. Bad input of any kind gives ``outcome == 'error'`` (never allow,
    never an exception).
    ``record``: a decision log (``compliance.decision_log``) to append the decision to.
    ``history``: the seller's completed sales (``contract.history``: a DataFrame, a list of
    mappings or a file); those of the event's investor dated on or before its sale date count."""
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    engine = engine_for(rules_dir)
    require_clauses(agreement, engine.rulebook)
    sales = None
    try:
        sales = parse_history(history, agreement)
        parsed = validate_event(event, agreement, engine.rulebook)
    except InputError as exc:
        decision = error_decision(_given_notice_id(event), exc)
    else:
        prior = prior_sales(EventColumns.from_events([parsed]), sales) if len(sales) else None
        decision = evaluate_event(parsed, agreement, engine, prior)
    if record is not None:
        from compliance.decision_log import append_check

        unread = decision.error if sales is None and history is not None else None
        append_check(record, event, decision, agreement, rules_dir, sales, history_error=unread)
    return decision
