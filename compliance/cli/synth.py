"""``compliance synth``: a file of synthetic sale notices, reproducible from a seed, for trying
out and timing ``review`` (the generator the benchmarks use)."""

from __future__ import annotations

import argparse
from pathlib import Path

from compliance.cli.errors import CommandError
from compliance.cli.outputs import notices_output_problem, write_notices
from compliance.contract.synthetic import synthetic_notices
from compliance.deal.agreement import load_agreement
from compliance.views.output_safety import printable


def run(args: argparse.Namespace) -> int:
    """Exit 0 once the file is written; 2 for a negative seed or a file that cannot be written
    there (nothing is generated then)."""
    output = Path(args.output)
    if args.seed < 0:
        raise CommandError(f"--seed {args.seed}: must be a whole number of at least 0")
    if problem := notices_output_problem(output):
        raise CommandError(problem)
    agreement = load_agreement(args.agreement)
    write_notices(synthetic_notices(args.count, seed=args.seed, agreement=agreement), output)
    print(f"wrote {args.count} synthetic notices to {printable(args.output)} (seed {args.seed})")
    return 0
