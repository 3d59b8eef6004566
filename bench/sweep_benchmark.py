"""Time of ``compliance.sweep()`` over eight years (2002-01-01 .. 2009-12-31) of the bundled deal,
for each route: a proposed sale of 100,000 shares by Papell Holdings Limited, with an opinion of
counsel, the Company advised and a brokers' transaction, judged on every trading day.

Prints, per route, the trading days, the seconds of the fastest and the median of ``--repeat``
runs, and days per second at the median. ``--with-check`` also times the same days judged by a loop
of ``check()`` (one durable_rules evaluation and an earliest-date search per day) and says whether
every day's outcome and failing rules agree.

    PYTHONPATH=. python bench/sweep_benchmark.py [--repeat 5] [--with-check]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import compliance  # noqa: E402
from compliance.rulebook.durable import engine_for  # noqa: E402

START, END = "2002-01-01", "2009-12-31"
ROUTES = ("registration_statement", "rule_144", "other_exemption")


def proposed(route: str) -> dict:
    return {
        "notice_id": "sweep",
        "investor": "Papell Holdings Limited",
        "security": "shares",
        "quantity": 100000,
        "sale_date": START,
        "route": route,
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "brokers_transaction",
        "sale_price": 1.25,
    }


def timed(run, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = run(*args)
    return time.perf_counter() - started, result


def check_loop(event: dict, agreement, days) -> list[tuple[str, str]]:
    """Each day's outcome and failing rules from ``check()``."""
    answers = []
    for day in days:
        decision = compliance.check({**event, "sale_date": day.isoformat()}, agreement)
        answers.append((decision.outcome, ";".join(decision.failed_rules)))
    return answers


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per route (default 5)")
    parser.add_argument("--with-check", action="store_true", help="also time a loop of check() over the same days")
    args = parser.parse_args(argv)
    agreement = compliance.load_agreement()
    engine_for()  # the rulebook compiled before timing
    compliance.sweep(proposed("rule_144"), agreement, START, "2002-03-31")  # calendars and parameters loaded
    print(f"sweep {START} .. {END}, {args.repeat} runs per route")
    for route in ROUTES:
        event = proposed(route)
        runs = [timed(compliance.sweep, event, agreement, START, END) for _ in range(args.repeat)]
        seconds = [s for s, _ in runs]
        frame = runs[0][1]
        median = statistics.median(seconds)
        line = (
            f"{route:24} {len(frame):5,} trading days  best {min(seconds):6.3f} s  median {median:6.3f} s  "
            f"{len(frame) / median:9,.0f} days/s"
        )
        if args.with_check:
            loop_seconds, answers = timed(check_loop, event, agreement, frame["date"])
            swept = zip(frame["outcome"], frame["failed_rules"], strict=True)
            differ = sum(a != b for a, b in zip(answers, swept, strict=True))
            line += f"  | check() loop {loop_seconds:6.1f} s, {differ} days differ"
        print(line, flush=True)


if __name__ == "__main__":
    main()
