"""The ``compliance`` command: ``check`` one event, ``review`` a file of notices, list ``rules``;
``validate`` an agreement directory and show its clause ``coverage``; ``capacity``: how much may
be sold on a day, ``plan``: the fastest sell-down of a position.

Exit status: 0 all allowed (or nothing to judge); 1 something denied or in error; 2 an unusable
invocation or file; 3 an internal error (one line; the traceback with ``--debug``); 130 stopped by
SIGINT (Ctrl-C), 143 by SIGTERM; 141 when the reader of the output closed the pipe early.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.csv

from compliance.contract.event import InputError, shown
from compliance.contract.history import parse_history
from compliance.contract.notice_files import NoticeFileError, read_notices
from compliance.deal.agreement import AgreementError, load_agreement
from compliance.decision.findings import Decision, rule_citations
from compliance.decision_log import LogError
from compliance.rulebook.durable import engine_for
from compliance.rulebook.loader import RulebookError
from compliance.running.capacity import capacity
from compliance.running.check import check
from compliance.running.plan import plan
from compliance.running.review import ReviewError, review
from compliance.running.sweep import sweep, sweep_bands
from compliance.views.output_safety import CONTROL_PATTERN, guard_formulas, printable, printable_lines

SUMMARY_COLUMNS = [
    "notice_id",
    "outcome",
    "failed_rules",
    "earliest_allowed_date",
    "delivery_date",
    "legend_removal",
    "dwac_eligible",
    "regime",
]
OUTPUT_SUFFIXES = (".csv", ".json", ".parquet", ".pq")


class CommandError(ValueError):
    """An invocation that cannot be carried out as given (exit 2)."""


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, so the command stops as it does on Ctrl-C."""


def decision_json(decision: Decision) -> dict:
    row = decision.to_row()
    row["findings"] = [
        {"rule": f.rule, "status": f.status, "message": f.message, "facts": f.facts, "citations": list(f.citations)}
        for f in decision.findings
    ]
    return row


CSV_SLICE = 100_000  # rows written at a time


