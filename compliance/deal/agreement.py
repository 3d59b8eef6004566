"""An agreement directory: one deal's facts, conventions and clause texts (``agreement.yaml``).

The rulebook cites clause *keys* (``delivery_date``); the agreement maps each key to its own
section number and words, so the same rules serve any deal. The file's format is data
(``agreement.schema.json``) and is documented field by field in ``docs/agreement-format.md``.
Loading validates the whole file first (``schema.py``): a wrong or missing field raises
AgreementError naming the file, the field and what was expected, with every problem found.

No deal is named in code: the agreement loaded by default is the one ``fixtures/default.yaml``
names, and a bundled agreement may also be named by its folder under ``fixtures/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from compliance.bundled import FIXTURES_DIR, bundled_agreements
from compliance.deal.calendars import business_day_calendar, trading_calendar
from compliance.deal.schema import AGREEMENT_FILE, AgreementError, document_problems, entry_problems, read_document

DEFAULT_POINTER = FIXTURES_DIR / "default.yaml"
SECURITIES = ("shares", "warrant_shares")


def default_agreement_dir() -> Path:
    """The agreement directory ``fixtures/default.yaml`` names (``agreement: <directory>``,
    relative to ``fixtures/``)."""
    try:
        pointer = yaml.safe_load(DEFAULT_POINTER.read_text(encoding="utf-8"))
        return FIXTURES_DIR / str(pointer["agreement"])
    except (OSError, yaml.YAMLError, TypeError, KeyError) as exc:
        raise AgreementError(
            f"{DEFAULT_POINTER}: field 'agreement': expected the name of the default "
            f"agreement directory under {FIXTURES_DIR} ({exc})"
        ) from None


def agreement_directory(directory: Path | str | None) -> Path:
    """The agreement directory meant by ``directory``: None is the default; a path to a directory
    is that directory; a bare name that is not a directory here is the bundled agreement of that
    name, and an unknown one raises AgreementError listing the bundled names.
    Any other path is returned as given (loading it then names the missing file)."""
    if directory is None:
        return default_agreement_dir()
    path = Path(directory)
    if path.is_dir() or len(path.parts) != 1:
        return path
    if (FIXTURES_DIR / path / AGREEMENT_FILE).is_file():
        return FIXTURES_DIR / path
    raise AgreementError(
        f"agreement {str(directory)!r}: not a directory, and not one of the bundled agreements "
        f"({', '.join(bundled_agreements())})"
    )


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_AGREEMENT":  # the former constant, kept for callers
        return default_agreement_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    resale_relevant: bool = True


@dataclass(frozen=True)
class RegistrationStatement:
    form: str
    effective_on: date
    information_as_of: date
    covers: tuple[str, ...]
    post_effective_amendments: tuple[tuple[date, date], ...]  # (effective_on, information_as_of)
    suspensions: tuple[Window, ...]
    stop_orders: tuple[Window, ...]
    registration_period_ends_on: date
    filed_on: date | None = None
    # The prospectus is kept current by the periodic reports it incorporates (Form S-3): no
    # post-effective amendment is needed to refresh its information (Securities Act 10(a)(3)).
    updated_by_incorporated_reports: bool = False


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
    shares_outstanding: tuple[tuple[date, int], ...]  # (reported_on, shares), ascending
    weekly_volume: tuple[tuple[date, int], ...]  # (weeks_from Monday, shares), ascending
    registration_statement: RegistrationStatement | None
    fast_participation: tuple[Window, ...]
    clauses: dict[str, Clause]
    text_path: Path | None
    synthetic: bool = False

    @property
    def path(self) -> Path:
        return self.directory / AGREEMENT_FILE

    @property
    def trading_calendar(self):
        return trading_calendar(self.market_mic)

    @property
    def business_calendar(self):
        """The calendar of the delivery term's business days: ``trading`` is the Principal
        Trading Market's own trading days (an agreement counting "Trading Days")."""
        if self.business_day == "trading":
            return trading_calendar(self.market_mic)
        return business_day_calendar(self.business_day)

    def citation(self, clause_key: str) -> str:
        return self.clauses[clause_key].section


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _windows(items: list | None, start: str, end: str) -> tuple[Window, ...]:
    return tuple(Window(_day(item[start]), _day(item.get(end))) for item in items or [])


