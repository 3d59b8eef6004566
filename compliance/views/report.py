"""The review report: one HTML page, complete in itself (no network needed to open it), of a batch
review's decisions.

Top to bottom: the agreement and the rulebook the review used, each with its fingerprint (sha256
over its files, as the decision log records them); the counts by outcome; two charts (outcomes by
investor, denials by rule); a table of every decision that can be filtered by outcome, investor
and rule, each row's reasons, citations and links to the clauses of its failed rules folded under
"why"; and the denials by rule, each with the rule's citations and the words of the agreement
clauses it cites.

Large reviews: the decisions are embedded once, as a JSON array (texts that rows share, such as
investors, lists of failed rules, citations and reasons, stored once and referred to by number),
and the page's script draws the table ``PAGE_ROWS`` rows at a time: the first rows on opening, the
next each time the reader presses "Show more" (the page below the table stays in reach). A filter
runs over the array, never over the page, so the page stays responsive at 100,000 decisions (sizes and times in
docs/performance.md, measured by bench/report_benchmark.py). The investor chart shows the
``CHART_INVESTORS`` investors with most notices and one bar for all others.

Every value from a notices file is the sender's text. In the page's HTML it is escaped; in the
embedded JSON ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no value can end the script
element; the script puts values into the page as text only, never as HTML. The page's
Content-Security-Policy allows no network request and runs no script but the page's own (named by
its sha256), so an injected script would not run even if one got through.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from compliance._version import __version__
from compliance.deal.agreement import Agreement
from compliance.decision.denials import denials_by_rule
from compliance.decision.display import OUTCOME_COLOURS, quoted_clauses_html
from compliance.decision.findings import rule_citations
from compliance.decision.output_columns import ERROR_OUTCOME, LIST_SEPARATOR, OUTCOMES
from compliance.decision_log import agreement_fingerprint, rulebook_fingerprint
from compliance.rulebook.durable import engine_for
from compliance.rulebook.loader import RULES_DIR, Rule, Rulebook
from compliance.views.bar_charts import stacked_bars_svg

PAGE_ROWS = 200  # table rows drawn at a time
CHART_INVESTORS = 15  # investors with a bar of their own; the rest share one
REPORT_OUTCOMES = (*OUTCOMES, ERROR_OUTCOME)
# The embedded decisions: one array per row, these fields in this order. A pooled field holds the
# number of its text in the pool of that name (``failed_rules``: a list of numbers into ``rules``).
ROW_FIELDS = (
    "notice_id",
    "outcome",
    "investor",
    "sale_date",
    "failed_rules",
    "citations",
    "earliest_allowed_date",
    "delivery_date",
    "reasons",
)
POOLED = {"outcome": "outcomes", "investor": "investors", "citations": "citations", "reasons": "reasons"}

STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 14px; color: #1f2328;
  margin: 24px auto; max-width: 1200px; padding: 0 16px; line-height: 1.45 }
h1 { font-size: 22px } h2 { font-size: 18px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 28px }
h3 { font-size: 15px; margin: 14px 0 4px 0 }
table { border-collapse: collapse }
th, td { text-align: left; vertical-align: top; padding: 3px 10px 3px 0 }
table.facts th { color: #59636e; font-weight: normal }
table.counts td { text-align: right; font-variant-numeric: tabular-nums }
#decisions-table { width: 100%; font-size: 13px }
#decisions-table thead th { position: sticky; top: 0; background: #f6f8fa; border-bottom: 1px solid #d0d7de }
#decisions-table td { border-bottom: 1px solid #eaeef2 }
tr.outcome-deny { background: #ffebe9 } tr.outcome-error { background: #fff8c5 }
td.outcome { font-weight: 600 }
td.notice, td.day, td.outcome { white-space: nowrap }
.charts { display: flex; flex-wrap: wrap; gap: 24px }
tr.outcome-allow td.outcome { color: #1a7f37 } tr.outcome-deny td.outcome { color: #cf222e }
tr.outcome-error td.outcome { color: #9a6700 }
details summary { cursor: pointer; color: #0969da }
details .reasons { min-width: 24em; margin: 4px 0 }
details .cites { color: #59636e }
details a { display: inline-block; margin-right: 10px }
.filters { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; margin: 8px 0 }
.rule { margin-bottom: 18px } .rule .cites { color: #59636e }
code { font-size: 12px }
"""

