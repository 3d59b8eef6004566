"""Validation of an agreement file: the schema (``agreement.schema.json``, data) and the checks a
schema cannot make. Every problem reads ``<file>: field '<field>': <what was expected>``.

The file is read with YAML dates kept as text, so a date is checked like any other value (``format:
date``) instead of crashing the YAML parser ("2002-02-30") or passing as a datetime. A repeated
mapping key is refused (YAML would keep the last one silently).

The reference for authors is ``docs/agreement-format.md``; a test keeps it in step with the schema.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_PATH = Path(__file__).resolve().with_name("agreement.schema.json")
AGREEMENT_FILE = "agreement.yaml"


class AgreementError(ValueError):
    """An agreement file that cannot be used. ``problems`` lists every problem found, each naming
    the file, the field and what was expected; the message is the problems, one a line."""

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# --- reading ---------------------------------------------------------------------------------
class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that keeps YAML timestamps as text and refuses repeated mapping keys."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_document(path: Path) -> Any:
    """The parsed agreement file; AgreementError when it is missing or not valid YAML."""
    if not path.is_file():
        raise AgreementError(f"{path}: no agreement file (expected {AGREEMENT_FILE} in {path.parent})")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDatesLoader)  # noqa: S506 (safe loader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AgreementError(f"{path}: not valid YAML: {exc}") from None


# --- the schema ------------------------------------------------------------------------------
@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


SCHEMA_FORMATS = ("date",)
"""The ``format`` values the schema uses: the only ones the validator checks."""

# What jsonschema imports, when installed, to check formats the schema does not use (hostnames,
# URIs and IRIs, colours, JSON pointers, URI templates, durations, date-times). ``rfc3987_syntax``
# alone builds a grammar for seconds; "date" needs none of them.
_OTHER_FORMAT_PACKAGES = (
    "fqdn",
    "idna",
    "rfc3987",
    "rfc3986_validator",
    "rfc3987_syntax",
    "rfc3339_validator",
    "webcolors",
    "jsonpointer",
    "uri_template",
    "isoduration",
)


def _jsonschema():
    """jsonschema, imported on the first validation; if this is its first import anywhere, without
    the packages of ``_OTHER_FORMAT_PACKAGES`` (jsonschema imports each if it can, so a package
    it cannot import only leaves a format unchecked that the schema does not use). Those packages
    stay importable by anything else."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    blocked = [name for name in _OTHER_FORMAT_PACKAGES if name not in sys.modules]
    sys.modules.update(dict.fromkeys(blocked))  # None in sys.modules: that import raises ImportError
    try:
        import jsonschema
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return jsonschema


@cache
def _validator() -> Draft202012Validator:
    jsonschema = _jsonschema()
    jsonschema.Draft202012Validator.check_schema(schema())
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker(SCHEMA_FORMATS))


def _resolve(node: dict) -> dict:
    """A schema node with its local ``$ref`` (``#/$defs/...``) merged in."""
    if "$ref" not in node:
        return node
    target = schema()
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    merged = {**_resolve(target), **node}
    del merged["$ref"]
    return merged


def expected(node: dict) -> str:
    """What a schema node accepts, in words."""
    node = _resolve(node)
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    types = node.get("type", [])
    words = []
    for kind in [types] if isinstance(types, str) else types:
        if kind == "string":
            words.append("a YYYY-MM-DD date" if node.get("format") == "date" else "non-empty text")
        elif kind == "integer":
            words.append(f"a whole number >= {node.get('minimum', 0)}")
        elif kind == "number":
            words.append(f"a number > {node['exclusiveMinimum']}" if "exclusiveMinimum" in node else "a number")
        elif kind == "boolean":
            words.append("true or false")
        elif kind == "object":
            words.append("a mapping")
        elif kind == "array":
            words.append(f"a list of at least {node['minItems']} item(s)" if node.get("minItems") else "a list")
        elif kind == "null":
            words.append("null")
    return " or ".join(words) or "a valid value"


