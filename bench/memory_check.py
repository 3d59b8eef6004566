"""Memory of many ``compliance.check()`` calls in one process: 200,000 calls must not grow memory
without bound.

Runs N ``check()`` calls (default 200,000) over varied events generated on the fly from a seeded
random stream (investor, security, route, sale date 2002-2009, quantity, flags, Form 144, price,
delivery), printing the resident set size (VmRSS of /proc/self/status; ru_maxrss where /proc is
missing) every ``--every`` calls, then the growth from the first checkpoint (the 20,000th call in a
full run) to the last. Exits 1 when the growth exceeds ``--limit-mb`` (default 50 MB).

With fewer calls than two checkpoints' worth (e.g. ``--calls 20000``), the checkpoint interval
drops to a tenth of the calls so that a growth is still measured.

glibc malloc advice, as measured on this project's machines: some processes run durable_rules posts at 150-250 us
instead of 30-45 us, and keep freed arenas mapped, because of glibc's dynamic mmap threshold;
pinning it removed the effect in every run tried. Run as

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 \\
        PYTHONPATH=. python bench/memory_check.py [--calls N]

The script prints whether the two variables are set; it does not set them itself (glibc reads
them at process start).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import compliance  # noqa: E402

INVESTORS = [
    "Stone Street Limited Partnership",
    "Folkinburg Investments",
    "Boat Basin Investments LLC",
    "Papell Holdings Limited",
]
ROUTES = ["registration_statement", "rule_144", "other_exemption"]
FIRST, SPAN = date(2002, 1, 1), (date(2009, 12, 31) - date(2002, 1, 1)).days


def event(rng: random.Random, i: int) -> dict:
    day = FIRST + timedelta(days=rng.randrange(SPAN))
    e = {
        "notice_id": f"M{i}",
        "investor": rng.choice(INVESTORS),
        "security": "warrant_shares" if rng.random() < 0.2 else "shares",
        "quantity": rng.choice([1, 500, 5001, 20000, 100000, 380001, 1500000]),
        "sale_date": day.isoformat(),
        "route": rng.choice(ROUTES),
        "affiliate": rng.random() < 0.4,
        "opinion_of_counsel": rng.random() < 0.85,
        "company_advised": rng.random() < 0.85,
        "manner_of_sale": rng.choice(["brokers_transaction", "market_maker", "riskless_principal", "other"]),
        "delivery": "dwac" if rng.random() < 0.2 else "certificate",
    }
    if rng.random() < 0.7:
        e["form_144_filed_on"] = (day - timedelta(days=rng.choice([0, 0, 2]))).isoformat()
    if rng.random() < 0.6:
        e["sale_price"] = rng.choice([0.75, 1.1296, 2.5])
    if e["security"] == "warrant_shares":
        e["warrant_exercised_on"] = (date(2002, 1, 16) + timedelta(days=rng.randrange(1500))).isoformat()
        e["warrant_exercise"] = rng.choice(["cash", "cashless"])
    if rng.random() < 0.3:
        received = day + timedelta(days=rng.randrange(3))
        e["notice_received_at"] = received.isoformat() + "T15:00:00"
        e["certificate_received_at"] = received.isoformat()
        e["delivered_at"] = (received + timedelta(days=rng.randrange(1, 10))).isoformat()
    if rng.random() < 0.02:
        e["quantity"] = "abc"  # a bad event now and then
    return e


def rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, Linux KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000, help="check() calls (default 200,000)")
    parser.add_argument("--every", type=int, default=20_000, help="calls between RSS readings")
    parser.add_argument("--limit-mb", type=float, default=50.0, help="allowed growth (default 50)")
    parser.add_argument("--seed", type=int, default=20020116)
    args = parser.parse_args(argv)
    every = args.every if args.calls >= 2 * args.every else max(1, args.calls // 10)

    print(
        f"MALLOC_MMAP_MAX_={os.environ.get('MALLOC_MMAP_MAX_', '(unset)')} "
        f"MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_', '(unset)')}"
    )
    agreement = compliance.load_agreement()
    rng = random.Random(args.seed)
    compliance.check(event(rng, -1), agreement)  # build the engine and calendars first
    print(f"after warm-up: RSS {rss_mb():.1f} MB; {args.calls:,} calls, reading every {every:,}")
    print(f"{'calls':>9} {'RSS MB':>8} {'us/call':>9} {'elapsed s':>10}")

    outcomes: Counter[str] = Counter()
    readings: list[tuple[int, float]] = []
    start = last = time.perf_counter()
    for i in range(1, args.calls + 1):
        outcomes[compliance.check(event(rng, i), agreement).outcome] += 1
        if i % every == 0 or i == args.calls:
            now = time.perf_counter()
            done = i - (readings[-1][0] if readings else 0)
            readings.append((i, rss_mb()))
            print(f"{i:>9,} {readings[-1][1]:>8.1f} {(now - last) / done * 1e6:>9.0f} {now - start:>10.1f}", flush=True)
            last = now

    (first_calls, first_rss), (last_calls, last_rss) = readings[0], readings[-1]
    growth = last_rss - first_rss
    print(f"outcomes: {dict(outcomes)}")
    print(
        f"RSS growth from call {first_calls:,} to call {last_calls:,}: {growth:+.1f} MB "
        f"(limit {args.limit_mb:.0f} MB); mean {(time.perf_counter() - start) / args.calls * 1e6:.0f} us/call"
    )
    if growth > args.limit_mb:
        print("FAIL: memory grows")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
