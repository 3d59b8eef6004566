"""Recording cost: ``compliance.review()`` of 100,000 synthetic notices with and without
``record=`` (the decision log), both times and the overhead, which must stay at most 25%; and the
recording step alone (``append_review`` of the reviewed result), in seconds per 100,000 decisions,
the figure that has to stay small as review() itself gets faster.

    PYTHONPATH=. python bench/record_benchmark.py [--n 100000] [--repeat 5] [--log PATH]

Each measurement is the best of ``--repeat`` runs, the three kinds taken in turn so that a slow
spell of the machine falls on all of them; every recorded run appends to a fresh log (deleted
afterwards unless ``--log`` is given). The log is verified at the end. The review itself moves by a
third from run to run on a shared two-core machine, so the overhead of two best times moves with
it; the recording step's share of the review (recording alone over the best review) is printed too,
and so is the median of the overheads of each round (its recorded run over its unrecorded run,
taken minutes apart at most), which a slow spell moves less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import compliance  # noqa: E402
from compliance.contract.synthetic import synthetic_notices  # noqa: E402
from compliance.decision_log import append_review, verify  # noqa: E402

TARGET = 25.0


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def runs(times: list[float], digits: int = 2) -> str:
    return ", ".join(f"{t:.{digits}f}" for t in times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--log", help="keep the log of the last recorded run here")
    args = parser.parse_args()

    notices = synthetic_notices(args.n, seed=1)
    agreement = compliance.load_agreement()
    compliance.review(notices.head(1000), agreement)  # warm up: compile the rulebook once
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(args.log) if args.log else Path(tmp) / "decisions.sqlite"
        plain, recorded, alone = [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = compliance.review(notices, agreement)
            plain.append(time.perf_counter() - start)
            fresh(log)
            start = time.perf_counter()
            append_review(log, notices, result, agreement)
            alone.append(time.perf_counter() - start)
            fresh(log)
            start = time.perf_counter()
            compliance.review(notices, agreement, record=log)
            recorded.append(time.perf_counter() - start)
        check = verify(log)
        size = log.stat().st_size
    a, b, r = min(plain), min(recorded), min(alone)
    overhead = 100 * (b - a) / a
    print(f"notices:                  {args.n:,}")
    print(f"review() without record:  {a:7.2f} s   (runs: {runs(plain)})")
    print(f"review() with record=:    {b:7.2f} s   (runs: {runs(recorded)})")
    paired = sorted(100 * (r - p) / p for p, r in zip(plain, recorded, strict=True))
    print(f"recording overhead:       {overhead:6.1f} %   (target: at most {TARGET:.0f} %)")
    print(
        f"  per round:              {statistics.median(paired):6.1f} %   median "
        f"(rounds: {', '.join(f'{x:.0f}' for x in paired)} %)"
    )
    print(
        f"recording alone:          {r:7.3f} s   = {r * 100_000 / args.n:.3f} s per 100,000 decisions "
        f"(append_review of the reviewed result; runs: {runs(alone, 3)}), {100 * r / a:.1f} % of the review"
    )
    print(f"log: {size / 1e6:.1f} MB; verify: {check}")
    return 0 if overhead <= TARGET and check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
