"""The durable_rules adapter: the rulebook compiled to one ruleset, evaluated one event at a time.

durable_rules 2.0.28 is unmaintained and has sharp edges, measured on this project's machines; this
module is the only one that imports it, and it handles them:

- not thread-safe: every evaluation holds one process-wide lock;
- at most 1,024 live sessions per ruleset: each evaluation uses a fresh session id and deletes
  its state before returning;
- ``delete_state`` on a session where no action fired can crash: a lowest-priority catch-all rule
  fires on every fact;
- an ``$or`` whose branches both match fires twice: outcomes are recorded as a set;
- its Python ``Host`` wraps every action in closures and JSON round trips of the session state
  (some 20 µs an action) and runs actions on a background dispatcher thread as well as the
  caller's: this module drives durable_rules' engine module (``durable_rules_engine``, the C
  engine the ``Host`` itself drives) without a ``Host``. An evaluation asserts its fact, then takes
  the matched rules' actions one by one from the engine (``start_action_for_state``,
  ``complete_and_start_action``) until none is left, in the calling thread: when it returns,
  every action it is owed has run, however busy the machine. A rule whose facts are all present
  matches exactly one of its compiled rules and the catch-all matches every fact; an evaluation
  missing one of those actions raises ``EngineIncomplete`` rather than read it as a rule that did
  not match;
- loose typing: only typed, normalised facts reach it (dates as ordinal day numbers);
- a comparison of two fields inside an ``$and`` matches when the field it refers to (``$m``) is
  absent (seen in this project: ``route == rule_144 and sale_date >= holding_period_satisfied_on``
  matched without the second field): every field-to-field comparison carries presence guards.

Each rule R compiles to three durable rules: ``applies and fails`` (fail), ``not fails`` (pass),
``not applies`` (not applicable, which wins over pass). So a rule that does not fail passes even
when whether it applies is unknown (a Form 144 filed on time satisfies 144(h) whether or not it
was required). A rule whose facts are missing matches none of them and is *undetermined*.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from datetime import date
from pathlib import Path
from typing import Any

import durable_rules_engine

from compliance.rulebook.loader import RULES_DIR, Rulebook, load_rulebook, negate, simplify

_DURABLE_LOCK = threading.Lock()
_OPS = {"eq": None, "ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
_ALWAYS = {"evaluate": 1}  # a field every fact carries, for rules with no condition
_CATCH_ALL = "catch_all"
_PRESENT = -2147483648  # below every day number, count and amount: "the field is there"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]+\|[a-z_]+")
_ruleset_names = itertools.count(1)


def _to_durable(cond: tuple) -> dict | None:
    """A normalised condition as a durable_rules JSON expression (None: never matches)."""
    kind = cond[0]
    if kind == "true":
        return dict(_ALWAYS)
    if kind == "false":
        return None
    if kind in ("all", "any"):
        parts = [_to_durable(c) for c in cond[1]]
        if kind == "all":
            return None if any(p is None for p in parts) else {"$and": parts}
        parts = [p for p in parts if p is not None]
        return {"$or": parts} if parts else None
    _, fact, op, (operand_kind, operand) = cond
    value = {"$m": operand} if operand_kind == "fact" else _normalise(operand)
    comparison = {fact: value} if _OPS[op] is None else {_OPS[op]: {fact: value}}
    if operand_kind != "fact":
        return comparison
    # Field-to-field comparisons are between dates or numbers (the loader checks): guard both.
    return {"$and": [comparison, {"$gte": {fact: _PRESENT}}, {"$gte": {operand: _PRESENT}}]}


_LARGEST_AMOUNT = 1e15  # beyond every threshold; larger floats would reach JSON in exponent form


def _normalise(value: Any) -> Any:
    """A fact value as durable_rules takes it: dates as ordinal day numbers; floats written
    without an exponent, which its JSON parser rejects (1e+16, 1e-05): magnitudes are clamped to
    1e15 (beyond every threshold) and below 1e-4 (a hundredth of a cent) read as zero."""
    if isinstance(value, date):
        return value.toordinal()
    if isinstance(value, float):
        value = max(-_LARGEST_AMOUNT, min(value, _LARGEST_AMOUNT))
        return 0.0 if abs(value) < 1e-4 else value
    return value


class EngineIncomplete(RuntimeError):
    """durable_rules ran no action for a rule whose facts were all present, or for its catch-all."""


class DurableRulesEngine:
    """One compiled ruleset in durable_rules' engine."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        self._name = f"resale_compliance_{next(_ruleset_names)}"
        self._sids = itertools.count(1)
        # Only the facts some condition reads go to the engine.
        self._condition_facts = sorted({f for r in rulebook.rules for f in r.condition_facts})
        self._facts_read = [(r.id, frozenset(r.condition_facts)) for r in rulebook.rules]
        self._actions: dict[str, tuple[str, str]] = {}  # durable rule name -> (rule id, status)
        definition: dict[str, dict] = {}
        for rule in rulebook.rules:
            variants = {
                "fail": simplify(("all", [rule.applies_when, rule.fails_if])),
                "pass": simplify(negate(rule.fails_if)),
                "not_applicable": simplify(negate(rule.applies_when)),
            }
            for status, cond in variants.items():
                expression = _to_durable(cond)
                if expression is not None:
                    name = _durable_name(rule.id, status)
                    definition[name] = {"all": [{"m": expression}]}
                    self._actions[name] = (rule.id, status)
        definition[_CATCH_ALL] = {"pri": 1000, "all": [{"m": dict(_ALWAYS)}]}
        self._actions[_CATCH_ALL] = (_CATCH_ALL, "done")
        with _DURABLE_LOCK:
            self._handle = durable_rules_engine.create_ruleset(self._name, json.dumps(definition))

    def evaluate(self, facts: dict[str, Any]) -> dict[str, str]:
        """Rule id -> ``fail`` | ``pass`` | ``not_applicable`` | ``undetermined``.

        ``facts`` maps fact names to Python values (date, bool, int, float, str); None means absent.
        """
        message = {k: _normalise(facts[k]) for k in self._condition_facts if facts.get(k) is not None}
        message.update(_ALWAYS)
        present = message.keys()
        expected = {rule_id for rule_id, reads in self._facts_read if present >= reads}
        with _DURABLE_LOCK:
            sid = str(next(self._sids))
            message["sid"] = sid
            seen = self._run_actions(json.dumps(message, ensure_ascii=False), sid)
        ran = {rule_id for rule_id, _ in seen}
        if _CATCH_ALL not in ran or not expected <= ran:
            missing = sorted(expected - ran)
            raise EngineIncomplete(f"durable_rules ran no action for {', '.join(missing) or 'its catch-all'}")
        matched: dict[str, set[str]] = {}
        for rule_id, status in seen:
            matched.setdefault(rule_id, set()).add(status)
        return {r.id: _resolve(matched.get(r.id, set())) for r in self.rulebook.rules}

    def _run_actions(self, message: str, sid: str) -> set[tuple[str, str]]:
        """Assert ``message`` (JSON) as the fact of the new session ``sid``, take every action it
        matches, as (rule id, status) pairs, and delete the session. An action is a JSON object
        whose one key is the durable rule's name (the names are plain ASCII: no escapes)."""
        refused, state = durable_rules_engine.assert_fact(self._handle, message)
        if refused:  # 1: no rule matched (the catch-all matches every fact), 2: a session id reused
            raise EngineIncomplete(f"durable_rules refused the fact (code {refused})")
        seen: set[tuple[str, str]] = set()
        try:
            action = durable_rules_engine.start_action_for_state(self._handle, state)
            pending = action[1] if action else None
            while pending:
                seen.add(self._actions[pending[2 : pending.index('"', 2)]])
                pending = durable_rules_engine.complete_and_start_action(self._handle, state)
        finally:  # the catch-all matched the fact: deleting the session is safe
            durable_rules_engine.delete_state(self._handle, sid)
        return seen


