"""Synthetic sale notices for benchmarks and equivalence tests: seeded, every route, investor and
security, sale dates 2002-2007, a realistic mix of allowed and denied, and a few bad rows.

The investors and their positions are read from an agreement (default: the default bundled one);
the notices are generated data, not records of any real sale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compliance.deal.agreement import load_agreement

FIRST_SALE = np.datetime64("2002-01-02")
LAST_SALE = np.datetime64("2007-12-31")


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days, unit="D").astype(object)


def synthetic_notices(n: int, seed: int = 0, bad_fraction: float = 0.001, agreement=None) -> pd.DataFrame:
    """``n`` notices as text columns (as read from a CSV), reproducible from ``seed``. Quantities
    shrink as ``n`` grows so that the notices together ask for about half the position, which
    keeps a mix of allowed and denied at any size."""
    agreement = agreement or load_agreement()
    investors = tuple(agreement.investors)
    position = sum(i.shares + i.warrant_shares for i in agreement.investors.values())
    rng = np.random.default_rng(seed)
    sizes = np.array([500, 2000, 10000, 50000, 120000, 400000])
    weights = np.array([0.15, 0.25, 0.25, 0.2, 0.1, 0.05])
    scale = min(1.0, 0.5 * position / (n * float(sizes @ weights)))
    span = int((LAST_SALE - FIRST_SALE).astype(int)) + 1
    sale = FIRST_SALE + rng.integers(0, span, n).astype("m8[D]")
    route = rng.choice(["registration_statement", "rule_144", "other_exemption"], n, p=[0.45, 0.45, 0.10])
    security = rng.choice(["shares", "warrant_shares"], n, p=[0.8, 0.2])
    warrant = security == "warrant_shares"
    exercised = np.datetime64("2002-01-16") + rng.integers(-20, 4 * 365 + 20, n).astype("m8[D]")
    exercised = np.minimum(exercised, sale)
    yes_no = lambda p: np.where(rng.random(n) < p, "true", "false").astype(object)  # noqa: E731
    receipt = sale + rng.integers(-2, 4, n).astype("m8[D]")
    times = rng.choice(["", "T09:30:00", "T18:45:00-04:00"], n)
    registered = route == "registration_statement"
    delivered = receipt + rng.integers(1, 9, n).astype("m8[D]")
    filed = sale + rng.integers(-15, 4, n).astype("m8[D]")
    frame = pd.DataFrame(
        {
            "notice_id": [f"S{seed}-{i}" for i in range(n)],
            "investor": rng.choice(np.array(investors, dtype=object), n),
            "security": security.astype(object),
            "quantity": np.maximum(1, np.round(rng.choice(sizes, n, p=weights) * scale))
            .astype(np.int64)
            .astype(str)
            .astype(object),
            "sale_date": _dates(sale),
            "route": route.astype(object),
            "affiliate": yes_no(0.2),
            "notice_received_at": np.where(registered, _dates(receipt) + times, ""),
            "certificate_received_at": np.where(registered, _dates(receipt), ""),
            "delivered_at": np.where(registered & (rng.random(n) < 0.5), _dates(delivered), ""),
            "delivery": rng.choice(["certificate", "dwac"], n, p=[0.7, 0.3]).astype(object),
            "opinion_of_counsel": yes_no(0.85),
            "company_advised": yes_no(0.9),
            "warrant_exercised_on": np.where(warrant & (rng.random(n) < 0.95), _dates(exercised), ""),
            "warrant_exercise": np.where(warrant, rng.choice(["cash", "cashless"], n), ""),
            "manner_of_sale": rng.choice(
                ["brokers_transaction", "market_maker", "riskless_principal", "other", ""],
                n,
                p=[0.6, 0.15, 0.1, 0.05, 0.1],
            ).astype(object),
            "form_144_filed_on": np.where(rng.random(n) < 0.8, _dates(filed), ""),
            "sale_price": np.round(rng.uniform(0.4, 3.0, n), 2).astype(str).astype(object),
            "prior_144_sales_3m": np.where(rng.random(n) < 0.1, "5000", ""),
        }
    )
    bad = np.flatnonzero(rng.random(n) < bad_fraction)
    for k, i in enumerate(bad):
        field, value = [
            ("sale_date", "2003-02-30"),
            ("quantity", "-5"),
            ("investor", "Nobody LLC"),
            ("affiliate", "maybe"),
        ][k % 4]
        frame.at[i, field] = value
    return frame
