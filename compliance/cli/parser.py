"""The ``compliance`` command line: every command, its options and their help. Building it
imports nothing heavy; each command names the function that runs it as ``"module:function"``,
imported only when it runs."""

from __future__ import annotations

import argparse

from compliance.bundled import bundled_agreements
from compliance.cli import arguments
from compliance.cli.defaults import HOLDING_DEFAULTS, SWEEP_DEFAULTS
from compliance.cli.examples import cli_examples

ROUTES = ["registration_statement", "rule_144", "other_exemption"]
HISTORY_HELP = (
    "the seller's completed sales, a .csv or .parquet file with the columns investor, security, quantity, "
    "sale_date (YYYY-MM-DD) and route"
)
INVESTOR_HELP = "the investor's name exactly as the agreement's investor schedule gives it"
ROUTE_HELP = "the route of the sale: " + ", ".join(ROUTES)
DATE_HELP = "YYYY-MM-DD"
EXIT_STATUSES = """\
exit status:
  0    every sale judged is allowed (or there was nothing to judge)
  1    a sale is denied or in error (for log verify and replay: a problem found)
  2    the invocation or a file cannot be used (bad option, date, agreement, notice file)
  3    an internal error (one line; add --debug for the traceback)
  130  stopped by Ctrl-C (SIGINT)
  141  the reader of the output closed the pipe early (e.g. | head)
  143  stopped by SIGTERM"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Text of one line (a description) wrapped to the terminal; text of several lines (the
    examples, the exit statuses) kept as written."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


def _command(sub, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A subcommand: ``summary`` is its line in the parent's list, ``description`` the paragraph
    its own --help starts with, and its example (``fixtures/cli_examples.txt``) the epilog."""
    p = sub.add_parser(name, help=summary, description=description, formatter_class=_Formatter)
    if example := cli_examples().get(p.prog.removeprefix("compliance ")):
        p.epilog = "example:\n" + _indented(example)
    return p


def _agreement_help(default: str = "the one fixtures/default.yaml names") -> str:
    return (
        "the agreement: a directory holding agreement.yaml, or the name of a bundled one "
        f"({', '.join(bundled_agreements())}); default: {default}"
    )


def _start_here() -> str:
    """The top-level help's first steps: a first command (``fixtures/cli_examples.txt``), then a
    command's own help."""
    first = cli_examples().get("compliance")
    start = f"start here:\n{_indented(first)}\n" if first else ""
    return start + "then: compliance COMMAND --help (its options, and an example)\n\n"


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


