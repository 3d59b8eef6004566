"""The ``compliance`` command.

Starting it imports only the argument parser (``parser``); each subcommand's module, and with it
pandas and the engine, is imported when that subcommand runs (``runner``). One module per command
family: ``check``, ``review``, ``sweep``, ``holdings`` (capacity and plan), ``rulebook`` (rules,
validate, coverage), ``log`` (log and replay), ``synth`` (synthetic notices); ``events``,
``outputs`` and ``terminal`` are what they share.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from compliance.cli.parser import build_parser
    from compliance.cli.runner import discard_stdout, run_command

    try:
        args = build_parser().parse_args(argv)
    except BrokenPipeError:  # --help or --version read by a pipe closed early
        discard_stdout()
        return 141
    if args.run is None:  # a command family named without one of its commands: ``compliance log``
        args.family.print_help(sys.stderr)
        return 2
    return run_command(args)


__all__ = ["main"]
