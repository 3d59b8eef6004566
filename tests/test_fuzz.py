"""Property-based fuzzing of the input contract: events built from the contract, then mutated as a
careless or hostile sender would (wrong types, unknown and repeated keys, ambiguous numbers, other
scripts' digits, huge values, control characters, arbitrary text).

For every mutated event: ``check()`` returns a Decision and never raises; where a mutation is one
the contract rejects, the outcome is "error"; and ``review()`` of the same event as a one-row
DataFrame, and (when every value is text) as a one-row CSV file read as the command reads it,
gives the same outcome as ``check()``, or refuses the table where the event has a key that is no
field of the contract.

Deterministic (``derandomize``) and bounded in examples, so that the suite's time stays modest.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_events import ALLOWED, Unshowable, as_text

import compliance
from compliance.cli.events import event_from_json
from compliance.contract.event import FIELDS, InputError
from compliance.contract.notice_files import read_notices

# Bases, every value as text as a CSV gives it:
# - ALLOWED: Papell Holdings, 100,000 Shares under Rule 144 on Mon 2003-02-03 with every Rule 144
#   condition met (worked by hand in tests/test_input.py, VALID) -> allow.
# - VOLUME: the same with 300,000 shares sold in the prior three months: 400,000 > the 380,000
#   limit -> deny (rule144.volume).
# - REGISTERED: Folkinburg, 50,000 Shares under the registration statement on Tue 2002-10-01,
#   effective 2002-03-15, outside the 2002-08-01..20 suspension, prospectus fresh -> allow
#   (worked by hand in tests/test_input.py, G2).
ALLOWED = as_text(ALLOWED)
VOLUME = {**ALLOWED, "prior_144_sales_3m": "300000"}
REGISTERED = {
    "notice_id": "G2",
    "investor": "Folkinburg Investments",
    "security": "shares",
    "quantity": "50,000",
    "sale_date": "2002-10-01",
    "route": "registration_statement",
    "affiliate": "False",
}
BASES = [(ALLOWED, "allow"), (VOLUME, "deny"), (REGISTERED, "allow")]

WHOLE = ("quantity", "prior_144_sales_3m")
DIGIT_FIELDS = ("quantity", "prior_144_sales_3m", "sale_price", "sale_date", "form_144_filed_on")
# The zeros of other scripts' decimal digits: full-width, Arabic-Indic, Extended Arabic-Indic,
# Devanagari, Bengali, Thai, mathematical bold.
OTHER_ZEROS = [0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE]


WRONG_TYPES = st.sampled_from(
    [
        lambda v: [v],
        lambda v: {"value": v},
        lambda v: {v},
        lambda v: (v,),
        lambda v: v.encode(),
        lambda v: np.array([v]),
        lambda v: np.array([v, v]),
        lambda v: Unshowable(),
        lambda v: object(),
        lambda v: float("inf"),
        lambda v: complex(1, 1),
    ]
)


# Ways of writing a number n of at least 1,000 that some reader takes for a number, none of them a
# whole number of the contract (European grouping, spaces, an exponent, signs, a point, commas out
# of place, underscores, hexadecimal).
WHOLE_MUTATIONS = [
    lambda n: f"{n:,}".replace(",", "."),
    lambda n: f"{n:,}".replace(",", " "),
    lambda n: f"{n}e0",
    lambda n: f"+{n}",
    lambda n: f"{n}.0",
    lambda n: f"-{n}",
    lambda n: f"{str(n)[:-2]},{str(n)[-2:]}",
    lambda n: f"{n:_}",
    hex,
]
# Control characters that Python's str.strip() and str.isspace() take for white space.
WHITE_CONTROLS = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"]
# The mutations, those the contract must reject weighted above arbitrary values.
KINDS = [
    "wrong_type",
    "ambiguous",
    "ambiguous",
    "digits",
    "digits",
    "huge",
    "control",
    "control",
    "unknown_key",
    "arbitrary",
]


def _unknown(key: str) -> bool:
    """A key that is no field of the contract, and that a table could keep: not an output
    column's name, nor a reader's renaming of a repeated field (``quantity.1``)."""
    return key not in FIELDS and key not in compliance.OUTPUT_COLUMNS and key.rsplit(".", 1)[0] not in FIELDS


@st.composite
def mutated(draw):
    """(event, rejected, unknown_key): a base event with one or two fields mutated; ``rejected``
    when some mutation is one the contract rejects (None when it cannot be told: arbitrary
    values), ``unknown_key`` when a key is no field of the contract."""
    base, _ = draw(st.sampled_from(BASES))
    event, rejected, unknown = dict(base), False, False
    untouched = sorted(base)  # each mutation changes a field of its own
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(KINDS))
        fields = {"ambiguous": WHOLE + ("sale_price",), "huge": WHOLE + ("sale_price",), "digits": DIGIT_FIELDS}.get(
            kind, FIELDS
        )
        fields = [f for f in untouched if f in fields]
        if not fields:
            continue
        field = draw(st.sampled_from(fields))
        untouched.remove(field)
        value = base[field]  # text
        if kind == "wrong_type":
            event[field] = draw(WRONG_TYPES)(value)
            rejected = True
        elif kind == "ambiguous":
            if field == "sale_price":  # a decimal comma: two digits after a comma are never a group
                event[field] = f"{draw(st.integers(0, 999))},{draw(st.integers(0, 99)):02d}"
            else:
                event[field] = draw(st.sampled_from(WHOLE_MUTATIONS))(draw(st.integers(1000, 10**12)))
            rejected = True
        elif kind == "digits":
            text = value
            places = [i for i, c in enumerate(text) if c.isdigit()]
            chosen = draw(st.lists(st.sampled_from(places), min_size=1, unique=True))
            zero = draw(st.sampled_from(OTHER_ZEROS))
            event[field] = "".join(chr(zero + int(c)) if i in chosen else c for i, c in enumerate(text))
            rejected = True
        elif kind == "huge":
            number = draw(st.integers(10**15 + 1, 10**400))
            event[field] = draw(st.sampled_from([number, str(number), f"{number:,}", float(min(number, 10**300))]))
            rejected = True
        elif kind == "control":
            at = draw(st.one_of(st.sampled_from([0, len(value)]), st.integers(0, len(value))))
            char = draw(st.one_of(st.sampled_from(WHITE_CONTROLS), st.characters(categories=["Cc"])))
            event[field] = value[:at] + char + value[at:]
            rejected = rejected or not (char == "\t" and at in (0, len(value)))  # a tab around text is a blank
        elif kind == "unknown_key":
            key = draw(st.text(min_size=1, max_size=30).filter(_unknown))
            event[key] = draw(st.sampled_from(["", "x", value]))
            rejected = unknown = True
        elif kind == "arbitrary":
            event[field] = draw(
                st.one_of(
                    st.text(max_size=40), st.integers(), st.floats(), st.booleans(), st.none(), st.dates().map(str)
                )
            )
            rejected = None if rejected is False else rejected
    return event, rejected, unknown


# A check takes milliseconds, a review of one row several times as long: many events for check()
# alone, fewer for the comparison of the three paths.
MANY = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEWER = settings(MANY, max_examples=100)


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement()


def _same(decision: compliance.Decision, row: pd.Series) -> tuple:
    ours = decision.to_row()
    return (
        (ours["outcome"], ours["failed_rules"], ours["earliest_allowed_date"]),
        (row["outcome"], row["failed_rules"], row["earliest_allowed_date"]),
    )


def _as_csv(event: dict, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, quoting=csv.QUOTE_ALL)
        writer.writerow(list(event))
        writer.writerow(list(event.values()))
    return path


def _csv_safe(event: dict) -> bool:
    """Every key and value is text a CSV file can carry in one record (no line breaks, no NUL)."""
    return all(isinstance(v, str) and not any(c in v for c in "\r\n\x00") for kv in event.items() for v in kv)


def test_the_bases_are_judged_as_worked(agreement):
    for base, outcome in BASES:
        assert compliance.check(base, agreement).outcome == outcome


@MANY
@given(case=mutated())
def test_check_never_raises_nor_allows_what_the_contract_rejects(agreement, case):
    event, rejected, _ = case
    decision = compliance.check(event, agreement)
    assert isinstance(decision, compliance.Decision)
    if rejected:
        assert decision.outcome == "error", (event, decision)


@FEWER
@given(case=mutated())
def test_review_of_the_event_as_a_table_agrees_with_check(agreement, tmp_path_factory, case):
    event, rejected, unknown = case
    decision = compliance.check(event, agreement)
    frame = pd.DataFrame([event])
    if unknown:
        with pytest.raises(InputError):
            compliance.review(frame, agreement)
        known = {k: v for k, v in event.items() if k in FIELDS}
        kept = compliance.review(frame, agreement, extra_columns="keep")
        alone = compliance.check(known, agreement)
        assert len(kept) == 1 and kept.loc[0, "outcome"] == alone.outcome
        return
    out = compliance.review(frame, agreement)
    assert len(out) == 1
    ours, theirs = _same(decision, out.loc[0])
    assert ours == theirs, (event, decision.error, out.loc[0, "error"])
    if _csv_safe(event):
        path = _as_csv(event, tmp_path_factory.mktemp("csv") / "notices.csv")
        read = read_notices(path)
        from_file = compliance.check(read.iloc[0].to_dict(), agreement)
        ours, theirs = _same(from_file, compliance.review(read, agreement).loc[0])
        assert ours == theirs, event
        assert ours == _same(decision, out.loc[0])[0], (event, decision.error)


@FEWER
@given(base=st.sampled_from([b for b, _ in BASES]), data=st.data())
def test_repeated_json_keys_are_refused(base, data):
    field = data.draw(st.sampled_from(sorted(base)))
    again = data.draw(st.sampled_from([base[field], "1", "", "x"]))
    text = json.dumps(base)[:-1] + f", {json.dumps(field)}: {json.dumps(again)}}}"
    with pytest.raises(ValueError, match="more than once"):
        event_from_json(text)
    assert event_from_json(json.dumps(base)) == base


@settings(FEWER, max_examples=60)
@given(data=st.data())
def test_blanks_and_controls_around_values_read_alike_in_check_and_review(agreement, data):
    # Around a value, spaces and tabs are blanks; any other control character (even one that
    # Python's str.strip() drops) makes the value bad, in both paths.
    base, _ = data.draw(st.sampled_from(BASES))
    field = data.draw(st.sampled_from(sorted(base)))
    around = data.draw(
        st.lists(st.sampled_from([" ", "\t", *WHITE_CONTROLS, "\x00", "\x1b", "\x7f", "\x9b"]), min_size=1, max_size=3)
    )
    event = {**base, field: data.draw(st.sampled_from(["".join(around) + base[field], base[field] + "".join(around)]))}
    decision = compliance.check(event, agreement)
    if set(around) <= {" ", "\t"}:
        assert decision.outcome == compliance.check(base, agreement).outcome
    else:
        assert decision.outcome == "error", event
    ours, theirs = _same(decision, compliance.review(pd.DataFrame([event]), agreement).loc[0])
    assert ours == theirs, event