def write_decisions(frame: pd.DataFrame, path: Path) -> None:
    """Write the decisions to ``path`` (.csv, .json, .parquet or .pq), whole or not at all: into a
    temporary file beside it, renamed to ``path`` once complete (removed if anything, Ctrl-C
    included, stops the writing). In CSV, a text cell that a spreadsheet would take for a formula
    gets a leading ``'`` (``output_safety.guard_formulas``); JSON and Parquet keep every value as
    it is."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise CommandError(f"{path}: output must end in .csv, .json or .parquet")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if suffix == ".csv":
            _write_csv(frame, partial)
        elif suffix == ".json":
            frame.to_json(partial, orient="records", indent=2)
        else:
            frame.astype(str).to_parquet(partial, index=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Arrow's writer: a third of DataFrame.to_csv's time on a million decisions; it quotes every
    # text cell, which any CSV reader takes the same way. In slices, so the text is not held twice.
    schema = pyarrow.schema([(str(c), pyarrow.string()) for c in frame.columns])
    with pyarrow.csv.CSVWriter(path, schema) as writer:
        for start in range(0, max(len(frame), 1), CSV_SLICE):
            part = frame.iloc[start : start + CSV_SLICE].astype(str)
            table = pyarrow.Table.from_pandas(part, schema=schema, preserve_index=False)
            writer.write_table(pyarrow.Table.from_arrays([guard_formulas(c) for c in table.columns], schema=schema))


def output_problem(output: Path, notices: Path, record: Path | None) -> str | None:
    """Why the decisions cannot be written to ``output``, or None: checked before the review
    starts, so that nothing is judged or recorded for a file that could not be written."""
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        return f"{output}: output must end in .csv, .json or .parquet"
    target = output.resolve()
    if target == notices.resolve() or (target.exists() and notices.exists() and os.path.samefile(target, notices)):
        return f"{output}: is the notices file itself; choose another output file"
    if record is not None and target == record.resolve():
        return f"{output}: is the decision log (--record); choose another output file"
    return _unwritable(output, f"a file name ending in {output.suffix}")


def log_problem(record: Path) -> str | None:
    """Why ``record`` cannot be a decision log to append to, or None (checked before the review)."""
    return _unwritable(record, f"the decision log's file (e.g. {record / 'decisions.db'})")


def _unwritable(path: Path, expected: str) -> str | None:
    """Why a file cannot be written at ``path`` (a folder, no such folder, no permission), or None."""
    target = path.resolve()
    if target.is_dir():
        return f"{path}: is a folder; expected {expected}"
    if not target.parent.is_dir():
        return f"{path}: the folder {path.parent} does not exist"
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return f"{path}: cannot be written here (permission denied)"
    return None


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


def _event_text(argument: str) -> str:
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


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        event = event_from_json(_event_text(args.event))
    except ValueError as exc:
        print(f"compliance check: {exc}", file=sys.stderr)
        return 2
    agreement = load_agreement(args.agreement)
    decision = check(event, agreement, record=args.record, history=_history(args, agreement))
    print(json.dumps(decision_json(decision), indent=2, default=str))
    return 0 if decision.outcome == "allow" else 1


def _progress(total: int):
    """Phase lines on a terminal for long runs; silent when stderr is not a terminal."""
    if not sys.stderr.isatty() or total < 20_000:
        return None
    started = time.monotonic()

    def report(text: str) -> None:
        print(f"\r[{time.monotonic() - started:6.1f} s] {text:<70}", end="", file=sys.stderr, flush=True)

    return report


def _cmd_review(args: argparse.Namespace) -> int:
    notices_path = Path(args.notices)
    record = Path(args.record) if args.record else None
    problem = output_problem(Path(args.output), notices_path, record) if args.output else None
    if problem:
        raise CommandError(problem)
    notices = read_notices(notices_path, encoding=args.encoding, delimiter=args.delimiter)
    agreement = load_agreement(args.agreement)
    history = _history(args, agreement)
    progress = _progress(len(notices))
    result = review(
        notices,
        agreement,
        progress=progress,
        record=args.record,
        workers=args.workers,
        extra_columns=args.extra_columns,
        history=history,
    )
    if progress:
        print(file=sys.stderr)
    if args.output:
        write_decisions(result, Path(args.output))
        print(f"wrote {len(result)} decisions to {printable(args.output)}")
    else:
        print(_printable_frame(result[SUMMARY_COLUMNS]).to_string(index=False))
    print(summary(result, agreement))
    return 0 if (result["outcome"] == "allow").all() else 1


def _printable_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with control characters escaped (``printable``) in the text cells that hold any,
    for a terminal; the frame itself when none does."""
    shown = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype == bool or pd.api.types.is_numeric_dtype(values):
            continue
        has_control = values.astype(str).str.contains(CONTROL_PATTERN.pattern, regex=True).to_numpy(dtype=bool)
        if has_control.any():
            if shown is frame:
                shown = frame.astype(object)
            shown.loc[has_control, column] = values[has_control].map(printable)
    return shown


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def summary(result: pd.DataFrame, agreement) -> str:
    """Counts by outcome, denials by rule (most first, ties in rulebook order) with the rule's
    citations, and the rows in error."""
    counts = result["outcome"].value_counts()
    lines = [
        "",
        "Summary: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("allow", "deny", "error"))
        + f" of {len(result)} notices",
    ]
    rules = {r.id: r for r in engine_for().rulebook.rules}
    by_rule = dict.fromkeys(rules, 0)
    # Per distinct list of failed rules, which only denied rows have: no row is copied.
    for failed, n in result["failed_rules"].value_counts().items():
        for rule_id in failed.split(";") if failed else ():
            by_rule[rule_id] += n
    for rule_id, n in sorted(((r, n) for r, n in by_rule.items() if n), key=lambda item: -item[1]):
        rule = rules[rule_id]
        cites = rule_citations(rule, agreement)
        lines.append(f"  denied by {rule_id}: {n}  ({printable('; '.join(cites))})")
    in_error = np.flatnonzero((result["outcome"] == "error").to_numpy(dtype=bool))
    for notice_id, error in zip(result["notice_id"].iloc[in_error], result["error"].iloc[in_error], strict=True):
        lines.append(f"  error in {printable(notice_id) if notice_id else '(no id)'}: {printable(error)}")
    return "\n".join(lines)


