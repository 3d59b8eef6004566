"""The pre-trade check: one proposed sale in, one explained decision out."""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from .agreement import Agreement, AgreementError, load_agreement
from .decision import Decision, compose
from .earliest import earliest_allowed_date
from .engine import DurableRulesEngine
from .facts import PriorSale, derive_facts
from .model import InputError, SaleEvent, parse_event
from .parameters import ParameterError
from .rulebook import RULES_DIR, Rulebook, load_rulebook

_engines: dict[Path, DurableRulesEngine] = {}
_engines_lock = threading.Lock()


def engine_for(rules_dir: Path | str = RULES_DIR) -> DurableRulesEngine:
    """The compiled rulebook of ``rules_dir``, built once per process and shared."""
    key = Path(rules_dir).resolve()
    with _engines_lock:
        if key not in _engines:
            _engines[key] = DurableRulesEngine(load_rulebook(key))
        return _engines[key]


def judge_on(event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine, day: date,
             prior_sales: tuple[PriorSale, ...] = ()) -> tuple[Decision, dict, set[date]]:
    """The decision on ``event`` moved to ``day`` (no earliest-date search), with its facts and
    change dates."""
    facts, changes = derive_facts(event.on(day), agreement, engine.rulebook.parameters, prior_sales)
    decision = compose(engine.rulebook, engine.evaluate(facts), facts, agreement, event.notice_id)
    return decision, facts, changes


def evaluate_event(event: SaleEvent, agreement: Agreement, engine: DurableRulesEngine,
                   prior_sales: tuple[PriorSale, ...] = ()) -> Decision:
    """Judge a validated event on its sale date, then search for its earliest allowed date."""
    decision, facts, changes = judge_on(event, agreement, engine, event.sale_date, prior_sales)

    def evaluate(day: date) -> tuple[bool, dict, set[date]]:
        if day == event.sale_date:
            return decision.outcome == "allow", facts, changes
        later, later_facts, later_changes = judge_on(event, agreement, engine, day, prior_sales)
        return later.outcome == "allow", later_facts, later_changes

    decision.earliest_allowed_date = earliest_allowed_date(
        event.sale_date, evaluate, agreement.trading_calendar.roll_forward,
        engine.rulebook.sale_date_boundaries)
    return decision


def error_decision(notice_id: Any, error: Exception) -> Decision:
    text = notice_id if isinstance(notice_id, str) and notice_id.strip() else None
    return Decision(notice_id=text, outcome="error", error=str(error))


def require_clauses(agreement: Agreement, rulebook: Rulebook) -> None:
    """Every clause key the rulebook cites must be mapped by the agreement to a section."""
    missing = sorted(rulebook.clause_keys - set(agreement.clauses))
    if missing:
        raise AgreementError(f"{agreement.directory / 'agreement.yaml'}: field 'clauses': "
                             f"no section for clause key(s) {', '.join(missing)} cited by the rulebook")


def validate_event(raw: Mapping[str, Any], agreement: Agreement, rulebook: Rulebook,
                   *, allow_extra: bool = False) -> SaleEvent:
    """Parse and check an event against the agreement (investor on Schedule A, covered dates)."""
    event = parse_event(raw, agreement.company_timezone, allow_extra=allow_extra)
    if event.investor not in agreement.investors:
        raise InputError([("investor", event.investor,
                           f"is not an investor of the agreement ({', '.join(agreement.investors)})")])
    try:
        rulebook.parameters.version_on(event.sale_date)
    except ParameterError as exc:
        raise InputError([("sale_date", event.sale_date.isoformat(), str(exc))]) from None
    return event


def check(event: Mapping[str, Any], agreement: Agreement | str | Path | None = None, *,
          rules_dir: Path | str = RULES_DIR) -> Decision:
    """Judge one proposed sale. Bad input gives ``outcome == 'error'`` (never allow)."""
    if not isinstance(agreement, Agreement):
        agreement = load_agreement(agreement)
    engine = engine_for(rules_dir)
    require_clauses(agreement, engine.rulebook)
    notice_id = event.get("notice_id") if isinstance(event, Mapping) else None
    try:
        parsed = validate_event(event, agreement, engine.rulebook)
    except InputError as exc:
        return error_decision(notice_id, exc)
    return evaluate_event(parsed, agreement, engine)
