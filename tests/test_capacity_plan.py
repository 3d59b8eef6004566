"""How much may I sell (``capacity``) and when can I be out (``plan``): each answer is held to
``check()`` itself, the capacity allowed and one share more denied, every plan step allowed given
the earlier steps as history and one share more denied."""

from __future__ import annotations

from pathlib import Path

import pytest

import compliance
from compliance.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAPELL = "Papell Holdings Limited"
ROUTES = ("registration_statement", "rule_144", "other_exemption")
# Before the registration statement, in its 2002-08-01..08-20 suspension, at the end of the
# holding period, inside and after 144(k)'s two years, and under the 2008 rule.
DATES = ("2002-03-15", "2002-08-05", "2003-01-17", "2003-03-03", "2003-11-03", "2004-02-02", "2008-03-03")


def event(investor, route, day, **changes):
    return {
        "notice_id": "Q",
        "investor": investor,
        "security": "shares",
        "sale_date": day,
        "route": route,
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "brokers_transaction",
        "sale_price": 1.25,
        **changes,
    }


def assert_exact(found, proposed, agreement, history=None):
    """The capacity is allowed by check() and one share more is denied, by the binding rules."""
    if found.quantity:
        allowed = compliance.check({**proposed, "quantity": found.quantity}, agreement, history=history)
        assert allowed.outcome == "allow", (proposed, found.quantity, allowed.failed_rules)
    beyond = compliance.check({**proposed, "quantity": found.quantity + 1}, agreement, history=history)
    assert beyond.outcome == "deny", (proposed, found.quantity)
    assert found.binding_rules == beyond.failed_rules


@pytest.fixture(scope="module")
def focus():
    return compliance.load_agreement(FIXTURES / "focus_enhancements")


def test_capacity_is_exact_for_every_investor_route_and_a_spread_of_dates(focus):
    for k, investor in enumerate(focus.investors):
        for route in ROUTES:
            for j, day in enumerate(DATES):
                extra = {"affiliate": (j + k) % 2 == 0}
                if route == "rule_144" and j % 3:
                    extra["form_144_filed_on"] = day
                proposed = event(investor, route, day, **extra)
                assert_exact(compliance.capacity(proposed, focus), proposed, focus)


def test_capacity_with_a_history_names_the_volume_limit(focus):
    proposed = event(PAPELL, "rule_144", "2003-03-03", affiliate=True, form_144_filed_on="2003-03-03")
    history = [
        {"investor": PAPELL, "security": "shares", "quantity": 120_000, "sale_date": "2003-02-14", "route": "rule_144"}
    ]
    found = compliance.capacity(proposed, focus, history)
    # The limit 380,000 (1% of 38,000,000) less the 120,000 sold on 2003-02-14, in the window.
    assert found.quantity == 260_000
    assert found.binding_rules == ["rule144.volume"] and "17 CFR 230.144(e)(1)" in found.citations
    assert found.to_dict()["quantity"] == 260_000 and "380000" in found.reasons[0]
    # The window of 2003-03-03 holds the sales after 2002-12-03: the 120,000 of 2003-02-14.
    assert found.reasons[1].startswith("120,000 shares already in the three-month aggregate")
    assert "after 2002-12-03" in found.reasons[1]
    assert_exact(found, proposed, focus, history)
    # Without a Form 144 the notice thresholds bind: 120,000 in the window already need one.
    found = compliance.capacity({**proposed, "form_144_filed_on": None}, focus, history)
    assert found.quantity == 0 and found.binding_rules == ["rule144.form_144"]


def plan_is_exact(steps, proposed, agreement):
    """Every step allowed given the earlier steps as history, one share more denied."""
    history = []
    for step in steps.itertuples():
        on = {**proposed, "sale_date": step.sale_date.isoformat()}
        if step.form_144_filed_on is not None:
            on["form_144_filed_on"] = step.form_144_filed_on.isoformat()
        assert_exact(compliance.capacity(on, agreement, history), on, agreement, history)
        assert compliance.check({**on, "quantity": step.quantity}, agreement, history=history).outcome == "allow"
        more = compliance.check({**on, "quantity": step.quantity + 1}, agreement, history=history)
        assert more.outcome == "deny", (on, step.quantity)
        history.append(
            {
                "investor": proposed["investor"],
                "security": proposed["security"],
                "quantity": step.quantity,
                "sale_date": step.sale_date.isoformat(),
                "route": proposed["route"],
                "sale_price": proposed["sale_price"],
            }
        )


