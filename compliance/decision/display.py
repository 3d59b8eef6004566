"""Rich display for Jupyter: a ``Decision`` as an HTML card, a review result as a styled table.

The card shows the outcome and its consequences (earliest allowed date, Delivery Date, legend
removal, DWAC, the version of Rule 144 applied), then every finding: its status, its message, the
facts it used, its citations and the words of each agreement clause it cites, quoted from the
agreement. Failing findings are open; passing ones are one click away; findings that do not apply
are listed together at the end.

A ``Decision`` does not remember the agreement it was judged under, so the clause text is taken
from the ``agreement`` passed in (default: the bundled one). A clause is quoted only when its
section in that agreement is the section the finding cites; otherwise the card says the text is
not available rather than quote another deal's words.

    from compliance.decision.display import card, decision_html, style_review
    card(decision, agreement)          # in a notebook cell: displays the card
    style_review(result, agreement)    # a pandas Styler: denials highlighted, "why" expandable

All HTML uses inline styles (no <style> block), so it renders the same in JupyterLab, VS Code and
static notebook viewers.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from compliance.deal.agreement import Agreement, Clause, load_agreement
from compliance.rulebook.loader import RULES_DIR, Rulebook, load_rulebook

if TYPE_CHECKING:  # a Decision shows itself through this module
    from compliance.decision.findings import Decision, Finding

OUTCOME_COLOURS = {"allow": "#1a7f37", "deny": "#cf222e", "error": "#9a6700"}
STATUS_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "undetermined": "#9a6700", "not_applicable": "#6e7781"}
STATUS_LABELS = {"pass": "pass", "fail": "fail", "undetermined": "undetermined", "not_applicable": "n/a"}
ROW_BACKGROUNDS = {"deny": "#ffebe9", "error": "#fff8c5"}  # allow rows keep the default

_CARD = (
    "font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 13px; "
    "line-height: 1.45; color: #1f2328; background: #ffffff; border: 1px solid #d0d7de; "
    "border-radius: 6px; padding: 10px 14px; max-width: 1000px"
)
_QUOTE = (
    "margin: 4px 0 6px 0; padding: 4px 10px; border-left: 3px solid #8c959f; color: #1f2328; "
    "background: #f6f8fa; font-family: Georgia, 'Times New Roman', serif"
)
_SMALL_TABLE = "border-collapse: collapse; margin: 4px 0; font-size: 12px"
_FACTS_HEADING = '<div style="color: #59636e; font-size: 12px; margin-top: 2px">facts used</div>'
_CELL = "padding: 1px 8px 1px 0; text-align: left; vertical-align: top; border: none"


def _e(value: Any) -> str:
    """Text content, escaped (quotes kept as typed: they are words of the agreement)."""
    return html.escape(str(value), quote=False)


def _badge(text: str, colour: str) -> str:
    return (
        f'<span style="display: inline-block; min-width: 3.2em; text-align: center; '
        f"padding: 0 6px; border-radius: 10px; font-size: 11px; font-weight: 600; "
        f'color: #ffffff; background: {colour}">{_e(text)}</span>'
    )


def _value(value: Any) -> str:
    if value is None or value == "":
        return '<span style="color: #6e7781">unknown</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, date):
        return value.isoformat()
    return _e(value)


def _kv_table(items: Iterable[tuple[str, Any]], raw: bool = False) -> str:
    rows = "".join(
        f'<tr><td style="{_CELL}; color: #59636e">{_e(k)}</td><td style="{_CELL}">{v if raw else _value(v)}</td></tr>'
        for k, v in items
    )
    return f'<table style="{_SMALL_TABLE}">{rows}</table>'


@functools.lru_cache(maxsize=8)
def _rulebook(rules_dir: str) -> Rulebook:
    return load_rulebook(Path(rules_dir))


def clauses_for(finding: Finding, agreement: Agreement, rulebook: Rulebook | None = None) -> list[tuple[str, Clause]]:
    """The agreement clauses a finding cites, as (clause key, Clause): the rule's clause keys,
    kept only where the agreement maps the key to a section the finding cites. A finding of a
    rule the rulebook does not know falls back to every clause of a cited section."""
    if rulebook is None:
        rulebook = _rulebook(str(RULES_DIR))
    try:
        keys = rulebook.rule(finding.rule).agreement_clauses
    except KeyError:
        keys = tuple(k for k, c in agreement.clauses.items() if c.section in finding.citations)
    return [
        (k, agreement.clauses[k])
        for k in keys
        if k in agreement.clauses and agreement.clauses[k].section in finding.citations
    ]


def clauses_for_sections(sections: Iterable[str], agreement: Agreement) -> list[tuple[str, Clause]]:
    """Every clause of the agreement whose section is one of ``sections`` (in that order)."""
    out = []
    for section in dict.fromkeys(sections):
        out += [(k, c) for k, c in agreement.clauses.items() if c.section == section]
    return out


def _agreement_sections(citations: Iterable[str]) -> list[str]:
    """The citations that name a part of the agreement (its Sections and Schedules)."""
    return [c for c in citations if c.startswith(("Section", "Schedule"))]


def quoted_clauses_html(clauses: list[tuple[str, Clause]]) -> str:
    """Each (clause key, Clause) as its section, its key and its words in a block quote, escaped."""
    return "".join(
        f'<div style="margin-top: 4px"><b>{_e(c.section)}</b> '
        f'<span style="color: #59636e">({_e(key)})</span>'
        f'<blockquote style="{_QUOTE}">&ldquo;{_e(c.text)}&rdquo;</blockquote></div>'
        for key, c in clauses
    )


def _finding_html(f: Finding, agreement: Agreement, rulebook: Rulebook | None) -> str:
    colour = STATUS_COLOURS.get(f.status, "#6e7781")
    against = (
        ' <span style="color: #9a6700; font-size: 11px">(against the Company)</span>' if f.against == "company" else ""
    )
    stops = ", ".join(f.blocks) or "nothing"
    quoted = clauses_for(f, agreement, rulebook)
    quoted_sections = {c.section for _, c in quoted}
    unquoted = [
        c for c in f.citations if (c.startswith("Section") or c.startswith("Schedule")) and c not in quoted_sections
    ]
    missing = (
        f'<div style="color: #59636e">Text of {_e(", ".join(unquoted))} not available in '
        f"{_e(agreement.title)} as loaded (pass the agreement this decision was made under).</div>"
        if unquoted
        else ""
    )
    body = (
        f'<div style="margin: 2px 0 0 1.2em">'
        f"{_FACTS_HEADING + _kv_table(f.facts.items()) if f.facts else ''}"
        f"{_kv_table([('citations', _e('; '.join(f.citations))), ('a failure stops', _e(stops))], raw=True)}"
        f"{quoted_clauses_html(quoted)}{missing}</div>"
    )
    is_open = " open" if f.failing else ""
    return (
        f'<details{is_open} style="margin: 3px 0">'
        f'<summary style="cursor: pointer">{_badge(STATUS_LABELS.get(f.status, f.status), colour)} '
        f"<code>{_e(f.rule)}</code> {_e(f.title)}{against}"
        f'<div style="margin-left: 4.2em; color: #1f2328">{_e(f.message)}</div></summary>'
        f"{body}</details>"
    )


def decision_html(decision: Decision, agreement: Agreement | None = None, *, rulebook: Rulebook | None = None) -> str:
    """The HTML card of a decision; clause texts are quoted from ``agreement`` (default: the
    bundled agreement)."""
    if agreement is None:
        agreement = load_agreement()
    colour = OUTCOME_COLOURS.get(decision.outcome, "#6e7781")
    title = (
        f'<div style="font-size: 15px; margin-bottom: 6px">'
        f"{_badge(decision.outcome.upper(), colour)} "
        f"<b>{_e(decision.notice_id or '(no notice id)')}</b></div>"
    )
    if decision.outcome == "error":
        return (
            f'<div style="{_CARD}">{title}'
            f'<div style="color: {colour}">Input error: {_e(decision.error)}</div>'
            f'<div style="color: #59636e; margin-top: 4px">Bad input is never allowed; '
            f"fix the field named and check again.</div></div>"
        )
    summary = _kv_table(
        [
            ("failed rules", _e(", ".join(decision.failed_rules)) or "none"),
            (
                "earliest allowed date",
                _value(decision.earliest_allowed_date)
                if decision.earliest_allowed_date
                else "none: time alone does not cure it"
                if decision.outcome == "deny"
                else "unknown",
            ),
            ("Delivery Date", _value(decision.delivery_date) if decision.delivery_date else "not set"),
            (
                "delivered late (business days)",
                _value(decision.delivery_late_business_days)
                if decision.delivery_late_business_days is not None
                else "no",
            ),
            ("legend removal", _value(decision.legend_removal)),
            ("DWAC eligible", _value(decision.dwac_eligible)),
            ("Rule 144 version", _value(decision.regime)),
            ("citations", _e("; ".join(decision.citations)) or "none"),
        ],
        raw=True,
    )
    applicable = [f for f in decision.findings if f.status != "not_applicable"]
    not_applicable = [f for f in decision.findings if f.status == "not_applicable"]
    findings = "".join(_finding_html(f, agreement, rulebook) for f in applicable)
    if not_applicable:
        items = "".join(
            f"<li><code>{_e(f.rule)}</code> {_e(f.title)} "
            f'<span style="color: #59636e">({_e("; ".join(f.citations))})</span></li>'
            for f in not_applicable
        )
        findings += (
            f'<details style="margin: 6px 0"><summary style="cursor: pointer; color: #59636e">'
            f"{len(not_applicable)} rules not applicable</summary>"
            f'<ul style="margin: 2px 0">{items}</ul></details>'
        )
    source = agreement.text_path.name if agreement.text_path else "agreement.yaml"
    footer = (
        f'<div style="color: #59636e; font-size: 11px; margin-top: 6px">Clauses quoted from '
        f"{_e(agreement.title)} ({_e(agreement.issuer)}, dated {agreement.dated.isoformat()}); "
        f"{_e(source)}.</div>"
    )
    return (
        f'<div style="{_CARD}">{title}{summary}'
        f'<div style="margin: 6px 0">{_e(decision.reasons)}</div>'
        f'<div style="font-weight: 600; margin-top: 8px">Findings</div>{findings}{footer}</div>'
    )


class DecisionCard:
    """A decision with the agreement to quote from; displays as its HTML card in Jupyter."""

    def __init__(self, decision: Decision, agreement: Agreement | None = None):
        self.decision = decision
        self.agreement = agreement

    def _repr_html_(self) -> str:
        return decision_html(self.decision, self.agreement)

    def __repr__(self) -> str:
        return f"DecisionCard({self.decision!r})"


def card(decision: Decision, agreement: Agreement | None = None) -> DecisionCard:
    """``display(card(d, agreement))`` or a cell ending in ``card(d, agreement)`` shows the card."""
    return DecisionCard(decision, agreement)


# --- review results ------------------------------------------------------------------------------


def why_html(row: pd.Series | dict, agreement: Agreement) -> str:
    """A review row's reasons, citations and the quoted clauses, folded under "why"."""
    outcome = row.get("outcome", "")
    if outcome == "error":
        body = f"<div>{_e(row.get('error', ''))}</div>"
    else:
        sections = [c for c in str(row.get("citations", "") or "").split(";") if c]
        body = (
            f"<div>{_e(row.get('reasons', ''))}</div>"
            f'<div style="color: #59636e">{_e("; ".join(sections))}</div>'
            f"{quoted_clauses_html(clauses_for_sections(_agreement_sections(sections), agreement))}"
        )
    return (
        f'<details><summary style="cursor: pointer">why</summary>'
        f'<div style="min-width: 28em; white-space: normal">{body}</div></details>'
    )


