"""The rulebook compiled to numpy: every rule judged for a whole column of events at once.

The same normalised conditions as the durable_rules ruleset (``durable.py``), with the same
three-valued logic: a comparison is FALSE (0), UNKNOWN (1, a fact is absent) or TRUE (2); ``all``
is the minimum, ``any`` the maximum. A rule's status: not applicable when it certainly does not
apply; fail when it applies and fails; pass when it certainly does not fail; else undetermined.
"""

from __future__ import annotations

import operator

import numpy as np

from compliance.contract.event import Coded
from compliance.rulebook.loader import Rulebook

FALSE, UNKNOWN, TRUE = 0, 1, 2
NOT_APPLICABLE, FAIL, PASS, UNDETERMINED = 0, 1, 2, 3
Facts = dict[str, np.ndarray]  # facts by name, one value per event, as compliance.facts derives them
STATUS_NAMES = ("not_applicable", "fail", "pass", "undetermined")
_OPS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def present(column: np.ndarray) -> np.ndarray | bool:
    """Where a fact column has a value."""
    if isinstance(column, Coded):
        return column.codes >= 0
    kind = column.dtype.kind
    if kind == "M":
        return ~np.isnat(column)
    if kind == "f":
        return ~np.isnan(column)
    if kind == "O":
        return np.not_equal(column, None)
    if kind == "U":
        return column != ""
    return True


def coded(column):
    """A fact column ready for many judgements: text coded (``Coded``), anything else as it is."""
    return Coded.of(column) if column.dtype.kind == "O" and not isinstance(column, Coded) else column


class _Prepared(dict):
    """Fact columns ready for fast comparison (text coded by distinct value), each prepared
    once, with its presence mask cached."""

    def __init__(self, facts: Facts):
        super().__init__()
        self.facts = facts
        self.presence: dict[str, np.ndarray | bool] = {}

    def __missing__(self, name: str):
        self[name] = coded(self.facts[name])
        return self[name]

    def get(self, name, default=None):
        return self[name] if name in self.facts else default

    def present(self, name: str):
        if name not in self.presence:
            self.presence[name] = present(self[name])
        return self.presence[name]


def truth(cond: tuple, facts: Facts, n: int) -> np.ndarray:
    """A condition's three-valued truth for every event (uint8: FALSE, UNKNOWN, TRUE)."""
    kind = cond[0]
    if kind == "true":
        return np.full(n, TRUE, np.uint8)
    if kind == "false":
        return np.full(n, FALSE, np.uint8)
    if kind in ("all", "any"):
        combine = np.minimum if kind == "all" else np.maximum
        parts = [truth(c, facts, n) for c in cond[1]]
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    _, name, op, (operand_kind, operand) = cond
    left = facts.get(name)
    if left is None:
        return np.full(n, UNKNOWN, np.uint8)
    known = facts.present(name)
    if operand_kind == "fact":
        right = facts.get(operand)
        if right is None:
            return np.full(n, UNKNOWN, np.uint8)
        known = known & facts.present(operand)
    else:
        right = operand
    if isinstance(left, Coded):  # text facts are compared with constants only (the loader checks)
        holds = left.compare(_OPS[op], right)
    else:
        with np.errstate(invalid="ignore"):
            holds = _OPS[op](left, right)
    holds = np.broadcast_to(np.asarray(holds, dtype=bool), n)
    unknown = ~np.broadcast_to(known, n)
    return ((holds & ~unknown).view(np.uint8) << 1) | unknown.view(np.uint8)  # TRUE 2, FALSE 0, UNKNOWN 1


# The statuses that stop what a rule blocks.
STOPPING = frozenset((FAIL, UNDETERMINED))


def failing(codes: np.ndarray) -> np.ndarray:
    """Where a status code fails or is undetermined (both stop what the rule blocks)."""
    return (codes == FAIL) | (codes == UNDETERMINED)


def blocks(rulebook: Rulebook, *what: str) -> np.ndarray:
    """Per rule, in rulebook order: whether its failure stops any of ``what`` (sale,
    legend_removal, dwac)."""
    return np.array([not set(what).isdisjoint(r.blocks) for r in rulebook.rules])


def statuses(rulebook: Rulebook, facts: Facts, n: int) -> np.ndarray:
    """An (events x rules) matrix of status codes, rules in rulebook order."""
    return rule_statuses(rulebook.rules, facts, n)


def rule_statuses(rules, facts: Facts, n: int) -> np.ndarray:
    """An (events x rules) matrix of status codes of ``rules``, in their order."""
    out = np.empty((n, len(rules)), np.uint8)
    facts = _Prepared(facts)
    for j, rule in enumerate(rules):
        applies = truth(rule.applies_when, facts, n)
        fails = truth(rule.fails_if, facts, n)
        out[:, j] = _STATUS_OF[applies * np.uint8(3) + fails]
    return out


def _status_of(applies: int, fails: int) -> int:
    if applies == FALSE:
        return NOT_APPLICABLE
    if applies == TRUE and fails == TRUE:
        return FAIL
    return PASS if fails == FALSE else UNDETERMINED


# A rule's status by 3 * (truth of applies_when) + (truth of fails_if).
_STATUS_OF = np.array([_status_of(a, x) for a in (FALSE, UNKNOWN, TRUE) for x in (FALSE, UNKNOWN, TRUE)], np.uint8)


_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _source(cond: tuple) -> str:
    """A condition as one Python expression over ``f`` (a dict of one event's facts)."""
    kind = cond[0]
    if kind in ("true", "false"):
        return str(TRUE if kind == "true" else FALSE)
    if kind in ("all", "any"):
        parts = [_source(c) for c in cond[1]]
        return parts[0] if len(parts) == 1 else f"{'min' if kind == 'all' else 'max'}({', '.join(parts)})"
    _, name, op, (operand_kind, operand) = cond
    left = f"f.get({name!r})"
    right = f"f.get({operand!r})" if operand_kind == "fact" else repr(operand)
    unknown = f"{left} is None" + (f" or {right} is None" if operand_kind == "fact" else "")
    return f"({UNKNOWN} if {unknown} else ({TRUE} if {left} {_SYMBOLS[op]} {right} else {FALSE}))"


def scalar_truth(cond: tuple):
    """The same three-valued truth as ``truth``, compiled to a function of one event's facts
    (a dict of Python values, None where absent): for the ordered scan of a batch review and the
    date search of a check."""
    return eval(f"lambda f: {_source(cond)}", {"min": min, "max": max})  # noqa: S307 — generated from the validated rulebook


def scalar_status(rule) -> callable:
    applies, fails = scalar_truth(rule.applies_when), scalar_truth(rule.fails_if)

    def status(f) -> int:
        a = applies(f)
        return NOT_APPLICABLE if a == FALSE else _status_of(a, fails(f))

    return status
