"""The input contract: a proposed sale event, parsed and validated into a typed ``SaleEvent``.

Fail closed: a missing, unparseable or contradictory value raises ``InputError`` naming the
field, the value and what is wrong; it never becomes a default that could allow a sale.
Missing means absent, None, NaN (Python's or numpy's), pandas' NA or NaT, or text of spaces and
tabs only. Any other object that is not a value of the field's kind (a list, a dict, an array, an
object whose ``repr`` raises) is a bad value, never an exception.

Values, the same for one event (``check``) and for a table (``table.parse_table``, which asks this
parser once per distinct value):

- text: ``str`` (surrounding spaces and tabs dropped; no control characters); a Python or numpy
  integer is taken as its digits;
- whole numbers: a Python or numpy integer, a float without a fraction (a table column holding
  blanks is a float column), or text of the ASCII digits 0-9, optionally grouped by commas in
  threes (``1,000``); no sign, point, exponent, space or other digits (``1.000``, ``10,00``,
  ``1e3``, ``+5``, ``1 000`` and ``１０`` are errors);
- decimals (``sale_price``): the same, with at most one ``.`` and digits after it;
- dates: text ``YYYY-MM-DD``, ``datetime.date``, or a ``datetime``, ``pd.Timestamp`` or
  ``np.datetime64`` at midnight without a time zone (any other time of day is an error);
- flags: ``True``/``False`` (numpy's too) or the text ``true``/``false`` in any case.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from compliance.deal.calendars import LAST_DATE, business_day_calendar

if TYPE_CHECKING:
    from compliance.deal.agreement import Agreement
    from compliance.rulebook.loader import Rulebook

ROUTES = ("registration_statement", "rule_144", "other_exemption")
SECURITIES = ("shares", "warrant_shares")
DELIVERIES = ("certificate", "dwac")
WARRANT_EXERCISES = ("cash", "cashless")
MANNERS_OF_SALE = ("brokers_transaction", "market_maker", "riskless_principal", "other")

REQUIRED = ("notice_id", "investor", "security", "quantity", "sale_date", "route", "affiliate")
OPTIONAL = (
    "notice_received_at",
    "certificate_received_at",
    "delivered_at",
    "delivery",
    "opinion_of_counsel",
    "company_advised",
    "warrant_exercised_on",
    "warrant_exercise",
    "manner_of_sale",
    "form_144_filed_on",
    "sale_price",
    "prior_144_sales_3m",
)
FIELDS = REQUIRED + OPTIONAL
_FIELD_NAMES = frozenset(FIELDS)
# Bounds that keep every count and amount exact in 64-bit arithmetic and in durable_rules' JSON
# numbers; no real position or price comes near them.
MAX_SHARES = 10**15
MIN_PRICE, MAX_PRICE = 0.0001, 1_000_000
# Dates are accepted only where every business-day calendar has real data (the Federal Reserve
# calendar starts in 1999): outside it, a calendar would silently call every weekday open.
FIRST_DATE = business_day_calendar("banking").first_date


# Error texts quote at most this many characters of a value.
QUOTE_LIMIT = 200


def shown(value: Any) -> str:
    """``repr(value)`` for an error text, cut to ``QUOTE_LIMIT`` characters; a value that cannot
    be shown (its ``repr`` raises, it is nested too deeply, an int too long to print) is named by
    its type."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001  (any object can sit in a cell)
        return f"<{_type_name(value)} that cannot be shown: {type(exc).__name__}>"
    if len(text) <= QUOTE_LIMIT:
        return text
    return f"{text[:QUOTE_LIMIT]}... ({len(text):,} characters)"


def _type_name(value: Any) -> str:
    try:
        return type(value).__name__
    except Exception:  # noqa: BLE001
        return "object"


def field_name(field: Any) -> str:
    """A field (or column) name for an error text: as it is when it is plain printable text
    without surrounding blanks, else quoted (``' investor'``)."""
    if isinstance(field, str) and field.isprintable() and field == field.strip() and 0 < len(field) <= QUOTE_LIMIT:
        return field
    return shown(field)


