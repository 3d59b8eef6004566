"""The facts of one sale event derived in plain Python (``compliance.facts.one_event``, for the
pre-trade check) equal the columnar facts of the same event (``compliance.facts.derive``), value
for value and type for type, and so do their next changes.

For a validated event and the earlier sales before it (``PriorSales``):

    facts, changes = derive_facts(EventColumns.from_events([event]), agreement, params, prior)
    values, one = event_facts(event, agreement, params, prior)

``values`` has the keys of ``row(facts, 0)`` and, per fact, the same value of the same Python type
(a bool is not an int, a date not a datetime; floats equal exactly). ``one.of(names)`` is the day
of ``changes.of(names)[0]`` as a ``date`` (None for NaT): for each fact alone, for the facts each
rule's conditions read (``Rule.condition_facts``, the reads of ``Rulebook.date_search``), and for
all the facts together.

Events are drawn for both bundled agreements (fixtures/focus_enhancements, fixtures/harbor_2012):
every investor, both securities, every route; sale dates anywhere in the agreement's years, on
and around its dated events (Closing, registration statement, suspensions, late reports, Rule 144
versions, holding-period anniversaries), on weekends and market holidays, and at the ends of the
supported range; quantities from 1 to beyond the position; every optional field, present or not.
Three kinds of earlier sales: none; a seller's history (``contract.history``, 0-4 sales); and
what the earliest-date search gives (``running.check.evaluate_event``): the event moved to a later
day, its stated sales (``prior_144_sales_3m``) still dated on its own sale date.

Deterministic (``derandomize``) and bounded in examples, like tests/test_fuzz.py.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compliance
from compliance.contract.event import FIRST_DATE, MAX_SHARES, ROUTES, EventColumns, SaleEvent, validate_event
from compliance.contract.history import parse_history
from compliance.deal.agreement import Agreement
from compliance.deal.calendars import LAST_DATE
from compliance.facts.derive import derive_facts, row
from compliance.facts.one_event import event_facts
from compliance.facts.prior_sales import PriorSales, prior_sales
from compliance.rulebook.loader import Rulebook, load_rulebook

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
AGREEMENTS = ("focus_enhancements", "harbor_2012")

EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MANNERS = ("brokers_transaction", "market_maker", "riskless_principal", "other")
# Days from a dated event of the agreement to a sale date: the day itself and its neighbours, and
# about three months either side (the Rule 144 windows: 144(e), 144(h), a Form 144's lapse).
NEAR = (-92, -91, -90, -89, -3, -2, -1, 0, 0, 0, 1, 2, 3, 89, 90, 91, 92)
# Days from the sale date to a Form 144's filing: after it, on it, shortly before, and around its
# lapse three months on.
FILED = (3, 1, 0, 0, -1, -3, -10, -30, -88, -89, -90, -91, -92, -93, -120, -400)
# Days from the sale date to a later day of the earliest-date search.
LATER = (1, 2, 3, 7, 30, 89, 90, 91, 92, 93, 180, 365, 366, 730, 1096)
# Times of day a receipt is given at; every one falls on the same Company day in New York.
RECEIVED_AT = ("", "T09:30:00", "T17:45:00", "T12:00:00Z", "T23:30:00-04:00")


@dataclass(frozen=True, repr=False)
class Deal:
    """A bundled agreement with the rulebook, and the days a sale date is drawn around; shown by
    its fixture's name."""

    name: str
    agreement: Agreement
    rulebook: Rulebook
    first: date  # the earliest valid sale date
    landmarks: tuple[date, ...]

    @property
    def params(self):
        return self.rulebook.parameters

    def __repr__(self) -> str:
        return f"Deal({self.name!r})"


