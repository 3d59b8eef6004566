"""A decision: every rule's finding, and what they add up to.

The composition is generic: a failing (or undetermined) rule stops what its ``blocks`` lists;
how the findings make each output column is defined in ``output_columns.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from string import Formatter
from typing import Any

from compliance.deal.agreement import Agreement
from compliance.decision.output_columns import (
    ABSENT,
    ALLOWED_REASON,
    DENY,
    ERROR_OUTCOME,
    ERROR_REASON,
    FAILING,
    FLAGS,
    OUTCOMES,
    REASON_SEPARATOR,
    SALE,
    cited_status,
    joined,
)
from compliance.decision.output_columns import OUTPUT_COLUMNS as OUTPUT_COLUMNS
from compliance.kept import built_once
from compliance.rulebook.loader import Rule, Rulebook


@dataclass(frozen=True)
class Finding:
    rule: str
    title: str
    status: str  # pass | fail | not_applicable | undetermined
    message: str
    facts: dict[str, Any]  # the facts the rule used, as displayed
    citations: tuple[str, ...]
    blocks: tuple[str, ...]
    against: str

    @property
    def failing(self) -> bool:
        return self.status in FAILING


@dataclass
class Decision:
    notice_id: str | None
    outcome: str  # allow | deny | error
    findings: list[Finding] = field(default_factory=list)
    earliest_allowed_date: date | None = None
    delivery_date: date | None = None
    delivery_late_business_days: int | None = None
    legend_removal: bool = False
    dwac_eligible: bool = False
    regime: str | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def failed_rules(self) -> list[str]:
        """Rules that stop the sale (failing or undetermined), in rulebook order."""
        return [f.rule for f in self.findings if f.failing and SALE in f.blocks]

    @property
    def citations(self) -> list[str]:
        """For a deny, the citations of the failing rules; for an allow, those of the rules it
        rests on (the applicable sale rules that pass). Agreement sections first."""
        statuses = cited_status(self.outcome)
        return order_citations(
            c for f in self.findings if f.status in statuses and SALE in f.blocks for c in f.citations
        )

    @property
    def reasons(self) -> str:
        if self.outcome == ERROR_OUTCOME:
            return ERROR_REASON.format(error=self.error)
        if self.outcome == DENY:
            lines = [f.message for f in self.findings if f.failing and SALE in f.blocks]
        else:
            applied = [f for f in self.findings if f.status == "pass" and SALE in f.blocks]
            lines = [ALLOWED_REASON.format(passing=len(applied))]
        lines += [f.message for f in self.findings if f.failing and f.against == "company"]
        return REASON_SEPARATOR.join(lines + self.notes)

    def finding(self, rule_id: str) -> Finding:
        for f in self.findings:
            if f.rule == rule_id:
                return f
        raise KeyError(rule_id)

    def to_row(self) -> dict[str, Any]:
        """The output contract (``output_columns.py``) as one flat row."""
        iso = lambda d: d.isoformat() if d else ABSENT  # noqa: E731
        is_error = self.outcome == ERROR_OUTCOME
        row = {
            "notice_id": self.notice_id or ABSENT,
            "outcome": self.outcome,
            "failed_rules": joined(self.failed_rules),
            "citations": joined(self.citations),
            "earliest_allowed_date": iso(self.earliest_allowed_date),
            "delivery_date": iso(self.delivery_date),
            "delivery_late_business_days": (
                ABSENT if self.delivery_late_business_days is None else self.delivery_late_business_days
            ),
            **{column: ABSENT if is_error else getattr(self, column) for column in FLAGS},
            "regime": self.regime or ABSENT,
            "reasons": self.reasons,
            "error": self.error or ABSENT,
        }
        return {column: row[column] for column in OUTPUT_COLUMNS}

    def _repr_html_(self) -> str:
        from compliance.decision.display import decision_html

        return decision_html(self)

    def __repr__(self) -> str:
        return (
            f"Decision(notice_id={self.notice_id!r}, outcome={self.outcome!r}, "
            f"failed_rules={self.failed_rules}, earliest_allowed_date={self.earliest_allowed_date})"
        )


def _display(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def display_codes(column, missing: str) -> tuple[Any, list[str]]:
    """A fact column as codes into display strings, as a finding's message shows single values
    (dates ISO, whole numbers without a decimal point), the last string ``missing`` (code -1 =
    absent). Each distinct value is formatted once."""
    import numpy as np
    import pandas as pd

    from compliance.contract.event import Coded

    kind = column.dtype.kind
    if isinstance(column, Coded):  # already coded by distinct value
        codes, uniques = column.codes, column.distinct
    else:
        codes, uniques = pd.factorize(column.view(np.int64) if kind == "M" else column)
    if kind == "M":
        days = np.asarray(uniques, dtype=np.int64).view("M8[D]")
        shown = np.where(np.isnat(days), missing, np.datetime_as_string(days, unit="D")).tolist()
    elif kind == "f":
        shown = [str(int(v)) if float(v).is_integer() else str(v) for v in uniques.tolist()]
    else:
        shown = [str(v) for v in (uniques.tolist() if hasattr(uniques, "tolist") else uniques)]
    return codes, shown + [missing]


def display_arrow(column, missing: str):
    """A fact column as display strings (``display_codes``), an Arrow string array."""
    import numpy as np
    import pyarrow as pa

    codes, shown = display_codes(column, missing)
    return pa.array(shown, pa.string()).take(pa.array(np.where(codes < 0, len(shown) - 1, codes)))


def render_column(template: str, shown: dict[str, Any], n: int):
    """``template`` rendered for ``n`` rows at once, an Arrow string array; ``shown`` maps each
    placeholder to an Arrow column of display strings (``display_arrow``). The same text as a
    finding's message (``_Shown``) row by row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = []
    for literal, name, _, _ in Formatter().parse(template):
        if literal:
            pieces.append(pa.scalar(literal))
        if name is not None:
            pieces.append(shown.get(name, pa.scalar("unknown")))
    if not any(isinstance(p, pa.Array) for p in pieces):
        return pa.array([template.format_map(_Unknown())] * n, pa.string())
    return pc.binary_join_element_wise(*pieces, "")