SWEEP_DEFAULTS = {
    "security": "shares",
    "quantity": "1000",
    "affiliate": "false",
    "opinion_of_counsel": "true",
    "company_advised": "true",
}


# capacity and plan: the sweep's defaults, less the quantity they find, and a manner of sale
# Rule 144(f) permits.
HOLDING_DEFAULTS = {
    **{k: v for k, v in SWEEP_DEFAULTS.items() if k not in ("security", "quantity")},
    "manner_of_sale": "brokers_transaction",
}


def _cmd_sweep(args: argparse.Namespace) -> int:
    """Exit 0 when every trading day of the range is allowed (or the range has none), 1 when any
    is denied or in error, 2 for a range that ends before it starts."""
    first, last = getattr(args, "from"), args.to
    if last < first:
        raise CommandError(f"--to {last} is before --from {first}")
    event = {**SWEEP_DEFAULTS, "notice_id": "sweep", "investor": args.investor, "route": args.route}
    for item in args.set or []:
        key, _, value = item.partition("=")
        event[key.strip()] = value.strip()
    event["sale_date"] = first.isoformat()
    agreement = load_agreement(args.agreement)
    days = sweep(event, agreement, first, last, history=_history(args, agreement))
    if days.empty:
        print("no trading day in the range")
        return 0
    print(_printable_frame(days).to_string(index=False))
    bands = sweep_bands(days)
    print("\nWindows:")
    for band in bands.itertuples():
        why = "" if band.outcome == "allow" else f"  ({band.failed_rules})"
        print(f"  {band.start} .. {band.end}  {band.outcome}{why}")
    return 0 if (days["outcome"] == "allow").all() else 1


def _history(args: argparse.Namespace, agreement):
    """The parsed ``--history`` file (none: no sales); a bad row raises ``InputError`` (exit 2)."""
    return parse_history(Path(args.history) if args.history else None, agreement)


def _holding_event(args: argparse.Namespace, day: date) -> dict:
    """The event of ``capacity`` and ``plan``: the sweep's defaults, the options, ``--set``."""
    event = {**HOLDING_DEFAULTS, "investor": args.investor, "security": args.security, "route": args.route}
    for item in args.set or []:
        key, _, value = item.partition("=")
        event[key.strip()] = value.strip()
    event["sale_date"] = day.isoformat()
    return event


def _cmd_capacity(args: argparse.Namespace) -> int:
    """Exit 0 when some shares may be sold, 1 when none."""
    agreement = load_agreement(args.agreement)
    found = capacity(_holding_event(args, args.on), agreement, _history(args, agreement))
    print(f"{printable(args.investor)} may sell {found.quantity:,} {args.security} on {args.on} by {args.route}")
    if found.binding_rules:
        print("One share more is stopped by:")
        for reason in found.reasons:
            print(f"  {printable(reason)}")
        print(f"Citations: {printable('; '.join(found.citations))}")
    return 0 if found.quantity > 0 else 1


