"""The facts of one event in Python values, and when each next changes: what ``derive_facts``
gives for an event column of length one (``row(facts, 0)`` and ``NextChanges.of``), worked out
without numpy arrays of length one, for the pre-trade check and its earliest-date search.

The facts that depend on the sale date alone come from the same daily table
(``facts_of_the_day``). The others follow the modules that derive them for many events, function
by function, and cite the same law: ``holding_period`` (Rule 144(d)(1), (d)(3)(x), (k), (h)),
``volume`` (144(e)(1)), ``delivery`` (Sections 1(b)(ii) and 1(b)(iii)), ``prior_sales`` and
``three_month_aggregate`` (144(e), 144(h)). tests/test_one_event_facts.py holds the two equal on
random events, with and without a seller's history.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import date, timedelta
from typing import Any

import numpy as np

from compliance.contract.event import SaleEvent
from compliance.deal.agreement import Agreement
from compliance.deal.periods import add_months, first_day_window_start_reaches, period_satisfied_on
from compliance.facts.delivery import OWED, REGISTRATION_STATE
from compliance.facts.derive import facts_of_the_day, number
from compliance.facts.prior_sales import DECLARED_EXIT, WINDOW_EXITS, PriorSales
from compliance.facts.volume import AVERAGE_VOLUME
from compliance.kept import built_once
from compliance.rulebook.parameters import Rule144Parameters

ONE_DAY = timedelta(days=1)
# ``delivery_date_owed`` and the FAST participation judged on the DWAC day move together.
OWED_AND_FAST = (*OWED, "transfer_agent_in_fast")


class EventChanges:
    """One event's next changes by source: the facts a source moves, and the first day after the
    sale date on which it moves them (None: never). ``NextChanges`` for one event."""

    def __init__(self, sale_date: date, sources: dict[tuple[str, ...], date | None]):
        self.t, self.sources = sale_date, sources

    def add(self, facts: tuple[str, ...], *days: date | None) -> None:
        """A change of ``facts`` on the first of ``days`` after the sale date (None: no day)."""
        later = [d for d in days if d is not None and d > self.t]
        if later:
            known = self.sources.get(facts)
            self.sources[facts] = min(later) if known is None else min(known, *later)

    def of(self, names) -> date | None:
        """The first change of any of ``names``."""
        names = set(names)
        days = [d for facts, d in self.sources.items() if d is not None and not names.isdisjoint(facts)]
        return min(days) if days else None


def event_facts(
    event: SaleEvent, agreement: Agreement, params: Rule144Parameters, prior: PriorSales | None = None
) -> tuple[dict[str, Any], EventChanges]:
    """The facts of ``event`` on its sale date (Python values: date, int, float, bool, str; None
    where absent) and when each next changes. ``prior``: its earlier sales (length one)."""
    t = event.sale_date
    daily, in_force, sources = facts_of_the_day(agreement, params, t)
    changes = EventChanges(t, sources)
    investor = agreement.investors[event.investor]
    facts: dict[str, Any] = {
        "sale_date": t,
        "route": event.route,
        "security": event.security,
        "quantity": event.quantity,
        "affiliate": event.affiliate,
        "delivery": event.delivery,
        "opinion_of_counsel": event.opinion_of_counsel,
        "company_advised": event.company_advised,
        "manner_of_sale": "none" if event.manner_of_sale is None else event.manner_of_sale,
        **daily,
        "position_held": investor.shares if event.security == "shares" else investor.warrant_shares,
        "warrant_exercise_recorded": event.warrant_exercised_on is not None and event.warrant_exercise is not None,
        "warrant_exercised_on": event.warrant_exercised_on,
        "warrant_exercise": event.warrant_exercise,
        "warrant_issued_on": agreement.warrant_issued_on or None,
        "warrant_expires_on": agreement.warrant_expires_on or None,
        "warrant_cashless_permitted": agreement.warrant_cashless_permitted,
    }
    facts.update(_rule_144_dates(event, agreement, in_force, facts["holding_period_months"]))
    facts.update(_volume(event, agreement, in_force, changes, facts))
    if agreement.registration_statement is not None:
        facts["registration_covers_security"] = event.security in agreement.registration_statement.covers
    facts.update(_delivery(event, agreement, facts, changes))
    _count_earlier_sales(facts, changes, event, in_force, prior)
    return facts, changes


def _rule_144_dates(event: SaleEvent, agreement: Agreement, in_force: dict, months: int) -> dict[str, Any]:
    """Rule 144(d)(1): the holding period runs from full payment (the Closing for Shares; for
    Warrant Shares the warrant's issue on cashless exercise, 144(d)(3)(x), the exercise on cash
    exercise); 144(k): a non-affiliate's free resale; 144(h): the Form 144 given and its lapse. As
    ``holding_period.acquisition_date`` and ``holding_period.rule_144_dates``."""
    if event.security == "shares":
        acquired = agreement.closing_date
    elif event.warrant_exercise == "cashless":
        acquired = agreement.warrant_issued_on or None
    elif event.warrant_exercise == "cash":
        acquired = event.warrant_exercised_on
    else:
        acquired = None
    counting, filed = agreement.period_counting, event.form_144_filed_on
    return {
        "acquisition_date": acquired,
        "holding_period_satisfied_on": _satisfied_on(acquired, months, counting),
        "nonaffiliate_free_resale_on": _satisfied_on(acquired, in_force["nonaffiliate_free_resale_months"], counting),
        "form_144_filed": filed is not None,
        "form_144_filed_on": filed,
        "form_144_lapses_on": (
            None if filed is None else add_months(filed, in_force["form_144_validity_months"]) + ONE_DAY
        ),
    }


def _satisfied_on(start: date | None, months: int, counting: str) -> date | None:
    return None if start is None else period_satisfied_on(start, months, counting)


def _volume(
    event: SaleEvent, agreement: Agreement, in_force: dict, changes: EventChanges, facts: dict
) -> dict[str, Any]:
    """Rule 144(e)(1): the four weeks of (ii) are those before the filing of a Form 144 that
    supports the sale (filed by the sale date, not lapsed), else those before the sale; the limit
    is the greater of the limbs known. As ``volume.volume``."""
    t, filed, lapses = event.sale_date, event.form_144_filed_on, facts["form_144_lapses_on"]
    reference = filed if filed is not None and filed <= t < lapses else t
    changes.add(AVERAGE_VOLUME, filed, lapses)
    average = _average_weekly_volume(reference, in_force["volume_average_weeks"], agreement)
    limbs = [v for v in (facts["one_percent_of_outstanding"], average) if v is not None]
    return {
        "volume_reference_date": reference,
        "average_weekly_volume": average,
        "volume_limit": max(limbs) if limbs else None,
    }


def _average_weekly_volume(reference: date, weeks: int, agreement: Agreement) -> int | None:
    """``volume.average_weekly_volume`` of one reference day."""
    week_starts, week_volumes = built_once(_weekly_volume_lists, agreement)
    monday = reference - timedelta(days=reference.weekday())
    total = 0.0
    for k in range(1, weeks + 1):
        j = bisect_right(week_starts, monday - timedelta(weeks=k)) - 1
        if j < 0:
            return None
        total += week_volumes[j]
    average = total / weeks
    return number(float(math.floor(average)) if math.isfinite(average) else average)


def _weekly_volume_lists(agreement: Agreement) -> tuple[list[date], list[float]]:
    return [d for d, _ in agreement.weekly_volume], [float(v) for _, v in agreement.weekly_volume]


def _before(a: date | None, b: date | None) -> bool:
    return a is not None and b is not None and a < b


def _on_or_before(a: date | None, b: date | None) -> bool:
    return a is not None and b is not None and a <= b


def _day_after(day: date | None) -> date | None:
    return None if day is None else day + ONE_DAY


def _delivery(event: SaleEvent, agreement: Agreement, facts: dict, changes: EventChanges) -> dict[str, Any]:
    """Section 1(b)(ii): a Delivery Date only for a sale under the registration statement that is
    effective and current at the time of sale, the agreement's business days (three in Section
    1(b)(ii)) after the later of the notice and the certificate is received;
    Section 1(b)(iii): FAST participation on the day a DWAC delivery would be made. As
    ``delivery.delivery_date_owed`` and ``delivery.delivery``."""
    t = event.sale_date
    routed = event.route in agreement.delivery_routes
    owed = False
    if agreement.registration_statement is not None:
        # Securities Act Section 10(a)(3), as ``delivery.delivery_date_owed`` reads it
        stale = _before(facts["prospectus_update_required_after"], t) and _before(
            facts["prospectus_information_as_of"], facts["prospectus_oldest_permitted_information"]
        )
        owed = (
            routed
            and facts["registration_covers_security"]
            and _on_or_before(facts["registration_effective_on"], t)
            and not facts["registration_stop_order"]
            and not facts["registration_suspended"]
            and _on_or_before(t, facts["registration_period_ends_on"])
            and not stale
        )
        changes.add(
            OWED_AND_FAST,
            changes.of(REGISTRATION_STATE),
            facts["registration_effective_on"],
            _day_after(facts["registration_period_ends_on"]),
            _day_after(facts["prospectus_update_required_after"]),
        )
    notice, certificate = event.notice_received_on, event.certificate_received_on
    received = None if notice is None or certificate is None else max(notice, certificate)
    known = routed and received is not None
    deadline = late = None
    if owed and known:
        calendar = agreement.business_calendar
        deadline = calendar.add_days(received, agreement.delivery_business_days)
        if event.delivered_on is not None:
            late = calendar.count_open_between(deadline, calendar.roll_forward(event.delivered_on))
    dwac_day = deadline if deadline is not None else t
    return {
        "delivery_business_days": agreement.delivery_business_days,
        "business_day_convention": agreement.business_day,
        "delivered": event.delivered_on is not None,
        "delivered_on": event.delivered_on,
        "delivery_date_known": known,
        "delivery_date_owed": owed,
        "items_received_on": received if known else None,
        "delivery_date": deadline,
        "delivery_late_business_days": late,
        "dwac_delivery_on": dwac_day,
        "transfer_agent_in_fast": any(
            w.start <= dwac_day and (w.end is None or dwac_day <= w.end) for w in agreement.fast_participation
        ),
    }


def _count_earlier_sales(
    facts: dict, changes: EventChanges, event: SaleEvent, in_force: dict, prior: PriorSales | None
) -> None:
    """``prior_sales.count_earlier_sales``: the position still available, the three-month
    aggregate (``three_month_aggregate``) and the days earlier sales leave the window."""
    t, window_from, months = event.sale_date, facts["volume_window_starts_after"], in_force["aggregation_months"]
    sold, before, ledger, declared_on = 0, 0, None, t
    if prior is not None:
        sold, before, ledger = prior.sold.item(0), prior.before.item(0), prior.rule_144.get(event.investor)
        declared_on = t if prior.declared_on is None else prior.declared_on.item(0)
    shares_left, dollars_left, oldest = 0, 0.0, None
    if ledger is not None:
        dropped = min(int(ledger.dates.searchsorted(np.datetime64(window_from, "D"), side="right")), before)
        shares_left = ledger.shares.item(before) - ledger.shares.item(dropped)
        known = ledger.unknown.item(before) == ledger.unknown.item(dropped)
        dollars_left = ledger.dollars.item(before) - ledger.dollars.item(dropped) if known else math.nan
        oldest = ledger.dates.item(dropped) if before > dropped else None
    declared = event.prior_144_sales_3m if declared_on > window_from else 0
    price = math.nan if event.sale_price is None else event.sale_price
    facts["position_available"] = facts["position_held"] - sold
    facts["volume_aggregate_3m"] = event.quantity + declared + shares_left
    facts["amount_aggregate_3m_dollars"] = number(
        event.quantity * price + dollars_left + (math.nan if declared > 0 else 0.0)
    )
    changes.add(WINDOW_EXITS, _window_exit_day(oldest, months))
    changes.add(DECLARED_EXIT, _window_exit_day(declared_on, months) if declared > 0 else None)


def _window_exit_day(sold_on: date | None, months: int) -> date | None:
    """``prior_sales.window_exit_day`` of one sale day."""
    return None if sold_on is None else first_day_window_start_reaches(sold_on, months, strictly_after=False)