def _durable_name(rule_id: str, status: str) -> str:
    name = f"{rule_id}|{status}"
    if not _PLAIN_NAME.fullmatch(name):
        raise ValueError(f"rule id {rule_id!r}: durable_rules rule names are letters, digits and ._-")
    return name


def _resolve(matched: set[str]) -> str:
    for status in ("not_applicable", "fail", "pass"):
        if status in matched:
            return status
    return "undetermined"


_engines: dict[Path, DurableRulesEngine] = {}
_engines_as_named: dict[Path | str, DurableRulesEngine] = {}  # by absolute ``rules_dir`` as given
_engines_lock = threading.Lock()


def engine_for(rules_dir: Path | str = RULES_DIR) -> DurableRulesEngine:
    """The compiled rulebook of ``rules_dir``, built once per process and shared. A folder named
    by an absolute path is resolved the first time it is named so; a relative one every time (it
    depends on the working directory)."""
    engine = _engines_as_named.get(rules_dir)
    if engine is not None:
        return engine
    key = Path(rules_dir).resolve()
    with _engines_lock:
        if key not in _engines:
            _engines[key] = DurableRulesEngine(load_rulebook(key))
        if os.path.isabs(rules_dir):
            _engines_as_named[rules_dir] = _engines[key]
        return _engines[key]