def _cmd_plan(args: argparse.Namespace) -> int:
    """Exit 0 when the whole position is sold by the end, 1 otherwise."""
    agreement = load_agreement(args.agreement)
    first = getattr(args, "from")
    if args.to is not None and args.to < first:
        raise CommandError(f"--to {args.to} is before --from {first}")
    steps = plan(_holding_event(args, first), agreement, _history(args, agreement), first, args.to)
    if args.output:
        out = steps.copy()
        out.attrs = {}
        for column in ("binding_rules", "citations"):
            out[column] = out[column].map("; ".join)
        write_decisions(out, Path(args.output))
        print(f"wrote {len(steps)} steps to {printable(args.output)}")
    elif len(steps):
        shown = steps[["sale_date", "quantity", "cumulative", "remaining", "binding_rules", "form_144_filed_on"]].copy()
        shown["binding_rules"] = shown["binding_rules"].map("; ".join)
        shown["form_144_filed_on"] = shown["form_144_filed_on"].map(lambda d: "" if d is None else d.isoformat())
        print(_printable_frame(shown).to_string(index=False))
    position, out_on, blocked = steps.attrs["position"], steps.attrs["out_on"], steps.attrs["blocked"]
    if out_on is not None:
        sales = f"{len(steps)} sale" + ("" if len(steps) == 1 else "s")
        print(f"\nThe position of {position:,} {args.security} is gone on {out_on} ({sales}).")
        return 0
    print(f"\n{steps.attrs['remaining']:,} of {position:,} {args.security} still held at the end of the plan.")
    if blocked:
        print(f"From {blocked['from']} they cannot be sold at all:")
        for reason in blocked["reasons"]:
            print(f"  {printable(reason)}")
    return 1


def _delimiter(text: str) -> str:
    """A field separator: one character, or ``tab`` (also written ``\\t``)."""
    return "\t" if text in ("tab", "\\t") else text


def _iso_date(text: str) -> date:
    """An argument that must be a calendar date written YYYY-MM-DD."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a date: {exc}") from None
    raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {printable(text[:200])!r}")


def _cmd_rules(args: argparse.Namespace) -> int:
    agreement = load_agreement(args.agreement)
    for rule in engine_for().rulebook.rules:
        cites = rule_citations(rule, agreement)
        print(f"{rule.id:36} {rule.title}")
        print(
            f"{'':36} cites: {printable('; '.join(cites))}   stops: {', '.join(rule.blocks) or 'nothing'}"
            f"{'   (against the Company)' if rule.against == 'company' else ''}"
        )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when the agreement directory is usable with the rulebook, 2 with every problem."""
    from compliance.deal.schema import AGREEMENT_FILE, validate_directory
    from compliance.rulebook.loader import load_rulebook

    cited = load_rulebook().clause_keys
    problems = validate_directory(args.directory, cited)
    path = Path(args.directory) / AGREEMENT_FILE
    if problems:
        for problem in problems:
            print(printable_lines(problem))
        print(f"{len(problems)} problem(s) in {printable(path)}")
        return 2
    agreement = load_agreement(args.directory)
    print(
        f"OK: {printable(path)} ({printable(agreement.issuer)}, {len(agreement.clauses)} clauses; "
        f"all {len(cited)} clause keys the rulebook cites are mapped)"
    )
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    """Which clauses the rules encode; the resale-relevant ones no rule encodes yet."""
    from compliance.rulebook.loader import load_rulebook
    from compliance.views.coverage import clause_coverage, format_coverage

    print(format_coverage(clause_coverage(load_agreement(args.directory), load_rulebook())))
    return 0


