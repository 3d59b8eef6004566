"""How many decisions of a review each rule denies: what the command's summary and the HTML
report list."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from compliance.decision.output_columns import LIST_SEPARATOR
from compliance.rulebook.loader import Rule, Rulebook


def denials_by_rule(result: pd.DataFrame, rulebook: Rulebook) -> list[tuple[Rule, int]]:
    """The rules that deny at least one row of ``result`` (a review's output: its
    ``failed_rules`` column), with how many rows each denies; most first, ties in rulebook order.
    A rule id the rulebook lacks raises ``ValueError`` (the result was judged under another
    rulebook)."""
    counts: Counter[str] = Counter()
    # Per distinct list of failed rules, which only denied rows have: no row is copied.
    for failed, n in result["failed_rules"].value_counts().items():
        counts.update({rule_id: n for rule_id in failed.split(LIST_SEPARATOR) if rule_id})
    known = {rule.id for rule in rulebook.rules}
    unknown = sorted(set(counts) - known)
    if unknown:
        raise ValueError(f"failed_rules names {', '.join(unknown)}, which the rulebook does not have")
    denying = [(rule, counts[rule.id]) for rule in rulebook.rules if counts[rule.id]]
    return sorted(denying, key=lambda item: -item[1])
