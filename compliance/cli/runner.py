"""Running a parsed command: its module imported only now, every way it can end turned into an exit
status and at most one line on stderr.

Exit status: 0 all allowed (or nothing to judge); 1 something denied or in error; 2 an unusable
invocation or file; 3 an internal error (one line; the traceback with ``--debug``); 130 stopped by
SIGINT (Ctrl-C), 143 by SIGTERM; 141 when the reader of the output closed the pipe early.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from compliance.cli.errors import CommandError


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, so the command stops as it does on Ctrl-C."""


def command_function(target: str):
    """The function ``"module:name"`` names, its module imported now."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def usage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the input or the invocation is unusable (exit 2)."""
    from compliance.contract.event import InputError
    from compliance.contract.notice_files import NoticeFileError
    from compliance.deal.agreement import AgreementError
    from compliance.decision_log import LogError
    from compliance.rulebook.loader import RulebookError
    from compliance.running.review import ReviewError

    return (CommandError, NoticeFileError, ReviewError, InputError, AgreementError, RulebookError, LogError, OSError)


def run_command(args: argparse.Namespace) -> int:
    """The command ``args.run`` names, run on ``args``, as an exit status (see the module's
    docstring); SIGTERM is taken as Ctrl-C is while it runs. A ``--record`` log path that cannot
    be written is refused before the command starts."""
    from compliance.views.output_safety import printable, printable_lines

    name = f"compliance {args.command}"
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    errors = usage_errors()
    try:
        record = getattr(args, "record", None)  # the decision log of check and review
        if record:
            from compliance.cli.outputs import log_problem

            if problem := log_problem(Path(record)):
                raise CommandError(problem)
        status = command_function(args.run)(args)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        print(f"{name}: interrupted (SIGINT); stopped without finishing", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{name}: terminated (SIGTERM); stopped without finishing", file=sys.stderr)
        return 143
    except BrokenPipeError:
        discard_stdout()
        return 141
    except Exception as exc:
        if isinstance(exc, errors):
            print(f"{name}: {printable_lines(exc)}", file=sys.stderr)
            return 2
        if args.debug:
            traceback.print_exc()
        print(f"{name}: internal error: {type(exc).__name__}: {printable(exc)}", file=sys.stderr)
        return 3
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame) -> None:
    raise Terminated()


def discard_stdout() -> None:
    """The reader of stdout has gone (``compliance rules | head``): send what is still buffered
    nowhere, so that the exit is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