SCRIPT = """
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("decisions-data").textContent);
  const F = {};
  data.fields.forEach((name, i) => { F[name] = i; });
  const rows = data.rows;
  // for each rule, the numbers of the lists of failed rules that hold it
  const holding = data.rules.map(() => new Set());
  data.failed_rules.forEach((list, k) => list.forEach((rule) => holding[rule].add(k)));
  const body = document.getElementById("decisions-body");
  const more = document.getElementById("show-more");
  const matchCount = document.getElementById("match-count");
  const shownCount = document.getElementById("shown-count");
  const outcome = document.getElementById("filter-outcome");
  const investor = document.getElementById("filter-investor");
  const rule = document.getElementById("filter-rule");
  let matching = [];
  let shown = 0;

  function cell(tr, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function why(r) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "why";
    const reasons = document.createElement("div");
    reasons.className = "reasons";
    reasons.textContent = data.reasons[r[F.reasons]];
    details.append(summary, reasons);
    const cites = data.citations[r[F.citations]];
    if (cites) {
      const line = document.createElement("div");
      line.className = "cites";
      line.textContent = cites.split(";").join("; ");
      details.append(line);
    }
    for (const k of data.failed_rules[r[F.failed_rules]]) {
      const link = document.createElement("a");
      link.href = "#rule-" + data.rules[k];
      link.textContent = "clauses of " + data.rules[k];
      details.append(link);
    }
    return details;
  }

  function rowElement(i) {
    const r = rows[i];
    const result = data.outcomes[r[F.outcome]];
    const tr = document.createElement("tr");
    tr.dataset.row = String(i);
    tr.className = "outcome-" + result;
    cell(tr, r[F.notice_id], "notice");
    cell(tr, data.investors[r[F.investor]]);
    cell(tr, r[F.sale_date], "day");
    cell(tr, result, "outcome");
    cell(tr, data.failed_rules[r[F.failed_rules]].map((k) => data.rules[k]).join(", "));
    cell(tr, r[F.earliest_allowed_date], "day");
    cell(tr, r[F.delivery_date], "day");
    cell(tr, "").append(why(r));
    return tr;
  }

  function showMore() {
    const end = Math.min(shown + data.page_rows, matching.length);
    const part = document.createDocumentFragment();
    for (let k = shown; k < end; k++) part.append(rowElement(matching[k]));
    body.append(part);
    shown = end;
    shownCount.textContent = shown.toLocaleString("en-US");
    more.hidden = shown >= matching.length;
  }

  function applyFilters() {
    const wanted = outcome.value;
    const who = investor.value === "" ? -1 : Number(investor.value);
    const lists = rule.value === "" ? null : holding[Number(rule.value)];
    matching = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (wanted !== "" && data.outcomes[r[F.outcome]] !== wanted) continue;
      if (who >= 0 && r[F.investor] !== who) continue;
      if (lists !== null && !lists.has(r[F.failed_rules])) continue;
      matching.push(i);
    }
    matchCount.textContent = matching.length.toLocaleString("en-US");
    body.replaceChildren();
    shown = 0;
    showMore();
  }

  for (const select of [outcome, investor, rule]) select.addEventListener("change", applyFilters);
  more.addEventListener("click", showMore);
  for (const link of document.querySelectorAll("a[data-rule]")) {
    link.addEventListener("click", () => {
      outcome.value = "";
      investor.value = "";
      rule.value = link.dataset.rule;
      applyFilters();
    });
  }
  applyFilters();
})();
"""
SCRIPT_SHA256 = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
POLICY = (
    f"default-src 'none'; script-src 'sha256-{SCRIPT_SHA256}'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as text, '' for a missing value or a missing column."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].astype(object).where(frame[column].notna(), "").astype(str)


def decisions_data(result: pd.DataFrame, notices: pd.DataFrame, rulebook: Rulebook) -> dict:
    """The decisions as the page's script reads them: ``fields`` (``ROW_FIELDS``), ``rows``, a
    pool of texts per pooled field, ``rules`` (rule ids in rulebook order) and ``page_rows``.
    ``investor`` and ``sale_date`` are the notices' own text (the result does not carry them)."""
    columns = {name: _text_column(result, name) for name in ROW_FIELDS if name not in ("investor", "sale_date")}
    columns["investor"] = _text_column(notices, "investor")
    columns["sale_date"] = _text_column(notices, "sale_date")
    data: dict = {"fields": list(ROW_FIELDS), "page_rows": PAGE_ROWS, "rules": [r.id for r in rulebook.rules]}
    number = {rule_id: k for k, rule_id in enumerate(data["rules"])}
    values = {}
    for name in ROW_FIELDS:
        if name in POOLED or name == "failed_rules":
            codes, pool = pd.factorize(columns[name], sort=name == "investor")
            values[name] = codes.tolist()
            if name == "failed_rules":
                data[name] = [[number[r] for r in lists.split(LIST_SEPARATOR) if r] for lists in pool]
            else:
                data[POOLED[name]] = list(pool)
        else:
            values[name] = columns[name].tolist()
    data["rows"] = list(zip(*(values[name] for name in ROW_FIELDS), strict=True))
    return data


