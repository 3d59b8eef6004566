"""The rulebook: declarative rule files in ``rules/``, loaded, validated and normalised.

A rule file (YAML) holds a ``family``, optional ``definitions`` (named conditions a rule of the
same file may use with ``{ref: name}``) and ``rules``. Each rule has:

``id``            unique, ``family.name``
``title``         one line
``applies_when``  a condition, or ``always``
``fails_if``      a condition
``blocks``        what a failure stops: any of ``sale``, ``legend_removal``, ``dwac``
                  (default: all three; ``[]`` for a finding that stops nothing)
``against``       ``investor`` (default) or ``company`` (a covenant the Company breaks)
``cites``         ``agreement``: clause keys the agreement maps to its sections;
                  ``regulation``: paragraphs such as ``17 CFR 230.144(d)(1)``. At least one.
``message``       ``fail`` and ``pass`` templates; ``{fact}`` is replaced by the fact's value
``law``, ``convention``  the legal text and the reading chosen, for the reader

A condition is ``{all: [...]}``, ``{any: [...]}``, ``{ref: name}`` or a comparison
``{fact: NAME, OP: OPERAND}`` / ``{param: NAME, OP: OPERAND}`` with OP one of
eq, ne, lt, le, gt, ge, in, not_in, and OPERAND a constant, ``{fact: NAME}`` or ``{param: NAME}``.
A ``param`` is a Rule 144 parameter: its value depends on the version in force, so the comparison
is expanded, at load time, into one branch per version guarded by ``regime == version``.

Comparisons use three-valued logic: a comparison with a fact that is absent is *unknown*, so
neither a rule's failure nor its pass can be shown, and the rule is *undetermined* (fail closed).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

from compliance.bundled import RULES_DIR
from compliance.rulebook.files import FACTS_FILE, RULE_144_PARAMETERS, rule_files, rulebook_files
from compliance.rulebook.parameters import Rule144Parameters, load_rule_144_parameters

COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge"}
NEGATION = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}
ORDERED_TYPES = {"date", "integer", "number"}
BLOCKABLE = ("sale", "legend_removal", "dwac")
REGULATION_CITATION = re.compile(r"^(17 CFR \d+\.\d+(\([a-z0-9]+\))*|Securities Act Section \d+(\([a-z0-9]+\))*)$")
RULE_KEYS = {"id", "title", "applies_when", "fails_if", "blocks", "against", "cites", "message", "law", "convention"}


class RulebookError(ValueError):
    """A rule file that cannot be loaded; the message names the file and the rule."""


# --- normalised conditions -------------------------------------------------------------------
# ("cmp", fact, op, ("const", value) | ("fact", name)) | ("all", [..]) | ("any", [..])
# | ("true",) | ("false",)
TRUE = ("true",)
FALSE = ("false",)


def negate(cond: tuple) -> tuple:
    """The condition's negation (De Morgan; unknown stays unknown)."""
    kind = cond[0]
    if kind == "cmp":
        return ("cmp", cond[1], NEGATION[cond[2]], cond[3])
    if kind == "all":
        return ("any", [negate(c) for c in cond[1]])
    if kind == "any":
        return ("all", [negate(c) for c in cond[1]])
    return FALSE if kind == "true" else TRUE


def simplify(cond: tuple) -> tuple:
    """Fold constant branches: all[] is true, any[] is false."""
    kind = cond[0]
    if kind not in ("all", "any"):
        return cond
    neutral, absorbing = (TRUE, FALSE) if kind == "all" else (FALSE, TRUE)
    parts = []
    for part in (simplify(c) for c in cond[1]):
        if part == absorbing:
            return absorbing
        if part != neutral:
            parts.append(part)
    if not parts:
        return neutral
    return parts[0] if len(parts) == 1 else (kind, parts)


def condition_facts(cond: tuple) -> list[str]:
    """The facts a condition reads, in first-use order."""
    found: list[str] = []

    def walk(c: tuple) -> None:
        if c[0] == "cmp":
            for name in (c[1], c[3][1] if c[3][0] == "fact" else None):
                if name and name not in found:
                    found.append(name)
        elif c[0] in ("all", "any"):
            for part in c[1]:
                walk(part)

    walk(cond)
    return found


def _compared_with_sale_date(conditions) -> list[str]:
    found: list[str] = []

    def walk(c: tuple) -> None:
        if c[0] in ("all", "any"):
            for part in c[1]:
                walk(part)
        elif c[0] == "cmp" and c[3][0] == "fact" and "sale_date" in (c[1], c[3][1]):
            other = c[3][1] if c[1] == "sale_date" else c[1]
            if other not in found:
                found.append(other)

    for cond in conditions:
        walk(cond)
    return found


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    title: str
    applies_when: tuple
    fails_if: tuple
    blocks: tuple[str, ...]
    against: str
    agreement_clauses: tuple[str, ...]
    regulation: tuple[str, ...]
    message_fail: str
    message_pass: str
    law: str
    convention: str
    source: str
    facts_used: tuple[str, ...] = field(default=())  # conditions and messages
    condition_facts: tuple[str, ...] = field(default=())  # conditions only


