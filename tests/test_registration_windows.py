"""Registration-statement rules the bundled fixture cannot make fail (it has no stop order and its
statement covers both securities), on copies of its agreement file that say otherwise. Expected
dates worked out by hand beside each case."""

from __future__ import annotations

import compliance

REGISTERED = {
    "notice_id": "R",
    "investor": "Papell Holdings Limited",
    "security": "shares",
    "quantity": 1000,
    "route": "registration_statement",
    "affiliate": False,
}


def test_stop_order_window(edited_agreement):
    # A stop order Mon 2002-09-09 .. Fri 2002-09-13, inclusive: a sale on Wed 09-11 is denied under
    # Securities Act Section 8(d); the first day after is Mon 2002-09-16 (a trading day). The day
    # before, Fri 09-06, is allowed.
    agreement = edited_agreement("  stop_orders: []", "  stop_orders:\n    - {start: 2002-09-09, end: 2002-09-13}")
    denied = compliance.check({**REGISTERED, "sale_date": "2002-09-11"}, agreement)
    assert denied.failed_rules == ["registration.no_stop_order"]
    assert "Securities Act Section 8(d)" in denied.citations
    assert denied.earliest_allowed_date.isoformat() == "2002-09-16"
    assert compliance.check({**REGISTERED, "sale_date": "2002-09-06"}, agreement).outcome == "allow"
    assert compliance.check({**REGISTERED, "sale_date": "2002-09-13"}, agreement).outcome == "deny"


def test_statement_that_does_not_cover_warrant_shares(edited_agreement):
    # Covering Shares only: a registered sale of cashless-exercised Warrant Shares on Tue 2002-10-01
    # is denied and time never cures it; the same sale of Shares is allowed.
    agreement = edited_agreement("  covers: [shares, warrant_shares]", "  covers: [shares]")
    warrant = {
        **REGISTERED,
        "security": "warrant_shares",
        "sale_date": "2002-10-01",
        "warrant_exercised_on": "2002-06-03",
        "warrant_exercise": "cashless",
    }
    denied = compliance.check(warrant, agreement)
    assert denied.failed_rules == ["registration.covers_security"]
    assert denied.earliest_allowed_date is None
    assert compliance.check({**REGISTERED, "sale_date": "2002-10-01"}, agreement).outcome == "allow"
