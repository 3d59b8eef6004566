"""Latency of ``compliance.check()`` (median and 99th percentile over 10,000 varied events) next to
the cost of one bare durable_rules post of a trivial rule in the same run.

1. ``check()`` on N varied events (default 10,000) from a seeded random stream: every investor,
   Shares and Warrant Shares, every route, sale dates 2002-2009, quantities from 1 to beyond the
   largest position, affiliate / opinion / advance-notice flags, manner of sale, Form 144, price,
   delivery and receipts. Each call is timed on its own (perf_counter_ns); the engine and calendars
   are built before timing starts.
2. The same number of bare posts: a fresh ``durable.engine.Host``, one ruleset with one rule
   ``m.x > 0``, and per call ``assert_fact`` of ``{sid, x: 1}`` then ``delete_state`` of that sid.

Prints median and 99th percentile in microseconds for both, their ratios, the outcome mix, and how
many rule evaluations (durable_rules assert_fact calls) a ``check()`` made on average (a denied
event is evaluated again on candidate days to find its earliest allowed date), and where a
``check()``'s time goes on average: deriving the facts on the sale date, the durable_rules
evaluation, the earliest-date search (facts and scalar rules on each candidate day), composing the
explanation, and the rest (validation, parsing, set-up).

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 PYTHONPATH=. python bench/check_latency.py

(the two variables avoid a glibc malloc slowdown of durable_rules posts; see bench/memory_check.py).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import compliance  # noqa: E402
from compliance.rulebook.durable import engine_for  # noqa: E402
from compliance.running import check as check_module  # noqa: E402

INVESTORS = [
    "Stone Street Limited Partnership",
    "Folkinburg Investments",
    "Boat Basin Investments LLC",
    "Papell Holdings Limited",
]
ROUTES = ["registration_statement", "rule_144", "other_exemption"]
MANNERS = ["brokers_transaction", "market_maker", "riskless_principal", "other", None]
FIRST, SPAN = date(2002, 1, 1), (date(2009, 12, 31) - date(2002, 1, 1)).days


def varied_events(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    events = []
    for i in range(n):
        day = FIRST + timedelta(days=rng.randrange(SPAN))
        e = {
            "notice_id": f"L{i}",
            "investor": rng.choice(INVESTORS),
            "security": "warrant_shares" if rng.random() < 0.25 else "shares",
            "quantity": rng.choice([1, 400, 600, 5001, 50000, 100000, 380001, 1200000]),
            "sale_date": day.isoformat(),
            "route": rng.choice(ROUTES),
            "affiliate": rng.random() < 0.4,
            "opinion_of_counsel": rng.random() < 0.85,
            "company_advised": rng.random() < 0.85,
            "delivery": "dwac" if rng.random() < 0.25 else "certificate",
        }
        manner = rng.choice(MANNERS)
        if manner:
            e["manner_of_sale"] = manner
        if rng.random() < 0.7:
            e["form_144_filed_on"] = (day - timedelta(days=rng.choice([0, 0, 3]))).isoformat()
        if rng.random() < 0.6:
            e["sale_price"] = rng.choice([0.5, 1.1296, 2.75])
        if rng.random() < 0.2:
            e["prior_144_sales_3m"] = rng.choice([1000, 250000])
        if e["security"] == "warrant_shares" and rng.random() < 0.9:
            e["warrant_exercised_on"] = (date(2002, 1, 10) + timedelta(days=rng.randrange(1600))).isoformat()
            e["warrant_exercise"] = rng.choice(["cash", "cashless"])
        if rng.random() < 0.35:
            received = day + timedelta(days=rng.randrange(4))
            e["notice_received_at"] = received.isoformat() + "T17:45:00"
            e["certificate_received_at"] = (received - timedelta(days=1)).isoformat()
            if rng.random() < 0.7:
                e["delivered_at"] = (received + timedelta(days=rng.randrange(0, 10))).isoformat()
        events.append(e)
    return events


def summary(ns: np.ndarray) -> tuple[float, float]:
    us = ns / 1000
    return float(np.median(us)), float(np.percentile(us, 99))


class Split:
    """Nanoseconds spent in each part of ``check()``, by wrapping the functions ``check.py`` calls
    for it; facts derived inside the search count as search."""

    PARTS = {
        "event_facts": "facts",
        "compose": "explanation",
        "earliest_allowed_date": "search",
    }

    def __init__(self, engine):
        self.ns = Counter()
        self._searching = False
        self._wrapped = {name: getattr(check_module, name) for name in self.PARTS}
        for name, part in self.PARTS.items():
            setattr(check_module, name, self._timed(self._wrapped[name], part))
        engine.evaluate = self._timed(engine.evaluate, "engine")  # instance attribute

    def _timed(self, func, part):
        clock = time.perf_counter_ns

        def timed(*args, **kwargs):
            if self._searching:
                return func(*args, **kwargs)
            self._searching = part == "search"
            t0 = clock()
            try:
                return func(*args, **kwargs)
            finally:
                self.ns[part] += clock() - t0
                self._searching = False

        return timed

    def restore(self, engine):
        for name, func in self._wrapped.items():
            setattr(check_module, name, func)
        del engine.evaluate


def bare_posts(n: int) -> np.ndarray:
    from durable.engine import Host

    host = Host()
    name = f"bare_trivial_{os.getpid()}"
    host.set_rulesets({name: {"positive": {"all": [{"m": {"$gt": {"x": 0}}}], "run": lambda c: None}}})
    for sid in range(1, 101):  # warm-up, not timed
        host.assert_fact(name, {"sid": f"w{sid}", "x": 1})
        host.delete_state(name, f"w{sid}")
    times = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(n):
        sid = str(i + 1)
        t0 = clock()
        host.assert_fact(name, {"sid": sid, "x": 1})
        host.delete_state(name, sid)
        times[i] = clock() - t0
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=144)
    args = parser.parse_args(argv)

    print(
        f"MALLOC_MMAP_MAX_={os.environ.get('MALLOC_MMAP_MAX_', '(unset)')} "
        f"MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_', '(unset)')}"
    )
    agreement = compliance.load_agreement()
    events = varied_events(args.events, args.seed)
    for e in events[:20]:  # build the engine, calendars and caches before timing
        compliance.check(e, agreement)

    engine = engine_for()
    evaluations = [0]
    evaluate = engine.evaluate

    def counting(facts):
        evaluations[0] += 1
        return evaluate(facts)

    engine.evaluate = counting  # instance attribute: counts the durable_rules evaluations per check()
    split = Split(engine)

    outcomes: Counter[str] = Counter()
    times = np.empty(len(events), dtype=np.int64)
    clock = time.perf_counter_ns
    wall = time.perf_counter()
    for i, e in enumerate(events):
        t0 = clock()
        d = compliance.check(e, agreement)
        times[i] = clock() - t0
        outcomes[d.outcome] += 1
    wall = time.perf_counter() - wall
    split.restore(engine)

    bare = bare_posts(len(events))
    check_med, check_p99 = summary(times)
    bare_med, bare_p99 = summary(bare)
    judged = outcomes["allow"] + outcomes["deny"]
    print(
        f"events: {len(events):,}  outcomes: {dict(outcomes)}  "
        f"durable_rules evaluations per judged event: {evaluations[0] / max(judged, 1):.2f}"
    )
    print(f"{'':26}{'median us':>12}{'p99 us':>12}")
    print(f"{'check()':26}{check_med:>12.1f}{check_p99:>12.1f}")
    print(f"{'bare durable_rules post':26}{bare_med:>12.1f}{bare_p99:>12.1f}")
    print(f"{'ratio check()/bare':26}{check_med / bare_med:>12.1f}{check_p99 / bare_p99:>12.1f}")
    print(f"check() wall time {wall:.1f} s for {len(events):,} events")
    split.ns["other"] = int(times.sum()) - sum(split.ns.values())
    parts = ("facts", "engine", "search", "explanation", "other")
    print(
        "where a check() goes, mean us: "
        + "  ".join(f"{part} {split.ns[part] / len(events) / 1000:.1f}" for part in parts)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
