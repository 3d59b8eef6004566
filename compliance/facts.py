"""Facts: everything the rules judge, derived from a sale event, the agreement and Rule 144's
parameters on a given sale date. Python computes dates, calendar answers and aggregates here;
it judges nothing (the rules in ``rules/`` do).

``derive_facts`` also returns the *change dates*: the days after the sale date on which a fact
could take another value without the event changing (a report filed, a suspension ending, a sale
leaving the three-month window, a new version of Rule 144). Between two change dates every fact is
constant except the date itself, which is what makes the earliest-allowed-date search exact
(``earliest.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .agreement import Agreement, Window
from .model import SaleEvent
from .parameters import Rule144Parameters
from .periods import DAY, add_months, first_day_window_start_reaches, period_satisfied_on, window_start

WEEK = timedelta(days=7)
# Securities Act Section 10(a)(3): a prospectus used more than nine months after the effective
# date must carry information as of a date not more than sixteen months before its use.
PROSPECTUS_FRESHNESS_TRIGGER_MONTHS = 9
PROSPECTUS_INFORMATION_MAX_AGE_MONTHS = 16


@dataclass(frozen=True)
class PriorSale:
    """An allowed sale earlier in the same review: it counts toward positions and aggregates."""
    investor: str
    security: str
    route: str
    sale_date: date
    quantity: int


def derive_facts(event: SaleEvent, agreement: Agreement, params: Rule144Parameters,
                 prior_sales: tuple[PriorSale, ...] = ()) -> tuple[dict[str, Any], set[date]]:
    """The facts of ``event`` on ``event.sale_date`` and the change dates after it."""
    t = event.sale_date
    changes: set[date] = set(params.versions)
    facts: dict[str, Any] = {
        "sale_date": t,
        "route": event.route,
        "security": event.security,
        "quantity": event.quantity,
        "affiliate": event.affiliate,
        "delivery": event.delivery,
        "opinion_of_counsel": event.opinion_of_counsel,
        "company_advised": event.company_advised,
        "manner_of_sale": event.manner_of_sale or "none",
        "regime": params.version_on(t).isoformat(),
        "sale_date_is_trading_day": agreement.trading_calendar.is_open(t),
        "closing_date": agreement.closing_date,
    }
    facts.update(_position(event, agreement, prior_sales))
    facts.update(_warrant(event, agreement))
    facts.update(_rule_144(event, agreement, params, prior_sales, changes))
    facts.update(_registration(event, agreement, changes))
    facts.update(_delivery(event, agreement))
    facts["transfer_agent_in_fast"] = _in_windows(agreement.fast_participation, t, changes)
    return facts, {d for d in changes if d > t}


def _in_windows(windows: tuple[Window, ...], day: date, changes: set[date]) -> bool:
    for w in windows:
        changes.add(w.start)
        if w.end is not None:
            changes.add(w.end + DAY)
    return any(w.contains(day) for w in windows)


def _position(event: SaleEvent, agreement: Agreement, prior_sales) -> dict[str, Any]:
    investor = agreement.investors[event.investor]
    held = getattr(investor, event.security)
    sold = sum(s.quantity for s in prior_sales
               if s.investor == event.investor and s.security == event.security)
    return {"position_held": held, "position_available": held - sold}


def _warrant(event: SaleEvent, agreement: Agreement) -> dict[str, Any]:
    return {
        "warrant_exercise_recorded": event.warrant_exercised_on is not None and event.warrant_exercise is not None,
        "warrant_exercised_on": event.warrant_exercised_on,
        "warrant_exercise": event.warrant_exercise,
        "warrant_issued_on": agreement.warrant_issued_on,
        "warrant_expires_on": agreement.warrant_expires_on,
        "warrant_cashless_permitted": agreement.warrant_cashless_permitted,
    }


def acquisition_date(event: SaleEvent, agreement: Agreement) -> date | None:
    """Start of the holding period (144(d)(1)): full payment at the Closing for Shares; for
    Warrant Shares the warrant's issue date on cashless exercise (tacking, 144(d)(3)(x)) and the
    exercise date on cash exercise (a new investment decision and payment)."""
    if event.security == "shares":
        return agreement.closing_date
    if event.warrant_exercise == "cashless":
        return agreement.warrant_issued_on
    if event.warrant_exercise == "cash":
        return event.warrant_exercised_on
    return None


def _rule_144(event: SaleEvent, agreement: Agreement, params: Rule144Parameters,
              prior_sales, changes: set[date]) -> dict[str, Any]:
    t = event.sale_date
    p = lambda name: params.value(name, t)  # noqa: E731 — the value in force on the sale date
    facts: dict[str, Any] = {}

    qualifies_on = agreement.reporting_since + timedelta(days=p("current_information_min_reporting_days"))
    facts["issuer_reporting_qualifies_on"] = qualifies_on
    reporting = t >= qualifies_on
    months = p("holding_period_months_reporting_issuer" if reporting else "holding_period_months_non_reporting_issuer")
    facts["holding_period_months"] = months
    acquired = acquisition_date(event, agreement)
    facts["acquisition_date"] = acquired
    if acquired is not None:
        facts["holding_period_satisfied_on"] = period_satisfied_on(acquired, months, agreement.period_counting)
        facts["nonaffiliate_free_resale_on"] = period_satisfied_on(
            acquired, p("nonaffiliate_free_resale_months"), agreement.period_counting)

    facts.update(_current_information(agreement, t, p("current_information_lookback_months"), changes))
    facts.update(_volume(event, agreement, params, prior_sales, changes))
    facts["form_144_filed"] = event.form_144_filed_on is not None
    facts["form_144_filed_on"] = event.form_144_filed_on
    return facts


def _current_information(agreement: Agreement, t: date, lookback_months: int, changes: set[date]) -> dict[str, Any]:
    """Periodic reports due in the look-back window (on or after the later of t less the
    look-back and the start of reporting, and before t) and not filed by t."""
    window_from = max(window_start(t, lookback_months), agreement.reporting_since)
    late = []
    for report in agreement.late_reports:
        changes.add(report.due_on + DAY)
        changes.add(first_day_window_start_reaches(report.due_on, lookback_months, strictly_after=True))
        if report.filed_on is not None:
            changes.add(report.filed_on)
        if window_from <= report.due_on < t and (report.filed_on is None or report.filed_on > t):
            filed = report.filed_on.isoformat() if report.filed_on else "not filed"
            late.append(f"{report.form} for the period ended {report.period_end}, due {report.due_on}, {filed}")
    return {"late_periodic_reports": len(late), "late_periodic_report_list": "; ".join(late) or "none"}


def _volume(event: SaleEvent, agreement: Agreement, params: Rule144Parameters, prior_sales,
            changes: set[date]) -> dict[str, Any]:
    t = event.sale_date
    facts: dict[str, Any] = {}
    outstanding = [shares for reported_on, shares in agreement.shares_outstanding if reported_on <= t]
    changes.update(reported_on for reported_on, _ in agreement.shares_outstanding)
    facts["shares_outstanding"] = outstanding[-1] if outstanding else None
    pct = params.value("volume_percent_of_outstanding", t)
    facts["one_percent_of_outstanding"] = outstanding[-1] * pct // 100 if outstanding else None

    filed = event.form_144_filed_on
    reference = filed if filed is not None and filed <= t else t
    facts["volume_reference_date"] = reference
    weeks = params.value("volume_average_weeks", t)
    week_of_reference = reference - timedelta(days=reference.weekday())
    volumes = [_weekly_volume(agreement, week_of_reference - k * WEEK) for k in range(1, weeks + 1)]
    for weeks_from, _ in agreement.weekly_volume:
        changes.update(weeks_from + k * WEEK for k in range(0, weeks + 2))
    facts["average_weekly_volume"] = sum(volumes) // weeks if None not in volumes else None
    limbs = [v for v in (facts["one_percent_of_outstanding"], facts["average_weekly_volume"]) if v is not None]
    facts["volume_limit"] = max(limbs) if limbs else None

    months = params.value("aggregation_months", t)
    window_from = window_start(t, months)
    in_window = 0
    for sale in prior_sales:
        if sale.investor == event.investor and sale.route == "rule_144":
            changes.add(first_day_window_start_reaches(sale.sale_date, months, strictly_after=False))
            if window_from < sale.sale_date <= t:
                in_window += sale.quantity
    aggregate = event.quantity + event.prior_144_sales_3m + in_window
    facts["volume_aggregate_3m"] = aggregate
    facts["amount_aggregate_3m_dollars"] = aggregate * event.sale_price if event.sale_price else None
    return facts


def _weekly_volume(agreement: Agreement, monday: date) -> int | None:
    known = [shares for weeks_from, shares in agreement.weekly_volume if weeks_from <= monday]
    return known[-1] if known else None


def _registration(event: SaleEvent, agreement: Agreement, changes: set[date]) -> dict[str, Any]:
    rs = agreement.registration_statement
    if rs is None:
        return {}
    t = event.sale_date
    info = rs.information_as_of
    for effective_on, information_as_of in rs.post_effective_amendments:
        changes.add(effective_on)
        if effective_on <= t:
            info = information_as_of
    changes.add(first_day_window_start_reaches(info, PROSPECTUS_INFORMATION_MAX_AGE_MONTHS, strictly_after=True))
    return {
        "registration_covers_security": event.security in rs.covers,
        "registration_effective_on": rs.effective_on,
        "registration_suspended": _in_windows(rs.suspensions, t, changes),
        "registration_stop_order": _in_windows(rs.stop_orders, t, changes),
        "registration_period_ends_on": rs.registration_period_ends_on,
        "prospectus_update_required_after": add_months(rs.effective_on, PROSPECTUS_FRESHNESS_TRIGGER_MONTHS),
        "prospectus_information_as_of": info,
        "prospectus_oldest_permitted_information": window_start(t, PROSPECTUS_INFORMATION_MAX_AGE_MONTHS),
    }


def _delivery(event: SaleEvent, agreement: Agreement) -> dict[str, Any]:
    """The Delivery Date: ``business_days`` after the business day on which the later of the
    notice of sale and the certificate was received (a non-business-day receipt counts from the
    next business day: numpy busday_offset(roll='forward') semantics)."""
    calendar = agreement.business_calendar
    facts: dict[str, Any] = {
        "delivery_business_days": agreement.delivery_business_days,
        "business_day_convention": agreement.business_day,
        "delivered": event.delivered_on is not None,
        "delivered_on": event.delivered_on,
    }
    received = (event.notice_received_on, event.certificate_received_on)
    covered = event.route in agreement.delivery_routes
    facts["delivery_date_known"] = covered and None not in received
    if facts["delivery_date_known"]:
        facts["items_received_on"] = max(received)
        deadline = calendar.add_days(max(received), agreement.delivery_business_days)
        facts["delivery_date"] = deadline
        if event.delivered_on is not None:
            facts["delivery_late_business_days"] = calendar.count_open_between(deadline, event.delivered_on)
    return facts
