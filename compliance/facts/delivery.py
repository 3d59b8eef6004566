"""Section 1(b)(ii)'s Delivery Date, counted in the agreement's business days, and how late the
shares were delivered.
"""

from __future__ import annotations

import numpy as np

from compliance.contract.event import Coded, EventColumns
from compliance.deal.agreement import Agreement
from compliance.facts.columns import NAT, Facts


def delivery(events: EventColumns, agreement: Agreement) -> Facts:
    """The Delivery Date: ``business_days`` after the business day on which the later of the
    notice of sale and the certificate was received (a non-business-day receipt counts from the
    next business day: numpy busday_offset(roll='forward') semantics)."""
    n = len(events)
    calendar = agreement.business_calendar
    received = np.maximum(events.notice_received_on, events.certificate_received_on)  # NaT if either is
    known = events.route.isin(agreement.delivery_routes) & ~np.isnat(received)
    deadline = np.full(n, NAT)
    deadline[known] = calendar.add_days_array(received[known], agreement.delivery_business_days)
    late = np.full(n, np.nan)
    delivered = known & ~np.isnat(events.delivered_on)
    late[delivered] = calendar.count_open_between_array(deadline[delivered], events.delivered_on[delivered])
    return {
        "delivery_business_days": np.full(n, agreement.delivery_business_days),
        "business_day_convention": Coded(np.zeros(n, np.int64), [agreement.business_day]),
        "delivered": ~np.isnat(events.delivered_on),
        "delivered_on": events.delivered_on,
        "delivery_date_known": known,
        "items_received_on": np.where(known, received, NAT),
        "delivery_date": deadline,
        "delivery_late_business_days": late,
    }
