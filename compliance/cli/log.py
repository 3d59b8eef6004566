"""``compliance log verify | head | show`` (the decision log's chain, head and records) and
``compliance replay`` (every recorded event judged again with the current rules)."""

from __future__ import annotations

import argparse
import json

from compliance.decision_log import RECORD_COLUMNS, head, log_key, read_log, verify

SHOWN_COLUMNS = [
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


def run_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every record was checked and the chain is intact, every batch sealed (or
    predating seals) and the chain ends at ``--expect-head``; 1 naming what is not; 2 for a file
    that is not a log. The log key, when the log is keyed, comes from COMPLIANCE_LOG_KEY."""
    result = verify(args.path, key=log_key(), expect_head=args.expect_head)
    print(result)
    return 0 if result.ok else 1


def run_head(args: argparse.Namespace) -> int:
    print(head(args.path))
    return 0


def run_show(args: argparse.Namespace) -> int:
    frame = read_log(args.path, notice=args.notice, since=args.since)
    if args.json:
        print(json.dumps(frame[list(RECORD_COLUMNS)].to_dict("records"), indent=2, default=str))
    elif frame.empty:
        print("no records")
    else:
        shown = frame[SHOWN_COLUMNS].copy()
        for column in ("rulebook_fingerprint", "agreement_fingerprint"):
            shown[column] = shown[column].str[:12]
        print(shown.to_string(index=False))
    return 0


def run_replay(args: argparse.Namespace) -> int:
    """Exit 0 when every replayed decision is unchanged, 1 when any differs or cannot be replayed
    (the records of incomplete batches are left out, and counted, not judged); 2 for an
    ``--agreement`` that cannot be loaded."""
    from compliance.deal.agreement import load_agreement
    from compliance.running.replay import replay

    if args.agreement is not None:
        load_agreement(args.agreement)  # an unusable --agreement: one error (exit 2), not one per record
    result = replay(args.path, args.agreement, rules_dir=args.rules_dir)
    print(result.report())
    return 0 if result.ok else 1
