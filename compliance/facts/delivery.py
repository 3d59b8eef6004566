"""Section 1(b)(ii)'s Delivery Date, counted in the agreement's business days, where the Company
owes one; how late the shares were delivered; and the day a DWAC delivery would be made, on
which the transfer agent's DTC FAST participation is judged (Section 1(b)(iii)).
"""

from __future__ import annotations

import numpy as np

from compliance.contract.event import Coded, EventColumns
from compliance.deal.agreement import Agreement
from compliance.deal.periods import ONE_DAY
from compliance.facts.columns import NAT, Facts, NextChanges, in_windows

# The registration facts whose changes move ``delivery_date_owed`` (besides the dates compared
# with the sale date, added where it is derived).
REGISTRATION_STATE = (
    "registration_suspended",
    "registration_stop_order",
    "prospectus_information_as_of",
    "prospectus_oldest_permitted_information",
)
OWED = ("delivery_date_owed", "delivery_date", "delivery_late_business_days", "dwac_delivery_on")


def delivery_date_owed(events: EventColumns, agreement: Agreement, facts: Facts, changes: NextChanges) -> np.ndarray:
    """Whether the Company owes a Delivery Date for each sale. Section 1(b)(ii)'s proviso: only
    for a sale under the registration statement which "at the time of sale has been declared
    effective ... and is current".

    Convention: on the sale date the statement covers the security, was declared effective on or
    before it, is under no stop order, has no suspension of use in force, is within the
    registration period, and its prospectus is fresh under Securities Act Section 10(a)(3) (used
    after nine months from effectiveness, information not older than sixteen months): the same
    facts the registration rules read. Every other sale is owed none, whatever else denies it."""
    t = facts["sale_date"]
    n = len(events)
    if agreement.registration_statement is None:
        return np.zeros(n, dtype=bool)
    stale = (t > facts["prospectus_update_required_after"]) & (
        facts["prospectus_information_as_of"] < facts["prospectus_oldest_permitted_information"]
    )
    owed = (
        events.route.isin(agreement.delivery_routes)
        & facts["registration_covers_security"]
        & (t >= facts["registration_effective_on"])
        & ~facts["registration_stop_order"]
        & ~facts["registration_suspended"]
        & (t <= facts["registration_period_ends_on"])
        & ~stale
    )
    boundaries = (
        changes.of(REGISTRATION_STATE),
        facts["registration_effective_on"],
        facts["registration_period_ends_on"] + ONE_DAY,
        facts["prospectus_update_required_after"] + ONE_DAY,
    )
    changes.add(np.array(boundaries), *OWED, "transfer_agent_in_fast")
    return owed


def delivery(events: EventColumns, agreement: Agreement, facts: Facts, changes: NextChanges) -> Facts:
    """The Delivery Date where owed: ``business_days`` after the business day on which the later
    of the notice of sale and the certificate was received (a non-business-day receipt counts
    from the next business day: numpy busday_offset(roll='forward') semantics). A delivery after
    it is late by the business days from the Delivery Date to the first business day on or after
    the delivery (Delivery Date Fri 2002-11-08, delivered Mon 2002-11-11, Veterans Day, not a
    Federal Reserve business day: 1; Delivery Date Thursday, delivered Saturday: 2)."""
    n = len(events)
    calendar = agreement.business_calendar
    received = np.maximum(events.notice_received_on, events.certificate_received_on)  # NaT if either is
    owed = delivery_date_owed(events, agreement, facts, changes)
    known = events.route.isin(agreement.delivery_routes) & ~np.isnat(received)
    dated = owed & known
    deadline = np.full(n, NAT)
    late = np.full(n, np.nan)
    if dated.any():  # the calendar is consulted only for sales with a Delivery Date
        deadline[dated] = calendar.add_days_array(received[dated], agreement.delivery_business_days)
        delivered = dated & ~np.isnat(events.delivered_on)
        late[delivered] = calendar.count_open_between_array(
            deadline[delivered], calendar.roll_forward_array(events.delivered_on[delivered])
        )
    # Section 1(b)(iii): DWAC replaces the certificates due by the Delivery Date; without one the
    # shares would go out on the sale date. FAST participation is judged on that day.
    dwac_day = np.where(dated, deadline, facts["sale_date"])
    in_fast = in_windows(agreement.fast_participation, dwac_day, None, "transfer_agent_in_fast")
    return {
        "delivery_business_days": np.full(n, agreement.delivery_business_days),
        "business_day_convention": Coded(np.zeros(n, np.int64), [agreement.business_day]),
        "delivered": ~np.isnat(events.delivered_on),
        "delivered_on": events.delivered_on,
        "delivery_date_known": known,
        "delivery_date_owed": owed,
        "items_received_on": np.where(known, received, NAT),
        "delivery_date": deadline,
        "delivery_late_business_days": late,
        "dwac_delivery_on": dwac_day,
        "transfer_agent_in_fast": in_fast,
    }