def _registration(rs: dict[str, Any] | None) -> RegistrationStatement | None:
    if not rs:
        return None
    return RegistrationStatement(
        form=rs["form"],
        effective_on=_day(rs["effective_on"]),
        information_as_of=_day(rs["information_as_of"]),
        covers=tuple(rs["covers"]),
        post_effective_amendments=tuple(
            sorted(
                (_day(a["effective_on"]), _day(a["information_as_of"]))
                for a in rs.get("post_effective_amendments") or []
            )
        ),
        suspensions=_windows(rs.get("suspensions"), "start", "end"),
        stop_orders=_windows(rs.get("stop_orders"), "start", "end"),
        registration_period_ends_on=_day(rs["registration_period_ends_on"]),
        filed_on=_day(rs.get("filed_on")),
        updated_by_incorporated_reports=bool(rs.get("updated_by_incorporated_reports", False)),
    )


def load_agreement(directory: Path | str | None = None) -> Agreement:
    """Load and validate an agreement directory, or a bundled agreement by name (default: the one
    ``fixtures/default.yaml`` names). Raises AgreementError listing every problem, each naming the
    file and the field, or every entry of the directory that is a symbolic link or otherwise not a
    regular file or folder."""
    directory = agreement_directory(directory)
    path = directory / AGREEMENT_FILE
    doc = read_document(path)
    entries = entry_problems(directory)
    if entries:
        raise AgreementError(entries)
    problems = document_problems(doc, path)
    if problems:
        raise AgreementError(problems)

    conventions = doc.get("conventions") or {}
    warrants = doc.get("warrants") or {}
    issuer = doc["issuer"]
    text = doc["agreement"].get("text")
    return Agreement(
        directory=directory,
        title=doc["agreement"]["title"],
        issuer=doc["agreement"]["issuer"],
        dated=_day(doc["agreement"]["dated"]),
        company_timezone=ZoneInfo(doc["company_timezone"]),
        market_name=doc["principal_trading_market"]["name"],
        market_mic=doc["principal_trading_market"]["mic"],
        business_day=conventions.get("business_day", "settlement"),
        period_counting=conventions.get("period_counting", "day_after"),
        delivery_business_days=int(doc["delivery_term"]["business_days"]),
        delivery_routes=tuple(doc["delivery_term"]["routes"]),
        closing_date=_day(doc["closing_date"]),
        price_per_share=float(doc["price_per_share"]),
        investors={
            i["name"]: Investor(i["name"], int(i["shares"]), int(i.get("warrant_shares", 0))) for i in doc["investors"]
        },
        warrant_issued_on=_day(warrants.get("issued_on")),
        warrant_expires_on=_day(warrants.get("expires_on")),
        warrant_cashless_permitted=bool(warrants.get("cashless_exercise_permitted", False)),
        reporting_since=_day(issuer["exchange_act_reporting_since"]),
        late_reports=tuple(
            Report(r["form"], _day(r["period_end"]), _day(r["due_on"]), _day(r.get("filed_on")))
            for r in issuer.get("late_periodic_reports") or []
        ),
        shares_outstanding=tuple(
            sorted((_day(x["reported_on"]), int(x["shares"])) for x in issuer["shares_outstanding"])
        ),
        weekly_volume=tuple(
            sorted((_day(x["weeks_from"]), int(x["shares"])) for x in issuer.get("weekly_volume") or [])
        ),
        registration_statement=_registration(doc.get("registration_statement")),
        fast_participation=_windows((doc.get("transfer_agent") or {}).get("fast_participation"), "from", "to"),
        clauses={
            key: Clause(item["section"], " ".join(item["text"].split()), bool(item.get("resale_relevant", True)))
            for key, item in doc["clauses"].items()
        },
        text_path=directory / text if text else None,
        synthetic=bool(doc["agreement"].get("synthetic", False)),
    )
