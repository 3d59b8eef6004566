"""``compliance rules`` (every rule with its citations), ``validate`` (an agreement directory
checked against the agreement-file schema and the rulebook) and ``coverage`` (which clauses the
rules encode)."""

from __future__ import annotations

import argparse
from pathlib import Path

from compliance.deal.agreement import load_agreement
from compliance.decision.findings import rule_citations
from compliance.rulebook.loader import load_rulebook
from compliance.views.output_safety import printable, printable_lines


def run_rules(args: argparse.Namespace) -> int:
    agreement = load_agreement(args.agreement)
    for rule in load_rulebook().rules:
        cites = rule_citations(rule, agreement)
        print(f"{rule.id:36} {rule.title}")
        print(
            f"{'':36} cites: {printable('; '.join(cites))}   stops: {', '.join(rule.blocks) or 'nothing'}"
            f"{'   (against the Company)' if rule.against == 'company' else ''}"
        )
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Exit 0 when the agreement directory is usable with the rulebook, 2 with every problem."""
    from compliance.deal.schema import AGREEMENT_FILE, validate_directory

    cited = load_rulebook().clause_keys
    problems = validate_directory(args.directory, cited)
    path = Path(args.directory) / AGREEMENT_FILE
    if problems:
        for problem in problems:
            print(printable_lines(problem))
        print(f"{len(problems)} problem(s) in {printable(path)}")
        return 2
    agreement = load_agreement(args.directory)
    print(
        f"OK: {printable(path)} ({printable(agreement.issuer)}, {len(agreement.clauses)} clauses; "
        f"all {len(cited)} clause keys the rulebook cites are mapped)"
    )
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    """Which clauses the rules encode; the resale-relevant ones no rule encodes yet."""
    from compliance.views.coverage import clause_coverage, format_coverage

    print(format_coverage(clause_coverage(load_agreement(args.directory), load_rulebook())))
    return 0