@pytest.mark.parametrize("fixture", ["focus_enhancements", "harbor_2012"])
def test_every_plan_step_is_allowed_and_one_share_more_denied(fixture):
    agreement = compliance.load_agreement(FIXTURES / fixture)
    start = agreement.closing_date
    for investor in agreement.investors:
        for security in ("shares", "warrant_shares"):
            for route, affiliate in (("rule_144", True), ("rule_144", False), ("registration_statement", False)):
                proposed = event(investor, route, start.isoformat(), affiliate=affiliate, security=security)
                if security == "warrant_shares":  # exercised (cashless) at the closing
                    proposed.update(warrant_exercised_on=start.isoformat(), warrant_exercise="cashless")
                steps = compliance.plan(proposed, agreement)
                plan_is_exact(steps, proposed, agreement)
                sold = int(steps["quantity"].sum())
                assert sold + steps.attrs["remaining"] == steps.attrs["position"]
                assert (steps.attrs["out_on"] is not None) == (steps.attrs["remaining"] == 0)
                assert steps.attrs["remaining"] == 0 or steps.attrs["blocked"] or len(steps) == 0


def test_an_affiliate_sells_down_one_volume_limit_per_three_months(focus):
    proposed = event(PAPELL, "rule_144", "2003-01-17", affiliate=True)
    steps = compliance.plan(proposed, focus)
    # 1,128,718 shares at 380,000 per three months: Fri 2003-01-17 (the holding period ends),
    # then each sale leaves the window three months later: Thu 2003-04-17, Thu 2003-07-17
    # (380,000 + 380,000 + 368,718).
    assert [d.isoformat() for d in steps["sale_date"]] == ["2003-01-17", "2003-04-17", "2003-07-17"]
    assert steps["quantity"].tolist() == [380_000, 380_000, 368_718]
    assert steps.attrs["out_on"].isoformat() == "2003-07-17"
    # Each step assumes a Form 144 filed on its own sale date: without one, 500 shares at most.
    assert [d.isoformat() for d in steps["form_144_filed_on"]] == ["2003-01-17", "2003-04-17", "2003-07-17"]
    assert "assumes a Form 144 filed on 2003-01-17" in steps["reasons"][0]


def test_capacity_and_plan_on_the_command_line(tmp_path, capsys):
    args = ["--investor", PAPELL, "--route", "rule_144", "--set", "affiliate=true", "--set", "sale_price=1.25"]
    args += ["--set", "manner_of_sale=brokers_transaction"]
    assert main(["capacity", *args, "--on", "2003-03-03", "--set", "form_144_filed_on=2003-03-03"]) == 0
    assert "may sell 380,000 shares on 2003-03-03" in capsys.readouterr().out
    out = tmp_path / "plan.csv"
    assert main(["plan", *args, "--from", "2003-01-17", "-o", str(out)]) == 0
    assert "gone on 2003-07-17" in capsys.readouterr().out and out.exists()
    # Before the holding period ends, nothing: exit 1.
    assert main(["capacity", *args, "--on", "2002-06-03"]) == 1
    history = tmp_path / "sales.csv"
    history.write_text("investor,security,quantity,sale_date,route\nNobody,shares,1,2003-01-02,rule_144\n")
    assert main(["plan", *args, "--from", "2003-01-17", "--history", str(history)]) == 2
    assert "history row 1: investor" in capsys.readouterr().err


def test_plot_plan_draws_the_staircase_and_the_binding_rule(focus):
    pytest.importorskip("matplotlib")
    from compliance.views.plots import plot_plan

    steps = compliance.plan(event(PAPELL, "rule_144", "2003-01-17", affiliate=True), focus)
    ax = plot_plan(steps).axes[0]
    # The staircase: the three sales' cumulative totals, held to the end.
    assert list(ax.lines[0].get_ydata()) == [380_000, 760_000, 1_128_718, 1_128_718]
    assert "rule144.volume" in [t.get_text() for t in ax.texts]
    assert ax.get_title(loc="left") == "position gone on 2003-07-17"


def test_a_plan_ends_at_its_end_date(focus):
    steps = compliance.plan(event(PAPELL, "rule_144", "2003-01-17", affiliate=True), focus, end="2003-05-01")
    # The sales of 2003-01-17 and 2003-04-17 (see above) fall before 2003-05-01; 368,718 remain,
    # not blocked: the plan only stopped.
    assert steps["quantity"].tolist() == [380_000, 380_000]
    assert steps.attrs["remaining"] == 368_718 and steps.attrs["out_on"] is None and steps.attrs["blocked"] is None
