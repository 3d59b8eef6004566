"""Rule 144 parameters keyed by effective-from date (``rules/parameters/rule_144.yaml``).

OpenFisca-style: a parameter's value dated D is in force for sales on or after D until the next
dated value. The *version* of Rule 144 in force on a date (the decision's ``regime``) is the latest
version date on or before it; every value date must be a version date.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml


class ParameterError(ValueError):
    """A parameter file that cannot be used, or a date no version of Rule 144 covers."""


@dataclass(frozen=True)
class Rule144Parameters:
    versions: tuple[date, ...]  # ascending version dates
    version_names: dict[date, str]
    version_references: dict[date, str]
    _values: dict[str, tuple[tuple[date, Any, str], ...]]  # name -> ((from, value, reference), ...)
    descriptions: dict[str, dict]
    # per parameter, the facts computed from it (``parameters`` in facts.yaml; set by the rulebook)
    facts_from: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._values)

    def uncovered(self, day: date) -> str | None:
        """Why no encoded version of Rule 144 is in force on ``day``, or None when one is."""
        if day < self.versions[0]:
            return (
                f"{day.isoformat()} is before the earliest encoded version of Rule 144 ({self.versions[0].isoformat()})"
            )
        return None

    def version_on(self, day: date) -> date:
        """The version of Rule 144 in force on ``day``; ParameterError before the first one."""
        problem = self.uncovered(day)
        if problem:
            raise ParameterError(problem)
        return self.versions[bisect.bisect_right(self.versions, day) - 1]

    def value(self, name: str, day: date) -> Any:
        """The value of parameter ``name`` in force on ``day``."""
        entries = self._values[name]
        i = bisect.bisect_right([e[0] for e in entries], day)
        if i == 0:
            raise ParameterError(f"parameter {name!r} has no value in force on {day.isoformat()}")
        return entries[i - 1][1]

    def reference(self, name: str, day: date) -> str:
        entries = self._values[name]
        i = bisect.bisect_right([e[0] for e in entries], day)
        return entries[i - 1][2]


def load_rule_144_parameters(path: Path) -> Rule144Parameters:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    where = Path(path).name
    try:
        versions_raw = doc["versions"]
        params_raw = doc["parameters"]
    except (TypeError, KeyError):
        raise ParameterError(f"{where}: needs 'versions' and 'parameters'") from None
    versions = tuple(sorted(_as_date(k, where, "versions") for k in versions_raw))
    names = {_as_date(k, where, "versions"): v["name"] for k, v in versions_raw.items()}
    refs = {_as_date(k, where, "versions"): v["reference"] for k, v in versions_raw.items()}
    values: dict[str, tuple] = {}
    for name, spec in params_raw.items():
        if not isinstance(spec, dict) or not spec.get("values") or not spec.get("reference"):
            raise ParameterError(f"{where}: parameter {name!r} needs 'values' and a 'reference'")
        entries = []
        for key, entry in spec["values"].items():
            day = _as_date(key, where, name)
            if day not in versions:
                raise ParameterError(
                    f"{where}: parameter {name!r}: {day} is not a version date {list(map(str, versions))}"
                )
            if not isinstance(entry, dict) or "value" not in entry or not entry.get("reference"):
                raise ParameterError(f"{where}: parameter {name!r} at {day}: needs 'value' and 'reference'")
            entries.append((day, entry["value"], entry["reference"]))
        values[name] = tuple(sorted(entries, key=lambda e: e[0]))
    descriptions = {n: {k: v for k, v in s.items() if k != "values"} for n, s in params_raw.items()}
    return Rule144Parameters(versions, names, refs, values, descriptions)


def _as_date(key: Any, where: str, field: str) -> date:
    if isinstance(key, date):
        return key
    try:
        return date.fromisoformat(str(key))
    except ValueError:
        raise ParameterError(f"{where}: {field}: {key!r} is not a YYYY-MM-DD date") from None