class VersionAction(argparse.Action):
    """``--version``: the package version and the fingerprint of the bundled rulebook."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from compliance._version import __version__
        from compliance.bundled import RULES_DIR
        from compliance.rulebook.files import rulebook_fingerprint

        print(f"compliance {__version__}\nrulebook {RULES_DIR} sha256:{rulebook_fingerprint(RULES_DIR)}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compliance",
        description="Checks proposed sales of restricted stock against a purchase agreement and SEC Rule 144: "
        "each sale is allowed or denied, with the rules that decide it and their citations.",
        epilog=_start_here() + EXIT_STATUSES,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action=VersionAction, help="print the version and the rulebook's fingerprint")
    parser.add_argument(
        "--debug", action="store_true", help="on an internal error (exit 3), print the Python traceback too"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
    p = _command(
        sub,
        "check",
        "judge one sale event given as JSON (text, a file, or - for stdin)",
        "Judge one proposed sale and print the decision as JSON: the outcome (allow, deny or error), "
        "every rule's finding with its facts and citations, and the earliest date the sale would be "
        "allowed. Exit 0 when allowed, 1 when denied or in error.",
    )
    p.add_argument(
        "event",
        help="the sale event as one JSON object of input fields (the columns of a notice file: notice_id, "
        "investor, security, quantity, sale_date, route, affiliate, ...): the JSON text itself, a file "
        "holding it, or - to read it from stdin",
    )
    p.add_argument("--agreement", help=_agreement_help())
    p.add_argument("--record", metavar="PATH", help="append the decision to this decision log (an SQLite file)")
    p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)
    p.set_defaults(run="compliance.cli.check:run")
    p = _command(
        sub,
        "review",
        "review a CSV or Parquet file of sale notices",
        "Judge every sale notice of a file and print a summary: the agreement used, the count of each "
        "outcome, the denials by rule with their citations, and the rows in error. Without -o the first "
        "decisions are printed too. Exit 0 when every notice is allowed, 1 when any is denied or in error.",
    )
    p.add_argument(
        "notices",
        help="the sale notices: a .csv file (header row, one notice a row) or a .parquet file, with the "
        "columns notice_id, investor, security, quantity, sale_date (YYYY-MM-DD), route and affiliate "
        "(true/false), and any optional input field",
    )
    p.add_argument("--agreement", help=_agreement_help())
    p.add_argument("-o", "--output", metavar="OUT", help="write the decisions to OUT.csv, OUT.json or OUT.parquet")
    p.add_argument(
        "--show",
        type=arguments.shown_count,
        default=arguments.SHOWN_DECISIONS,
        metavar="N|all",
        help=f"without -o, how many decisions to print: a whole number, or all (default: {arguments.SHOWN_DECISIONS})",
    )
    p.add_argument("--record", metavar="PATH", help="append every decision to this decision log (an SQLite file)")
    p.add_argument(
        "--workers",
        type=arguments.positive,
        metavar="N",
        help="threads the review may use, a whole number (default: one per core, at most 4; the answers are the same)",
    )
    p.add_argument(
        "--extra-columns",
        choices=["refuse", "keep"],
        default="refuse",
        help="a column that is not an input field: refuse the file (default), or keep it, "
        "unread, after the output columns",
    )
    p.add_argument(
        "--encoding",
        default="utf-8",
        help="the CSV file's text encoding, a Python codec name (default: utf-8; e.g. latin-1, cp1252, utf-16)",
    )
    p.add_argument(
        "--delimiter",
        default=",",
        type=arguments.delimiter,
        help="the CSV file's field separator, one character or the word tab (default: ','; e.g. ';')",
    )
    p.add_argument(
        "--report",
        metavar="REPORT.html",
        help="also write the review as one self-contained HTML page (opens with no network): the agreement and "
        "rulebook used, counts, charts, denials by rule with the clauses quoted, and every decision in a table "
        "filtered by outcome, investor and rule",
    )
    p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)
    p.set_defaults(run="compliance.cli.review:run")
    p = _command(
        sub,
        "sweep",
        "the decision on every trading day of a range (all else equal)",
        "Judge the same proposed sale on every trading day from --from to --to and print each day's "
        "outcome, then the windows of consecutive days with one outcome and the rules that deny them. "
        "Exit 0 when every day is allowed, 1 when any is denied or in error.",
    )
    p.add_argument("--investor", required=True, help=INVESTOR_HELP)
    p.add_argument("--route", required=True, choices=ROUTES, help=ROUTE_HELP)
    p.add_argument("--from", required=True, metavar="DATE", type=arguments.iso_date, help=f"the first day, {DATE_HELP}")
    p.add_argument("--to", required=True, metavar="DATE", type=arguments.iso_date, help=f"the last day, {DATE_HELP}")
    _add_assumed_event_options(p, SWEEP_DEFAULTS)
    p.set_defaults(run="compliance.cli.sweep:run")
    _add_holding_commands(sub)
    p = _command(
        sub,
        "rules",
        "list every rule with its citations",
        "List every rule of the rulebook: its id and title, what it cites (the regulation and the "
        "agreement's section numbers) and what a failure stops.",
    )
    p.add_argument("--agreement", help=_agreement_help() + "; its section numbers are the ones cited")
    p.set_defaults(run="compliance.cli.rulebook:run_rules")
    p = _command(
        sub,
        "validate",
        "check an agreement directory against the agreement-file schema and the clause keys the rulebook cites",
        "Check an agreement directory before using it: its agreement.yaml against the agreement-file "
        "schema (docs/agreement-format.md) and the checks beyond it, and that it maps every clause key "
        "the rulebook cites. Exit 0 when usable, 2 listing every problem (file, field, what was expected).",
    )
    p.add_argument("directory", help="the agreement directory, the folder holding agreement.yaml")
    p.set_defaults(run="compliance.cli.rulebook:run_validate")
    p = _command(
        sub,
        "coverage",
        "which clauses of an agreement the rules encode, and which resale-relevant clauses no rule encodes yet",
        "Show which clauses of an agreement the rules encode (with the rules that cite each), and which "
        "clauses marked resale-relevant no rule encodes yet.",
    )
    p.add_argument("directory", help="the agreement directory, the folder holding agreement.yaml")
    p.set_defaults(run="compliance.cli.rulebook:run_coverage")
    _add_log_commands(sub)
    _add_synth_command(sub)
    return parser


def _add_holding_commands(sub) -> None:
    """``capacity`` and ``plan``: how much may be sold, and when the position can be gone."""
    for name, text, description in (
        (
            "capacity",
            "the most shares that may be sold on a day, and the rules that bind",
            "Find the largest quantity the investor may sell on one day by one route, all else as the "
            "options and defaults give it, and the rules that would stop one share more. Exit 0 when some "
            "shares may be sold, 1 when none.",
        ),
        (
            "plan",
            "the fastest sell-down of an investor's whole position in a security",
            "Plan the fastest sale of the investor's whole position: on each trading day from --from, the "
            "most that may be sold, until nothing is left or --to is passed. Exit 0 when the whole position "
            "is sold by the end, 1 otherwise.",
        ),
    ):
        p = _command(sub, name, text, description)
        p.add_argument("--investor", required=True, help=INVESTOR_HELP)
        p.add_argument(
            "--security",
            default="shares",
            choices=["shares", "warrant_shares"],
            help="the security held: shares (default) or warrant_shares",
        )
        p.add_argument("--route", required=True, choices=ROUTES, help=ROUTE_HELP)
        if name == "capacity":
            p.add_argument("--on", required=True, metavar="DATE", type=arguments.iso_date, help=f"the day, {DATE_HELP}")
        else:
            p.add_argument(
                "--from", required=True, metavar="DATE", type=arguments.iso_date, help=f"the first day, {DATE_HELP}"
            )
            p.add_argument(
                "--to",
                metavar="DATE",
                type=arguments.iso_date,
                help=f"the last day, {DATE_HELP} (default: until the position is gone or cannot be sold)",
            )
            p.add_argument("-o", "--output", metavar="OUT", help="write the steps to OUT.csv, OUT.json or OUT.parquet")
        _add_assumed_event_options(p, HOLDING_DEFAULTS)
        p.set_defaults(run=f"compliance.cli.holdings:run_{name}")


def _add_assumed_event_options(p: argparse.ArgumentParser, defaults: dict[str, str]) -> None:
    """The options of a command that assumes an event (sweep, capacity, plan): ``--set`` over
    ``defaults``, the agreement, the seller's history."""
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="any other input field, as FIELD=VALUE (repeat for more; defaults: "
        + ", ".join(f"{k}={v}" for k, v in defaults.items())
        + ")",
    )
    p.add_argument("--agreement", help=_agreement_help())
    p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)


