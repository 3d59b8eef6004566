"""The ``compliance`` command line: every command, its options and their help. Building it
imports nothing heavy; each command names the function that runs it as ``"module:function"``,
imported only when it runs."""

from __future__ import annotations

import argparse

from compliance.cli import arguments
from compliance.cli.defaults import HOLDING_DEFAULTS, SWEEP_DEFAULTS

ROUTES = ["registration_statement", "rule_144", "other_exemption"]
AGREEMENT_HELP = "agreement directory or bundled agreement name (default: fixtures/default.yaml)"
HISTORY_HELP = "the seller's completed sales (.csv or .parquet)"


class VersionAction(argparse.Action):
    """``--version``: the package version and the fingerprint of the bundled rulebook."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from compliance._version import __version__
        from compliance.bundled import RULES_DIR
        from compliance.rulebook.files import rulebook_fingerprint

        parser.exit(
            message=f"compliance {__version__}\nrulebook {RULES_DIR} sha256:{rulebook_fingerprint(RULES_DIR)}\n"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compliance",
        description="Pre-trade resale checks for restricted stock under a purchase agreement and SEC Rule 144.",
    )
    parser.add_argument("--version", action=VersionAction, help="print the version and the rulebook's fingerprint")
    parser.add_argument(
        "--debug", action="store_true", help="on an internal error (exit 3), print the Python traceback too"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="judge one sale event given as JSON (text, a file, or - for stdin)")
    p.add_argument("event")
    p.add_argument("--agreement", help=AGREEMENT_HELP)
    p.add_argument("--record", metavar="PATH", help="append the decision to this decision log (SQLite)")
    p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)
    p.set_defaults(run="compliance.cli.check:run")
    p = sub.add_parser("review", help="review a CSV or Parquet file of sale notices")
    p.add_argument("notices")
    p.add_argument("--agreement", help=AGREEMENT_HELP)
    p.add_argument("-o", "--output", help="write the decisions to OUT.csv, OUT.json or OUT.parquet")
    p.add_argument("--record", metavar="PATH", help="append every decision to this decision log (SQLite)")
    p.add_argument(
        "--workers",
        type=arguments.positive,
        metavar="N",
        help="threads the review may use (default: one per core, at most 4; the answers are the same)",
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
        help="the CSV file's text encoding (default: utf-8; e.g. latin-1, cp1252, utf-16)",
    )
    p.add_argument(
        "--delimiter",
        default=",",
        type=arguments.delimiter,
        help="the CSV file's field separator (default: ','; e.g. ';', or tab)",
    )
    p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)
    p.set_defaults(run="compliance.cli.review:run")
    p = sub.add_parser("sweep", help="the decision on every trading day of a range (all else equal)")
    p.add_argument("--investor", required=True)
    p.add_argument("--route", required=True, choices=ROUTES)
    p.add_argument("--from", required=True, metavar="DATE", type=arguments.iso_date)
    p.add_argument("--to", required=True, metavar="DATE", type=arguments.iso_date)
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="any other input field (defaults: " + ", ".join(f"{k}={v}" for k, v in SWEEP_DEFAULTS.items()) + ")",
    )
    p.add_argument("--agreement", help=AGREEMENT_HELP)
    p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)
    p.set_defaults(run="compliance.cli.sweep:run")
    _add_holding_commands(sub)
    p = sub.add_parser("rules", help="list every rule with its citations")
    p.add_argument("--agreement", help="agreement directory whose section numbers to show")
    p.set_defaults(run="compliance.cli.rulebook:run_rules")
    p = sub.add_parser(
        "validate",
        help="check an agreement directory against the agreement-file schema and the clause keys the rulebook cites",
    )
    p.add_argument("directory")
    p.set_defaults(run="compliance.cli.rulebook:run_validate")
    p = sub.add_parser(
        "coverage",
        help="which clauses of an agreement the rules encode, and which resale-relevant clauses no rule encodes yet",
    )
    p.add_argument("directory")
    p.set_defaults(run="compliance.cli.rulebook:run_coverage")
    _add_log_commands(sub)
    _add_synth_command(sub)
    return parser


def _add_holding_commands(sub) -> None:
    """``capacity`` and ``plan``: how much may be sold, and when the position can be gone."""
    for name, text in (
        ("capacity", "the most shares that may be sold on a day, and the rules that bind"),
        ("plan", "the fastest sell-down of an investor's whole position in a security"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--investor", required=True)
        p.add_argument("--security", default="shares", choices=["shares", "warrant_shares"])
        p.add_argument("--route", required=True, choices=ROUTES)
        if name == "capacity":
            p.add_argument("--on", required=True, metavar="DATE", type=arguments.iso_date)
        else:
            p.add_argument("--from", required=True, metavar="DATE", type=arguments.iso_date)
            p.add_argument("--to", metavar="DATE", type=arguments.iso_date)
            p.add_argument("-o", "--output", help="write the steps to OUT.csv, OUT.json or OUT.parquet")
        p.add_argument(
            "--set",
            action="append",
            metavar="FIELD=VALUE",
            help="any other input field (defaults: " + ", ".join(f"{k}={v}" for k, v in HOLDING_DEFAULTS.items()) + ")",
        )
        p.add_argument("--agreement", help=AGREEMENT_HELP)
        p.add_argument("--history", metavar="SALES", help=HISTORY_HELP)
        p.set_defaults(run=f"compliance.cli.holdings:run_{name}")


def _add_log_commands(sub) -> None:
    p = sub.add_parser("log", help="the decision log: verify its hash chain, print its head, show its records")
    log = p.add_subparsers(dest="log_command", required=True)
    q = log.add_parser(
        "verify",
        help="check the hash chain, the batches' seals and (with COMPLIANCE_LOG_KEY) its key; "
        "exit 1 naming what is wrong",
    )
    q.add_argument("path")
    q.add_argument(
        "--expect-head",
        metavar="HASH",
        help="fail unless the chain ends at this record hash (as 'compliance log head' printed it)",
    )
    q.set_defaults(run="compliance.cli.log:run_verify")
    q = log.add_parser("head", help="print the hash of the last record (for a later verify --expect-head)")
    q.add_argument("path")
    q.set_defaults(run="compliance.cli.log:run_head")
    q = log.add_parser("show", help="print the records as a table or JSON")
    q.add_argument("path")
    q.add_argument("--notice", metavar="ID", help="only this notice_id")
    q.add_argument("--since", metavar="DATE", help="only records recorded on or after DATE (UTC, YYYY-MM-DD)")
    q.add_argument("--json", action="store_true", help="print JSON (every field) instead of a table")
    q.set_defaults(run="compliance.cli.log:run_show")
    p = sub.add_parser(
        "replay",
        help="re-evaluate every recorded event with the current rules; "
        "exit 1 when any decision now differs (incomplete batches left out)",
    )
    p.add_argument("path")
    p.add_argument("--agreement", help="agreement directory to use instead of each record's own")
    p.add_argument("--rules-dir", help="rules directory (default: the bundled rules/)")
    p.set_defaults(run="compliance.cli.log:run_replay")


def _add_synth_command(sub) -> None:
    p = sub.add_parser(
        "synth",
        help="write N synthetic sale notices (seeded) to a CSV or Parquet file, for trying out review",
        description="Write N synthetic sale notices for the agreement's investors: every route and\n"
        "security, sale dates 2002-2007, a mix of allowed and denied, and about one notice in a\n"
        "thousand deliberately invalid. The same N, seed and agreement give the same file.\n"
        "The notices are generated data, not records of any sale.",
        epilog="example:\n  compliance synth 10000 -o notices.csv --seed 7\n  compliance review notices.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    p.add_argument("--agreement", help=AGREEMENT_HELP + "; its investors and positions")
    p.set_defaults(run="compliance.cli.synth:run")
