"""Batch review at scale: speed, memory and agreement with check(), printed.

For each size (default 10,000, 100,000 and 1,000,000 notices) it writes a reproducible synthetic
notice file (``compliance.contract.synthetic``, seeded) to ``bench/data/`` and measures, in this one run:

- the I/O floor: pandas reading that CSV (as text) and writing a table of the output's shape, and
  the reading alone, best of three;
- the whole command, ``compliance review FILE -o OUT.csv``, as a child process, with its peak
  memory (max RSS) and its ratio to the I/O floor;
- the review step itself, ``compliance.review(frame)`` in this process: seconds and notices per
  second, earliest_allowed_date included, its ratio to the reading, the seconds of each phase it
  reports (parsing, judging, writing reasons) and the processor time it took (user, and system:
  mostly the kernel handing out fresh memory pages);
- the per-event durable_rules path, ``check()`` on a sample of the same rows: events per second,
  and the speed-up of the vectorized review over it;
- agreement: ``review()`` against the row-by-row reference (``check()`` in review order) on the
  first ``--agree`` rows of the largest file; prints the number of rows that differ (must be 0);
  then the same with every other of those rows given as the history of the rest.

    PYTHONPATH=. python bench/review_benchmark.py [--sizes 10000 100000 1000000] [--agree 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import compliance  # noqa: E402
from compliance.contract.notice_files import read_notices as read_notice_file  # noqa: E402
from compliance.contract.synthetic import synthetic_notices  # noqa: E402
from compliance.decision.findings import OUTPUT_COLUMNS  # noqa: E402
from compliance.running.review import reference_review  # noqa: E402

DATA = ROOT / "bench" / "data"


def notice_file(n: int) -> Path:
    path = DATA / f"notices_{n}.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        synthetic_notices(n, seed=n).to_csv(path, index=False)
    return path


def read_notices(path: Path) -> float:
    """Seconds it takes to read the notices, as the command reads them."""
    start = time.perf_counter()
    read_notice_file(path)
    return time.perf_counter() - start


def io_floor(path: Path, n: int) -> tuple[float, float]:
    """Seconds to read the notices and write an output-shaped table; and the best of three reads
    (the first read of a process also pays for its first use of that much memory)."""
    start = time.perf_counter()
    reads = [read_notices(path)]
    shaped = pd.DataFrame({c: ["x" * 20] * n for c in OUTPUT_COLUMNS})
    shaped.to_csv(DATA / "floor_out.csv", index=False)
    floor = time.perf_counter() - start
    reads += [read_notices(path), read_notices(path)]
    return floor, min(reads)


def whole_command(path: Path) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "compliance.cli", "review", str(path), "-o", str(DATA / "out.csv")],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mb


class Phases:
    """Wall seconds of each phase a review reports to its ``progress`` callback, by the phase's
    first word (``parsing``, ``judging``, ... ``writing``); phases the review does not report (those
    of groups of sellers judged in parallel) count in the one they run in."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.current, self.since = None, time.perf_counter()

    def started(self, text: str | None) -> None:
        """A phase starts (``text`` as the review tells it); None: the review has ended."""
        now = time.perf_counter()
        if self.current is not None:
            self.seconds[self.current] = self.seconds.get(self.current, 0.0) + now - self.since
        self.current, self.since = (text.split()[0] if text else None), now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.seconds.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--sample", type=int, default=2_000, help="rows timed through check()")
    parser.add_argument("--agree", type=int, default=100_000, help="rows compared with the reference (0: none)")
    args = parser.parse_args()
    agreement = compliance.load_agreement()
    compliance.review(synthetic_notices(50, seed=1), agreement)  # build engine and calendars first

    for n in args.sizes:
        path = notice_file(n)
        floor, read = io_floor(path, n)
        command, peak = whole_command(path)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        phases = Phases()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        result = compliance.review(frame, agreement, progress=phases.started)
        review_seconds = time.perf_counter() - start
        phases.started(None)
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        sample = frame.head(args.sample).to_dict("records")
        start = time.perf_counter()
        for event in sample:
            compliance.check({k: v for k, v in event.items() if v != ""}, agreement)
        per_event = len(sample) / (time.perf_counter() - start)
        mix = result["outcome"].value_counts().to_dict()
        print(f"n={n:,}  outcomes {mix}")
        print(
            f"  I/O floor (read CSV + write output-shaped CSV): {floor:.2f} s; reading alone (best of 3) {read:.2f} s"
        )
        print(
            f"  whole command: {command:.2f} s = {command / floor:.1f}x the I/O floor; "
            f"peak memory (max RSS of child processes so far) {peak:,.0f} MB"
        )
        print(
            f"  review step: {review_seconds:.2f} s = {n / review_seconds:,.0f} notices/s "
            f"= {review_seconds / read:.1f}x the reading ({phases}; "
            f"processor time {cpu_after.ru_utime - cpu.ru_utime:.2f} s user, "
            f"{cpu_after.ru_stime - cpu.ru_stime:.2f} s system)"
        )
        print(
            f"  check() per event (durable_rules path, {len(sample):,} rows): {per_event:,.0f} events/s; "
            f"review is {n / review_seconds / per_event:.1f}x faster per notice"
        )

    if not args.agree:
        return
    largest = notice_file(max(args.sizes))
    frame = pd.read_csv(largest, dtype=str, keep_default_na=False).head(args.agree)
    fast = compliance.review(frame, agreement).astype(str)
    slow = reference_review(frame, agreement).astype(str)
    differ = (fast != slow).any(axis=1).sum()
    print(f"agreement on {len(frame):,} rows of {largest.name}: {differ} rows differ from check() in order")
    # The same with a history: every other valid row taken as a completed sale, weighing on the rest.
    valid = frame[(fast["outcome"] != "error").to_numpy()]
    history = valid.iloc[::2][["investor", "security", "quantity", "sale_date", "route", "sale_price"]]
    proposed = frame.drop(index=history.index)
    fast = compliance.review(proposed, agreement, history=history).astype(str)
    slow = reference_review(proposed, agreement, history=history).astype(str)
    differ = (fast != slow).any(axis=1).sum()
    print(f"  with {len(history):,} of them as a history of the other {len(proposed):,}: {differ} rows differ")


if __name__ == "__main__":
    main()
