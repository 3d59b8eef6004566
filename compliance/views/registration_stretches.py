"""The registration statement's stretches: runs of calendar days on which a registered sale of a
covered security passes every registration rule, or fails one, with the first failing rule in
rulebook order as the reason.

Judged by the rules of ``rules/registration.yaml`` on the facts of
``compliance.facts.registration`` (the facts and rules that decide a proposed sale), one
calendar day at a time; nothing here restates a date or a condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from compliance.contract.event import Coded
from compliance.deal.agreement import Agreement
from compliance.deal.periods import ONE_DAY
from compliance.facts.columns import NextChanges
from compliance.facts.registration import registration
from compliance.rulebook.loader import Rule, Rulebook
from compliance.rulebook.vectorized import failing, rule_statuses

FAMILY = "registration"


@dataclass(frozen=True)
class Stretch:
    """Days ``start`` to ``end`` (inclusive; None: open-ended). ``failing_rule``: the first
    registration rule a registered sale fails on each of them, "" when it passes them all."""

    start: date
    end: date | None
    failing_rule: str


def _day(value: np.datetime64) -> date:
    return value.astype(object)


def _rules(rulebook: Rulebook) -> list[tuple[Rule, tuple[str, ...]]]:
    """The registration rules in rulebook order, each with the facts it compares the sale date with."""
    return [
        (rule, compared)
        for rule, (_, compared) in zip(rulebook.rules, rulebook.date_search, strict=True)
        if rule.family == FAMILY
    ]


def _facts(days: np.ndarray, agreement: Agreement, changes: NextChanges) -> dict[str, np.ndarray]:
    """The facts of a registered sale of a covered security on each of ``days``."""
    facts = registration(days, agreement, changes)
    facts["sale_date"] = days
    facts["route"] = Coded(np.zeros(len(days), np.intp), ["registration_statement"])
    facts["registration_covers_security"] = np.ones(len(days), bool)
    return facts


def _settled_from(agreement: Agreement, rules: list[tuple[Rule, tuple[str, ...]]], day: np.datetime64):
    """The first day on or after ``day`` from which no registration rule can change its status:
    after every date the rules compare the sale date with, and after every change of the
    statement's facts (a window's end, an amendment, the prospectus going stale)."""
    while True:
        probe = np.array([day])
        changes = NextChanges(probe)
        facts = _facts(probe, agreement, changes)
        later = [facts[name][0] + ONE_DAY for _, compared in rules for name in compared if name in facts]
        later.append(changes.of(facts)[0])
        later = [d for d in later if not np.isnat(d) and d > day]
        if not later:
            return day
        day = max(later)


def registration_stretches(agreement: Agreement, first_day: date, rulebook: Rulebook) -> list[Stretch]:
    """The stretches from ``first_day`` on, consecutive and covering every day; the last is
    open-ended (from the day the statement's state is settled, typically after its registration
    period). Empty when the agreement has no registration statement."""
    if agreement.registration_statement is None:
        return []
    rules = _rules(rulebook)
    first = np.datetime64(first_day, "D")
    last = _settled_from(agreement, rules, first)
    days = np.arange(first, last + ONE_DAY)
    facts = _facts(days, agreement, NextChanges(days))
    fails = failing(rule_statuses([rule for rule, _ in rules], facts, len(days)))
    first_failing = np.where(fails.any(axis=1), fails.argmax(axis=1), -1)
    run_starts = np.flatnonzero(np.diff(first_failing, prepend=-2))
    out = []
    for k, i in enumerate(run_starts):
        j = first_failing[i]
        end = _day(days[run_starts[k + 1] - 1]) if k + 1 < len(run_starts) else None
        out.append(Stretch(_day(days[i]), end, rules[j][0].id if j >= 0 else ""))
    return out
