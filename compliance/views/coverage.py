"""Which clauses of an agreement the rulebook encodes, and which resale-relevant ones it does not.

A clause is *encoded* when some rule cites its key (``cites: agreement: [key]``). A clause of the
agreement file's ``clauses`` is *resale-relevant* unless it says ``resale_relevant: false`` (the
``clauses`` map is where a deal's resale terms are recorded; a clause kept only for reference, such
as governing law, is marked false). The resale-relevant clauses no rule cites are the work left to
encode for that deal. Keys the rulebook cites that the agreement does not map are listed too
(``compliance validate`` refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.deal.agreement import Agreement
from compliance.rulebook.loader import Rulebook


@dataclass(frozen=True)
class ClauseCoverage:
    key: str
    section: str
    rules: tuple[str, ...]  # ids of the rules that cite the clause, in rulebook order
    resale_relevant: bool


@dataclass(frozen=True)
class Coverage:
    agreement: Agreement
    clauses: tuple[ClauseCoverage, ...]  # in the agreement file's order
    missing: tuple[str, ...]  # keys the rulebook cites that the agreement lacks

    @property
    def encoded(self) -> tuple[ClauseCoverage, ...]:
        return tuple(c for c in self.clauses if c.rules)

    @property
    def unencoded(self) -> tuple[ClauseCoverage, ...]:
        """Resale-relevant clauses no rule cites yet."""
        return tuple(c for c in self.clauses if c.resale_relevant and not c.rules)

    @property
    def not_resale_relevant(self) -> tuple[ClauseCoverage, ...]:
        return tuple(c for c in self.clauses if not c.resale_relevant and not c.rules)


def clause_coverage(agreement: Agreement, rulebook: Rulebook) -> Coverage:
    clauses = tuple(
        ClauseCoverage(
            key,
            clause.section,
            tuple(r.id for r in rulebook.rules if key in r.agreement_clauses),
            clause.resale_relevant,
        )
        for key, clause in agreement.clauses.items()
    )
    return Coverage(agreement, clauses, tuple(sorted(rulebook.clause_keys - set(agreement.clauses))))


def format_coverage(coverage: Coverage) -> str:
    a = coverage.agreement
    lines = [
        f"{a.path}: {a.issuer}, {a.title} dated {a.dated}" + (" (synthetic)" if a.synthetic else ""),
        "",
        "Clauses and the rules that encode them:",
    ]
    width = max([len(c.section) for c in coverage.clauses] + [7])
    key_width = max([len(c.key) for c in coverage.clauses] + [3])
    for c in coverage.clauses:
        rules = ", ".join(c.rules) if c.rules else ("(no rule yet)" if c.resale_relevant else "(not resale-relevant)")
        lines.append(f"  {c.section:{width}}  {c.key:{key_width}}  {rules}")
    lines += ["", "Resale-relevant clauses no rule encodes yet:"]
    lines += [f"  {c.section:{width}}  {c.key}" for c in coverage.unencoded] or ["  none"]
    if coverage.missing:
        lines += ["", "Clause keys the rules cite that this agreement does not map (compliance validate fails):"]
        lines += [f"  {key}" for key in coverage.missing]
    return "\n".join(lines)
