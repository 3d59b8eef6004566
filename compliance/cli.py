"""The ``compliance`` command: ``check`` one event, ``review`` a file of notices, list ``rules``;
``validate`` an agreement directory and show its clause ``coverage``.

Exit status: 0 all allowed; 1 something denied or in error; 2 an unusable invocation or file.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.csv

from .agreement import AgreementError, load_agreement
from .check import check, engine_for
from .decision import Decision, rule_citations
from .model import shown
from .review import ColumnError, ReviewError, review
from .sweep import sweep, sweep_bands
from .rulebook import RulebookError
from .decision_log import LogError

SUMMARY_COLUMNS = ["notice_id", "outcome", "failed_rules", "earliest_allowed_date", "delivery_date",
                   "legend_removal", "dwac_eligible", "regime"]


def decision_json(decision: Decision) -> dict:
    row = decision.to_row()
    row["findings"] = [
        {"rule": f.rule, "status": f.status, "message": f.message, "facts": f.facts,
         "citations": list(f.citations)}
        for f in decision.findings]
    return row


def read_notices(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file of notices; every CSV cell is read as text (the engine parses it)."""
    suffix = path.suffix.lower()
    refuse_repeated_header(path)
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (OSError, ValueError, ImportError) as exc:
        raise ReviewError(f"{path}: cannot be read: {exc}") from None
    raise ReviewError(f"{path}: not a CSV or Parquet file (by its extension)")