def _script_json(data: dict) -> str:
    """JSON that cannot end the ``<script>`` element holding it, nor open a comment or a tag."""
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _shown_path(path: Path | str) -> str:
    """``path`` relative to the current directory when it lies under it (as one would type it
    there), else absolute."""
    path, here = Path(path).resolve(), Path.cwd().resolve()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


def _sources_html(agreement: Agreement, rules_dir: Path | str, rulebook: Rulebook) -> str:
    synthetic = " (synthetic)" if agreement.synthetic else ""
    facts = [
        ("Agreement", f"{_e(agreement.title)}, {_e(agreement.issuer)}, dated {agreement.dated.isoformat()}{synthetic}"),
        ("Agreement directory", f"<code>{_e(_shown_path(agreement.directory))}</code>"),
        (
            "Agreement fingerprint",
            f'<code id="agreement-fingerprint">{agreement_fingerprint(agreement.directory)}</code>',
        ),
        ("Rulebook", f"<code>{_e(_shown_path(rules_dir))}</code>, {len(rulebook.rules)} rules"),
        ("Rulebook fingerprint", f'<code id="rulebook-fingerprint">{rulebook_fingerprint(rules_dir)}</code>'),
        ("Judged by", f"resale-compliance {_e(__version__)}"),
    ]
    rows = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in facts)
    return (
        f'<section id="sources"><h2>Agreement and rulebook</h2><table class="facts">{rows}</table>'
        "<p>A fingerprint is the sha256 over the directory's files and their paths: the same "
        "fingerprint, the same agreement and rules.</p></section>"
    )


def _summary_html(outcome_counts: pd.Series, total: int) -> str:
    rows = "".join(
        f'<tr><th>{outcome}</th><td data-outcome="{outcome}">{outcome_counts.get(outcome, 0):,}</td></tr>'
        for outcome in REPORT_OUTCOMES
    )
    return (
        f'<section id="summary"><h2>Summary</h2><table class="counts">{rows}'
        f'<tr><th>notices</th><td data-outcome="total">{total:,}</td></tr></table></section>'
    )


def _charts_html(result: pd.DataFrame, investors: pd.Series, denials: list[tuple[Rule, int]]) -> str:
    colours = {o: OUTCOME_COLOURS[o] for o in REPORT_OUTCOMES}
    table = pd.crosstab(investors.to_numpy(), result["outcome"].to_numpy())
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    bars = [(name or "(no investor)", row.to_dict()) for name, row in table.head(CHART_INVESTORS).iterrows()]
    others = table.iloc[CHART_INVESTORS:]
    if len(others):
        bars.append((f"{len(others):,} other investors", others.sum().to_dict()))
    by_investor = stacked_bars_svg(bars, colours, "Outcomes by investor", "chart-investors")
    by_rule = stacked_bars_svg(
        [(rule.id, {"deny": n}) for rule, n in denials], {"deny": colours["deny"]}, "Denials by rule", "chart-rules"
    )
    return (
        '<section id="charts"><h2>Outcomes by investor and by rule</h2><div class="charts">'
        f"<div><h3>Outcomes by investor</h3>{by_investor}</div>"
        f"<div><h3>Denials by rule</h3>{by_rule}<p>A denied notice counts once for each rule that denies it.</p></div>"
        "</div></section>"
    )