def _months_later(day: date, months: int) -> date:
    """The same day of the month ``months`` later (the month's last day where it has fewer)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _landmarks(agreement: Agreement, rulebook: Rulebook) -> tuple[date, ...]:
    """The agreement's dated events and the Rule 144 versions: the days on which a fact can change
    whatever the event."""
    closing = agreement.closing_date
    days = [closing, agreement.dated, agreement.reporting_since, *rulebook.parameters.versions]
    days += [agreement.warrant_issued_on, agreement.warrant_expires_on]
    days += [_months_later(closing, m) for m in (6, 12, 24)]  # holding periods, 144(d)(1) and 144(k)
    for report in agreement.late_reports:
        days += [report.period_end, report.due_on, report.filed_on]
    days += [d for d, _ in agreement.shares_outstanding] + [d for d, _ in agreement.weekly_volume]
    for window in agreement.fast_participation:
        days += [window.start, window.end]
    statement = agreement.registration_statement
    if statement is not None:
        days += [statement.filed_on, statement.effective_on, statement.information_as_of]
        days += [statement.registration_period_ends_on, _months_later(statement.effective_on, 9)]
        days += [d for amendment in statement.post_effective_amendments for d in amendment]
        for window in (*statement.suspensions, *statement.stop_orders):
            days += [window.start, window.end]
    return tuple(sorted({d for d in days if d is not None and FIRST_DATE <= d <= LAST_DATE}))


_DEALS: dict[str, Deal] = {}


@pytest.fixture(scope="module", params=AGREEMENTS)
def deal(request) -> Deal:
    if request.param not in _DEALS:
        agreement = compliance.load_agreement(FIXTURES / request.param)
        rulebook = load_rulebook()
        first = max(FIRST_DATE, rulebook.parameters.versions[0])
        _DEALS[request.param] = Deal(request.param, agreement, rulebook, first, _landmarks(agreement, rulebook))
    return _DEALS[request.param]


def _within(deal: Deal, day: date) -> date:
    """``day`` brought into the range of valid sale dates."""
    return min(max(day, deal.first), LAST_DATE)


def _closed_day_from(deal: Deal, day: date) -> date:
    """The first weekday from ``day`` on which the agreement's market is closed (a holiday, or a
    closure such as Hurricane Sandy's), else the first Saturday."""
    calendar_ = deal.agreement.trading_calendar
    for k in range(400):
        d = day + timedelta(days=k)
        if d > LAST_DATE:
            break
        if d.weekday() < 5 and not calendar_.is_open(d):
            return d
    return _within(deal, day + timedelta(days=(5 - day.weekday()) % 7))


def _sale_day(draw, deal: Deal) -> date:
    """A sale date: around a dated event of the agreement, anywhere in its years (often rolled to
    a trading day), on a market holiday, or at an end of the supported range."""
    closing = deal.agreement.closing_date
    lo, hi = _within(deal, closing - timedelta(days=120)), _within(deal, closing + timedelta(days=12 * 366))
    kind = draw(
        st.sampled_from(["landmark", "landmark", "landmark", "anywhere", "trading", "trading", "holiday", "end"])
    )
    if kind == "landmark":
        offset = draw(st.one_of(st.sampled_from(NEAR), st.integers(-20, 20)))
        return _within(deal, draw(st.sampled_from(deal.landmarks)) + timedelta(days=offset))
    if kind == "anywhere":
        return draw(st.dates(lo, hi))
    if kind == "trading":
        return _within(deal, deal.agreement.trading_calendar.roll_forward(draw(st.dates(lo, hi))))
    if kind == "holiday":
        return _closed_day_from(deal, draw(st.dates(lo, hi)))
    ends = [deal.first, deal.first + timedelta(days=1), LAST_DATE - timedelta(days=95), LAST_DATE]
    return _within(deal, draw(st.sampled_from(ends)) - timedelta(days=draw(st.integers(0, 3))))


def _clean_sale_day(draw, deal: Deal, route: str) -> date:
    """A trading day on which a sale by ``route`` can meet its conditions: within the registration
    statement's effective period, else after the one-year holding period (144(d)(1)); half of them
    on or near a dated event of the agreement in that span."""
    agreement, statement = deal.agreement, deal.agreement.registration_statement
    if route == "registration_statement" and statement is not None:
        lo, hi = statement.effective_on, statement.registration_period_ends_on
    else:
        lo = _months_later(agreement.closing_date, 12)
        hi = _months_later(agreement.closing_date, 48)
    inside = [d for d in deal.landmarks if lo <= d <= hi]
    if inside and _maybe(draw, 5):  # a suspension, a late report, an amendment in force or not
        day = draw(st.sampled_from(inside)) + timedelta(days=draw(st.integers(-3, 3)))
    else:
        day = draw(st.dates(lo, hi))
    return _within(deal, agreement.trading_calendar.roll_forward(day))