@dataclass(frozen=True)
class Rulebook:
    rules: tuple[Rule, ...]
    facts: dict[str, dict]
    parameters: Rule144Parameters
    files: tuple[Path, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @cached_property
    def date_search(self) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
        """Per rule, in order: the facts its conditions read, and the date facts they compare with
        ``sale_date`` (the only days on which its outcome can flip while those facts keep their
        values). What the earliest-date search needs to know of each rule."""
        return tuple(
            (rule.condition_facts, tuple(_compared_with_sale_date((rule.applies_when, rule.fails_if))))
            for rule in self.rules
        )

    @cached_property
    def clause_keys(self) -> frozenset[str]:
        """The agreement clause keys the rules cite (worked out once)."""
        return frozenset(key for rule in self.rules for key in rule.agreement_clauses)


# --- loading ---------------------------------------------------------------------------------
class _RuleContext:
    """Validation context for one rule: names the file and the rule in every error."""

    def __init__(self, path: Path, rule_id: str, facts: dict, params: Rule144Parameters, definitions: dict):
        self.path, self.rule_id, self.facts, self.params = path, rule_id, facts, params
        self.definitions = definitions

    def error(self, what: str) -> RulebookError:
        return RulebookError(f"{self.path.name}: rule {self.rule_id!r}: {what}")

    def fact_type(self, name: Any) -> dict:
        if not isinstance(name, str) or name not in self.facts:
            raise self.error(f"unknown fact {name!r} (not in facts.yaml)")
        return self.facts[name]

    def condition(self, raw: Any, seen_refs: tuple = ()) -> tuple:
        if not isinstance(raw, dict) or not raw:
            raise self.error(f"a condition must be a mapping, got {raw!r}")
        if set(raw) in ({"all"}, {"any"}):
            ((kind, parts),) = raw.items()
            if not isinstance(parts, list):
                raise self.error(f"'{kind}' takes a list, got {parts!r}")
            return (kind, [self.condition(p, seen_refs) for p in parts])
        if set(raw) == {"ref"}:
            name = raw["ref"]
            if name not in self.definitions:
                raise self.error(f"unknown definition {name!r}")
            if name in seen_refs:
                raise self.error(f"definition {name!r} refers to itself")
            return self.condition(self.definitions[name], seen_refs + (name,))
        subject = [k for k in ("fact", "param") if k in raw]
        ops = [k for k in raw if k not in ("fact", "param")]
        if len(subject) != 1 or len(ops) != 1:
            raise self.error(f"a comparison is {{fact|param: NAME, OP: OPERAND}}, got {raw!r}")
        op = ops[0]
        if op not in COMPARISONS | {"in", "not_in"}:
            raise self.error(f"bad operator {op!r} (allowed: {sorted(COMPARISONS | {'in', 'not_in'})})")
        if subject[0] == "param":
            return self._param_subject(raw["param"], op, raw[op])
        return self.comparison(raw["fact"], op, raw[op])

    def comparison(self, fact: str, op: str, operand: Any) -> tuple:
        ftype = self.fact_type(fact)
        if isinstance(operand, dict) and set(operand) == {"param"}:
            return self._param_operand(fact, op, operand["param"])
        if op in ("in", "not_in"):
            if not isinstance(operand, list) or not operand:
                raise self.error(f"'{op}' takes a non-empty list of constants, got {operand!r}")
            parts = [self.comparison(fact, "eq", v) for v in operand]
            return ("any", parts) if op == "in" else negate(("any", parts))
        if isinstance(operand, dict):
            if set(operand) != {"fact"}:
                raise self.error(f"an operand is a constant, {{fact: NAME}} or {{param: NAME}}, got {operand!r}")
            other = self.fact_type(operand["fact"])
            self._check_types(fact, ftype, op, other["type"])
            if ftype["type"] not in ORDERED_TYPES:
                raise self.error(
                    f"facts are compared with each other only when they are dates or "
                    f"numbers; {fact!r} is {ftype['type']}"
                )
            return ("cmp", fact, op, ("fact", operand["fact"]))
        self._check_constant(fact, ftype, op, operand)
        return ("cmp", fact, op, ("const", operand))

    def _param_operand(self, fact: str, op: str, param: str) -> tuple:
        branches = []
        for version, value in self._param_values(param):
            branches.append(("all", [("cmp", "regime", "eq", ("const", version)), self.comparison(fact, op, value)]))
        return ("any", branches)

    def _param_subject(self, param: str, op: str, operand: Any) -> tuple:
        if isinstance(operand, dict):
            raise self.error(f"a parameter is compared with a constant, got {operand!r}")
        branches = []
        for version, value in self._param_values(param):
            holds = _compare_constants(value, op, operand, self)
            branches.append(("cmp", "regime", "eq", ("const", version)) if holds else FALSE)
        return ("any", branches)

    def _param_values(self, param: str) -> list[tuple[str, Any]]:
        if param not in self.params.names:
            raise self.error(f"unknown parameter {param!r} (not in parameters/rule_144.yaml)")
        return [(v.isoformat(), self.params.value(param, v)) for v in self.params.versions]

    def _check_types(self, fact: str, ftype: dict, op: str, other_type: str) -> None:
        mine = ftype["type"]
        numeric = {"integer", "number"}
        same = mine == other_type or (mine in numeric and other_type in numeric)
        if not same:
            raise self.error(f"fact {fact!r} ({mine}) compared with a {other_type}")
        if op not in ("eq", "ne") and mine not in ORDERED_TYPES:
            raise self.error(f"operator {op!r} needs an ordered fact; {fact!r} is {mine}")

    def _check_constant(self, fact: str, ftype: dict, op: str, value: Any) -> None:
        kind = ftype["type"]
        ok = {
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "enum": value in ftype.get("values", ()),
            "regime": value in {v.isoformat() for v in self.params.versions},
            "text": isinstance(value, str),
            "date": False,  # dates are compared with date facts, never with literals
        }[kind]
        if not ok:
            allowed = f" (one of {ftype['values']})" if kind == "enum" else ""
            raise self.error(f"fact {fact!r} is {kind}{allowed}; cannot compare with {value!r}")
        if op not in ("eq", "ne") and kind not in ORDERED_TYPES:
            raise self.error(f"operator {op!r} needs an ordered fact; {fact!r} is {kind}")


def _compare_constants(left: Any, op: str, right: Any, ctx: _RuleContext) -> bool:
    if op in ("in", "not_in"):
        return (left in right) == (op == "in")
    try:
        return {
            "eq": left == right,
            "ne": left != right,
            "lt": left < right,
            "le": left <= right,
            "gt": left > right,
            "ge": left >= right,
        }[op]
    except TypeError:
        raise ctx.error(f"parameter value {left!r} cannot be compared with {right!r}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML requires unique keys in a mapping; PyYAML silently keeps the last. Refuse them."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 — a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        rule = ""
        if mark is not None:  # name the rule the bad line belongs to
            ids = re.findall(r"^\s*- id:\s*(\S+)", "\n".join(text.split("\n")[: mark.line + 1]), re.M)
            rule = f" rule {ids[-1]!r}:" if ids else ""
        raise RulebookError(f"{path.name}:{rule} not valid YAML: {exc}") from None


def _rule(raw: Any, path: Path, family: str, facts: dict, params: Rule144Parameters, definitions: dict) -> Rule:
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    ctx = _RuleContext(path, rule_id or "?", facts, params, definitions)
    if not isinstance(raw, dict) or not isinstance(rule_id, str):
        raise ctx.error("every rule needs an 'id'")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ctx.error(f"unknown keys {sorted(unknown)}")
    for key in ("title", "fails_if", "cites", "message"):
        if key not in raw:
            raise ctx.error(f"missing '{key}'")
    for key in ("title", "law", "convention"):
        if key in raw and not isinstance(raw[key], str):
            raise ctx.error(f"'{key}' must be text, got {raw[key]!r}")
    cites = raw["cites"] or {}
    if not isinstance(cites, dict) or set(cites) - {"agreement", "regulation"}:
        raise ctx.error("'cites' has 'agreement' and/or 'regulation' lists")
    for key in ("agreement", "regulation"):
        if cites.get(key) is not None and not (
            isinstance(cites[key], list) and all(isinstance(c, str) for c in cites[key])
        ):
            raise ctx.error(f"'cites.{key}' must be a list of text, got {cites[key]!r}")
    clauses = tuple(cites.get("agreement") or ())
    regulation = tuple(cites.get("regulation") or ())
    if not clauses and not regulation:
        raise ctx.error("no citation: a rule must cite an agreement clause or a regulation paragraph")
    for paragraph in regulation:
        if not REGULATION_CITATION.match(str(paragraph)):
            raise ctx.error(
                f"regulation citation {paragraph!r} is not of the form "
                "'17 CFR 230.144(d)(1)' or 'Securities Act Section 10(a)(3)'"
            )
    blocks = tuple(raw.get("blocks", BLOCKABLE))
    if set(blocks) - set(BLOCKABLE):
        raise ctx.error(f"'blocks' takes {list(BLOCKABLE)}, got {list(blocks)}")
    against = raw.get("against", "investor")
    if against not in ("investor", "company"):
        raise ctx.error(f"'against' is investor or company, got {against!r}")
    message = raw["message"]
    if (
        not isinstance(message, dict)
        or set(message) != {"fail", "pass"}
        or not all(isinstance(t, str) for t in message.values())
    ):
        raise ctx.error("'message' needs 'fail' and 'pass' templates (text)")
    for template in message.values():
        try:
            fields = [
                (name, spec, conversion)
                for _, name, spec, conversion in Formatter().parse(template)
                if name is not None
            ]
        except ValueError as exc:
            raise ctx.error(f"message template {template!r}: {exc}") from None
        for name, spec, conversion in fields:
            if not re.fullmatch(r"\w+", name) or spec or conversion:
                raise ctx.error(
                    f"message placeholders are {{fact}} only, got {{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} in {template!r}"
                )
            ctx.fact_type(name)
    applies = TRUE if raw.get("applies_when", "always") == "always" else ctx.condition(raw["applies_when"])
    fails = ctx.condition(raw["fails_if"])
    if not rule_id.startswith(family + "."):
        raise ctx.error(f"rule ids in family {family!r} start with '{family}.'")
    in_conditions = tuple(dict.fromkeys(condition_facts(applies) + condition_facts(fails)))
    used = list(in_conditions) + [n for t in message.values() for n in re.findall(r"{(\w+)}", t)]
    return Rule(
        id=rule_id,
        family=family,
        title=raw["title"],
        applies_when=simplify(applies),
        fails_if=simplify(fails),
        blocks=blocks,
        against=against,
        agreement_clauses=clauses,
        regulation=regulation,
        message_fail=message["fail"],
        message_pass=message["pass"],
        law=str(raw.get("law", "")).strip(),
        convention=str(raw.get("convention", "")).strip(),
        source=path.name,
        facts_used=tuple(dict.fromkeys(used)),
        condition_facts=in_conditions,
    )


def _facts_from_parameters(facts: Any, params: Rule144Parameters) -> dict[str, tuple[str, ...]]:
    """Per Rule 144 parameter, the facts computed from it, as facts.yaml declares them (a fact's
    ``parameters``); in facts.yaml order. Every name must be a parameter of parameters/rule_144.yaml."""
    if not isinstance(facts, dict) or not all(isinstance(spec, dict) for spec in facts.values()):
        raise RulebookError("facts.yaml: each fact is a mapping with a 'type'")
    found: dict[str, list[str]] = {}
    for name, spec in facts.items():
        declared = spec.get("parameters", [])
        if not isinstance(declared, list) or not all(isinstance(p, str) for p in declared):
            raise RulebookError(
                f"facts.yaml: fact {name!r}: 'parameters' must be a list of parameter names, got {declared!r}"
            )
        for param in declared:
            if param not in params.names:
                raise RulebookError(
                    f"facts.yaml: fact {name!r}: unknown parameter {param!r} (not in parameters/rule_144.yaml)"
                )
            found.setdefault(param, []).append(name)
    return {param: tuple(names) for param, names in found.items()}


def load_rulebook(rules_dir: Path | str = RULES_DIR) -> Rulebook:
    """Load every ``*.yaml`` rule file of ``rules_dir`` (``facts.yaml`` is the vocabulary).

    Raises RulebookError naming the file and the rule for an unknown fact, a bad operator, a
    type mismatch, a missing citation, an unknown parameter or a duplicate id.
    """
    rules_dir = Path(rules_dir)
    facts = _load_yaml(rules_dir / FACTS_FILE)
    params = load_rule_144_parameters(rules_dir / RULE_144_PARAMETERS)
    params = dataclasses.replace(params, facts_from=_facts_from_parameters(facts, params))
    rules: list[Rule] = []
    for path in rule_files(rules_dir):
        doc = _load_yaml(path)
        if (
            not isinstance(doc, dict)
            or "family" not in doc
            or not isinstance(doc.get("rules"), list)
            or set(doc) - {"family", "definitions", "rules"}
        ):
            raise RulebookError(
                f"{path.name}: a rule file has 'family', optional 'definitions' and a list of 'rules', and nothing else"
            )
        for raw in doc["rules"]:
            rule = _rule(raw, path, doc["family"], facts, params, doc.get("definitions") or {})
            if any(r.id == rule.id for r in rules):
                raise RulebookError(f"{path.name}: rule {rule.id!r}: duplicate id")
            rules.append(rule)
    return Rulebook(
        rules=tuple(rules),
        facts=facts,
        parameters=params,
        files=rulebook_files(rules_dir),
    )
