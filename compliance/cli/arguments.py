"""The kinds of value the command line takes, each checked as it is parsed (exit 2 on a bad one)."""

from __future__ import annotations

import argparse
import re
from datetime import date


def iso_date(text: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a date: {exc}") from None
    raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {_shown(text)}")


def positive(text: str) -> int:
    """A whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {_shown(text)}")
    return int(text)


SHOWN_DECISIONS = 50
"""The decisions ``review`` prints without ``-o`` unless ``--show`` says otherwise."""


def shown_count(text: str) -> int | None:
    """How many decisions to print: a whole number of at least 1, or ``all`` (None: no limit)."""
    if text == "all":
        return None
    try:
        return positive(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 or all, not {_shown(text)}") from None


def delimiter(text: str) -> str:
    """A field separator: one character, or ``tab`` (also written ``\\t``)."""
    return "\t" if text in ("tab", "\\t") else text


def _shown(text: str) -> str:
    from compliance.views.output_safety import printable

    return repr(printable(text[:200]))
