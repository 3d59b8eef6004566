"""The command line's help: every command and subcommand described, every argument explained, an
example for each; the exit statuses at the top; ``--version``; and that none of it imports pandas
or the engine."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from compliance._version import __version__
from compliance.cli import main
from compliance.cli.examples import cli_examples
from compliance.cli.parser import build_parser


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    """Every (words, parser) below ``parser``, found through its subparsers."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*words, name), sub
                yield from commands(sub, (*words, name))


COMMANDS = dict(commands(build_parser()))


def test_the_walk_finds_the_nested_commands():
    assert ("log", "verify") in COMMANDS and ("review",) in COMMANDS


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_has_a_description_argument_help_and_an_example(words):
    parser = COMMANDS[words]
    assert parser.description and parser.description.endswith("."), "a paragraph, not only a help line"
    unexplained = [
        action.option_strings or action.dest
        for action in parser._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert not unexplained
    example = re.search(r"^example:\n((?:  .*\n?)+)", parser.epilog or "", re.M)
    assert example, "an epilog starting 'example:'"
    assert f"  compliance {' '.join(words)} " in example.group(1)


def test_every_example_names_a_command_that_exists():
    assert set(cli_examples()) - {"compliance"} == {" ".join(words) for words in COMMANDS}


def test_the_top_level_help_starts_somewhere_and_lists_the_exit_statuses(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(action.help for action in build_parser()._actions)
    assert "start here:\n  compliance review " in out
    statuses = re.findall(r"^  (\d+) ", out.split("exit status:")[1], re.M)
    assert statuses == ["0", "1", "2", "3", "130", "141", "143"]


def test_version_prints_the_package_version_and_the_rulebook_fingerprint(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"compliance {__version__}\n")
    assert re.search(r"^rulebook .+ sha256:[0-9a-f]{64}$", out, re.M)


def test_a_command_family_named_alone_prints_its_help_and_exits_2(capsys):
    assert main(["log"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: compliance log ")
    assert all(re.search(rf"^    {name} ", err, re.M) for name in ("verify", "head", "show"))
    assert "required" not in err


HEAVY = ("pandas", "numpy", "durable", "jsonschema")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["review", "--help"], ["log"]])
def test_help_and_version_import_nothing_heavy(argv):
    script = (
        "import sys\n"
        "from compliance.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "[]"
