"""Rule 144(d)(1): when the holding period starts and when it is met; 144(k) and 144(b)(1):
when a non-affiliate's resale is free; and the Form 144 filing the event reports and when it
lapses (144(h)).
"""

from __future__ import annotations

import numpy as np

from compliance.contract.event import EventColumns
from compliance.deal.agreement import Agreement
from compliance.deal.periods import (
    ONE_DAY,
    add_months,
    period_satisfied_on,
)
from compliance.facts.columns import NAT, Facts, NextChanges, per_distinct


def acquisition_date(events: EventColumns, agreement: Agreement) -> np.ndarray:
    """Start of the holding period (144(d)(1)): full payment at the Closing for Shares; for
    Warrant Shares the warrant's issue date on cashless exercise (tacking, 144(d)(3)(x)) and the
    exercise date on cash exercise (a new investment decision and payment)."""
    closing = np.datetime64(agreement.closing_date, "D")
    issued = np.datetime64(agreement.warrant_issued_on, "D") if agreement.warrant_issued_on else NAT
    return np.where(
        events.security == "shares",
        closing,
        np.where(
            events.warrant_exercise == "cashless",
            issued,
            np.where(events.warrant_exercise == "cash", events.warrant_exercised_on, NAT),
        ),
    )


def holding_period_months(t: np.ndarray, agreement: Agreement, in_force: dict, changes: NextChanges) -> Facts:
    """When the issuer's reporting history qualifies (144(c)(1)), and the holding period that
    applies on each day (144(d)(1): shorter for an issuer reporting that long, from 2008)."""
    min_days = in_force["current_information_min_reporting_days"].astype(np.int64)
    qualifies_on = np.datetime64(agreement.reporting_since, "D") + min_days.astype("m8[D]")
    changes.add(qualifies_on, "holding_period_months", "holding_period_satisfied_on")
    months = np.where(
        t >= qualifies_on,
        in_force["holding_period_months_reporting_issuer"],
        in_force["holding_period_months_non_reporting_issuer"],
    ).astype(np.int64)
    return {"issuer_reporting_qualifies_on": qualifies_on, "holding_period_months": months}


def form_144_lapses_on(filed_on: np.ndarray, validity_months: np.ndarray) -> np.ndarray:
    """The first day a Form 144 filed on each of ``filed_on`` no longer supports a sale: it
    supports sales from its filing day through the filing day plus ``validity_months`` calendar
    months (month-end clamped), and lapses the day after (filed 2003-02-03: good through
    2003-05-03, lapsed from 2003-05-04). NaT where no Form 144 is given."""
    return per_distinct(lambda day, m: add_months(day, m) + ONE_DAY, filed_on, validity_months)


def rule_144_dates(events: EventColumns, agreement: Agreement, param, months: np.ndarray) -> Facts:
    acquired = acquisition_date(events, agreement)
    satisfied = lambda start, m: period_satisfied_on(start, m, agreement.period_counting)  # noqa: E731
    return {
        "acquisition_date": acquired,
        "holding_period_satisfied_on": per_distinct(satisfied, acquired, months),
        "nonaffiliate_free_resale_on": per_distinct(
            satisfied, acquired, param("nonaffiliate_free_resale_months").astype(np.int64)
        ),
        "form_144_filed": ~np.isnat(events.form_144_filed_on),
        "form_144_filed_on": events.form_144_filed_on,
        "form_144_lapses_on": form_144_lapses_on(
            events.form_144_filed_on, param("form_144_validity_months").astype(np.int64)
        ),
    }