def _denials_html(denials: list[tuple[Rule, int]], agreement: Agreement, rulebook: Rulebook) -> str:
    number = {rule.id: k for k, rule in enumerate(rulebook.rules)}
    parts = ['<section id="denials"><h2>Denials by rule</h2>']
    if not denials:
        parts.append("<p>No notice was denied.</p>")
    for rule, n in denials:
        clauses = [(key, agreement.clauses[key]) for key in rule.agreement_clauses if key in agreement.clauses]
        parts.append(
            f'<div class="rule" id="rule-{_e(rule.id)}"><h3><code>{_e(rule.id)}</code> {_e(rule.title)}: '
            f'<a href="#decisions" data-rule="{number[rule.id]}">{n:,} denied</a></h3>'
            f'<div class="cites">{_e("; ".join(rule_citations(rule, agreement)))}</div>'
            f"{quoted_clauses_html(clauses)}</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _option(value: object, label: str) -> str:
    return f'<option value="{_e(value)}">{_e(label)}</option>'


def _table_html(data: dict, result: pd.DataFrame, outcome_counts: pd.Series, denials: list) -> str:
    investor_counts = Counter(row[ROW_FIELDS.index("investor")] for row in data["rows"])
    number = {rule_id: k for k, rule_id in enumerate(data["rules"])}
    outcomes = "".join(_option(o, f"{o} ({outcome_counts.get(o, 0):,})") for o in REPORT_OUTCOMES)
    investors = "".join(
        _option(k, f"{name or '(no investor)'} ({investor_counts[k]:,})") for k, name in enumerate(data["investors"])
    )
    rules = "".join(_option(number[rule.id], f"{rule.id} ({n:,})") for rule, n in denials)
    headings = "".join(
        f"<th>{h}</th>"
        for h in ("notice", "investor", "sale date", "outcome", "failed rules", "earliest allowed", "Delivery Date", "")
    )
    return (
        '<section id="decisions"><h2>Decisions</h2><div class="filters">'
        f'<label>Outcome <select id="filter-outcome"><option value="">all</option>{outcomes}</select></label>'
        f'<label>Investor <select id="filter-investor"><option value="">all</option>{investors}</select></label>'
        f'<label>Denied by <select id="filter-rule"><option value="">any rule or none</option>{rules}</select></label>'
        f'<span><span id="match-count">{len(result):,}</span> of {len(result):,} decisions match, '
        '<span id="shown-count">0</span> shown</span></div>'
        "<noscript><p>The table of decisions needs JavaScript; everything above it does not.</p></noscript>"
        f'<table id="decisions-table"><thead><tr>{headings}</tr></thead><tbody id="decisions-body"></tbody></table>'
        f'<p><button id="show-more" type="button" hidden>Show {PAGE_ROWS} more</button></p>'
        f'<script type="application/json" id="decisions-data">{_script_json(data)}</script>'
        f"<script>{SCRIPT}</script></section>"
    )


def review_report_html(
    result: pd.DataFrame, notices: pd.DataFrame, agreement: Agreement, *, rules_dir: Path | str = RULES_DIR
) -> str:
    """The report page of a review: ``result`` as ``review(notices, agreement, rules_dir=...)``
    returned it (same index as ``notices``, whose ``investor`` and ``sale_date`` the page shows).
    Raises ``ValueError`` when the two frames' rows differ or ``result`` names a rule the
    rulebook of ``rules_dir`` does not have."""
    if not result.index.equals(notices.index):
        raise ValueError("the review result and the notices have different rows (index); pass the notices reviewed")
    rulebook = engine_for(rules_dir).rulebook
    denials = denials_by_rule(result, rulebook)
    outcome_counts = result["outcome"].value_counts()
    data = decisions_data(result, notices, rulebook)
    title = f"Review of {len(result):,} sale notices under {agreement.title}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f"{_sources_html(agreement, rules_dir, rulebook)}"
        f"{_summary_html(outcome_counts, len(result))}"
        f"{_charts_html(result, _text_column(notices, 'investor'), denials)}"
        f"{_table_html(data, result, outcome_counts, denials)}"
        f"{_denials_html(denials, agreement, rulebook)}"
        "</body></html>\n"
    )


def write_report(
    path: Path | str,
    result: pd.DataFrame,
    notices: pd.DataFrame,
    agreement: Agreement,
    *,
    rules_dir: Path | str = RULES_DIR,
) -> None:
    """Write ``review_report_html`` to ``path`` as UTF-8, whole or not at all: into a temporary
    file beside it, renamed to ``path`` once complete (removed if anything, Ctrl-C included,
    stops the writing). A text that UTF-8 cannot hold (a lone surrogate) is written as an HTML
    character reference."""
    path = Path(path)
    page = review_report_html(result, notices, agreement, rules_dir=rules_dir)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(page.encode("utf-8", "xmlcharrefreplace"))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
