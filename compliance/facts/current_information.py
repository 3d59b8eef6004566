"""Rule 144(c)(1): the periodic reports due in the look-back window and not filed by the sale
date (the agreement's ``late_reports``).
"""

from __future__ import annotations

import numpy as np

from compliance.contract.event import Coded
from compliance.deal.agreement import Agreement
from compliance.deal.periods import (
    ONE_DAY,
    first_day_window_start_reaches,
    window_start,
)
from compliance.facts.columns import NAT, Facts, NextChanges

LATE_REPORTS = ("late_periodic_reports", "late_periodic_report_list")


def current_information(agreement: Agreement, t: np.ndarray, lookback: np.ndarray, changes: NextChanges) -> Facts:
    """Periodic reports due in the look-back window (on or after the later of t less the
    look-back and the start of reporting, and before t) and not filed by t."""
    lookback = lookback.astype(np.int64)
    window_from = np.maximum(window_start(t, lookback), np.datetime64(agreement.reporting_since, "D"))
    count = np.zeros(t.shape, dtype=np.int64)
    listing = np.full(t.shape, "", dtype=object)
    for report in agreement.late_reports:
        due = np.datetime64(report.due_on, "D")
        filed = np.datetime64(report.filed_on, "D") if report.filed_on else NAT
        changes.add(due + ONE_DAY, *LATE_REPORTS)
        changes.add(first_day_window_start_reaches(np.full(t.shape, due), lookback, strictly_after=True), *LATE_REPORTS)
        changes.add(filed, *LATE_REPORTS)
        late = (window_from <= due) & (due < t) & (np.isnat(filed) | (filed > t))
        count += late
        text = (
            f"{report.form} for the period ended {report.period_end}, due {report.due_on}, "
            f"{report.filed_on or 'not filed'}"
        )
        listing = np.where(late, np.where(listing == "", text, listing + "; " + text), listing)
    return {
        "late_periodic_reports": count,
        "late_periodic_report_list": Coded.of(np.where(listing == "", "none", listing)),
    }
