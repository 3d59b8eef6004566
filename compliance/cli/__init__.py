"""The ``compliance`` command.

Starting it imports only the argument parser (``parser``); each subcommand's module, and with it
pandas and the engine, is imported when that subcommand runs (``runner``). One module per command
family: ``check``, ``review``, ``sweep``, ``holdings`` (capacity and plan), ``rulebook`` (rules,
validate, coverage), ``log`` (log and replay), ``synth`` (synthetic notices); ``events``,
``outputs`` and ``terminal`` are what they share.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from compliance.cli.parser import build_parser
    from compliance.cli.runner import run_command

    return run_command(build_parser().parse_args(argv))


__all__ = ["main"]
