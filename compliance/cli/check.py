"""``compliance check``: one sale event, given as JSON, judged and printed as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from compliance.cli.events import event_from_json, event_text, history
from compliance.deal.agreement import load_agreement
from compliance.decision.findings import Decision
from compliance.running.check import check


def decision_json(decision: Decision) -> dict:
    """The decision's output row with its findings (rule, status, message, facts, citations)."""
    row = decision.to_row()
    row["findings"] = [
        {"rule": f.rule, "status": f.status, "message": f.message, "facts": f.facts, "citations": list(f.citations)}
        for f in decision.findings
    ]
    return row


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the sale is allowed, 1 when denied or in error, 2 when the event is not JSON."""
    try:
        event = event_from_json(event_text(args.event))
    except ValueError as exc:
        print(f"compliance check: {exc}", file=sys.stderr)
        return 2
    agreement = load_agreement(args.agreement)
    decision = check(event, agreement, record=args.record, history=history(args, agreement))
    print(json.dumps(decision_json(decision), indent=2, default=str))
    return 0 if decision.outcome == "allow" else 1
