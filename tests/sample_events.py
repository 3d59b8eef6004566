"""Sale events the tests share, with their decisions worked out by hand."""

from __future__ import annotations

# Worked by hand (fixture: fixtures/focus_enhancements/agreement.yaml; Rule 144 as of 1997-04-29):
# - Papell Holdings Limited holds 1,128,718 Shares (Schedule A): 100,000 fits (event.position);
#   Closing 2002-01-16 is before the sale (event.acquired). Mon 2003-02-03 is a trading day.
# - Holding period 12 months from 2002-01-16, satisfied the day after the anniversary: 2003-01-17
#   <= 2003-02-03. Non-affiliate free resale (144(k), 24 months) only from 2004-01-17, so (c), (e),
#   (f), (h) apply: issuer current (the only late report is due 2003-11-14, after the sale); volume
#   limit = max(1% of 38,000,000 = 380,000; 300,000 weekly) = 380,000 >= 100,000; brokers'
#   transaction permitted; Form 144 required (100,000 > 500 shares) and filed on the sale date.
# - Opinion of counsel delivered and the Company advised (Sections 1(b)(i), 3(h)).
# => allow.
ALLOWED = {
    "notice_id": "N1",
    "investor": "Papell Holdings Limited",
    "security": "shares",
    "quantity": 100000,
    "sale_date": "2003-02-03",
    "route": "rule_144",
    "affiliate": False,
    "opinion_of_counsel": True,
    "company_advised": True,
    "manner_of_sale": "brokers_transaction",
    "form_144_filed_on": "2003-02-03",
    "sale_price": 1.0,
}


# An affiliate's Rule 144 sale of Papell's Shares on Mon 2003-03-03, after the one-year holding
# period (the Shares were acquired at the Closing, 2002-01-16) and while the issuer is current; its
# quantity, price and Form 144 are each test's own.
AFFILIATE_RULE_144_SALE = {
    "investor": "Papell Holdings Limited",
    "security": "shares",
    "sale_date": "2003-03-03",
    "route": "rule_144",
    "affiliate": True,
    "opinion_of_counsel": True,
    "company_advised": True,
    "manner_of_sale": "brokers_transaction",
}


def as_text(event: dict) -> dict:
    """The event as a CSV file gives it: every value as text (true/false for flags)."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in event.items()}


class Unshowable:
    """A cell value whose text cannot be had: its ``repr`` and ``str`` raise."""

    def __repr__(self):
        raise RuntimeError("repr refused")

    __str__ = __repr__


def nested(depth: int) -> list:
    """A list nested ``depth`` deep (deeper than Python's recursion limit for 5,000)."""
    value: list = []
    for _ in range(depth):
        value = [value]
    return value
