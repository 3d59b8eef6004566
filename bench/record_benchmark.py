"""Recording cost (issue 5): ``compliance.review()`` of 100,000 synthetic notices with and without
``record=`` (the decision log), both times and the overhead, which must stay at most 25%.

    PYTHONPATH=. python bench/record_benchmark.py [--n 100000] [--repeat 2] [--log PATH]

Each measurement is the best of ``--repeat`` runs; the recorded runs append to a fresh log each
time (deleted afterwards unless ``--log`` is given). The log is verified at the end.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import compliance  # noqa: E402
from compliance.decision_log import verify  # noqa: E402
from compliance.synthetic import synthetic_notices  # noqa: E402

TARGET = 25.0


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--log", help="keep the log of the last recorded run here")
    args = parser.parse_args()

    notices = synthetic_notices(args.n, seed=1)
    agreement = compliance.load_agreement()
    compliance.review(notices.head(1000), agreement)          # warm up: compile the rulebook once
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(args.log) if args.log else Path(tmp) / "decisions.sqlite"
        plain, recorded = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            compliance.review(notices, agreement)
            plain.append(time.perf_counter() - start)
            fresh(log)
            start = time.perf_counter()
            compliance.review(notices, agreement, record=log)
            recorded.append(time.perf_counter() - start)
        check = verify(log)
        size = log.stat().st_size
    a, b = min(plain), min(recorded)
    overhead = 100 * (b - a) / a
    print(f"notices:                  {args.n:,}")
    print(f"review() without record:  {a:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in plain)})")
    print(f"review() with record=:    {b:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in recorded)})")
    print(f"recording overhead:       {overhead:6.1f} %   (target: at most {TARGET:.0f} %)")
    print(f"log: {size / 1e6:.1f} MB; verify: {check}")
    return 0 if overhead <= TARGET and check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
