"""Rule 144(e)(1): the volume limit, the greater of 1% of the shares outstanding by the latest
report ((e)(1)(i)) and the average weekly reported volume over the four calendar weeks before the
Form 144 filing or the sale ((e)(1)(ii)); and where the three-month aggregation window starts.
The aggregate itself is ``three_month_aggregate``.
"""

from __future__ import annotations

import numpy as np

from compliance.contract.event import EventColumns
from compliance.deal.agreement import Agreement
from compliance.deal.periods import (
    ONE_DAY,
    window_start,
)
from compliance.facts.columns import Facts, NextChanges, per_distinct
from compliance.kept import built_once

AVERAGE_VOLUME = ("volume_reference_date", "average_weekly_volume", "volume_limit")


def outstanding(t: np.ndarray, agreement: Agreement, in_force: dict, changes: NextChanges) -> Facts:
    """Shares outstanding by the latest report on or before each day, 1% of them (144(e)(1)(i)),
    and the start of the three-month aggregation window."""
    reported = np.array([d for d, _ in agreement.shares_outstanding], dtype="M8[D]")
    shares = np.array([s for _, s in agreement.shares_outstanding], dtype=np.float64)
    changes.add_dates(reported, "shares_outstanding", "one_percent_of_outstanding", "volume_limit")
    i = np.searchsorted(reported, t, side="right") - 1
    outstanding = np.where(i >= 0, shares[np.maximum(i, 0)], np.nan)
    return {
        "shares_outstanding": outstanding,
        "one_percent_of_outstanding": np.floor(outstanding * in_force["volume_percent_of_outstanding"] / 100),
        "volume_window_starts_after": window_start(t, in_force["aggregation_months"].astype(np.int64)),
    }


def weekly_volumes(agreement: Agreement) -> tuple[np.ndarray, np.ndarray]:
    """The agreement's weekly volumes: each week's Monday (``datetime64[D]``, ascending) and its
    shares (float64)."""
    week_starts = np.array([d for d, _ in agreement.weekly_volume], dtype="M8[D]")
    return week_starts, np.array([v for _, v in agreement.weekly_volume], dtype=np.float64)


def average_weekly_volume(reference: np.ndarray, weeks: int, agreement: Agreement) -> np.ndarray:
    """The average weekly volume over the ``weeks`` whole Monday-Sunday weeks before the week of
    each reference day (144(e)(1)(ii)); NaN where a week has no data."""
    monday = reference - ((reference.astype(np.int64) + 3) % 7).astype("m8[D]")  # 1970-01-01 was a Thursday
    week_starts, week_volumes = built_once(weekly_volumes, agreement)
    earlier = monday[..., None] - 7 * np.arange(1, weeks + 1) * ONE_DAY  # the Mondays 1..weeks weeks before
    j = np.searchsorted(week_starts, earlier, side="right") - 1
    volumes = np.where(j >= 0, week_volumes[np.maximum(j, 0)] if len(week_volumes) else np.nan, np.nan)
    return np.floor(volumes.sum(axis=-1) / weeks)  # whole numbers of shares: exact in any order


def volume(
    events: EventColumns,
    agreement: Agreement,
    param,
    changes: NextChanges,
    one_percent: np.ndarray,
    form_144_lapses_on: np.ndarray,
) -> Facts:
    """The volume limit on each event's sale date. 144(e)(1)(ii)'s four weeks are those before the
    filing of a Form 144 that supports the sale (filed on or before the sale date and not lapsed),
    else those before the sale: a lapsed notice is no notice."""
    t = events.sale_date
    filed = events.form_144_filed_on
    supports = (filed <= t) & (t < form_144_lapses_on)  # False where NaT
    reference = np.where(supports, filed, t)
    # From the filing day the reference stops following t; from the lapse it follows t again.
    changes.add(np.array([filed, form_144_lapses_on]), *AVERAGE_VOLUME)
    weeks = param("volume_average_weeks").astype(np.int64)
    average = per_distinct(lambda days, w: average_weekly_volume(days, w, agreement), reference, weeks, np.nan)
    return {
        "volume_reference_date": reference,
        "average_weekly_volume": average,
        "volume_limit": np.fmax(one_percent, average),
    }