def refuse_repeated_header(path: Path) -> None:
    """Raise ``ColumnError`` naming every name a CSV file's header gives more than once: a reader
    would rename the repeats (``quantity.1``) and judge by the first. A header that cannot be
    read here is left to the reader to report; other files are not read."""
    if path.suffix.lower() != ".csv":
        return
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            header = next(csv.reader(file), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    repeated = [name for name, n in Counter(header).items() if n > 1]
    if repeated:
        raise ColumnError([("column", name, f"appears {header.count(name)} times in the header of {path}")
                           for name in repeated])


CSV_SLICE = 100_000  # rows written at a time


def write_decisions(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        # Arrow's writer: a third of DataFrame.to_csv's time on a million decisions; it quotes every
        # text cell, which any CSV reader takes the same way. In slices, so the text is not held twice.
        schema = pyarrow.schema([(str(c), pyarrow.string()) for c in frame.columns])
        with pyarrow.csv.CSVWriter(path, schema) as writer:
            for start in range(0, max(len(frame), 1), CSV_SLICE):
                part = frame.iloc[start:start + CSV_SLICE].astype(str)
                writer.write_table(pyarrow.Table.from_pandas(part, schema=schema, preserve_index=False))
    elif suffix == ".json":
        frame.to_json(path, orient="records", indent=2)
    elif suffix in (".parquet", ".pq"):
        frame.astype(str).to_parquet(path, index=False)
    else:
        raise ReviewError(f"{path}: output must end in .csv, .json or .parquet")


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
    decision = check(event, load_agreement(args.agreement), record=args.record)
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
    notices = read_notices(Path(args.notices))
    agreement = load_agreement(args.agreement)
    progress = _progress(len(notices))
    result = review(notices, agreement, progress=progress, record=args.record, workers=args.workers,
                    extra_columns=args.extra_columns)
    if progress:
        print(file=sys.stderr)
    if args.output:
        write_decisions(result, Path(args.output))
        print(f"wrote {len(result)} decisions to {args.output}")
    else:
        print(result[SUMMARY_COLUMNS].to_string(index=False))
    print(summary(result, agreement))
    return 0 if (result["outcome"] == "allow").all() else 1


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def summary(result: pd.DataFrame, agreement) -> str:
    """Counts by outcome, denials by rule (most first, ties in rulebook order) with the rule's
    citations, and the rows in error."""
    counts = result["outcome"].value_counts()
    lines = ["", "Summary: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("allow", "deny", "error"))
             + f" of {len(result)} notices"]
    rules = {r.id: r for r in engine_for().rulebook.rules}
    by_rule = dict.fromkeys(rules, 0)
    # Per distinct list of failed rules, which only denied rows have: no row is copied.
    for failed, n in result["failed_rules"].value_counts().items():
        for rule_id in failed.split(";") if failed else ():
            by_rule[rule_id] += n
    for rule_id, n in sorted(((r, n) for r, n in by_rule.items() if n), key=lambda item: -item[1]):
        rule = rules[rule_id]
        cites = rule_citations(rule, agreement)
        lines.append(f"  denied by {rule_id}: {n}  ({'; '.join(cites)})")
    in_error = np.flatnonzero((result["outcome"] == "error").to_numpy(dtype=bool))
    for notice_id, error in zip(result["notice_id"].iloc[in_error], result["error"].iloc[in_error]):
        lines.append(f"  error in {notice_id or '(no id)'}: {error}")
    return "\n".join(lines)


SWEEP_DEFAULTS = {"security": "shares", "quantity": "1000", "affiliate": "false",
                  "opinion_of_counsel": "true", "company_advised": "true"}


def _cmd_sweep(args: argparse.Namespace) -> int:
    event = {**SWEEP_DEFAULTS, "notice_id": "sweep", "investor": args.investor, "route": args.route}
    for item in args.set or []:
        key, _, value = item.partition("=")
        event[key.strip()] = value.strip()
    event["sale_date"] = getattr(args, "from")
    days = sweep(event, load_agreement(args.agreement), getattr(args, "from"), args.to)
    if days.empty:
        print("no trading day in the range")
        return 2
    print(days.to_string(index=False))
    bands = sweep_bands(days)
    print("\nWindows:")
    for band in bands.itertuples():
        why = "" if band.outcome == "allow" else f"  ({band.failed_rules})"
        print(f"  {band.start} .. {band.end}  {band.outcome}{why}")
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    agreement = load_agreement(args.agreement)
    for rule in engine_for().rulebook.rules:
        cites = rule_citations(rule, agreement)
        print(f"{rule.id:36} {rule.title}")
        print(f"{'':36} cites: {'; '.join(cites)}   stops: {', '.join(rule.blocks) or 'nothing'}"
              f"{'   (against the Company)' if rule.against == 'company' else ''}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when the agreement directory is usable with the rulebook, 2 with every problem."""
    from .agreement_schema import AGREEMENT_FILE, validate_directory
    from .rulebook import load_rulebook

    cited = load_rulebook().clause_keys
    problems = validate_directory(args.directory, cited)
    path = Path(args.directory) / AGREEMENT_FILE
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {path}")
        return 2
    agreement = load_agreement(args.directory)
    print(f"OK: {path} ({agreement.issuer}, {len(agreement.clauses)} clauses; "
          f"all {len(cited)} clause keys the rulebook cites are mapped)")
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    """Which clauses the rules encode; the resale-relevant ones no rule encodes yet."""
    from .coverage import clause_coverage, format_coverage
    from .rulebook import load_rulebook

    print(format_coverage(clause_coverage(load_agreement(args.directory), load_rulebook())))
    return 0


def _cmd_log_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every record was checked and the chain is intact, every batch sealed (or
    predating seals) and the chain ends at ``--expect-head``; 1 naming what is not; 2 for a file
    that is not a log. The log key, when the log is keyed, comes from COMPLIANCE_LOG_KEY."""
    from .decision_log import log_key, verify
    result = verify(args.path, key=log_key(), expect_head=args.expect_head)
    print(result)
    return 0 if result.ok else 1


def _cmd_log_head(args: argparse.Namespace) -> int:
    from .decision_log import head
    print(head(args.path))
    return 0


def _cmd_log_show(args: argparse.Namespace) -> int:
    from .decision_log import RECORD_COLUMNS, read_log
    frame = read_log(args.path, notice=args.notice, since=args.since)
    if args.json:
        print(json.dumps(frame[list(RECORD_COLUMNS)].to_dict("records"), indent=2, default=str))
    elif frame.empty:
        print("no records")
    else:
        shown = frame[["seq", "recorded_at", "notice_id", "outcome", "failed_rules", "earliest_allowed_date",
                       "delivery_date", "rulebook_fingerprint", "agreement_fingerprint", "batch_state"]].copy()
        for column in ("rulebook_fingerprint", "agreement_fingerprint"):
            shown[column] = shown[column].str[:12]
        print(shown.to_string(index=False))
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    """Exit 0 when every replayed decision is unchanged, 1 when any differs or cannot be replayed
    (the records of incomplete batches are left out, and counted, not judged)."""
    from .decision_log import replay
    result = replay(args.path, args.agreement, rules_dir=args.rules_dir)
    print(result.report())
    return 0 if result.ok else 1


def _add_log_commands(sub) -> None:
    p = sub.add_parser("log", help="the decision log: verify its hash chain, print its head, show its records")
    log = p.add_subparsers(dest="log_command", required=True)
    q = log.add_parser("verify", help="check the hash chain, the batches' seals and (with COMPLIANCE_LOG_KEY) "
                                      "its key; exit 1 naming what is wrong")
    q.add_argument("path")
    q.add_argument("--expect-head", metavar="HASH",
                   help="fail unless the chain ends at this record hash (as 'compliance log head' printed it)")
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
    p = sub.add_parser("replay", help="re-evaluate every recorded event with the current rules; "
                                      "exit 1 when any decision now differs (incomplete batches left out)")
    p.add_argument("path")
    p.add_argument("--agreement", help="agreement directory to use instead of each record's own")
    p.add_argument("--rules-dir", help="rules directory (default: the bundled rules/)")
    p.set_defaults(run=_cmd_replay)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compliance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="judge one sale event given as JSON (text, a file, or - for stdin)")
    p.add_argument("event")
    p.add_argument("--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)")
    p.add_argument("--record", metavar="PATH", help="append the decision to this decision log (SQLite)")
    p.set_defaults(run=_cmd_check)
    p = sub.add_parser("review", help="review a CSV or Parquet file of sale notices")
    p.add_argument("notices")
    p.add_argument("--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)")
    p.add_argument("-o", "--output", help="write the decisions to OUT.csv, OUT.json or OUT.parquet")
    p.add_argument("--record", metavar="PATH", help="append every decision to this decision log (SQLite)")
    p.add_argument("--workers", type=_positive, metavar="N",
                   help="threads the review may use (default: one per core, at most 4; the answers are the same)")
    p.add_argument("--extra-columns", choices=["refuse", "keep"], default="refuse",
                   help="a column that is not an input field: refuse the file (default), or keep it, "
                        "unread, after the output columns")
    p.set_defaults(run=_cmd_review)
    p = sub.add_parser("sweep", help="the decision on every trading day of a range (all else equal)")
    p.add_argument("--investor", required=True)
    p.add_argument("--route", required=True, choices=["registration_statement", "rule_144", "other_exemption"])
    p.add_argument("--from", required=True, metavar="DATE")
    p.add_argument("--to", required=True, metavar="DATE")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="any other input field (defaults: " + ", ".join(f"{k}={v}" for k, v in SWEEP_DEFAULTS.items()) + ")")
    p.add_argument("--agreement", help="agreement directory or bundled agreement name (default: fixtures/default.yaml)")
    p.set_defaults(run=_cmd_sweep)
    p = sub.add_parser("rules", help="list every rule with its citations")
    p.add_argument("--agreement", help="agreement directory whose section numbers to show")
    p.set_defaults(run=_cmd_rules)
    p = sub.add_parser("validate", help="check an agreement directory against the agreement-file "
                                        "schema and the clause keys the rulebook cites")
    p.add_argument("directory")
    p.set_defaults(run=_cmd_validate)
    p = sub.add_parser("coverage", help="which clauses of an agreement the rules encode, and which "
                                        "resale-relevant clauses no rule encodes yet")
    p.add_argument("directory")
    p.set_defaults(run=_cmd_coverage)
    _add_log_commands(sub)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ReviewError, AgreementError, RulebookError, LogError, OSError) as exc:
        print(f"compliance {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