def field_name(parts: Iterable[Any]) -> str:
    """``investors[1].shares`` from a path of keys and list indices."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _problems_of(error: ValidationError, path: Path) -> list[str]:
    where = list(error.absolute_path)
    say = lambda parts, what: f"{path}: field '{field_name(parts)}': {what}"  # noqa: E731
    node = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        properties = node.get("properties", {})
        return [
            say(where + [name], f"missing (expected {expected(properties.get(name, {}))})")
            for name in error.validator_value
            if name not in error.instance
        ]
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = sorted(node.get("properties", {}))
        return [
            say(where + [name], f"unknown field (expected one of: {', '.join(known)})")
            for name in error.instance
            if name not in node.get("properties", {})
        ]
    if "propertyNames" in error.relative_schema_path:
        return [
            say(where + [error.instance], "a clause key is lower-case letters, digits and '_', starting with a letter")
        ]
    if error.validator == "minItems":
        return [say(where, f"expected at least {error.validator_value} item(s), got {len(error.instance)}")]
    if error.validator == "uniqueItems":
        return [say(where, f"expected no repeated items, got {error.instance!r}")]
    return [say(where, f"expected {expected(node)}, got {error.instance!r}")]


def schema_problems(doc: Any, path: Path) -> list[str]:
    """Every schema violation of ``doc``, in field order."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [problem for error in errors for problem in _problems_of(error, path)]


# --- checks beyond the schema ----------------------------------------------------------------
def semantic_problems(doc: dict, path: Path) -> list[str]:
    """Checks a schema cannot make; ``doc`` must already satisfy the schema."""
    problems: list[str] = []
    say = lambda field, what: problems.append(f"{path}: field '{field}': {what}")  # noqa: E731
    day = date.fromisoformat

    zone = doc["company_timezone"]
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        say("company_timezone", f"expected an IANA time zone such as America/New_York, got unknown {zone!r}")

    text = doc["agreement"].get("text")
    if text is not None and not (path.parent / text).is_file():
        say("agreement.text", f"expected a file in {path.parent}, got {text!r} (not found)")
    elif text is not None and not (path.parent / text).resolve().is_relative_to(path.parent.resolve()):
        say(
            "agreement.text",
            f"expected a file in {path.parent}, got {text!r} (outside it: the "
            f"directory's files are what a decision record fingerprints)",
        )
    if day(doc["closing_date"]) < day(doc["agreement"]["dated"]):
        say(
            "closing_date",
            f"expected on or after agreement.dated {doc['agreement']['dated']}, got {doc['closing_date']}",
        )

    names = [investor["name"] for investor in doc["investors"]]
    for i, name in enumerate(names):
        if name in names[:i]:
            say(f"investors[{i}].name", f"expected a name not already listed, got {name!r} again")

    warrants = doc.get("warrants") or {}
    held = sum(investor.get("warrant_shares", 0) for investor in doc["investors"])
    if held:
        for name in ("issued_on", "expires_on"):
            if name not in warrants:
                say(f"warrants.{name}", f"missing (expected a YYYY-MM-DD date: investors hold {held} warrant_shares)")
    if "total_shares" in warrants and warrants["total_shares"] != held:
        say(
            "warrants.total_shares",
            f"expected the sum of the investors' warrant_shares ({held}), got {warrants['total_shares']}",
        )
    if "issued_on" in warrants and "expires_on" in warrants and warrants["expires_on"] < warrants["issued_on"]:
        say(
            "warrants.expires_on",
            f"expected on or after issued_on {warrants['issued_on']}, got {warrants['expires_on']}",
        )

    issuer = doc["issuer"]
    for i, report in enumerate(issuer.get("late_periodic_reports") or []):
        if report["due_on"] < report["period_end"]:
            say(
                f"issuer.late_periodic_reports[{i}].due_on",
                f"expected on or after period_end {report['period_end']}, got {report['due_on']}",
            )
        if report.get("filed_on") is not None and report["filed_on"] <= report["due_on"]:
            say(
                f"issuer.late_periodic_reports[{i}].filed_on",
                f"expected after due_on {report['due_on']} (a report filed on time is not late), "
                f"got {report['filed_on']}",
            )
    _unique(issuer["shares_outstanding"], "reported_on", "issuer.shares_outstanding", say)
    _unique(issuer.get("weekly_volume") or [], "weeks_from", "issuer.weekly_volume", say)
    for i, week in enumerate(issuer.get("weekly_volume") or []):
        if day(week["weeks_from"]).weekday() != 0:
            say(
                f"issuer.weekly_volume[{i}].weeks_from",
                f"expected a Monday, got {week['weeks_from']} ({day(week['weeks_from']):%A})",
            )

    rs = doc.get("registration_statement")
    if rs:
        if rs.get("filed_on") and rs["effective_on"] < rs["filed_on"]:
            say(
                "registration_statement.effective_on",
                f"expected on or after filed_on {rs['filed_on']}, got {rs['effective_on']}",
            )
        if rs["information_as_of"] > rs["effective_on"]:
            say(
                "registration_statement.information_as_of",
                f"expected on or before effective_on {rs['effective_on']}, got {rs['information_as_of']}",
            )
        if rs["registration_period_ends_on"] < rs["effective_on"]:
            say(
                "registration_statement.registration_period_ends_on",
                f"expected on or after effective_on {rs['effective_on']}, got {rs['registration_period_ends_on']}",
            )
        for i, amendment in enumerate(rs.get("post_effective_amendments") or []):
            where = f"registration_statement.post_effective_amendments[{i}]"
            if amendment["effective_on"] < rs["effective_on"]:
                say(
                    f"{where}.effective_on",
                    f"expected on or after the statement's effective_on {rs['effective_on']}, "
                    f"got {amendment['effective_on']}",
                )
            if amendment["information_as_of"] > amendment["effective_on"]:
                say(
                    f"{where}.information_as_of",
                    f"expected on or before the amendment's effective_on {amendment['effective_on']}, "
                    f"got {amendment['information_as_of']}",
                )
        _windows(rs.get("suspensions") or [], "registration_statement.suspensions", "start", "end", say)
        _windows(rs.get("stop_orders") or [], "registration_statement.stop_orders", "start", "end", say)
    _windows(
        (doc.get("transfer_agent") or {}).get("fast_participation") or [],
        "transfer_agent.fast_participation",
        "from",
        "to",
        say,
    )
    return problems


