"""``compliance capacity`` (the most shares that may be sold on a day) and ``compliance plan``
(the fastest sell-down of a whole position)."""

from __future__ import annotations

import argparse
from pathlib import Path

from compliance.cli.errors import CommandError
from compliance.cli.events import history, holding_event
from compliance.cli.outputs import write_decisions
from compliance.cli.terminal import printable_frame
from compliance.deal.agreement import load_agreement
from compliance.running.capacity import capacity
from compliance.running.plan import plan
from compliance.views.output_safety import printable


def run_capacity(args: argparse.Namespace) -> int:
    """Exit 0 when some shares may be sold, 1 when none."""
    agreement = load_agreement(args.agreement)
    found = capacity(holding_event(args, args.on), agreement, history(args, agreement))
    print(f"{printable(args.investor)} may sell {found.quantity:,} {args.security} on {args.on} by {args.route}")
    if found.binding_rules:
        print("One share more is stopped by:")
        for reason in found.reasons:
            print(f"  {printable(reason)}")
        print(f"Citations: {printable('; '.join(found.citations))}")
    return 0 if found.quantity > 0 else 1


def run_plan(args: argparse.Namespace) -> int:
    """Exit 0 when the whole position is sold by the end, 1 otherwise."""
    agreement = load_agreement(args.agreement)
    first = getattr(args, "from")
    if args.to is not None and args.to < first:
        raise CommandError(f"--to {args.to} is before --from {first}")
    steps = plan(holding_event(args, first), agreement, history(args, agreement), first, args.to)
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
        print(printable_frame(shown).to_string(index=False))
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