class _Unknown(dict):
    def __missing__(self, key: str) -> str:
        return "unknown"


class _Shown(dict):
    """Facts as a message template shows them (``template.format_map``): as displayed, "unknown"
    where absent. ``shown``: facts already displayed (``_display``); any other is displayed when
    a template names it."""

    def __init__(self, facts: dict[str, Any], shown: dict[str, Any]):
        super().__init__((name, "unknown" if value is None else value) for name, value in shown.items())
        self.facts = facts

    def __missing__(self, key: str) -> str:
        value = self.facts.get(key)
        return "unknown" if value is None else _display(value)


def rule_citations(rule: Rule, agreement: Agreement) -> tuple[str, ...]:
    """A rule's citations: the agreement's sections for its clause keys, then its regulation, each
    once (a deal may put two of the clauses a rule cites in one section)."""
    return tuple(dict.fromkeys(tuple(agreement.citation(k) for k in rule.agreement_clauses) + rule.regulation))


def order_citations(cites) -> list[str]:
    """Citations de-duplicated in first-seen order, the agreement's sections first."""
    cites = list(cites)
    agreement = [c for c in cites if c.startswith("Section") or c.startswith("Schedule")]
    return list(dict.fromkeys(agreement + [c for c in cites if c not in agreement]))


def undetermined_message(rule: Rule, missing: list[str]) -> str:
    return (
        f"{rule.title}: cannot be decided, missing {', '.join(missing) or 'facts'}; treated as failing (fail closed)."
    )


def delivery_note(route: str, delivery_date_known: bool, delivery_date_owed: bool, agreement: Agreement) -> str | None:
    """What the output says when it gives no Delivery Date, or None when it gives one."""
    if route not in agreement.delivery_routes:
        return (
            f"The agreement sets no Delivery Date for a sale by {route} "
            f"({agreement.citation('delivery_date')} covers sales under the registration statement)."
        )
    if not delivery_date_owed:
        return (
            "The Company owes no Delivery Date: the registration statement is not effective and current "
            f"at the time of sale ({agreement.citation('delivery_date')})."
        )
    if not delivery_date_known:
        return (
            "No Delivery Date yet: it runs once the Company has received both the "
            "notice of sale and the original certificate."
        )
    return None


@dataclass(frozen=True)
class _Wording:
    """What a rule's finding says that depends only on the rulebook and the agreement."""

    rule: Rule
    citations: tuple[str, ...]
    not_applicable: str


@dataclass(frozen=True)
class _Wordings:
    """The wording of every rule of ``rulebook`` under ``agreement``, in rulebook order, and the
    facts any of them lists (``facts_used``, each once)."""

    rulebook: Rulebook
    agreement: Agreement
    rules: tuple[_Wording, ...]
    facts_used: tuple[str, ...]


def _wordings_of(rulebook: Rulebook, agreement: Agreement) -> _Wordings:
    """The wordings of ``rulebook`` under ``agreement``, worked out once per pair and shared
    (nothing mutates them)."""
    return built_once(_word, rulebook, agreement, keep=8)


def _word(rulebook: Rulebook, agreement: Agreement) -> _Wordings:
    rules = tuple(_Wording(r, rule_citations(r, agreement), f"{r.title}: not applicable.") for r in rulebook.rules)
    used = tuple(dict.fromkeys(name for r in rulebook.rules for name in r.facts_used))
    return _Wordings(rulebook, agreement, rules, used)


def finding(wording: _Wording, status: str, facts: dict[str, Any], shown: dict[str, Any], said: _Shown) -> Finding:
    """A rule's finding; ``shown``: at least the facts it lists, as displayed (None where absent);
    ``said``: the facts as its messages display them."""
    rule = wording.rule
    used = {name: shown[name] for name in rule.facts_used}
    if status == "undetermined":
        message = undetermined_message(rule, [n for n in rule.condition_facts if facts.get(n) is None])
    elif status == "fail":
        message = rule.message_fail.format_map(said)
    elif status == "pass":
        message = rule.message_pass.format_map(said)
    else:
        message = wording.not_applicable
    return Finding(rule.id, rule.title, status, message, used, wording.citations, rule.blocks, rule.against)


def compose(
    rulebook: Rulebook, statuses: dict[str, str], facts: dict[str, Any], agreement: Agreement, notice_id: str | None
) -> Decision:
    wordings = _wordings_of(rulebook, agreement)
    shown = {name: _display(facts.get(name)) for name in wordings.facts_used}
    said = _Shown(facts, shown)
    findings = [finding(w, statuses[w.rule.id], facts, shown, said) for w in wordings.rules]
    stopped = {b for f in findings if f.failing for b in f.blocks}
    decision = Decision(
        notice_id=notice_id,
        outcome=OUTCOMES[SALE in stopped],
        findings=findings,
        **{column: stopped.isdisjoint(blocked) for column, blocked in FLAGS.items()},
        regime=facts.get("regime"),
        delivery_date=facts.get("delivery_date"),
        delivery_late_business_days=facts.get("delivery_late_business_days"),
    )
    note = delivery_note(
        facts.get("route"), facts.get("delivery_date_known"), facts.get("delivery_date_owed"), agreement
    )
    if note:
        decision.notes.append(note)
    return decision