def _cmd_log_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every record was checked and the chain is intact, every batch sealed (or
    predating seals) and the chain ends at ``--expect-head``; 1 naming what is not; 2 for a file
    that is not a log. The log key, when the log is keyed, comes from COMPLIANCE_LOG_KEY."""
    from compliance.decision_log import log_key, verify

    result = verify(args.path, key=log_key(), expect_head=args.expect_head)
    print(result)
    return 0 if result.ok else 1


def _cmd_log_head(args: argparse.Namespace) -> int:
    from compliance.decision_log import head

    print(head(args.path))
    return 0


def _cmd_log_show(args: argparse.Namespace) -> int:
    from compliance.decision_log import RECORD_COLUMNS, read_log

    frame = read_log(args.path, notice=args.notice, since=args.since)
    if args.json:
        print(json.dumps(frame[list(RECORD_COLUMNS)].to_dict("records"), indent=2, default=str))
    elif frame.empty:
        print("no records")
    else:
        shown = frame[
            [
                "seq",
                "recorded_at",
                "notice_id",
                "outcome",
                "failed_rules",
                "earliest_allowed_date",
                "delivery_date",
                "rulebook_fingerprint",
                "agreement_fingerprint",
                "batch_state",
            ]
        ].copy()
        for column in ("rulebook_fingerprint", "agreement_fingerprint"):
            shown[column] = shown[column].str[:12]
        print(shown.to_string(index=False))
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    """Exit 0 when every replayed decision is unchanged, 1 when any differs or cannot be replayed
    (the records of incomplete batches are left out, and counted, not judged)."""
    from compliance.running.replay import replay

    result = replay(args.path, args.agreement, rules_dir=args.rules_dir)
    print(result.report())
    return 0 if result.ok else 1


def _add_log_commands(sub) -> None:
    p = sub.add_parser("log", help="the decision log: verify its hash chain, print its head, show its records")
    log = p.add_subparsers(dest="log_command", required=True)
    q = log.add_parser(
        "verify",
        help="check the hash chain, the batches' seals and (with COMPLIANCE_LOG_KEY) "
        "its key; exit 1 naming what is wrong",
    )
    q.add_argument("path")
    q.add_argument(
        "--expect-head",
        metavar="HASH",
        help="fail unless the chain ends at this record hash (as 'compliance log head' printed it)",
    )
    q.set_defaults(run=_cmd_log_verify)
    q = log.add_parser("head", help="print the hash of the last record (for a later verify --expect-head)")
    q.add_argument("path")
    q.set_defaults(run=_cmd_log_head)
    q = log.add_parser("show", help="print the records as a table or JSON")
    q.add_argument("path")
    q.add_argument("--notice", metavar="ID", help="only this notice_id")
    q.add_argument("--since", metavar="DATE", help="only records recorded on or after DATE (UTC, YYYY-MM-DD)")
    q.add_argument("--json", action="store_true", help="print JSON (every field) instead of a table")
    q.set_defaults(run=_cmd_log_show)
    p = sub.add_parser(
        "replay",
        help="re-evaluate every recorded event with the current rules; "
        "exit 1 when any decision now differs (incomplete batches left out)",
    )
    p.add_argument("path")
    p.add_argument("--agreement", help="agreement directory to use instead of each record's own")
    p.add_argument("--rules-dir", help="rules directory (default: the bundled rules/)")
    p.set_defaults(run=_cmd_replay)


def _add_holding_commands(sub) -> None:
    """``capacity`` and ``plan``: how much may be sold, and when the position can be gone."""
    for name, text in (
        ("capacity", "the most shares that may be sold on a day, and the rules that bind"),
        ("plan", "the fastest sell-down of an investor's whole position in a security"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--investor", required=True)
        p.add_argument("--security", default="shares", choices=["shares", "warrant_shares"])
        p.add_argument("--route", required=True, choices=["registration_statement", "rule_144", "other_exemption"])
        if name == "capacity":
            p.add_argument("--on", required=True, metavar="DATE", type=_iso_date)
        else:
            p.add_argument("--from", required=True, metavar="DATE", type=_iso_date)
            p.add_argument("--to", metavar="DATE", type=_iso_date)
            p.add_argument("-o", "--output", help="write the steps to OUT.csv, OUT.json or OUT.parquet")
        p.add_argument(
            "--set",
            action="append",
            metavar="FIELD=VALUE",
            help="any other input field (defaults: " + ", ".join(f"{k}={v}" for k, v in HOLDING_DEFAULTS.items()) + ")",
        )
        p.add_argument(
            "--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)"
        )
        p.add_argument("--history", metavar="SALES", help="the seller's completed sales (.csv or .parquet)")
        p.set_defaults(run=_cmd_capacity if name == "capacity" else _cmd_plan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compliance", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debug", action="store_true", help="on an internal error (exit 3), print the Python traceback too"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="judge one sale event given as JSON (text, a file, or - for stdin)")
    p.add_argument("event")
    p.add_argument("--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)")
    p.add_argument("--record", metavar="PATH", help="append the decision to this decision log (SQLite)")
    p.add_argument("--history", metavar="SALES", help="the seller's completed sales (.csv or .parquet)")
    p.set_defaults(run=_cmd_check)
    p = sub.add_parser("review", help="review a CSV or Parquet file of sale notices")
    p.add_argument("notices")
    p.add_argument("--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)")
    p.add_argument("-o", "--output", help="write the decisions to OUT.csv, OUT.json or OUT.parquet")
    p.add_argument("--record", metavar="PATH", help="append every decision to this decision log (SQLite)")
    p.add_argument(
        "--workers",
        type=_positive,
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
        type=_delimiter,
        help="the CSV file's field separator (default: ','; e.g. ';', or tab)",
    )
    p.add_argument("--history", metavar="SALES", help="the seller's completed sales (.csv or .parquet)")
    p.set_defaults(run=_cmd_review)
    p = sub.add_parser("sweep", help="the decision on every trading day of a range (all else equal)")
    p.add_argument("--investor", required=True)
    p.add_argument("--route", required=True, choices=["registration_statement", "rule_144", "other_exemption"])
    p.add_argument("--from", required=True, metavar="DATE", type=_iso_date)
    p.add_argument("--to", required=True, metavar="DATE", type=_iso_date)
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="any other input field (defaults: " + ", ".join(f"{k}={v}" for k, v in SWEEP_DEFAULTS.items()) + ")",
    )
    p.add_argument("--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)")
    p.add_argument("--history", metavar="SALES", help="the seller's completed sales (.csv or .parquet)")
    p.set_defaults(run=_cmd_sweep)
    _add_holding_commands(sub)
    p = sub.add_parser("rules", help="list every rule with its citations")
    p.add_argument("--agreement", help="agreement directory whose section numbers to show")
    p.set_defaults(run=_cmd_rules)
    p = sub.add_parser(
        "validate",
        help="check an agreement directory against the agreement-file schema and the clause keys the rulebook cites",
    )
    p.add_argument("directory")
    p.set_defaults(run=_cmd_validate)
    p = sub.add_parser(
        "coverage",
        help="which clauses of an agreement the rules encode, and which resale-relevant clauses no rule encodes yet",
    )
    p.add_argument("directory")
    p.set_defaults(run=_cmd_coverage)
    _add_log_commands(sub)
    args = parser.parse_args(argv)
    return run_command(args)


USAGE_ERRORS = (
    CommandError,
    NoticeFileError,
    ReviewError,
    InputError,
    AgreementError,
    RulebookError,
    LogError,
    OSError,
)


def run_command(args: argparse.Namespace) -> int:
    """``args.run(args)`` with every way it can end turned into an exit status and at most one
    line on stderr (see the module's docstring); SIGTERM is taken as Ctrl-C is while it runs. A
    ``--record`` log path that cannot be written is refused before the command starts."""
    name = f"compliance {args.command}"
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        record = getattr(args, "record", None)  # the decision log of check and review
        if record and (problem := log_problem(Path(record))):
            raise CommandError(problem)
        status = args.run(args)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        print(f"{name}: interrupted (SIGINT); stopped without finishing", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{name}: terminated (SIGTERM); stopped without finishing", file=sys.stderr)
        return 143
    except BrokenPipeError:
        _discard_stdout()
        return 141
    except USAGE_ERRORS as exc:
        print(f"{name}: {printable_lines(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{name}: internal error: {type(exc).__name__}: {printable(exc)}", file=sys.stderr)
        return 3
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame) -> None:
    raise Terminated()


def _discard_stdout() -> None:
    """The reader of stdout has gone (``compliance rules | head``): send what is still buffered
    nowhere, so that the exit is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
