"""An agreement file may choose its conventions: the business-day calendar of the Delivery Date and
the counting of Rule 144 periods. Expected dates worked out by hand beside each case."""

from __future__ import annotations

import pytest

import compliance

REGISTERED = {
    "notice_id": "D",
    "investor": "Papell Holdings Limited",
    "security": "shares",
    "quantity": 1000,
    "route": "registration_statement",
    "affiliate": False,
}


@pytest.mark.parametrize(
    "received, calendar, expected",
    [
        # Both items Fri 2002-10-11; Mon 10-14 is Columbus Day (NYSE open, Federal Reserve closed).
        # settlement: Tue 10-15 (1), Wed 10-16 (2), Thu 10-17 (3)
        ("2002-10-11", "settlement", "2002-10-17"),
        # exchange (NYSE days): Mon 10-14 (1), Tue 10-15 (2), Wed 10-16 (3)
        ("2002-10-11", "exchange", "2002-10-16"),
        # banking (Fed days): as settlement here, Columbus Day closed -> Thu 10-17
        ("2002-10-11", "banking", "2002-10-17"),
        # Both items Wed 2002-03-27; Fri 03-29 Good Friday: NYSE closed, Federal Reserve open.
        # settlement: Thu 03-28 (1), Mon 04-01 (2), Tue 04-02 (3)
        ("2002-03-27", "settlement", "2002-04-02"),
        # banking: Thu 03-28 (1), Fri 03-29 (2), Mon 04-01 (3)
        ("2002-03-27", "banking", "2002-04-01"),
    ],
    ids=[
        "columbus-settlement",
        "columbus-exchange",
        "columbus-banking",
        "good-friday-settlement",
        "good-friday-banking",
    ],
)
def test_delivery_date_under_each_business_day_convention(edited_agreement, received, calendar, expected):
    agreement = edited_agreement("business_day: settlement", f"business_day: {calendar}")
    d = compliance.check(
        {**REGISTERED, "sale_date": received, "notice_received_at": received, "certificate_received_at": received},
        agreement,
    )
    assert d.delivery_date.isoformat() == expected


def test_anniversary_counting_allows_on_the_anniversary(edited_agreement):
    # Acquired Wed 2002-01-16; one year: anniversary Thu 2003-01-16. With `anniversary` counting
    # the sale is allowed that day; with the default `day_after` only from Fri 2003-01-17.
    event = {
        "notice_id": "A",
        "investor": "Papell Holdings Limited",
        "security": "shares",
        "quantity": 1000,
        "sale_date": "2003-01-16",
        "route": "rule_144",
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "brokers_transaction",
        "form_144_filed_on": "2003-01-16",
        "sale_price": 1.0,
    }
    anniversary = edited_agreement("period_counting: day_after", "period_counting: anniversary")
    assert compliance.check(event, anniversary).outcome == "allow"
    default = compliance.check(event, compliance.load_agreement())
    assert default.outcome == "deny"
    assert default.earliest_allowed_date.isoformat() == "2003-01-17"


def test_agreement_without_a_clause_the_rules_cite_fails_clearly(edited_agreement):
    agreement = edited_agreement(
        "  dwac_delivery:\n    section: Section 1(b)(iii)", "  unused_clause:\n    section: Section 1(b)(iii)"
    )
    with pytest.raises(compliance.AgreementError, match="dwac_delivery"):
        compliance.check({**REGISTERED, "sale_date": "2002-10-11"}, agreement)


def test_malformed_agreement_field_names_file_and_field(edited_agreement):
    with pytest.raises(compliance.AgreementError, match=r"agreement.yaml: field 'closing_date'"):
        edited_agreement("closing_date: 2002-01-16", "closing_date: someday")