def _unique(items: list, key: str, field: str, say) -> None:
    values = [item[key] for item in items]
    for i, value in enumerate(values):
        if value in values[:i]:
            say(f"{field}[{i}].{key}", f"expected a date not already listed, got {value} again")


def _windows(items: list, field: str, start: str, end: str, say) -> None:
    for i, item in enumerate(items):
        # ISO dates compare correctly as text
        if item.get(end) is not None and item[end] < item[start]:
            say(
                f"{field}[{i}].{end}",
                f"expected on or after {start} {item[start]} (a window cannot end before it starts), got {item[end]}",
            )


def document_problems(doc: Any, path: Path) -> list[str]:
    """Schema problems; when there are none, the checks beyond the schema."""
    return schema_problems(doc, path) or semantic_problems(doc, path)


def clause_problems(mapped: Iterable[str], cited: Iterable[str], path: Path) -> list[str]:
    """A problem for every clause key the rulebook cites that the agreement does not map."""
    missing = sorted(set(cited) - set(mapped))
    return [
        f"{path}: field 'clauses.{key}': missing (expected the section and text of the clause "
        f"the rulebook cites as {key!r})"
        for key in missing
    ]


def entry_problems(directory: Path | str, most: int = 20) -> list[str]:
    """A problem for every entry of the agreement directory, at any depth, that is neither a
    regular file nor a folder: a symbolic link (to a file or a folder), a pipe, a socket, a device;
    after ``most`` of them, one line with how many more. An agreement directory is evidence: a
    decision record fingerprints the bytes of its files, which must be the bytes that were read.
    A missing directory has no entries (its missing file is reported by ``read_document``)."""
    problems: list[str] = []

    def walk(folder: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                walk(entry.path)
            elif stat.S_ISLNK(mode):
                problems.append(
                    f"{entry.path}: a symbolic link (to {os.readlink(entry.path)}); an agreement "
                    f"directory must hold the files themselves"
                )
            elif not stat.S_ISREG(mode):
                problems.append(
                    f"{entry.path}: not a regular file; an agreement directory must hold only files and folders"
                )

    walk(str(directory))
    if len(problems) > most:
        problems[most:] = [f"{directory}: {len(problems) - most} more entries that are not regular files"]
    return problems


def validate_directory(directory: Path | str, cited: Iterable[str] = ()) -> list[str]:
    """Every problem of the agreement directory: an entry that is not a regular file or folder
    (``entry_problems``), its file against the schema and the checks beyond it, and every clause
    key of ``cited`` (the rulebook's) that the file does not map. Empty = OK."""
    path = Path(directory) / AGREEMENT_FILE
    try:
        doc = read_document(path)
    except AgreementError as exc:
        return exc.problems
    problems = entry_problems(directory) + document_problems(doc, path)
    if isinstance(doc, dict) and isinstance(doc.get("clauses"), dict):
        problems += clause_problems(doc["clauses"], cited, path)
    return problems
