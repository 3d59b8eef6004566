"""Time of ``compliance.plan()``: the fastest sell-down of every investor's shares and warrant
shares of both bundled fixtures, by Rule 144 (affiliate and not) and by the registration
statement, from each agreement's closing date. The longest, an affiliate of the Harbor fixture
held to the volume limit, spans close to two years.

Prints each plan's time, steps and span, and the slowest and total times. (Warrant shares without
an exercise recorded cannot be sold: their plans stop at once, with the reason.)

    PYTHONPATH=. python bench/plan_benchmark.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import compliance  # noqa: E402
from compliance.rulebook.durable import engine_for  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = (("rule_144", True), ("rule_144", False), ("registration_statement", False))


def event(investor: str, security: str, route: str, affiliate: bool, day) -> dict:
    return {
        "investor": investor,
        "security": security,
        "route": route,
        "affiliate": affiliate,
        "sale_date": day.isoformat(),
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "brokers_transaction",
        "sale_price": 1.25,
    }


def timed(proposed: dict, agreement, history=None):
    started = time.perf_counter()
    steps = compliance.plan(proposed, agreement, history)
    return time.perf_counter() - started, steps


def describe(label: str, seconds: float, steps) -> str:
    span = f"{steps['sale_date'].iloc[0]} .. {steps['sale_date'].iloc[-1]}" if len(steps) else "no sale"
    return f"{seconds:7.3f} s  {len(steps):4d} steps  {span:24}  {label}"


def main() -> None:
    engine_for()  # the rulebook compiled before timing
    times = []
    for name in ("focus_enhancements", "harbor_2012"):
        agreement = compliance.load_agreement(FIXTURES / name)
        for investor in agreement.investors:
            for security in ("shares", "warrant_shares"):
                for route, affiliate in CASES:
                    proposed = event(investor, security, route, affiliate, agreement.closing_date)
                    seconds, steps = timed(proposed, agreement)
                    times.append(seconds)
                    label = f"{name}: {investor}, {security}, {route}{' (affiliate)' if affiliate else ''}"
                    print(describe(label, seconds, steps))
    print(f"\n{len(times)} plans: slowest {max(times):.3f} s, total {sum(times):.2f} s")


if __name__ == "__main__":
    main()