def _quantities(deal: Deal, position: int) -> st.SearchStrategy[int]:
    """From 1 to beyond the position: the Form 144 thresholds (144(h)), around 1% of the shares
    outstanding (144(e)), around the position, and the contract's largest number."""
    one_percent = [shares // 100 for _, shares in deal.agreement.shares_outstanding]
    marks = [1, 499, 500, 501, 5_000, 50_000, 100_000, *one_percent, *(p + 1 for p in one_percent)]
    marks += [position - 1, position, position + 1, 2 * position, MAX_SHARES]
    return st.one_of(
        st.sampled_from([q for q in marks if q >= 1]),
        st.integers(1, max(position, 1)),
        st.integers(1, max(2 * position, 1_000)),
        st.integers(1, 600),
    )


_PRICES = st.one_of(
    st.sampled_from([0.0001, 0.5, 1.1296, 1.36, 2.0, 2.75, 19.99, 1_000_000]),
    st.integers(1, 10**10).map(lambda n: n / 10**4),  # US$ 0.0001 .. 1,000,000, four decimals
)


_TENTHS = st.integers(0, 9)


def _maybe(draw, tenths: int) -> bool:
    """True with probability ``tenths`` / 10."""
    return draw(_TENTHS) < tenths


def _day_value(day: date) -> str | date:
    """A date as the contract takes it: mostly ISO text, every third day a ``date``."""
    return day if day.toordinal() % 3 == 0 else day.isoformat()


@st.composite
def raw_events(draw, deal: Deal) -> dict[str, Any]:
    """A valid raw event (as a sender gives it) for ``deal``'s agreement. A third are drawn clean
    (a trading day on which the route can be open, a small quantity, the flags set, a Form 144
    filed on the sale date) so that allowed sales are common too; the others draw every field
    freely."""
    agreement = deal.agreement
    clean = _maybe(draw, 3)
    investor = draw(st.sampled_from(sorted(agreement.investors)))
    held = agreement.investors[investor]
    warrants = agreement.warrant_issued_on is not None and held.warrant_shares > 0
    # An agreement without warrants (or an investor without Warrant Shares) sees few sales of them.
    security = "warrant_shares" if _maybe(draw, 3 if warrants else 0 if clean else 1) else "shares"
    position = held.shares if security == "shares" else held.warrant_shares
    route = draw(st.sampled_from(ROUTES))
    day = _clean_sale_day(draw, deal, route) if clean else _sale_day(draw, deal)
    event: dict[str, Any] = {
        "notice_id": f"P{draw(st.integers(0, 999))}",
        "investor": investor,
        "security": security,
        "quantity": draw(st.integers(1, min(position, 5_000)) if clean else _quantities(deal, position)),
        "sale_date": _day_value(day),
        "route": route,
        "affiliate": draw(st.sampled_from([True, False, "true", "False"])),
    }
    for flag in ("opinion_of_counsel", "company_advised"):
        if clean or _maybe(draw, 9):
            event[flag] = True if clean else draw(st.sampled_from([True, True, True, False, "TRUE", "false"]))
    if _maybe(draw, 6):
        event["delivery"] = draw(st.sampled_from(["certificate", "dwac"]))
    if clean or _maybe(draw, 7):
        event["manner_of_sale"] = draw(st.sampled_from(["brokers_transaction", *MANNERS]))
    if clean or _maybe(draw, 7):
        days = 0 if clean else draw(st.one_of(st.sampled_from(FILED), st.integers(-200, 5)))
        event["form_144_filed_on"] = _day_value(_within(deal, day + timedelta(days=days)))
    if _maybe(draw, 6):
        event["sale_price"] = draw(_PRICES)
    if not clean and _maybe(draw, 3):
        event["prior_144_sales_3m"] = draw(
            st.one_of(st.sampled_from([0, 1, 400, 1_000, 250_000, 379_999]), st.integers(0, 2_000_000))
        )
    if security == "warrant_shares":
        if clean or _maybe(draw, 8):
            near = [day, agreement.warrant_issued_on or day, agreement.warrant_expires_on or day]
            exercised = draw(st.sampled_from(near)) + timedelta(days=draw(st.integers(-400, 400)))
            event["warrant_exercised_on"] = _day_value(_within(deal, min(exercised, day) if clean else exercised))
        if clean or _maybe(draw, 8):
            event["warrant_exercise"] = draw(st.sampled_from(["cash", "cashless"]))
    _receipts(draw, deal, day, event)
    return event


def _receipts(draw, deal: Deal, day: date, event: dict[str, Any]) -> None:
    """The notice and the certificate received (either, both or neither) around the sale date,
    and the delivery of the shares on or after the later of them where both are received."""
    received = []
    for field in ("notice_received_at", "certificate_received_at"):
        if _maybe(draw, 4):
            on = _within(deal, day + timedelta(days=draw(st.integers(-5, 12))))
            event[field] = on.isoformat() + draw(st.sampled_from(RECEIVED_AT))
            received.append(on)
    if len(received) == 2 and _maybe(draw, 7):
        delivered = _within(deal, max(received) + timedelta(days=draw(st.integers(0, 12))))
        event["delivered_at"] = delivered.isoformat() + draw(st.sampled_from(RECEIVED_AT[:3]))


@st.composite
def history_rows(draw, deal: Deal, event: SaleEvent) -> list[dict[str, Any]]:
    """0-4 completed sales, mostly by the event's investor of its security and mostly before its
    sale date, some without a price."""
    others = sorted(deal.agreement.investors)
    rows = []
    for i in range(draw(st.integers(0, 4))):
        days_before = draw(st.one_of(st.sampled_from([0, 1, 89, 90, 91, 92, 93]), st.integers(-10, 200)))
        sold = {
            "investor": event.investor if _maybe(draw, 8) else draw(st.sampled_from(others)),
            "security": event.security if _maybe(draw, 8) else draw(st.sampled_from(["shares", "warrant_shares"])),
            "quantity": draw(st.one_of(st.integers(1, 400_000), st.sampled_from([1, 499, 500, 120_000, 1_000_000]))),
            "sale_date": _within(deal, event.sale_date - timedelta(days=days_before)).isoformat(),
            "route": draw(st.sampled_from(["rule_144", "rule_144", *ROUTES])),
            "notice_id": f"S{i}",
        }
        if _maybe(draw, 6):
            sold["sale_price"] = draw(_PRICES)
        rows.append(sold)
    return rows


@st.composite
def later_days(draw, deal: Deal, day: date) -> date:
    """A day after ``day`` the earliest-date search may judge the event on (``day`` itself only
    where it is the last supported day)."""
    after = [d for d in deal.landmarks if d > day]
    step = draw(st.one_of(st.sampled_from(LATER), st.integers(1, 2_000)))
    later = day + timedelta(days=step)
    if after and _maybe(draw, 3):
        later = draw(st.sampled_from(after)) + timedelta(days=draw(st.integers(-1, 1)))
    return min(max(later, day + timedelta(days=1)), LAST_DATE)


def _day(value: np.datetime64) -> date | None:
    """A ``datetime64[D]`` as the date ``EventChanges.of`` gives (None for NaT)."""
    return value.item()


def _typed(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def agree(deal: Deal, raw: dict, event: SaleEvent, prior: PriorSales | None, how: str) -> None:
    """``event_facts`` of ``event`` equals ``derive_facts`` + ``row``, and their next changes
    agree; the message names the raw event, the earlier sales, each fact differing and both
    values."""
    facts, changes = derive_facts(EventColumns.from_events([event]), deal.agreement, deal.params, prior)
    expected = row(facts, 0)
    values, one = event_facts(event, deal.agreement, deal.params, prior)
    problems = []
    missing, extra = sorted(set(expected) - set(values)), sorted(set(values) - set(expected))
    if missing or extra:
        problems.append(f"facts missing from event_facts: {missing}; facts derive_facts has not: {extra}")
    for name in (name for name in expected if name in values):
        want, got = expected[name], values[name]
        if type(want) is not type(got) or want != got:
            problems.append(f"fact {name}: derive_facts {_typed(want)}, event_facts {_typed(got)}")
    groups = {(name,): f"next change of {name}" for name in expected}
    for rule in deal.rulebook.rules:  # the reads of Rulebook.date_search
        groups.setdefault(tuple(rule.condition_facts), f"next change of rule {rule.id}'s condition facts")
    groups.setdefault(tuple(expected), "next change of any fact")
    for names, label in groups.items():
        want, got = _day(changes.of(names)[0]), one.of(names)
        if type(want) is not type(got) or want != got:
            problems.append(f"{label} {list(names)}: derive_facts {_typed(want)}, event_facts {_typed(got)}")
    assert not problems, (
        f"{deal.name}: raw event {raw!r}; {how}\n" + "\n".join(problems[:20]) + f"\n({len(problems)} differences)"
    )


@EXAMPLES
@given(data=st.data())
def test_one_event_facts_equal_the_columns_without_earlier_sales(deal, data):
    raw = data.draw(raw_events(deal), label="raw event")
    event = validate_event(raw, deal.agreement, deal.rulebook)
    agree(deal, raw, event, None, "prior: None")


@EXAMPLES
@given(data=st.data())
def test_one_event_facts_equal_the_columns_after_a_sellers_history(deal, data):
    raw = data.draw(raw_events(deal), label="raw event")
    event = validate_event(raw, deal.agreement, deal.rulebook)
    rows = data.draw(history_rows(deal, event), label="history")
    prior = prior_sales(EventColumns.from_events([event]), parse_history(rows, deal.agreement))
    agree(deal, raw, event, prior, f"prior: the history {rows!r}")


@EXAMPLES
@given(data=st.data())
def test_one_event_facts_equal_the_columns_on_a_later_day_of_the_date_search(deal, data):
    # As evaluate_event (compliance/running/check.py) judges a candidate day: the earlier sales
    # counted as of the sale date, the stated ones dated on it.
    raw = data.draw(raw_events(deal), label="raw event")
    event = validate_event(raw, deal.agreement, deal.rulebook)
    rows = data.draw(history_rows(deal, event), label="history")
    original = EventColumns.from_events([event])
    counted = prior_sales(original, parse_history(rows, deal.agreement)) if rows else PriorSales.none(1)
    prior = PriorSales(counted.sold, counted.rule_144, counted.before, original.sale_date)
    day = data.draw(later_days(deal, event.sale_date), label="later day")
    agree(deal, raw, event.on(day), prior, f"moved to {day} by the date search; prior: the history {rows!r}")
