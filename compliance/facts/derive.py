"""Facts: everything the rules judge, derived from sale events, the agreement and Rule 144's
parameters, for many events at once (numpy columns; one event is a column of length one).
Python computes dates, calendar answers and aggregates here; it judges nothing (``rules/`` does).

Column types: dates ``datetime64[D]`` (NaT = absent), counts and amounts ``float64`` where they
can be absent (NaN) else ``int64``, flags ``bool``, text ``model.Coded`` (codes into the distinct
values; None = absent).

``derive_facts`` also returns, per fact, each event's *next change* (``NextChanges``): the first
day after its sale date on which that fact could take another value without the event changing (a
report filed, a suspension ending, a sale leaving the three-month window, a new version of Rule
144), NaT if none. Between its changes a fact keeps its value, or (for the few facts that follow
the sale date itself) the conditions that read it keep their truth; that is what makes the
earliest-allowed-date search exact (``earliest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from compliance.contract.event import Coded, EventColumns
from compliance.deal.agreement import Agreement, Window
from compliance.deal.periods import (
    ONE_DAY,
    add_months,
    first_day_window_start_reaches,
    period_satisfied_on,
    window_start,
)
from compliance.facts.three_month_aggregate import WindowSales, three_month_aggregate
from compliance.rulebook.parameters import Rule144Parameters

NAT = np.datetime64("NaT", "D")
# Securities Act Section 10(a)(3): a prospectus used more than nine months after the effective
# date must carry information as of a date not more than sixteen months before its use.
PROSPECTUS_FRESHNESS_TRIGGER_MONTHS = 9
PROSPECTUS_INFORMATION_MAX_AGE_MONTHS = 16

Facts = dict[str, np.ndarray]
# What changes when an earlier sale leaves the three-month window: the aggregates can only fall.
WINDOW_EXITS = ("volume_aggregate_3m", "amount_aggregate_3m_dollars")
LATE_REPORTS = ("late_periodic_reports", "late_periodic_report_list")
AVERAGE_VOLUME = ("volume_reference_date", "average_weekly_volume", "volume_limit")


def parameters_in_force(params: Rule144Parameters) -> tuple[str, ...]:
    """The Rule 144 parameters the facts are computed from (the ``parameters`` of facts.yaml); the
    rules read the others through ``regime``."""
    return tuple(params.facts_from)


def parameter_dependent(params: Rule144Parameters) -> tuple[str, ...]:
    """The facts computed from a Rule 144 parameter (facts.yaml): they may change when a new
    version comes into force."""
    return tuple(dict.fromkeys(name for names in params.facts_from.values() for name in names))


@dataclass(frozen=True)
class PriorSales:
    """For each event, the allowed sales that come before it in the same review.

    ``sold``: shares of the event's investor and security already sold (int64, per event).
    ``rule_144``: per investor, the dates (ascending) and cumulative quantities (length + 1) of
    its allowed Rule 144 sales, in review order; ``before``: how many of them precede each event.
    """

    sold: np.ndarray
    rule_144: dict[str, tuple[np.ndarray, np.ndarray]]
    before: np.ndarray

    @classmethod
    def none(cls, n: int) -> PriorSales:
        return cls(np.zeros(n, np.int64), {}, np.zeros(n, np.int64))

    def take(self, rows) -> PriorSales:
        return PriorSales(self.sold[rows], self.rule_144, self.before[rows])


class NextChanges:
    """For each event, per fact, the first day after its sale date on which that fact could take
    another value with the event unchanged (NaT: never). Recorded by source, each source naming
    the facts it moves; a fact no source names keeps its value whatever the sale date."""

    def __init__(self, sale_date: np.ndarray):
        self.t = sale_date
        self.sources: dict[tuple[str, ...], np.ndarray] = {}

    def add(self, days, *facts: str) -> None:
        """A change of ``facts`` on ``days`` (one per event, or one for all; NaT: none)."""
        days = np.broadcast_to(np.asarray(days, dtype="M8[D]"), self.t.shape)
        self._merge(facts, np.where(days > self.t, days, NAT))

    def add_dates(self, days, *facts: str) -> None:
        """A change of ``facts`` on each of ``days`` (the same dates for every event)."""
        days = np.unique(np.asarray(days, dtype="M8[D]"))
        if not len(days):
            return
        i = np.searchsorted(days, self.t, side="right")
        self._merge(facts, np.where(i < len(days), days[np.minimum(i, len(days) - 1)], NAT))

    def _merge(self, facts: tuple[str, ...], later: np.ndarray) -> None:
        known = self.sources.get(facts)
        self.sources[facts] = later if known is None else np.fmin(known, later)

    def postpone(self, facts: tuple[str, ...], rows: np.ndarray, days: np.ndarray) -> None:
        """Move the changes recorded as ``facts`` for ``rows`` (indices) to ``days`` (NaT: none):
        a caller has shown that the changes before those days cannot matter there."""
        if facts in self.sources:
            self.sources[facts][rows] = days

    def of(self, names) -> np.ndarray:
        """The first change of any of ``names``."""
        names = set(names)
        out = np.full(self.t.shape, NAT)
        for facts, days in self.sources.items():
            if names.intersection(facts):
                out = np.fmin(out, days)
        return out

    def take(self, rows) -> NextChanges:
        taken = NextChanges(self.t[rows])
        taken.sources = {facts: days[rows] for facts, days in self.sources.items()}
        return taken


def derive_facts(
    events: EventColumns, agreement: Agreement, params: Rule144Parameters, prior: PriorSales | None = None
) -> tuple[Facts, NextChanges]:
    """The facts of ``events`` on their sale dates, and when each fact next changes.

    Facts that depend on the sale date alone are derived once per calendar day of the events'
    span and looked up; the others per event (date arithmetic once per distinct value)."""
    t = events.sale_date
    days, at = _span(t)
    daily, in_force, daily_changes = _on_each_day(days, agreement, params)
    facts: Facts = {
        "sale_date": t,
        "route": events.route,
        "security": events.security,
        "quantity": events.quantity,
        "affiliate": events.affiliate,
        "delivery": events.delivery,
        "opinion_of_counsel": events.opinion_of_counsel,
        "company_advised": events.company_advised,
        "manner_of_sale": events.manner_of_sale.filled("none"),
        **{name: column[at] for name, column in daily.items()},
    }
    changes = daily_changes.take(at)
    param = lambda name: in_force[name][at]  # noqa: E731
    facts["position_held"] = _position_held(events, agreement)
    facts.update(_warrant(events, agreement))
    facts.update(_rule_144(events, agreement, param, facts["holding_period_months"]))
    facts.update(_volume(events, agreement, param, changes, facts["one_percent_of_outstanding"]))
    if agreement.registration_statement is not None:
        facts["registration_covers_security"] = events.security.isin(agreement.registration_statement.covers)
    facts.update(_delivery(events, agreement))
    count_earlier_sales(facts, changes, events, params, prior or PriorSales.none(len(events)))
    return facts, changes


def count_earlier_sales(
    facts: Facts, changes: NextChanges, events: EventColumns, params: Rule144Parameters, prior: PriorSales
) -> None:
    """Set in ``facts`` the facts that count the earlier allowed sales ``prior`` (see
    ``aggregates``), and in ``changes`` the day the oldest of them leaves each event's window.
    The other facts do not depend on earlier sales: a review derives them once and recounts."""
    counted, oldest = aggregates(events, facts["position_held"], prior, facts["volume_window_starts_after"])
    facts.update(counted)
    changes.add(window_exit_day(oldest, parameter_on(params, "aggregation_months", events.sale_date)), *WINDOW_EXITS)


def parameter_on(params: Rule144Parameters, name: str, days: np.ndarray) -> np.ndarray:
    """The value of a Rule 144 parameter in force on each of ``days``."""
    versions = np.array(params.versions, dtype="M8[D]")
    return np.array([params.value(name, v) for v in params.versions])[np.searchsorted(versions, days, side="right") - 1]


def window_exit_day(sold_on: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The first sale date whose ``months`` window no longer holds a sale made on ``sold_on``."""
    return _per_distinct(
        lambda day, m: first_day_window_start_reaches(day, m, strictly_after=False), sold_on, months.astype(np.int64)
    )


