"""``compliance sweep``: the same proposed sale judged on every trading day of a range, and the
windows of days with one outcome. It first prints the event it assumes and refuses one that is not
valid; when every day is denied, it names the rules that deny them all and the inputs they lacked."""

from __future__ import annotations

import argparse

from compliance.cli.defaults import SWEEP_DEFAULTS
from compliance.cli.errors import CommandError
from compliance.cli.events import history, with_settings
from compliance.cli.terminal import PhaseTicker, printable_frame
from compliance.contract.event import FIELDS, is_missing
from compliance.deal.agreement import load_agreement
from compliance.decision.findings import Decision
from compliance.rulebook.durable import engine_for
from compliance.running.check import check
from compliance.running.sweep import sweep, sweep_bands
from compliance.views.output_safety import printable

NOTICE_ID = "sweep"  # the notice_id of every day's event


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every trading day of the range is allowed (or the range has none), 1 when any
    is denied or in error, 2 for a range that ends before it starts or an event that is not valid (checked
    once, on the first day, before any day is judged)."""
    first, last = getattr(args, "from"), args.to
    if last < first:
        raise CommandError(f"--to {last} is before --from {first}")
    event, sources = assumed_event(args)
    print(f"Assumed event, judged with sale_date on each trading day from {first} to {last}:")
    for field, value in event.items():
        print(f"  {field} = {printable(value)}  ({sources[field]})")
    print()
    agreement = load_agreement(args.agreement)
    sales = history(args, agreement)
    on_first = {**event, "sale_date": first.isoformat()}
    with PhaseTicker(after_seconds=1.0) as ticker:
        days = sweep(on_first, agreement, first, last, history=sales, progress=ticker.tell)
    if days.empty:
        print("no trading day in the range")
        return 0
    print(printable_frame(days).to_string(index=False))
    print("\nWindows:")
    for band in sweep_bands(days).itertuples():
        why = "" if band.outcome == "allow" else f"  ({band.failed_rules})"
        print(f"  {band.start} .. {band.end}  {band.outcome}{why}")
    if (days["outcome"] == "allow").any():
        return 0 if (days["outcome"] == "allow").all() else 1
    every_day = set.intersection(*(set(filter(None, rules.split(";"))) for rules in days["failed_rules"]))
    if every_day:
        on_first_day = {**event, "sale_date": days["date"].iloc[0].isoformat()}
        print("\nDenied on every trading day of the range by:")
        for line in denial_lines(check(on_first_day, agreement, history=sales), every_day, on_first_day):
            print(line)
    return 1


def assumed_event(args: argparse.Namespace) -> tuple[dict, dict]:
    """The event the sweep judges (without its ``sale_date``) and where each field's value comes
    from: an option (``--investor``, ``--route``), ``(default)`` or ``--set``. Raises
    ``CommandError`` for ``--set sale_date``, which the sweep sets to each day of the range."""
    event = {"notice_id": NOTICE_ID, "investor": args.investor, "route": args.route, **SWEEP_DEFAULTS}
    sources = {"notice_id": "default", "investor": "--investor", "route": "--route"}
    sources.update(dict.fromkeys(SWEEP_DEFAULTS, "default"))
    settings = with_settings({}, args.set)
    if "sale_date" in settings:
        raise CommandError("--set sale_date: the sweep judges each trading day from --from to --to as the sale date")
    event.update(settings)
    sources.update(dict.fromkeys(settings, "--set"))
    return event, sources


def denial_lines(decision: Decision, rule_ids: set[str], event: dict) -> list[str]:
    """Each rule of ``rule_ids`` that denies ``decision``: its message, and for each input field
    among the facts it read that the event does not give, a hint to give it with ``--set`` (the
    values the rulebook's facts accept, less the one the missing field stood for)."""
    facts = engine_for().rulebook.facts
    lines = []
    for finding in decision.findings:
        if finding.rule not in rule_ids:
            continue
        lines.append(f"  {finding.rule}: {printable(finding.message)}")
        for field in finding.facts:
            if field in FIELDS and is_missing(event.get(field)):
                accepted = _accepted(facts[field], finding.facts[field])
                lines.append(f"    not given: {field}; try --set {field}={accepted}")
    return lines


def _accepted(fact: dict, missing_as) -> str:
    """The values a fact of the rulebook's vocabulary (``rules/facts.yaml``) takes, as a hint."""
    kind = fact["type"]
    if kind == "enum":
        return "|".join(v for v in fact["values"] if v != missing_as)
    return {"date": "YYYY-MM-DD", "boolean": "true|false", "integer": "N"}.get(kind, "VALUE")
