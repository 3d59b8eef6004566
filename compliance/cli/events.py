"""The events the commands judge: JSON given to ``check``; the event ``sweep``, ``capacity`` and
``plan`` assume from their options, defaults and ``--set FIELD=VALUE``; the ``--history`` file."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from compliance.cli.defaults import HOLDING_DEFAULTS
from compliance.contract.event import FIRST_DATE, InputError, parse_event, shown
from compliance.contract.history import parse_history


class _RepeatedKey(ValueError):
    pass


def _once_each(pairs: list) -> dict:
    """A JSON object as a dict, refusing a key given twice (``json`` would keep the last)."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


def event_from_json(text: str) -> dict:
    """The event of ``compliance check``: one JSON object, each key once. Raises ValueError with
    a one-line message otherwise."""
    try:
        event = json.loads(text, object_pairs_hook=_once_each)
    except _RepeatedKey as exc:
        raise ValueError(f"the event gives the key {shown(exc.args[0])} more than once") from None
    except RecursionError:
        raise ValueError("the event is nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, or an integer too long to read
        raise ValueError(f"the event is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        kinds = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
        kind = kinds.get(type(event), "a number")
        raise ValueError(f"the event must be a JSON object of field names and values, not {kind}")
    return event


def event_text(argument: str) -> str:
    """The JSON text ``argument`` gives: stdin for -, itself when it looks like JSON or names no
    file, else the file's text."""
    if argument == "-":
        return sys.stdin.read()
    if argument.lstrip()[:1] in ("{", "["):
        return argument
    try:
        return Path(argument).read_text(encoding="utf-8")
    except FileNotFoundError:
        try:
            json.loads(argument)
        except (ValueError, RecursionError):
            raise ValueError(f"{shown(argument)}: no such file, nor JSON text") from None
        return argument
    except UnicodeDecodeError as exc:
        raise ValueError(f"{argument}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def with_settings(event: dict, settings: list[str] | None) -> dict:
    """``event`` with each ``FIELD=VALUE`` of ``--set`` applied (the last of a field wins). A value
    the input contract refuses (a date that is not YYYY-MM-DD, ...), or a field it does not know,
    raises InputError (exit 2) naming the field before anything is judged: a sweep would otherwise
    judge every day of its range in error."""
    given: dict[str, str] = {}
    for item in settings or []:
        key, _, value = item.partition("=")
        given[key.strip()] = value.strip()
    event.update(given)
    try:
        # The caller sets sale_date to each day it judges; any valid day serves to check the rest.
        parse_event({"sale_date": FIRST_DATE.isoformat(), **event}, ZoneInfo("UTC"))
    except InputError as exc:
        if problems := [problem for problem in exc.problems if problem[0] in given]:
            raise InputError(problems) from None
    return event


def holding_event(args: argparse.Namespace, day: date) -> dict:
    """The event of ``capacity`` and ``plan``: the sweep's defaults, the options, ``--set``."""
    event = {**HOLDING_DEFAULTS, "investor": args.investor, "security": args.security, "route": args.route}
    event = with_settings(event, args.set)
    event["sale_date"] = day.isoformat()
    return event


def history(args: argparse.Namespace, agreement):
    """The parsed ``--history`` file (none: no sales); a bad row raises ``InputError`` (exit 2)."""
    return parse_history(Path(args.history) if args.history else None, agreement)