def _span(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every calendar day from the earliest to the latest of ``t``, and the index of each of ``t``
    in it."""
    if not len(t):
        return t, np.zeros(0, np.int64)
    first = t.min()
    return np.arange(first, t.max() + ONE_DAY), (t - first).astype(np.int64)


def _per_distinct(compute, days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``compute(days, months)`` (date arithmetic: a date column and a whole number of months)
    evaluated once per distinct (day, months) pair and spread back."""
    out = np.full(days.shape, NAT)
    for m in np.unique(months).tolist():
        rows = months == m
        codes, distinct = pd.factorize(days[rows].view(np.int64))
        out[rows] = compute(distinct.view("M8[D]"), m)[codes]
    return out


def _on_each_day(days: np.ndarray, agreement: Agreement, params: Rule144Parameters):
    """For each of ``days`` taken as the sale date: the facts that depend on it alone, the Rule
    144 parameters in force (by name), and the next changes of those facts."""
    changes = NextChanges(days)
    versions = np.array(params.versions, dtype="M8[D]")
    version = np.searchsorted(versions, days, side="right") - 1
    changes.add_dates(versions, "regime", *parameter_dependent(params))
    in_force = {name: parameter_on(params, name, days) for name in parameters_in_force(params)}
    weeks = max(int(params.value("volume_average_weeks", v)) for v in params.versions)
    # The average weekly volume moves with the week of its reference date.
    changes.add_dates(
        [start + 7 * k * ONE_DAY for start, _ in agreement.weekly_volume for k in range(weeks + 2)], *AVERAGE_VOLUME
    )
    facts: Facts = {
        "regime": Coded(version, [v.isoformat() for v in params.versions]),
        "sale_date_is_trading_day": agreement.trading_calendar.is_open_array(days),
        "closing_date": np.full(days.shape, np.datetime64(agreement.closing_date, "D")),
        "transfer_agent_in_fast": _in_windows(agreement.fast_participation, days, changes, "transfer_agent_in_fast"),
    }
    facts.update(_reporting(days, agreement, in_force, changes))
    facts.update(_current_information(agreement, days, in_force["current_information_lookback_months"], changes))
    facts.update(_outstanding(days, agreement, in_force, changes))
    facts.update(_registration(days, agreement, changes))
    return facts, in_force, changes


def _in_windows(windows: tuple[Window, ...], t: np.ndarray, changes: NextChanges, fact: str) -> np.ndarray:
    inside = np.zeros(t.shape, dtype=bool)
    for w in windows:
        start = np.datetime64(w.start, "D")
        changes.add(start, fact)
        end_ok = True
        if w.end is not None:
            end = np.datetime64(w.end, "D")
            changes.add(end + ONE_DAY, fact)
            end_ok = t <= end
        inside |= (t >= start) & end_ok
    return inside


def _position_held(events: EventColumns, agreement: Agreement) -> np.ndarray:
    codes, names = events.investor.codes, events.investor.distinct
    shares = np.array([agreement.investors[name].shares for name in names] + [0], dtype=np.int64)
    warrant_shares = np.array([agreement.investors[name].warrant_shares for name in names] + [0], dtype=np.int64)
    return np.where(events.security == "shares", shares[codes], warrant_shares[codes])


def _warrant(events: EventColumns, agreement: Agreement) -> Facts:
    n = len(events)
    as_day = lambda d: np.full(n, np.datetime64(d, "D") if d else NAT)  # noqa: E731
    return {
        "warrant_exercise_recorded": ~np.isnat(events.warrant_exercised_on) & (events.warrant_exercise != None),  # noqa: E711
        "warrant_exercised_on": events.warrant_exercised_on,
        "warrant_exercise": events.warrant_exercise,
        "warrant_issued_on": as_day(agreement.warrant_issued_on),
        "warrant_expires_on": as_day(agreement.warrant_expires_on),
        "warrant_cashless_permitted": np.full(n, agreement.warrant_cashless_permitted),
    }


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


def _reporting(t: np.ndarray, agreement: Agreement, in_force: dict, changes: NextChanges) -> Facts:
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


def _rule_144(events: EventColumns, agreement: Agreement, param, months: np.ndarray) -> Facts:
    acquired = acquisition_date(events, agreement)
    satisfied = lambda start, m: period_satisfied_on(start, m, agreement.period_counting)  # noqa: E731
    return {
        "acquisition_date": acquired,
        "holding_period_satisfied_on": _per_distinct(satisfied, acquired, months),
        "nonaffiliate_free_resale_on": _per_distinct(
            satisfied, acquired, param("nonaffiliate_free_resale_months").astype(np.int64)
        ),
        "form_144_filed": ~np.isnat(events.form_144_filed_on),
        "form_144_filed_on": events.form_144_filed_on,
    }


def _current_information(agreement: Agreement, t: np.ndarray, lookback: np.ndarray, changes: NextChanges) -> Facts:
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


def _outstanding(t: np.ndarray, agreement: Agreement, in_force: dict, changes: NextChanges) -> Facts:
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


def _average_weekly_volume(reference: np.ndarray, weeks: int, agreement: Agreement) -> np.ndarray:
    """The average weekly volume over the ``weeks`` whole Monday-Sunday weeks before the week of
    each reference day (144(e)(1)(ii)); NaN where a week has no data."""
    monday = reference - ((reference.astype(np.int64) + 3) % 7).astype("m8[D]")  # 1970-01-01 was a Thursday
    week_starts = np.array([d for d, _ in agreement.weekly_volume], dtype="M8[D]")
    week_volumes = np.array([v for _, v in agreement.weekly_volume], dtype=np.float64)
    total = np.zeros(reference.shape)
    for k in range(1, weeks + 1):
        j = np.searchsorted(week_starts, monday - 7 * k * ONE_DAY, side="right") - 1
        total += np.where(j >= 0, week_volumes[np.maximum(j, 0)] if len(week_volumes) else np.nan, np.nan)
    return np.floor(total / weeks)


def _volume(events: EventColumns, agreement: Agreement, param, changes: NextChanges, one_percent: np.ndarray) -> Facts:
    t = events.sale_date
    filed = events.form_144_filed_on
    reference = np.where(~np.isnat(filed) & (filed <= t), filed, t)
    changes.add(filed, *AVERAGE_VOLUME)  # from the filing day the reference stops following t
    weeks = param("volume_average_weeks").astype(np.int64)
    average = np.full(t.shape, np.nan)
    for w in np.unique(weeks).tolist():
        rows = weeks == w
        days, at = _span(reference[rows])
        average[rows] = _average_weekly_volume(days, w, agreement)[at]
    return {
        "volume_reference_date": reference,
        "average_weekly_volume": average,
        "volume_limit": np.fmax(one_percent, average),
    }


def aggregates(
    events: EventColumns, position_held: np.ndarray, prior: PriorSales, window_from: np.ndarray
) -> tuple[Facts, np.ndarray]:
    """The facts that count earlier allowed sales of the same review: the position still
    available, the three-month Rule 144 aggregate (``three_month_aggregate``) with the earlier
    sales made after ``window_from``; and the date of the oldest earlier sale still in
    each event's window (NaT: none), the first to leave it."""
    window = WindowSales(events.investor, prior.before, prior.rule_144, window_from)
    shares, dollars = three_month_aggregate(events.quantity, events.prior_144_sales_3m, events.sale_price, window)
    oldest = window.sold_on(np.ones(len(events), np.int64))
    return {
        "position_available": position_held - prior.sold,
        "volume_aggregate_3m": shares,
        "amount_aggregate_3m_dollars": dollars,
    }, oldest


def _registration(t: np.ndarray, agreement: Agreement, changes: NextChanges) -> Facts:
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
        "registration_suspended": _in_windows(rs.suspensions, t, changes, "registration_suspended"),
        "registration_stop_order": _in_windows(rs.stop_orders, t, changes, "registration_stop_order"),
        "registration_period_ends_on": np.full(t.shape, np.datetime64(rs.registration_period_ends_on, "D")),
        "prospectus_update_required_after": np.full(
            t.shape, add_months(np.array([effective]), PROSPECTUS_FRESHNESS_TRIGGER_MONTHS)[0]
        ),
        "prospectus_information_as_of": info,
        "prospectus_oldest_permitted_information": window_start(t, PROSPECTUS_INFORMATION_MAX_AGE_MONTHS),
    }


def _delivery(events: EventColumns, agreement: Agreement) -> Facts:
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


def row(facts: Facts, i: int) -> dict[str, Any]:
    """One event's facts as Python values (date, int, float, bool, str); None where absent."""
    out: dict[str, Any] = {}
    for name, column in facts.items():
        value = column[i]
        if isinstance(value, np.datetime64):
            value = None if np.isnat(value) else value.astype(date)
        elif isinstance(value, np.floating):
            value = None if np.isnan(value) else (int(value) if float(value).is_integer() else float(value))
        elif isinstance(value, np.generic):
            value = value.item()
        out[name] = value
    return out
