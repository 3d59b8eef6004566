"""An agreement directory: one deal's facts, conventions and clause texts (``agreement.yaml``).

The rulebook cites clause *keys* (``delivery_date``); the agreement maps each key to its own
section number and words, so the same rules serve any deal. Loading checks the fields the engine
reads and names the file and the field of anything wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .calendars import business_day_calendar, trading_calendar
from .periods import PERIOD_COUNTING

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
DEFAULT_AGREEMENT = FIXTURES_DIR / "focus_enhancements"
SECURITIES = ("shares", "warrant_shares")


class AgreementError(ValueError):
    """An agreement file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Window:
    """Days ``start`` to ``end`` inclusive; ``end`` None = open-ended."""
    start: date
    end: date | None

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Investor:
    name: str
    shares: int
    warrant_shares: int


@dataclass(frozen=True)
class Report:
    form: str
    period_end: date
    due_on: date
    filed_on: date | None


@dataclass(frozen=True)
class Clause:
    section: str
    text: str


@dataclass(frozen=True)
class RegistrationStatement:
    form: str
    effective_on: date
    information_as_of: date
    covers: tuple[str, ...]
    post_effective_amendments: tuple[tuple[date, date], ...]   # (effective_on, information_as_of)
    suspensions: tuple[Window, ...]
    stop_orders: tuple[Window, ...]
    registration_period_ends_on: date


@dataclass(frozen=True)
class Agreement:
    directory: Path
    title: str
    issuer: str
    dated: date
    company_timezone: ZoneInfo
    market_name: str
    market_mic: str
    business_day: str
    period_counting: str
    delivery_business_days: int
    delivery_routes: tuple[str, ...]
    closing_date: date
    price_per_share: float
    investors: dict[str, Investor]
    warrant_issued_on: date | None
    warrant_expires_on: date | None
    warrant_cashless_permitted: bool
    reporting_since: date
    late_reports: tuple[Report, ...]
    shares_outstanding: tuple[tuple[date, int], ...]        # (reported_on, shares), ascending
    weekly_volume: tuple[tuple[date, int], ...]             # (weeks_from Monday, shares), ascending
    registration_statement: RegistrationStatement | None
    fast_participation: tuple[Window, ...]
    clauses: dict[str, Clause]
    text_path: Path | None

    @property
    def trading_calendar(self):
        return trading_calendar(self.market_mic)

    @property
    def business_calendar(self):
        return business_day_calendar(self.business_day)

    def citation(self, clause_key: str) -> str:
        return self.clauses[clause_key].section