class InputError(ValueError):
    """Bad input. ``problems`` is a list of (field, value, what is wrong); the message names each
    field, and its value unless it is absent (None, NaN, pandas' NA or NaT: "notice_id: is
    required")."""

    def __init__(self, problems: list[tuple[Any, Any, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{field_name(f)}{_given(v)}: {why}" for f, v, why in problems))


def _given(value: Any) -> str:
    """``=value`` for an error text, or nothing for an absent value (blank text is shown)."""
    try:
        absent = not isinstance(value, str) and is_missing(value)
    except Exception:  # noqa: BLE001  (any object can sit in a cell)
        absent = False
    return "" if absent else f"={shown(value)}"


@dataclass(frozen=True)
class SaleEvent:
    notice_id: str
    investor: str
    security: str
    quantity: int
    sale_date: date
    route: str
    affiliate: bool
    notice_received_on: date | None  # Company local dates (the agreement's time zone)
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

    def on(self, sale_date: date) -> SaleEvent:
        """The same event on another sale date."""
        return SaleEvent(**{**self.__dict__, "sale_date": sale_date})


# Blanks around a text value that the value does not carry; control characters (Unicode Cc)
# anywhere else make text bad.
BLANKS = " \t"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_missing(value: Any) -> bool:
    if type(value) is str:  # the usual value, first
        return not str.strip(value, BLANKS)
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    if isinstance(value, str):
        return not str.strip(value, BLANKS)
    return False


def _guarded(method):
    """A parser method that reports what reading a value raises as a problem with the field: any
    object can sit in a cell, and a bad value must never stop a batch."""

    @functools.wraps(method)
    def read(self: _Parser, field: str, *args, **kwargs):
        try:
            return method(self, field, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            self.fail(field, f"cannot be read ({type(exc).__name__})")
            return None

    return read


class _Parser:
    """Reads the fields of one event (``raw``: a dict); each method returns the parsed value, or
    None and a problem in ``problems``."""

    def __init__(self, raw: Mapping[str, Any], timezone: ZoneInfo):
        self.raw, self.tz = raw, timezone
        self.problems: list[tuple[Any, Any, str]] = []

    def value(self, field: str) -> Any:
        v = self.raw.get(field)
        return None if is_missing(v) else v

    def fail(self, field: str, what: str) -> None:
        self.problems.append((field, self.raw.get(field), what))

    @_guarded
    def text(self, field: str, required: bool) -> str | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required")
            return None
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            return str(int(v))
        if not isinstance(v, str):
            self.fail(field, "must be text")
            return None
        text = str.strip(v, BLANKS)
        if _CONTROL.search(text):
            self.fail(field, "must not contain control characters")
            return None
        return text

    @_guarded
    def choice(self, field: str, allowed: tuple, required: bool, default: str | None = None) -> str | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, f"is required (one of {', '.join(allowed)})")
            return default
        if not isinstance(v, str) or str.strip(v, BLANKS) not in allowed:
            self.fail(field, f"must be one of {', '.join(allowed)}")
            return None
        return str.strip(v, BLANKS)

    @_guarded
    def flag(self, field: str, required: bool, default: bool = False) -> bool | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required (true or false)")
            return default
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, str) and str.strip(v, BLANKS).lower() in ("true", "false"):
            return str.strip(v, BLANKS).lower() == "true"
        self.fail(field, "must be true or false")
        return None

    @_guarded
    def whole(self, field: str, required: bool, minimum: int, default: int | None = None) -> int | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required (a whole number)")
            return default
        number = _whole_number(v)
        if number is None:
            self.fail(field, "must be a whole number (digits 0-9, commas only between groups of three)")
            return None
        if number < minimum:
            self.fail(field, f"must be at least {minimum}")
            return None
        if number > MAX_SHARES:
            self.fail(field, f"must be at most {MAX_SHARES:,} shares")
            return None
        return number

    @_guarded
    def price(self, field: str) -> float | None:
        v = self.value(field)
        if v is None:
            return None
        number = _decimal_number(v)
        if number is None or not MIN_PRICE <= number <= MAX_PRICE:
            self.fail(
                field,
                f"must be a price in US$ per share, from {MIN_PRICE} to {MAX_PRICE:,} "
                "(digits 0-9 and one '.', commas only between groups of three)",
            )
            return None
        return number

    @_guarded
    def day(self, field: str, required: bool) -> date | None:
        v = self.value(field)
        if v is None:
            if required:
                self.fail(field, "is required (YYYY-MM-DD)")
            return None
        if isinstance(v, np.datetime64):
            v = pd.Timestamp(v)
        if isinstance(v, datetime):
            if v.time() != datetime.min.time() or getattr(v, "nanosecond", 0) or v.tzinfo is not None:
                self.fail(field, "must be a date (YYYY-MM-DD), not a date-time")
                return None
            v = date(v.year, v.month, v.day)
        if isinstance(v, date):
            day = v
        else:
            day = _iso_day(v)
            if day is None:
                self.fail(field, "must be a date YYYY-MM-DD")
                return None
        return self._in_range(field, day)

    @_guarded
    def local_day(self, field: str) -> date | None:
        """An ISO date or date-time as a date in the Company's time zone (naive = local)."""
        v = self.value(field)
        if v is None:
            return None
        if isinstance(v, np.datetime64):
            v = pd.Timestamp(v)
        if isinstance(v, datetime):
            moment = v
        elif isinstance(v, date):
            return self._in_range(field, v)
        elif isinstance(v, str) and _ISO_MOMENT.fullmatch(str.strip(v, BLANKS)):
            try:
                moment = datetime.fromisoformat(str.strip(v, BLANKS))
            except ValueError:
                moment = None
        else:
            moment = None
        if moment is None:
            self.fail(field, "must be an ISO date or date-time (e.g. 2002-10-01 or 2002-10-01T16:30:00-04:00)")
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.tz)
        return self._in_range(field, date(moment.year, moment.month, moment.day))

    def _in_range(self, field: str, day: date) -> date | None:
        if not FIRST_DATE <= day <= LAST_DATE:
            self.fail(field, f"is outside the supported range {FIRST_DATE} to {LAST_DATE}")
            return None
        return day


# ASCII only: ``\d`` would also match other scripts' digits (``１``, ``٣``).
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_WHOLE_TEXT = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+")
_DECIMAL_TEXT = re.compile(r"(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
# Whole-number text longer than this is only ever compared with the bounds (and Python refuses to
# convert text of more than 4,300 digits): it reads as this many nines.
_LONGEST_DIGITS = 30


def _iso_day(v: Any) -> date | None:
    """A date from text YYYY-MM-DD (``fromisoformat`` alone would also read week dates such as
    2003-W06-1); None for anything else."""
    if not isinstance(v, str) or not _ISO_DAY.fullmatch(str.strip(v, BLANKS)):
        return None
    try:
        return date.fromisoformat(str.strip(v, BLANKS))
    except ValueError:
        return None


def _whole_number(v: Any) -> int | None:
    """A whole number from an integer, an integral finite float or text (see the module's
    docstring); None for anything else, booleans (numpy's too) included."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if math.isfinite(v) and float(v).is_integer() else None
    if isinstance(v, str):
        text = str.strip(v, BLANKS)
        if _WHOLE_TEXT.fullmatch(text):
            digits = text.replace(",", "").lstrip("0") or "0"
            return int(digits) if len(digits) <= _LONGEST_DIGITS else int("9" * _LONGEST_DIGITS)
    return None


def _decimal_number(v: Any) -> float | None:
    """A finite number from an integer, a float or decimal text (see the module's docstring);
    None for anything else, booleans (numpy's too) included."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        try:
            number = float(v)
        except OverflowError:
            return None
    elif isinstance(v, (float, np.floating)):
        number = float(v)
    elif isinstance(v, str) and _DECIMAL_TEXT.fullmatch(str.strip(v, BLANKS)):
        number = float(str.strip(v, BLANKS).replace(",", ""))
    else:
        return None
    return number if math.isfinite(number) else None


def resembling(name: Any) -> str | None:
    """The field of the input contract that ``name`` most resembles: the one it equals once case,
    spaces, hyphens, dots and underscores are set aside, else the closest by ``difflib``'s ratio
    (at least 0.6); None when none is close or ``name`` is not text."""
    if not isinstance(name, str):
        return None
    key = re.sub(r"[\s._-]+", "_", name[:QUOTE_LIMIT].lower()).strip("_")
    if key in FIELDS:
        return key
    close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_field(name: Any, listing: bool = True) -> str:
    """What is wrong with a key or column ``name`` that is not a field of the input contract;
    ``listing``: name the fields where none resembles it."""
    like = resembling(name)
    if like is not None and like.lower() == str.strip(name).lower():
        return (
            f"is not a field of the input contract; did you mean '{like}'? (names must match exactly: "
            "one that differs only in case or surrounding spaces is not taken for the field)"
        )
    if like is not None:
        return f"is not a field of the input contract; did you mean '{like}'?"
    return (
        f"is not a field of the input contract ({', '.join(FIELDS)})"
        if listing
        else "is not a field of the input contract"
    )


def notice_id_text(value: Any) -> str | None:
    """The notice id an output row shows for ``value``: the id as the contract reads it, or None
    when ``value`` is not a usable id."""
    parser = _Parser({"notice_id": value}, ZoneInfo("UTC"))
    text = parser.text("notice_id", True)
    return None if parser.problems else text


def parse_event(raw: Mapping[str, Any], timezone: ZoneInfo, *, allow_extra: bool = False) -> SaleEvent:
    """Validate one sale event (a mapping, e.g. a dict or a table's row as a dict); raises
    InputError listing every problem, whatever the mapping holds."""
    if not isinstance(raw, Mapping):
        raise InputError([("event", raw, "must be a mapping of field names to values")])
    try:  # keys as plain text where they are text: no subclass decides what they equal
        pairs = [(str.__str__(k) if isinstance(k, str) else k, v) for k, v in raw.items()]
        raw = dict(pairs)
    except Exception as exc:  # noqa: BLE001  (a mapping of any kind, keys of any kind)
        raise InputError([("event", raw, f"cannot be read as a mapping ({type(exc).__name__})")]) from None
    p = _Parser(raw, timezone)
    if len(raw) < len(pairs):
        p.problems.append(("event", [k for k, _ in pairs], "names a field more than once"))
    if not allow_extra:
        for field in raw:
            if not (isinstance(field, str) and field in _FIELD_NAMES):
                p.fail(field, unknown_field(field))
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


def validate_event(
    raw: Mapping[str, Any], agreement: Agreement, rulebook: Rulebook, *, allow_extra: bool = False
) -> SaleEvent:
    """Parse and check an event against the agreement (investor on Schedule A, covered dates)."""
    event = parse_event(raw, agreement.company_timezone, allow_extra=allow_extra)
    if event.investor not in agreement.investors:
        raise InputError(
            [("investor", event.investor, f"is not an investor of the agreement ({', '.join(agreement.investors)})")]
        )
    uncovered = rulebook.parameters.uncovered(event.sale_date)
    if uncovered:
        raise InputError([("sale_date", event.sale_date.isoformat(), uncovered)])
    return event


# Up to this many values, ``Coded.of`` codes text without pandas.
_FEW = 32


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
    def of(cls, values) -> Coded:
        """``values`` (None, NaN: absent) coded by distinct value, the distinct values in order of
        first appearance (``pd.factorize``). A few values that are all text or None (one event's
        fields) are coded in Python: pandas' hash table costs more to set up than they take."""
        values = np.asarray(values, dtype=object)
        if values.ndim == 1 and len(values) <= _FEW:
            items = values.tolist()
            if all(v is None or type(v) is str for v in items):
                first: dict[str, int] = {}
                codes = [-1 if v is None else first.setdefault(v, len(first)) for v in items]
                return cls(np.array(codes, dtype=np.intp), list(first))
        codes, uniques = pd.factorize(values)
        return cls(codes, list(uniques))

    @classmethod
    def concatenate(cls, columns: list[Coded]) -> Coded:
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

    def filled(self, value) -> Coded:
        """The same column with ``value`` where absent."""
        if value in self.distinct:
            return Coded(np.where(self.codes < 0, self.distinct.index(value), self.codes), self.distinct)
        return Coded(np.where(self.codes < 0, len(self.distinct), self.codes), self.distinct + [value])

    def present_values(self) -> list:
        """The distinct values present, in order of first appearance."""
        import pandas as pd

        return [self.distinct[c] for c in pd.unique(self.codes).tolist() if c >= 0]


_DATE_FIELDS = (
    "sale_date",
    "notice_received_on",
    "certificate_received_on",
    "delivered_on",
    "warrant_exercised_on",
    "form_144_filed_on",
)
_BOOL_FIELDS = ("affiliate", "opinion_of_counsel", "company_advised")
_TEXT_FIELDS = ("notice_id", "investor", "security", "route", "delivery", "warrant_exercise", "manner_of_sale")


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
    def from_events(cls, events: list[SaleEvent]) -> EventColumns:
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

    def take(self, rows) -> EventColumns:
        """The events at positions ``rows`` (an index array or boolean mask)."""
        return EventColumns(**{k: None if v is None else v[rows] for k, v in self.__dict__.items()})

    def without_ids(self) -> EventColumns:
        """The same events with ``notice_id`` None: judging never reads the ids, and taking rows of
        an array of a million Python strings is slow and holds the GIL."""
        return EventColumns(**{**self.__dict__, "notice_id": None})

    def on(self, days) -> EventColumns:
        """The same events moved to other sale dates (an array, one per event)."""
        return EventColumns(**{**self.__dict__, "sale_date": days})
