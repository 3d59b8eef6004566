"""The input contract: a proposed sale event, parsed and validated into a typed ``SaleEvent``.

Fail closed: a missing, unparseable or contradictory value raises ``InputError`` naming the
field, the value and what is wrong; it never becomes a default that could allow a sale.
Missing means absent, None, NaN or an empty string.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import numpy as np

from .calendars import LAST_DATE, business_day_calendar

ROUTES = ("registration_statement", "rule_144", "other_exemption")
SECURITIES = ("shares", "warrant_shares")
DELIVERIES = ("certificate", "dwac")
WARRANT_EXERCISES = ("cash", "cashless")
MANNERS_OF_SALE = ("brokers_transaction", "market_maker", "riskless_principal", "other")

REQUIRED = ("notice_id", "investor", "security", "quantity", "sale_date", "route", "affiliate")
OPTIONAL = ("notice_received_at", "certificate_received_at", "delivered_at", "delivery",
            "opinion_of_counsel", "company_advised", "warrant_exercised_on", "warrant_exercise",
            "manner_of_sale", "form_144_filed_on", "sale_price", "prior_144_sales_3m")
FIELDS = REQUIRED + OPTIONAL
# Bounds that keep every count and amount exact in 64-bit arithmetic and in durable_rules' JSON
# numbers; no real position or price comes near them.
MAX_SHARES = 10**15
MIN_PRICE, MAX_PRICE = 0.0001, 1_000_000
# Dates are accepted only where every business-day calendar has real data (the Federal Reserve
# calendar starts in 1999): outside it, a calendar would silently call every weekday open.
FIRST_DATE = business_day_calendar("banking").first_date


class InputError(ValueError):
    """Bad input. ``problems`` is a list of (field, value, what is wrong)."""

    def __init__(self, problems: list[tuple[str, Any, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}={v!r}: {why}" for f, v, why in problems))


@dataclass(frozen=True)
class SaleEvent:
    notice_id: str
    investor: str
    security: str
    quantity: int
    sale_date: date
    route: str
    affiliate: bool
    notice_received_on: date | None      # Company local dates (the agreement's time zone)
    certificate_received_on: date | None
    delivered_on: date | None
    delivery: str
    opinion_of_counsel: bool
    company_advised: bool
    warrant_exercised_on: date | None
    warrant_exercise: str | None
    manner_of_sale: str | None
    form_144_filed_on: date | None
    sale_price: float | None
    prior_144_sales_3m: int

    def on(self, sale_date: date) -> "SaleEvent":
        """The same event on another sale date."""
        return SaleEvent(**{**self.__dict__, "sale_date": sale_date})


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:  # pandas NA / NaT
        import pandas as pd
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


class _Parser:
    def __init__(self, raw: Mapping[str, Any], timezone: ZoneInfo):
        self.raw, self.tz = raw, timezone
        self.problems: list[tuple[str, Any, str]] = []

    def value(self, field: str) -> Any:
        v = self.raw.get(field)
        return None if is_missing(v) else v

    def fail(self, field: str, what: str) -> None:
        self.problems.append((field, self.raw.get(field), what))

    def text(self, field: str, required: bool) -> str | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required")
            return None
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            self.fail(field, "must be text")
            return None
        return str(v).strip()

    def choice(self, field: str, allowed: tuple, required: bool, default: str | None = None) -> str | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, f"is required (one of {', '.join(allowed)})")
            return default
        if not isinstance(v, str) or v.strip() not in allowed:
            self.fail(field, f"must be one of {', '.join(allowed)}")
            return None
        return v.strip()

    def flag(self, field: str, required: bool, default: bool = False) -> bool | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required (true or false)")
            return default
        if type(v).__name__ in ("bool", "bool_"):
            return bool(v)
        if isinstance(v, str) and v.strip().lower() in ("true", "false"):
            return v.strip().lower() == "true"
        self.fail(field, "must be true or false")
        return None

    def whole(self, field: str, required: bool, minimum: int, default: int | None = None) -> int | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required (a whole number)")
            return default
        number = _as_number(v)
        if number is None or number != int(number):
            self.fail(field, "must be a whole number")
            return None
        if number < minimum:
            self.fail(field, f"must be at least {minimum}")
            return None
        if number > MAX_SHARES:
            self.fail(field, f"must be at most {MAX_SHARES:,} shares")
            return None
        return int(number)

    def price(self, field: str) -> float | None:
        v = self.value(field)
        if v is None:
            return None
        number = _as_number(v)
        if number is None or not MIN_PRICE <= number <= MAX_PRICE:
            self.fail(field, f"must be a price in US$ per share, from {MIN_PRICE} to {MAX_PRICE:,}")
            return None
        return float(number)

    def day(self, field: str, required: bool) -> date | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required (YYYY-MM-DD)")
            return None
        if isinstance(v, datetime):
            if v.time() != datetime.min.time() or v.tzinfo is not None:
                self.fail(field, "must be a date (YYYY-MM-DD), not a date-time")
                return None
            v = v.date()
        if isinstance(v, date):
            day = v
        else:
            try:  # YYYY-MM-DD only (fromisoformat would also read week dates such as 2003-W06-1)
                day = date.fromisoformat(v.strip()) if isinstance(v, str) and _ISO_DAY.match(v.strip()) else None
            except ValueError:
                day = None
            if day is None:
                self.fail(field, "must be a date YYYY-MM-DD")
                return None
        return self._in_range(field, day)

    def local_day(self, field: str) -> date | None:
        """An ISO date or date-time as a date in the Company's time zone (naive = local)."""
        v = self.value(field)
        if v is None:
            return None
        if isinstance(v, datetime):
            moment = v
        elif isinstance(v, date):
            return self._in_range(field, v)
        elif isinstance(v, str):
            try:
                moment = datetime.fromisoformat(v.strip())
            except ValueError:
                self.fail(field, "must be an ISO date or date-time (e.g. 2002-10-01 or 2002-10-01T16:30:00-04:00)")
                return None
        else:
            self.fail(field, "must be an ISO date or date-time")
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.tz)
        return self._in_range(field, moment.date())

    def _in_range(self, field: str, day: date) -> date | None:
        if not FIRST_DATE <= day <= LAST_DATE:
            self.fail(field, f"is outside the supported range {FIRST_DATE} to {LAST_DATE}")
            return None
        return day


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def _as_number(v: Any) -> float | None:
    """A finite number from an int, a float or text (thousands commas only in their places);
    None for anything else, booleans (numpy's too) included."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        try:
            number = float(v)
        except (TypeError, ValueError, OverflowError):
            return None
    elif isinstance(v, str) and _NUMBER_TEXT.match(v.strip()):
        number = float(v.strip().replace(",", ""))
    else:
        return None
    return number if math.isfinite(number) else None


def parse_event(raw: Mapping[str, Any], timezone: ZoneInfo, *, allow_extra: bool = False) -> SaleEvent:
    """Validate one sale event (a dict or a row); raises InputError listing every problem."""
    if not isinstance(raw, Mapping):
        raise InputError([("event", raw, "must be a mapping of field names to values")])
    p = _Parser(raw, timezone)
    if not allow_extra:
        for field in raw:
            if field not in FIELDS:
                p.fail(field, f"is not a field of the input contract ({', '.join(FIELDS)})")
    event = dict(
        notice_id=p.text("notice_id", True),
        investor=p.text("investor", True),
        security=p.choice("security", SECURITIES, True),
        quantity=p.whole("quantity", True, minimum=1),
        sale_date=p.day("sale_date", True),
        route=p.choice("route", ROUTES, True),
        affiliate=p.flag("affiliate", True),
        notice_received_on=p.local_day("notice_received_at"),
        certificate_received_on=p.local_day("certificate_received_at"),
        delivered_on=p.local_day("delivered_at"),
        delivery=p.choice("delivery", DELIVERIES, False, "certificate"),
        opinion_of_counsel=p.flag("opinion_of_counsel", False),
        company_advised=p.flag("company_advised", False),
        warrant_exercised_on=p.day("warrant_exercised_on", False),
        warrant_exercise=p.choice("warrant_exercise", WARRANT_EXERCISES, False),
        manner_of_sale=p.choice("manner_of_sale", MANNERS_OF_SALE, False),
        form_144_filed_on=p.day("form_144_filed_on", False),
        sale_price=p.price("sale_price"),
        prior_144_sales_3m=p.whole("prior_144_sales_3m", False, minimum=0, default=0),
    )
    if event["security"] == "shares":
        for field in ("warrant_exercised_on", "warrant_exercise"):
            if p.value(field) is not None:
                p.fail(field, "contradicts security 'shares' (only Warrant Shares come from an exercise)")
    received = [d for d in (event["notice_received_on"], event["certificate_received_on"]) if d]
    if event["delivered_on"] and len(received) == 2 and event["delivered_on"] < max(received):
        p.fail("delivered_at", f"is before the Company received both items ({max(received)})")
    if event["delivered_on"] and len(received) < 2:
        p.fail("delivered_at", "is given but the Company has not received both the notice and the certificate")
    if p.problems:
        raise InputError(p.problems)
    return SaleEvent(**event)


class Coded:
    """A text column as codes into its distinct values (code -1: absent, read as None).

    Sale events carry a handful of distinct investors, routes and securities; as codes, taking
    rows copies small integers, and comparing with a constant compares each distinct value once.
    Equality with a constant or None, ``isin`` and ``filled`` give what an object array of the
    same values would; numpy functions see the object array (``__array__``)."""

    __slots__ = ("codes", "distinct")
    dtype = np.dtype(object)
    ndim = 1

    def __init__(self, codes: np.ndarray, distinct: list):
        self.codes, self.distinct = codes, distinct

    @classmethod
    def of(cls, values) -> "Coded":
        """``values`` (None, NaN: absent) coded by distinct value."""
        import pandas as pd
        codes, uniques = pd.factorize(np.asarray(values, dtype=object))
        return cls(codes, list(uniques))

    @classmethod
    def concatenate(cls, columns: list["Coded"]) -> "Coded":
        return cls.of(np.concatenate([np.asarray(c) for c in columns]))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def shape(self) -> tuple[int]:
        return self.codes.shape

    def __getitem__(self, rows):
        if isinstance(rows, (int, np.integer)):
            code = self.codes[rows]
            return self.distinct[code] if code >= 0 else None
        return Coded(self.codes[rows], self.distinct)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.array(self.distinct + [None], dtype=object)[self.codes]

    def tolist(self) -> list:
        values = self.distinct + [None]  # code -1 takes the last
        return [values[c] for c in self.codes.tolist()]

    def compare(self, op, constant) -> np.ndarray:
        """``op(value, constant)`` per row; False where absent."""
        return np.array([op(v, constant) for v in self.distinct] + [False], dtype=bool)[self.codes]

    def __eq__(self, constant) -> np.ndarray:  # type: ignore[override]
        if constant is None:
            return self.codes < 0
        return self.compare(lambda v, c: v == c, constant)

    def __ne__(self, constant) -> np.ndarray:  # type: ignore[override]
        return ~(self == constant)

    __hash__ = None  # type: ignore[assignment]

    def isin(self, values) -> np.ndarray:
        values = set(values)
        return np.array([v in values for v in self.distinct] + [None in values], dtype=bool)[self.codes]

    def filled(self, value) -> "Coded":
        """The same column with ``value`` where absent."""
        if value in self.distinct:
            return Coded(np.where(self.codes < 0, self.distinct.index(value), self.codes), self.distinct)
        return Coded(np.where(self.codes < 0, len(self.distinct), self.codes), self.distinct + [value])

    def present_values(self) -> list:
        """The distinct values present, in order of first appearance."""
        import pandas as pd
        return [self.distinct[c] for c in pd.unique(self.codes).tolist() if c >= 0]


_DATE_FIELDS = ("sale_date", "notice_received_on", "certificate_received_on", "delivered_on",
                "warrant_exercised_on", "form_144_filed_on")
_BOOL_FIELDS = ("affiliate", "opinion_of_counsel", "company_advised")
_TEXT_FIELDS = ("notice_id", "investor", "security", "route", "delivery", "warrant_exercise",
                "manner_of_sale")


@dataclass(frozen=True)
class EventColumns:
    """Validated sale events as columns: dates ``datetime64[D]`` (NaT = not given), flags
    ``bool``, quantities ``int64``, ``sale_price`` ``float64`` (NaN = not given), ``notice_id``
    ``object``, the other text ``Coded`` (None = not given). The columnar twin of ``SaleEvent``
    for vectorized facts."""
    notice_id: Any
    investor: Any
    security: Any
    quantity: Any
    sale_date: Any
    route: Any
    affiliate: Any
    notice_received_on: Any
    certificate_received_on: Any
    delivered_on: Any
    delivery: Any
    opinion_of_counsel: Any
    company_advised: Any
    warrant_exercised_on: Any
    warrant_exercise: Any
    manner_of_sale: Any
    form_144_filed_on: Any
    sale_price: Any
    prior_144_sales_3m: Any

    @classmethod
    def from_events(cls, events: list[SaleEvent]) -> "EventColumns":
        import numpy as np
        columns = {}
        for name in cls.__dataclass_fields__:
            values = [getattr(e, name) for e in events]
            if name in _DATE_FIELDS:
                columns[name] = np.array([v if v is not None else "NaT" for v in values], dtype="M8[D]")
            elif name in _BOOL_FIELDS:
                columns[name] = np.array(values, dtype=bool)
            elif name in ("quantity", "prior_144_sales_3m"):
                columns[name] = np.array(values, dtype=np.int64)
            elif name == "sale_price":
                columns[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            elif name == "notice_id":
                columns[name] = np.array(values, dtype=object)
            else:
                columns[name] = Coded.of(values)
        return cls(**columns)

    def __len__(self) -> int:
        return len(self.quantity)

    def take(self, rows) -> "EventColumns":
        """The events at positions ``rows`` (an index array or boolean mask)."""
        return EventColumns(**{k: None if v is None else v[rows] for k, v in self.__dict__.items()})

    def without_ids(self) -> "EventColumns":
        """The same events with ``notice_id`` None: judging never reads the ids, and taking rows of
        an array of a million Python strings is slow and holds the GIL."""
        return EventColumns(**{**self.__dict__, "notice_id": None})

    def on(self, days) -> "EventColumns":
        """The same events moved to other sale dates (an array, one per event)."""
        return EventColumns(**{**self.__dict__, "sale_date": days})