def style_review(
    result: pd.DataFrame, agreement: Agreement | None = None, *, columns: Iterable[str] | None = None, why: bool = True
):
    """A pandas ``Styler`` of a review result: denied rows on red, error rows on yellow, the
    outcome in its colour, and (``why=True``) a last column whose "why" opens the row's reasons,
    citations and the quoted agreement clauses. ``columns`` picks the output columns shown
    (default: all but ``reasons`` and ``error``, which are under "why")."""
    if agreement is None:
        agreement = load_agreement()
    if columns is None:
        columns = [c for c in result.columns if c not in ("reasons", "error")] if why else list(result.columns)
    shown = result[list(columns)].copy()
    if why:
        shown["why"] = [why_html(row, agreement) for _, row in result.iterrows()]
    outcomes = list(result["outcome"])
    outcome_at = shown.columns.get_loc("outcome") if "outcome" in shown.columns else None

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        css = []
        for outcome in outcomes:
            background = ROW_BACKGROUNDS.get(outcome)
            line = [f"background-color: {background}" if background else ""] * frame.shape[1]
            if outcome_at is not None:
                line[outcome_at] = "; ".join(
                    filter(
                        None, [line[outcome_at], f"color: {OUTCOME_COLOURS.get(outcome, '#1f2328')}; font-weight: 600"]
                    )
                )
            css.append(line)
        return pd.DataFrame(css, index=frame.index, columns=frame.columns)

    text_columns = [c for c in shown.columns if c != "why"]
    styler = shown.style.apply(rows, axis=None).format(escape="html", subset=text_columns, na_rep="")
    return styler.set_table_styles([{"selector": "td", "props": "vertical-align: top; text-align: left"}])
