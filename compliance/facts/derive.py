"""Facts: everything the rules judge, derived from sale events, the agreement and Rule 144's
parameters, for many events at once (numpy columns). The pre-trade check works out one event's
facts in Python values (``compliance.facts.one_event``, held equal to these by a test).
Python computes dates, calendar answers and aggregates here; it judges nothing (``rules/`` does).

Column types: dates ``datetime64[D]`` (NaT = absent), counts and amounts ``float64`` where they
can be absent (NaN) else ``int64``, flags ``bool``, text ``Coded`` (``compliance.contract.event``:
codes into the distinct values; None = absent).

``derive_facts`` also returns, per fact, each event's *next change* (``NextChanges``): the first
day after its sale date on which that fact could take another value without the event changing (a
report filed, a suspension ending, a sale leaving the three-month window, a new version of Rule
144), NaT if none. Between its changes a fact keeps its value, or (for the few facts that follow
the sale date itself) the conditions that read it keep their truth; that is what makes the
earliest-allowed-date search exact (``compliance.decision.earliest``).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np

from compliance.contract.event import FIRST_DATE, Coded, EventColumns
from compliance.deal.agreement import Agreement
from compliance.deal.calendars import LAST_DATE
from compliance.deal.periods import ONE_DAY
from compliance.facts.columns import NAT, Facts, NextChanges, in_windows, parameter_on, span
from compliance.facts.current_information import current_information
from compliance.facts.delivery import delivery
from compliance.facts.holding_period import holding_period_months, rule_144_dates
from compliance.facts.prior_sales import PriorSales, count_earlier_sales
from compliance.facts.registration import registration
from compliance.facts.volume import AVERAGE_VOLUME, outstanding, volume
from compliance.kept import built_once
from compliance.rulebook.parameters import Rule144Parameters


def parameters_in_force(params: Rule144Parameters) -> tuple[str, ...]:
    """The Rule 144 parameters the facts are computed from (the ``parameters`` of facts.yaml); the
    rules read the others through ``regime``."""
    return tuple(params.facts_from)


def parameter_dependent(params: Rule144Parameters) -> tuple[str, ...]:
    """The facts computed from a Rule 144 parameter (facts.yaml): they may change when a new
    version comes into force."""
    return tuple(dict.fromkeys(name for names in params.facts_from.values() for name in names))


def derive_facts(
    events: EventColumns, agreement: Agreement, params: Rule144Parameters, prior: PriorSales | None = None
) -> tuple[Facts, NextChanges]:
    """The facts of ``events`` on their sale dates, and when each fact next changes.

    Facts that depend on the sale date alone are derived once per calendar day (``_every_day``)
    and looked up; the others per event (date arithmetic once per distinct value)."""
    t = events.sale_date
    daily, in_force, daily_changes, at = _every_day(agreement, params).lookup(t)
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
    facts.update(rule_144_dates(events, agreement, param, facts["holding_period_months"]))
    facts.update(
        volume(events, agreement, param, changes, facts["one_percent_of_outstanding"], facts["form_144_lapses_on"])
    )
    if agreement.registration_statement is not None:
        facts["registration_covers_security"] = events.security.isin(agreement.registration_statement.covers)
    facts.update(delivery(events, agreement, facts, changes))
    count_earlier_sales(facts, changes, events, params, prior or PriorSales.none(len(events)))
    return facts, changes


class _DailyTable:
    """The facts that depend on the sale date alone (``_on_each_day``) for every day from
    ``FIRST_DATE`` to ``LAST_DATE``, the range a sale date may take."""

    def __init__(self, agreement: Agreement, params: Rule144Parameters):
        self.agreement, self.params = agreement, params
        self.first, self.last = np.datetime64(FIRST_DATE, "D"), np.datetime64(LAST_DATE, "D")
        self.first_ordinal, self.days = FIRST_DATE.toordinal(), (LAST_DATE - FIRST_DATE).days + 1
        self.tables = _on_each_day(np.arange(self.first, self.last + ONE_DAY), agreement, params)

    def lookup(self, t: np.ndarray):
        """The daily facts, parameters in force and next changes, and the row of each of ``t`` in
        them; days outside the range are derived over their own span."""
        if len(t) and (t.min() < self.first or t.max() > self.last):
            days, at = span(t)
            return (*_on_each_day(days, self.agreement, self.params), at)
        return (*self.tables, (t - self.first).astype(np.int64))

    def on(self, day: date) -> tuple[dict[str, Any], dict[str, Any], dict[tuple[str, ...], date | None]]:
        """``lookup`` for one day, in Python values: the daily facts (as ``row`` gives them), the
        parameters in force, and the next change of each source of change (None: none)."""
        i = day.toordinal() - self.first_ordinal
        if 0 <= i < self.days:
            daily, in_force, changes = self.tables
        else:
            (daily, in_force, changes), i = _on_each_day(np.array([day], "M8[D]"), self.agreement, self.params), 0
        return (
            {name: value_at(column, i) for name, column in daily.items()},
            {name: column.item(i) for name, column in in_force.items()},
            {facts: days.item(i) for facts, days in changes.sources.items()},
        )


def facts_of_the_day(
    agreement: Agreement, params: Rule144Parameters, day: date
) -> tuple[dict[str, Any], dict[str, Any], dict[tuple[str, ...], date | None]]:
    """The facts that depend on the sale date alone on ``day``, in Python values; the Rule 144
    parameters in force on it; and the next changes of those facts by source (``_DailyTable.on``)."""
    return _every_day(agreement, params).on(day)


def _every_day(agreement: Agreement, params: Rule144Parameters) -> _DailyTable:
    """The daily table of ``agreement`` and ``params``, built once and shared (nothing mutates it:
    ``derive_facts`` takes rows of it, which copies); a few MB each, so fewer are kept."""
    return built_once(_DailyTable, agreement, params, keep=8)


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
        "transfer_agent_in_fast": in_windows(agreement.fast_participation, days, changes, "transfer_agent_in_fast"),
    }
    facts.update(holding_period_months(days, agreement, in_force, changes))
    facts.update(current_information(agreement, days, in_force["current_information_lookback_months"], changes))
    facts.update(outstanding(days, agreement, in_force, changes))
    facts.update(registration(days, agreement, changes))
    return facts, in_force, changes


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


def row(facts: Facts, i: int) -> dict[str, Any]:
    """One event's facts as Python values (date, int, float, bool, str); None where absent. A
    whole float is an int."""
    return {name: value_at(column, i) for name, column in facts.items()}


def value_at(column: np.ndarray, i: int) -> Any:
    """Row ``i`` of a fact column as a Python value (``row``)."""
    kind = column.dtype.kind
    if kind == "O":  # text (``Coded``): Python values already, None where absent
        return column[i]
    if kind == "f":
        return number(column.item(i))
    return column.item(i)  # a datetime64[D] as a date, NaT as None


def number(value: float) -> int | float | None:
    """A count or amount as the rules read it: None for NaN (absent), a whole float as an int."""
    return None if math.isnan(value) else (int(value) if value.is_integer() else value)
