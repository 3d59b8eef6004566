"""``compliance review``: a file of sale notices judged, the decisions written or printed, and a
summary of the outcomes, the denials by rule and the rows in error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from compliance.cli.errors import CommandError
from compliance.cli.events import history
from compliance.cli.outputs import output_problem, write_decisions
from compliance.cli.terminal import printable_frame, progress
from compliance.contract.notice_files import read_notices
from compliance.deal.agreement import load_agreement
from compliance.decision.findings import rule_citations
from compliance.rulebook.durable import engine_for
from compliance.running.review import review
from compliance.views.output_safety import printable

SUMMARY_COLUMNS = [
    "notice_id",
    "outcome",
    "failed_rules",
    "earliest_allowed_date",
    "delivery_date",
    "legend_removal",
    "dwac_eligible",
    "regime",
]


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every notice is allowed, 1 when any is denied or in error."""
    notices_path = Path(args.notices)
    record = Path(args.record) if args.record else None
    problem = output_problem(Path(args.output), notices_path, record) if args.output else None
    if problem:
        raise CommandError(problem)
    notices = read_notices(notices_path, encoding=args.encoding, delimiter=args.delimiter)
    agreement = load_agreement(args.agreement)
    sales = history(args, agreement)
    report = progress(len(notices))
    result = review(
        notices,
        agreement,
        progress=report,
        record=args.record,
        workers=args.workers,
        extra_columns=args.extra_columns,
        history=sales,
    )
    if report:
        print(file=sys.stderr)
    if args.output:
        write_decisions(result, Path(args.output))
        print(f"wrote {len(result)} decisions to {printable(args.output)}")
    else:
        print(printable_frame(result[SUMMARY_COLUMNS]).to_string(index=False))
    print(summary(result, agreement))
    return 0 if (result["outcome"] == "allow").all() else 1


def summary(result: pd.DataFrame, agreement) -> str:
    """Counts by outcome, denials by rule (most first, ties in rulebook order) with the rule's
    citations, and the rows in error."""
    counts = result["outcome"].value_counts()
    lines = [
        "",
        "Summary: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("allow", "deny", "error"))
        + f" of {len(result)} notices",
    ]
    rules = {r.id: r for r in engine_for().rulebook.rules}
    by_rule = dict.fromkeys(rules, 0)
    # Per distinct list of failed rules, which only denied rows have: no row is copied.
    for failed, n in result["failed_rules"].value_counts().items():
        for rule_id in failed.split(";") if failed else ():
            by_rule[rule_id] += n
    for rule_id, n in sorted(((r, n) for r, n in by_rule.items() if n), key=lambda item: -item[1]):
        rule = rules[rule_id]
        cites = rule_citations(rule, agreement)
        lines.append(f"  denied by {rule_id}: {n}  ({printable('; '.join(cites))})")
    in_error = np.flatnonzero((result["outcome"] == "error").to_numpy(dtype=bool))
    for notice_id, error in zip(result["notice_id"].iloc[in_error], result["error"].iloc[in_error], strict=True):
        lines.append(f"  error in {printable(notice_id) if notice_id else '(no id)'}: {printable(error)}")
    return "\n".join(lines)