def _add_log_commands(sub) -> None:
    log_path = "the decision log, the SQLite file that --record wrote"
    p = _command(
        sub,
        "log",
        "the decision log: verify its hash chain, print its head, show its records",
        "Inspect a decision log written by check or review --record: verify its hash chain and seals, "
        "print the hash of its last record, or show its records. Name one of the commands below.",
    )
    # Named alone, ``compliance log`` prints this help and exits 2 (see compliance.cli.main).
    p.set_defaults(run=None, family=p)
    log = p.add_subparsers(dest="log_command", metavar="LOG_COMMAND", help="one of:")
    q = _command(
        log,
        "verify",
        "check the hash chain, the batches' seals and (with COMPLIANCE_LOG_KEY) its key; exit 1 naming what is wrong",
        "Check that the log is intact: every record's hash chains to the one before, every batch of "
        "a review was sealed at its end, and, when the log is keyed, that its key (from the environment "
        "variable COMPLIANCE_LOG_KEY) signs it. Exit 0 when intact, 1 naming what is wrong, 2 for a "
        "file that is not a log.",
    )
    q.add_argument("path", help=log_path)
    q.add_argument(
        "--expect-head",
        metavar="HASH",
        help="fail unless the chain ends at this record hash, 64 hex digits (as 'compliance log head' printed it)",
    )
    q.set_defaults(run="compliance.cli.log:run_verify")
    q = _command(
        log,
        "head",
        "print the hash of the last record (for a later verify --expect-head)",
        "Print the hash of the log's last record, 64 hex digits: kept elsewhere, it lets a later "
        "'compliance log verify --expect-head' prove that no record was removed from the end.",
    )
    q.add_argument("path", help=log_path)
    q.set_defaults(run="compliance.cli.log:run_head")
    q = _command(
        log,
        "show",
        "print the records as a table or JSON",
        "Print the log's records, oldest first: a table of the main fields, or every field as JSON.",
    )
    q.add_argument("path", help=log_path)
    q.add_argument("--notice", metavar="ID", help="only the records of this notice_id")
    q.add_argument(
        "--since",
        metavar="DATE",
        type=arguments.iso_date,
        help="only records recorded on or after this day, YYYY-MM-DD (UTC)",
    )
    q.add_argument("--json", action="store_true", help="print JSON (every field) instead of a table")
    q.set_defaults(run="compliance.cli.log:run_show")
    p = _command(
        sub,
        "replay",
        "re-evaluate every recorded event with the current rules; "
        "exit 1 when any decision now differs (incomplete batches left out)",
        "Judge every event of a decision log again with the current rules and report each decision that "
        "now differs, grouped by what changed since it was recorded (the rulebook, the agreement, both or "
        "neither). The records of an incomplete batch are left out and counted. Exit 0 when every "
        "decision is unchanged, 1 when any differs or cannot be replayed.",
    )
    p.add_argument("path", help=log_path)
    p.add_argument(
        "--agreement",
        help=_agreement_help(default="each record's own"),
    )
    p.add_argument("--rules-dir", metavar="DIR", help="the rules directory to judge with (default: the bundled rules/)")
    p.set_defaults(run="compliance.cli.log:run_replay")


def _add_synth_command(sub) -> None:
    p = _command(
        sub,
        "synth",
        "write N synthetic sale notices (seeded) to a CSV or Parquet file, for trying out review",
        "Write N synthetic sale notices for the agreement's investors: every route and security, sale "
        "dates 2002-2007, a mix of allowed and denied, and about one notice in a thousand deliberately "
        "invalid. The same N, seed and agreement give the same file. The notices are generated data, "
        "not records of any sale; the benchmarks review the same notices.",
    )
    p.add_argument("count", metavar="N", type=arguments.positive, help="how many notices (a whole number, at least 1)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the file to write: FILE.csv (text, as review reads it) or FILE.parquet",
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="the random seed, a whole number of at least 0 (default: 0)"
    )
    p.add_argument("--agreement", help=_agreement_help() + "; its investors and positions")
    p.set_defaults(run="compliance.cli.synth:run")
