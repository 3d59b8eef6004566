"""A seller's history: dated completed sales count for a proposed sale (position, the 144(e)
volume aggregate and the 144(h) amounts, each sale at its own price); the sales stated on the
notice (``prior_144_sales_3m``) leave the three-month window three months after its sale date.

Facts of the default (Focus Enhancements) agreement used below: Papell Holdings Limited holds
1,128,718 shares; 1% of the 38,000,000 shares outstanding is 380,000, the average weekly volume
300,000, so the volume limit in early 2003 is 380,000; the Form 144 thresholds before 2008-02-15
are 500 shares and $10,000 (144(h)). The window of a sale on day t holds the sales made after t
less three months."""

from __future__ import annotations

import pandas as pd
import pytest
from sample_events import AFFILIATE_RULE_144_SALE

import compliance
from compliance.cli import main

PAPELL = "Papell Holdings Limited"


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement()


def sale(**changes):
    """An affiliate's Rule 144 sale on Mon 2003-03-03, after the one-year holding period."""
    return {**AFFILIATE_RULE_144_SALE, "notice_id": "H1", "quantity": 50, "sale_price": 50, **changes}


def sold(quantity, sale_date, route="rule_144", price=None, **changes):
    return {
        "investor": PAPELL,
        "security": "shares",
        "quantity": quantity,
        "sale_date": sale_date,
        "route": route,
        **({} if price is None else {"sale_price": price}),
        **changes,
    }


def test_stated_prior_sales_leave_the_window_three_months_after_the_sale_date(agreement):
    d = compliance.check(sale(sale_price=1, prior_144_sales_3m=400), agreement)
    # 400 stated sales of unknown price: the dollar amount is unknown and no Form 144 is on file.
    assert d.outcome == "deny" and d.failed_rules == ["rule144.form_144"]
    # They are dated on the sale date, Mon 2003-03-03; the window of day t holds the sales after
    # t - 3 months, so they are out once t - 3 months >= 2003-03-03: Tue 2003-06-03 (trading day).
    # Then 50 shares at $1 stay under 500 shares and $10,000: no Form 144 is needed.
    assert str(d.earliest_allowed_date) == "2003-06-03"


def test_the_dollar_amount_counts_each_sale_at_its_own_price(agreement):
    # 400 shares at $20 on 2003-02-14 ($8,000) + 50 at $50 ($2,500) = $10,500 > $10,000: a Form
    # 144 is required (450 shares alone would not need one), and none is on file.
    d = compliance.check(sale(), agreement, history=[sold(400, "2003-02-14", price=20)])
    assert d.outcome == "deny" and d.failed_rules == ["rule144.form_144"]
    # At $1 the earlier sale is $400: $2,900 in all, 450 shares: under both thresholds. (Counted
    # at this sale's price, 450 x $50 = $22,500, it would need a Form 144.)
    assert compliance.check(sale(), agreement, history=[sold(400, "2003-02-14", price=1)]).outcome == "allow"


def test_an_earlier_sale_of_unknown_price_leaves_the_dollar_amount_unknown(agreement):
    d = compliance.check(sale(), agreement, history=[sold(400, "2003-02-14")])
    assert d.outcome == "deny" and d.failed_rules == ["rule144.form_144"]
    assert "amount_aggregate_3m_dollars" in d.reasons
    # A registered sale is not a Rule 144 sale: it joins no aggregate.
    registered = [sold(400, "2003-02-14", route="registration_statement")]
    assert compliance.check(sale(), agreement, history=registered).outcome == "allow"


def test_history_sales_join_the_volume_aggregate_and_leave_the_window(agreement):
    event = sale(quantity=260_001, sale_price=1.05, form_144_filed_on="2003-03-03")
    history = [sold(120_000, "2003-02-14", price=1)]
    # 120,000 + 260,001 = 380,001 > 380,000.
    d = compliance.check(event, agreement, history=history)
    assert d.outcome == "deny" and d.failed_rules == ["rule144.volume"]
    # The 2003-02-14 sale is out of the window of Wed 2003-05-14 (window after 2003-02-14), a
    # trading day: 260,001 alone is under the limit.
    assert str(d.earliest_allowed_date) == "2003-05-14"
    assert compliance.check({**event, "quantity": 260_000}, agreement, history=history).outcome == "allow"
    # Another investor's sales, and sales dated after the sale date, do not count.
    others = [sold(120_000, "2003-02-14", investor="Folkinburg Investments"), sold(120_000, "2003-03-04")]
    assert compliance.check(event, agreement, history=others).outcome == "allow"


def test_history_reduces_the_position(agreement):
    # A non-affiliate after 144(k) (two years from 2002-01-16): Mon 2004-02-02 is free of (e), (h).
    free = sale(affiliate=False, sale_date="2004-02-02", quantity=718)
    history = [sold(1_128_000, "2003-12-01", route="other_exemption"), sold(5, "2003-12-01", security="warrant_shares")]
    # 1,128,718 - 1,128,000 = 718 left; the warrant shares sold are another security.
    assert compliance.check(free, agreement, history=history).outcome == "allow"
    d = compliance.check({**free, "quantity": 719}, agreement, history=history)
    assert d.outcome == "deny" and d.failed_rules == ["event.position"]
    # The same sale dated after 2004-02-02 is ignored, and never cured (time does not bring shares back).
    assert d.earliest_allowed_date is None
    later = [sold(1_128_000, "2004-02-03", route="other_exemption")]
    assert compliance.check({**free, "quantity": 719}, agreement, history=later).outcome == "allow"


def test_a_bad_history_row_is_an_error_naming_the_row_and_field(agreement, tmp_path, capsys):
    history = [sold(100, "2003-02-14"), sold("12x", "2003-02-14")]
    d = compliance.check(sale(), agreement, history=history)
    assert d.outcome == "error" and "history row 2: quantity" in d.error
    with pytest.raises(compliance.InputError, match="history row 2: quantity"):
        compliance.review(pd.DataFrame([sale()]), agreement, history=history)
    bad = tmp_path / "sales.csv"
    pd.DataFrame([sold(100, "2003-02-14"), sold(100, "2003-02-30")]).to_csv(bad, index=False)
    path = tmp_path / "event.json"
    path.write_text(pd.Series(sale()).to_json())
    assert main(["check", str(path), "--history", str(bad)]) == 2
    assert "history row 2: sale_date" in capsys.readouterr().err


def test_a_history_file_that_cannot_be_read_is_an_error(agreement, tmp_path):
    d = compliance.check(sale(), agreement, history=tmp_path / "missing.csv")
    assert d.outcome == "error" and "history=" in d.error and "cannot be read" in d.error


def test_sweep_counts_the_history_day_by_day(agreement):
    event = sale(quantity=260_001, sale_price=1.05, form_144_filed_on="2003-03-03")
    days = compliance.sweep(event, agreement, "2003-05-12", "2003-05-16", history=[sold(120_000, "2003-02-14")])
    # The 2003-02-14 sale is in the window until Tue 2003-05-13 (window after 2003-02-13) and out
    # from Wed 2003-05-14: denied Mon and Tue, allowed Wed to Fri.
    assert days["outcome"].tolist() == ["deny", "deny", "allow", "allow", "allow"]