class _Reader:
    def __init__(self, path: Path):
        self.path = path

    def error(self, field: str, what: str) -> AgreementError:
        return AgreementError(f"{self.path}: field '{field}': {what}")

    def get(self, doc: Any, field: str, required: bool = True) -> Any:
        node = doc
        for part in field.split("."):
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise self.error(field, "missing")
                return None
            node = node[part]
        return node

    def day(self, doc: Any, field: str, required: bool = True) -> date | None:
        value = self.get(doc, field, required)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(field, f"expected a YYYY-MM-DD date, got {value!r}") from None

    def whole(self, doc: Any, field: str) -> int:
        value = self.get(doc, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(field, f"expected a whole number >= 0, got {value!r}")
        return value

    def windows(self, doc: Any, field: str, start: str, end: str) -> tuple[Window, ...]:
        items = self.get(doc, field, required=False) or []
        out = []
        for i, item in enumerate(items):
            first = self.day(item, start)
            last = self.day(item, end, required=False) if item.get(end) is not None else None
            if last is not None and last < first:
                raise self.error(f"{field}[{i}]", f"ends {last} before it starts {first}")
            out.append(Window(first, last))
        return tuple(out)

    def choice(self, doc: Any, field: str, allowed: tuple, default: Any = None) -> Any:
        value = self.get(doc, field, required=default is None)
        if value is None:
            return default
        if value not in allowed:
            raise self.error(field, f"expected one of {list(allowed)}, got {value!r}")
        return value


def load_agreement(directory: Path | str | None = None) -> Agreement:
    """Load an agreement directory (default: the bundled Focus Enhancements fixture)."""
    directory = Path(directory) if directory is not None else DEFAULT_AGREEMENT
    path = directory / "agreement.yaml"
    if not path.is_file():
        raise AgreementError(f"{path}: no agreement file (expected agreement.yaml in {directory})")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AgreementError(f"{path}: not valid YAML: {exc}") from None
    r = _Reader(path)
    if not isinstance(doc, dict):
        raise AgreementError(f"{path}: expected a mapping of fields")

    tz_name = r.get(doc, "company_timezone")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise r.error("company_timezone", f"unknown time zone {tz_name!r}") from None

    investors = {}
    for i, item in enumerate(r.get(doc, "investors") or []):
        name = r.get(item, "name")
        investors[name] = Investor(name, r.whole(item, "shares"), r.whole(item, "warrant_shares"))
    if not investors:
        raise r.error("investors", "at least one investor is needed")

    rs_doc = r.get(doc, "registration_statement", required=False)
    rs = None
    if rs_doc is not None:
        covers = tuple(r.get(rs_doc, "covers"))
        for security in covers:
            if security not in SECURITIES:
                raise r.error("registration_statement.covers", f"unknown security {security!r}")
        amendments = tuple(sorted(
            (r.day(a, "effective_on"), r.day(a, "information_as_of"))
            for a in (rs_doc.get("post_effective_amendments") or [])))
        rs = RegistrationStatement(
            form=str(r.get(rs_doc, "form")),
            effective_on=r.day(rs_doc, "effective_on"),
            information_as_of=r.day(rs_doc, "information_as_of"),
            covers=covers,
            post_effective_amendments=amendments,
            suspensions=r.windows(rs_doc, "suspensions", "start", "end"),
            stop_orders=r.windows(rs_doc, "stop_orders", "start", "end"),
            registration_period_ends_on=r.day(rs_doc, "registration_period_ends_on"),
        )

    clauses = {}
    for key, item in (r.get(doc, "clauses") or {}).items():
        clauses[key] = Clause(str(r.get(item, "section")), " ".join(str(r.get(item, "text")).split()))

    market_mic = str(r.get(doc, "principal_trading_market.mic"))
    try:
        trading_calendar(market_mic)
    except ValueError as exc:
        raise r.error("principal_trading_market.mic", str(exc)) from None

    text = r.get(doc, "agreement.text", required=False)
    issuer_doc = r.get(doc, "issuer")
    late = tuple(
        Report(str(r.get(x, "form")), r.day(x, "period_end"), r.day(x, "due_on"),
               r.day(x, "filed_on", required=False))
        for x in (issuer_doc.get("late_periodic_reports") or []))
    return Agreement(
        directory=directory,
        title=str(r.get(doc, "agreement.title")),
        issuer=str(r.get(doc, "agreement.issuer")),
        dated=r.day(doc, "agreement.dated"),
        company_timezone=tz,
        market_name=str(r.get(doc, "principal_trading_market.name")),
        market_mic=market_mic,
        business_day=r.choice(doc, "conventions.business_day", ("settlement", "exchange", "banking"), "settlement"),
        period_counting=r.choice(doc, "conventions.period_counting", PERIOD_COUNTING, "day_after"),
        delivery_business_days=r.whole(doc, "delivery_term.business_days"),
        delivery_routes=tuple(r.get(doc, "delivery_term.routes")),
        closing_date=r.day(doc, "closing_date"),
        price_per_share=float(r.get(doc, "price_per_share")),
        investors=investors,
        warrant_issued_on=r.day(doc, "warrants.issued_on", required=False),
        warrant_expires_on=r.day(doc, "warrants.expires_on", required=False),
        warrant_cashless_permitted=bool(r.get(doc, "warrants.cashless_exercise_permitted", required=False)),
        reporting_since=r.day(doc, "issuer.exchange_act_reporting_since"),
        late_reports=late,
        shares_outstanding=tuple(sorted((r.day(x, "reported_on"), r.whole(x, "shares"))
                                        for x in r.get(issuer_doc, "shares_outstanding"))),
        weekly_volume=tuple(sorted((r.day(x, "weeks_from"), r.whole(x, "shares"))
                                   for x in (issuer_doc.get("weekly_volume") or []))),
        registration_statement=rs,
        fast_participation=r.windows(doc, "transfer_agent.fast_participation", "from", "to"),
        clauses=clauses,
        text_path=directory / text if text else None,
    )
