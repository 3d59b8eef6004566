"""``compliance sweep``: the same proposed sale judged on every trading day of a range, and the
windows of days with one outcome."""

from __future__ import annotations

import argparse

from compliance.cli.defaults import SWEEP_DEFAULTS
from compliance.cli.errors import CommandError
from compliance.cli.events import history, with_settings
from compliance.cli.terminal import printable_frame
from compliance.deal.agreement import load_agreement
from compliance.running.sweep import sweep, sweep_bands


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every trading day of the range is allowed (or the range has none), 1 when any
    is denied or in error, 2 for a range that ends before it starts."""
    first, last = getattr(args, "from"), args.to
    if last < first:
        raise CommandError(f"--to {last} is before --from {first}")
    event = with_settings(
        {**SWEEP_DEFAULTS, "notice_id": "sweep", "investor": args.investor, "route": args.route}, args.set
    )
    event["sale_date"] = first.isoformat()
    agreement = load_agreement(args.agreement)
    days = sweep(event, agreement, first, last, history=history(args, agreement))
    if days.empty:
        print("no trading day in the range")
        return 0
    print(printable_frame(days).to_string(index=False))
    bands = sweep_bands(days)
    print("\nWindows:")
    for band in bands.itertuples():
        why = "" if band.outcome == "allow" else f"  ({band.failed_rules})"
        print(f"  {band.start} .. {band.end}  {band.outcome}{why}")
    return 0 if (days["outcome"] == "allow").all() else 1
