"""A table of sale notices parsed column by column.

The row parser (``model.parse_event``) is the authority on what the input contract accepts. This
module only takes the fast road for values already in canonical form (ISO dates, whole numbers
written as digits, ``true``/``false``, allowed enum values, empty cells for absent optional
fields); every row with anything else is handed to the row parser, which accepts it or names the
field and value that are wrong. So a row is accepted here only if the row parser would accept it
with the same values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .agreement import Agreement
from .calendars import LAST_DATE
from .check import validate_event
from .model import (DELIVERIES, FIRST_DATE, MANNERS_OF_SALE, MAX_PRICE, MIN_PRICE, OPTIONAL, REQUIRED, ROUTES, SECURITIES,
                    WARRANT_EXERCISES, EventColumns, InputError, is_missing)

ISO_DAY = r"\d{4}-\d{2}-\d{2}"


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as stripped text, '' where absent (NaN, None, empty). Cells that are not text
    (numbers, booleans, dates given as objects) are kept as they are."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("").str.strip().astype(object)
    text = values.astype(object).where(values.notna(), "")
    return text.map(lambda v: v.strip() if isinstance(v, str) else ("" if is_missing(v) else v))


def _is_text(text: pd.Series) -> np.ndarray:
    return text.map(type).to_numpy() == str


def _days(text: pd.Series, ok: np.ndarray, first, last) -> tuple[np.ndarray, np.ndarray]:
    """ISO days in range; ``ok`` cleared where a value is not one."""
    is_day = _is_text(text) & text.astype(str).str.fullmatch(ISO_DAY).to_numpy()
    days = pd.to_datetime(text.where(is_day, None), format="%Y-%m-%d", errors="coerce").to_numpy().astype("M8[D]")
    good = is_day & ~np.isnat(days) & (days >= np.datetime64(first)) & (days <= np.datetime64(last))
    return days, ok & good


def _optional_days(text: pd.Series, ok: np.ndarray, first, last) -> tuple[np.ndarray, np.ndarray]:
    empty = (text == "").to_numpy()
    days, good = _days(text, np.ones(len(text), bool), first, last)
    return np.where(empty, np.datetime64("NaT"), days), ok & (empty | good)


def _local_days(text: pd.Series, ok: np.ndarray, timezone, first, last) -> tuple[np.ndarray, np.ndarray]:
    """ISO dates or date-times as Company local dates: naive = local, offsets converted."""
    s = text.astype(str)
    empty = (text == "").to_numpy()
    naive = s.str.fullmatch(ISO_DAY + r"(T\d{2}:\d{2}(:\d{2})?)?").to_numpy()
    offset = s.str.fullmatch(ISO_DAY + r"T\d{2}:\d{2}(:\d{2})?[+-]\d{2}:\d{2}").to_numpy()
    days = np.full(len(text), np.datetime64("NaT"), dtype="M8[D]")
    local, good = _days(s.str.slice(0, 10).where(naive, ""), np.ones(len(text), bool), first, last)
    days = np.where(naive, local, days)
    if offset.any():
        moments = pd.to_datetime(s[offset], format="ISO8601", utc=True, errors="coerce")
        converted = moments.dt.tz_convert(timezone).dt.tz_localize(None).to_numpy().astype("M8[D]")
        days[offset] = converted
    in_range = ~np.isnat(days) & (days >= np.datetime64(first)) & (days <= np.datetime64(last))
    return days, ok & (empty | ((naive & good) | (offset & in_range)))


def _choice(text: pd.Series, allowed: tuple, ok: np.ndarray, required: bool) -> tuple[np.ndarray, np.ndarray]:
    valid = text.isin(allowed).to_numpy()
    empty = (text == "").to_numpy()
    return text.where(~empty, None).to_numpy(dtype=object), ok & (valid | ((not required) & empty))


def _flag(text: pd.Series, ok: np.ndarray, required: bool) -> tuple[np.ndarray, np.ndarray]:
    lowered = text.map(lambda v: str(v).lower() if isinstance(v, (str, bool, np.bool_)) else "?")
    empty = (text == "").to_numpy()
    valid = lowered.isin(("true", "false")).to_numpy()
    return (lowered == "true").to_numpy(), ok & (valid | ((not required) & empty))


def _whole(text: pd.Series, ok: np.ndarray, minimum: int, required: bool) -> tuple[np.ndarray, np.ndarray]:
    s = text.astype(str)
    digits = s.str.fullmatch(r"\d{1,15}").to_numpy() & _is_text(text)
    empty = (text == "").to_numpy()
    values = np.where(digits, pd.to_numeric(s.where(digits, "0"), errors="coerce").fillna(0).to_numpy(), 0).astype(np.int64)
    return values, ok & ((digits & (values >= minimum)) | ((not required) & empty))


def parse_table(frame: pd.DataFrame, agreement: Agreement, rulebook) -> tuple[list, dict[int, tuple]]:
    """Parse every row. Returns ``(valid, errors)``: ``valid`` a list of (row positions,
    EventColumns) blocks and ``errors`` {row position: (notice_id, message)}."""
    n = len(frame)
    ok = np.ones(n, dtype=bool)
    text = {c: _text(frame, c) for c in REQUIRED + OPTIONAL}
    first = max(FIRST_DATE, rulebook.parameters.versions[0])
    columns = {}
    ids = text["notice_id"]
    ok &= _is_text(ids) & (ids != "").to_numpy()
    columns["notice_id"] = ids.to_numpy(dtype=object)
    columns["investor"], ok = _choice(text["investor"], tuple(agreement.investors), ok, True)
    columns["security"], ok = _choice(text["security"], SECURITIES, ok, True)
    columns["route"], ok = _choice(text["route"], ROUTES, ok, True)
    columns["quantity"], ok = _whole(text["quantity"], ok, 1, True)
    columns["sale_date"], ok = _days(text["sale_date"], ok, first, LAST_DATE)
    columns["affiliate"], ok = _flag(text["affiliate"], ok, True)
    tz = agreement.company_timezone
    for field, name in (("notice_received_at", "notice_received_on"),
                        ("certificate_received_at", "certificate_received_on"), ("delivered_at", "delivered_on")):
        columns[name], ok = _local_days(text[field], ok, tz, FIRST_DATE, LAST_DATE)
    delivery, ok = _choice(text["delivery"], DELIVERIES, ok, False)
    columns["delivery"] = np.where(delivery == None, "certificate", delivery).astype(object)  # noqa: E711
    columns["opinion_of_counsel"], ok = _flag(text["opinion_of_counsel"], ok, False)
    columns["company_advised"], ok = _flag(text["company_advised"], ok, False)
    columns["warrant_exercised_on"], ok = _optional_days(text["warrant_exercised_on"], ok, FIRST_DATE, LAST_DATE)
    columns["warrant_exercise"], ok = _choice(text["warrant_exercise"], WARRANT_EXERCISES, ok, False)
    columns["manner_of_sale"], ok = _choice(text["manner_of_sale"], MANNERS_OF_SALE, ok, False)
    columns["form_144_filed_on"], ok = _optional_days(text["form_144_filed_on"], ok, FIRST_DATE, LAST_DATE)
    price_text = text["sale_price"].astype(str)
    decimal = price_text.str.fullmatch(r"\d{1,9}(\.\d{1,9})?").to_numpy() & _is_text(text["sale_price"])
    price = pd.to_numeric(price_text.where(decimal, "nan"), errors="coerce").to_numpy(dtype=np.float64)
    empty_price = (text["sale_price"] == "").to_numpy()
    ok &= (decimal & (price >= MIN_PRICE) & (price <= MAX_PRICE)) | empty_price
    columns["sale_price"] = np.where(empty_price, np.nan, price)
    columns["prior_144_sales_3m"], ok = _whole(text["prior_144_sales_3m"], ok, 0, False)

    # Contradictions and duplicates go to the row parser or become errors.
    shares = columns["security"] == "shares"
    ok &= ~(shares & (~np.isnat(columns["warrant_exercised_on"]) | (columns["warrant_exercise"] != None)))  # noqa: E711
    received = np.maximum(columns["notice_received_on"], columns["certificate_received_on"])
    delivered = ~np.isnat(columns["delivered_on"])
    ok &= ~(delivered & (np.isnat(received) | (columns["delivered_on"] < received)))
    keys = ids.map(str)  # the notice_id as parsed: 7 and "7" are the same notice
    duplicated = keys.duplicated(keep=False).to_numpy() & (ids != "").to_numpy()

    errors: dict[int, tuple] = {}
    slow_positions, slow_events = [], []
    slow = np.flatnonzero(~ok | duplicated)
    for i, raw in zip(slow.tolist(), frame.iloc[slow].to_dict(orient="records")):
        record = {k: (None if is_missing(v) else v) for k, v in raw.items()}
        try:
            if duplicated[i]:
                raise InputError([("notice_id", record.get("notice_id"), "is not unique in this file")])
            event = validate_event(record, agreement, rulebook, allow_extra=True)
            slow_events.append(event)
            slow_positions.append(i)
        except InputError as exc:
            errors[i] = (record.get("notice_id"), str(exc))
    fast = np.flatnonzero(ok & ~duplicated)
    blocks = [(fast, EventColumns(**{k: v[fast] for k, v in columns.items()}))] if len(fast) else []
    if slow_events:
        blocks.append((np.array(slow_positions, dtype=np.int64), EventColumns.from_events(slow_events)))
    return blocks, errors
