"""The registration statement on each sale date: effective, suspended, under a stop order,
within the registration period, and whether its prospectus is fresh under Securities Act Section
10(a)(3).
"""

from __future__ import annotations

import numpy as np

from compliance.deal.agreement import Agreement
from compliance.deal.periods import (
    add_months,
    first_day_window_start_reaches,
    window_start,
)
from compliance.facts.columns import NAT, Facts, NextChanges, in_windows

# Securities Act Section 10(a)(3): a prospectus used more than nine months after the effective
# date must carry information as of a date not more than sixteen months before its use.
PROSPECTUS_FRESHNESS_TRIGGER_MONTHS = 9


PROSPECTUS_INFORMATION_MAX_AGE_MONTHS = 16


def registration(t: np.ndarray, agreement: Agreement, changes: NextChanges) -> Facts:
    """The registration statement's state on each day (whether it covers the security is the
    event's; ``derive_facts`` adds it)."""
    rs = agreement.registration_statement
    if rs is None:
        return {}
    amended = np.array([e for e, _ in rs.post_effective_amendments], dtype="M8[D]")
    amended_info = np.array([i for _, i in rs.post_effective_amendments], dtype="M8[D]")
    changes.add_dates(amended, "prospectus_information_as_of")
    j = np.searchsorted(amended, t, side="right") - 1
    info = np.where(
        j >= 0, amended_info[np.maximum(j, 0)] if len(amended) else NAT, np.datetime64(rs.information_as_of, "D")
    )
    if rs.updated_by_incorporated_reports:
        # A statement on a form that incorporates the periodic reports (Form S-3) is brought up to
        # date by each report filed: its information is as of the time of use.
        info = t
    else:
        changes.add(
            first_day_window_start_reaches(info, PROSPECTUS_INFORMATION_MAX_AGE_MONTHS, strictly_after=True),
            "prospectus_information_as_of",
            "prospectus_oldest_permitted_information",
        )
    effective = np.datetime64(rs.effective_on, "D")
    return {
        "registration_effective_on": np.full(t.shape, effective),
        "registration_suspended": in_windows(rs.suspensions, t, changes, "registration_suspended"),
        "registration_stop_order": in_windows(rs.stop_orders, t, changes, "registration_stop_order"),
        "registration_period_ends_on": np.full(t.shape, np.datetime64(rs.registration_period_ends_on, "D")),
        "prospectus_update_required_after": np.full(
            t.shape, add_months(np.array([effective]), PROSPECTUS_FRESHNESS_TRIGGER_MONTHS)[0]
        ),
        "prospectus_information_as_of": info,
        "prospectus_oldest_permitted_information": window_start(t, PROSPECTUS_INFORMATION_MAX_AGE_MONTHS),
    }
