"""``compliance review``: a file of sale notices judged, the decisions written or printed, and a
summary of the outcomes, the denials by rule and the rows in error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from compliance.bundled import bundled_agreements
from compliance.cli.errors import CommandError
from compliance.cli.events import history
from compliance.cli.outputs import output_problem, report_problem, write_decisions
from compliance.cli.terminal import printable_frame, progress
from compliance.contract.event import BLANKS
from compliance.contract.notice_files import read_notices
from compliance.deal.agreement import Agreement, load_agreement
from compliance.decision.denials import denials_by_rule
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
LISTED_ERRORS = 20  # rows in error the summary lists by name


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every notice is allowed, 1 when any is denied or in error."""
    notices_path = Path(args.notices)
    record = Path(args.record) if args.record else None
    output = Path(args.output) if args.output else None
    problem = output_problem(output, notices_path, record) if output else None
    if args.report and not problem:
        problem = report_problem(Path(args.report), notices_path, output, record)
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
        shown = result if args.show is None else result.iloc[: args.show]
        print(printable_frame(shown[SUMMARY_COLUMNS]).to_string(index=False))
        if len(shown) < len(result):
            print(f"... {len(result) - len(shown)} more; use -o FILE or --show all")
    if args.report:
        from compliance.views.report import write_report

        write_report(Path(args.report), result, notices, agreement)
        print(f"wrote the report of {len(result)} decisions to {printable(args.report)}")
    print(summary(result, agreement, notices))
    return 0 if (result["outcome"] == "allow").all() else 1


def off_schedule(notices: pd.DataFrame, agreement: Agreement) -> int:
    """How many notices name an investor who is not on the agreement's investor schedule (names
    compared as the input contract compares them: spaces and tabs around them dropped). A notice
    without an investor is not counted: the review reports it on its own."""
    if "investor" not in notices.columns:
        return 0
    named = notices["investor"].map(lambda v: v.strip(BLANKS) if isinstance(v, str) else None)
    return int((named.notna() & ~named.isin(list(agreement.investors))).sum())


def schedule_hint(notices: pd.DataFrame, agreement: Agreement) -> str | None:
    """One line when at least half the notices name investors not on the agreement's schedule (the
    notices most likely belong to another agreement), naming the bundled agreements whose schedules
    hold more of them; None otherwise."""
    strangers = off_schedule(notices, agreement)
    if not len(notices) or 2 * strangers < len(notices):
        return None
    others = [
        name
        for name in bundled_agreements()
        if (other := load_agreement(name)).directory.resolve() != agreement.directory.resolve()
        and off_schedule(notices, other) < strangers
    ]
    better = f" (they fit {', '.join(others)})" if others else ""
    return (
        f"  {strangers} of {len(notices)} notices name an investor not on the investor schedule of "
        f"{printable(agreement.directory.name)}: if they belong to another agreement, name it with --agreement{better}"
    )


def summary(result: pd.DataFrame, agreement: Agreement, notices: pd.DataFrame) -> str:
    """The agreement used; counts by outcome; ``schedule_hint`` when the notices seem to belong to
    another agreement; denials by rule (most first, ties in rulebook order) with the
    rule's citations; and the first ``LISTED_ERRORS`` rows in error, each by its notice_id or, for
    a row without one, as ``row N`` (N counted from 1 over the data rows: line N+1 of a CSV file),
    then how many more."""
    counts = result["outcome"].value_counts()
    used = f"{printable(agreement.title)} of {printable(agreement.issuer)} ({printable(agreement.directory)})"
    lines = [
        "",
        f"Agreement: {used}",
        "Summary: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("allow", "deny", "error"))
        + f" of {len(result)} notices",
    ]
    if hint := schedule_hint(notices, agreement):
        lines.append(hint)
    for rule, n in denials_by_rule(result, engine_for().rulebook):
        cites = rule_citations(rule, agreement)
        lines.append(f"  denied by {rule.id}: {n}  ({printable('; '.join(cites))})")
    in_error = np.flatnonzero((result["outcome"] == "error").to_numpy(dtype=bool))
    listed = in_error[:LISTED_ERRORS]
    for row, notice_id, error in zip(
        listed, result["notice_id"].iloc[listed], result["error"].iloc[listed], strict=True
    ):
        # A row's error starts with its row ("row 7: quantity=..."); the id, where there is one, before it.
        where = f"row {row + 1}: "
        text = error if error.startswith(where) else where + error
        named = f"{printable(notice_id)}, " if isinstance(notice_id, str) and notice_id else ""
        lines.append(f"  error in {named}{printable(text)}")
    if len(in_error) > LISTED_ERRORS:
        lines.append(f"  ... and {len(in_error) - LISTED_ERRORS} more rows in error")
    return "\n".join(lines)
