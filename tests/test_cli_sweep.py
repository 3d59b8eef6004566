"""``compliance sweep`` tells what it assumes, refuses an event that is not valid before judging
any day, and names the rules and the missing inputs behind a range denied on every day."""

from __future__ import annotations

import io
import sys
import time

from compliance.cli import main
from compliance.contract.event import MANNERS_OF_SALE

PAPELL = ["--investor", "Papell Holdings Limited", "--route", "rule_144"]
# Papell's Shares were acquired at the Closing, Wed 2002-01-16: the one-year holding period is met
# on Fri 2003-01-17 and free resale as a non-affiliate starts two years on, Sat 2004-01-17. So on
# Mon 2003-03-03 .. Fri 2003-03-07 a Rule 144 sale is past the holding period but still subject to
# the manner-of-sale (144(f)) and Form 144 (144(h)) conditions.
MARCH = ["--from", "2003-03-03", "--to", "2003-03-07"]


def test_the_assumed_event_is_printed_first_with_where_each_value_comes_from(capsys):
    assert main(["sweep", *PAPELL, *MARCH, "--set", "manner_of_sale=brokers_transaction", "--set", "quantity=500"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Assumed event, judged with sale_date on each trading day from 2003-03-03 to 2003-03-07:"
    event = lines[1 : lines.index("")]
    assert event == [
        "  notice_id = sweep  (default)",
        "  investor = Papell Holdings Limited  (--investor)",
        "  route = rule_144  (--route)",
        "  security = shares  (default)",
        "  quantity = 500  (--set)",
        "  affiliate = false  (default)",
        "  opinion_of_counsel = true  (default)",
        "  company_advised = true  (default)",
        "  manner_of_sale = brokers_transaction  (--set)",
    ]


def test_a_misspelled_investor_exits_2_naming_it_and_judges_no_day(capsys):
    assert main(["sweep", "--investor", "Papel Holdings Limited", "--route", "rule_144", *MARCH]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("compliance sweep: investor='Papel Holdings Limited': is not an investor")
    assert not any(line.startswith("2003-03-0") for line in captured.out.splitlines())  # no day's row
    assert "deny" not in captured.out and "Windows" not in captured.out


def test_a_bad_set_field_or_value_exits_2_naming_the_field(capsys):
    assert main(["sweep", *PAPELL, *MARCH, "--set", "maner_of_sale=brokers_transaction"]) == 2
    assert main(["sweep", *PAPELL, *MARCH, "--set", "manner_of_sale=brokers"]) == 2
    assert main(["sweep", *PAPELL, *MARCH, "--set", "sale_date=2003-03-04"]) == 2
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0].startswith("compliance sweep: maner_of_sale=") and "did you mean 'manner_of_sale'" in err[0]
    assert err[1].startswith("compliance sweep: manner_of_sale='brokers': must be one of brokers_transaction")
    assert err[2].startswith("compliance sweep: --set sale_date:")
    assert "Windows" not in captured.out


def test_a_range_denied_every_day_names_the_rules_and_the_missing_manner_of_sale(capsys):
    assert main(["sweep", *PAPELL, *MARCH]) == 1
    out = capsys.readouterr().out
    told = out[out.index("Denied on every trading day of the range by:") :].splitlines()[1:]
    assert told[0].startswith("  rule144.manner_of_sale: Manner of sale 'none' is not permitted")
    assert told[1] == "    not given: manner_of_sale; try --set manner_of_sale=" + "|".join(MANNERS_OF_SALE)
    assert told[2].startswith("  rule144.form_144: A Form 144 is required")
    assert told[3] == "    not given: form_144_filed_on; try --set form_144_filed_on=YYYY-MM-DD"
    assert len(told) == 4


def test_given_the_manner_of_sale_and_a_form_144_no_hint_remains(capsys):
    # Form 144 filed Mon 2003-03-03, on the first day: every day of the week is allowed.
    given = ["--set", "manner_of_sale=brokers_transaction", "--set", "form_144_filed_on=2003-03-03"]
    assert main(["sweep", *PAPELL, *MARCH, *given]) == 0
    out = capsys.readouterr().out
    assert "2003-03-03 .. 2003-03-07  allow" in out and "Denied on every" not in out


def test_a_range_denied_every_day_without_missing_input_names_the_rule_alone(capsys):
    # Before the holding period is met (Fri 2003-01-17), with every input given: no hint.
    given = ["--set", "manner_of_sale=brokers_transaction", "--set", "form_144_filed_on=2002-03-04"]
    assert main(["sweep", *PAPELL, "--from", "2002-03-04", "--to", "2002-03-05", *given]) == 1
    out = capsys.readouterr().out
    told = out[out.index("Denied on every trading day of the range by:") :].splitlines()[1:]
    assert len(told) == 1 and told[0].startswith("  rule144.holding_period: Holding period not met")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_phase_ticker_shows_the_phase_only_once_the_run_is_slow(monkeypatch):
    from compliance.cli.terminal import PhaseTicker

    slow = _Terminal()
    monkeypatch.setattr(sys, "stderr", slow)
    with PhaseTicker(after_seconds=0.05) as ticker:
        ticker.tell("judging 2015 trading days")
        time.sleep(0.4)
    assert "judging 2015 trading days" in slow.getvalue()
    assert slow.getvalue().endswith("\r")  # the line is cleared at the end

    quick = _Terminal()
    monkeypatch.setattr(sys, "stderr", quick)
    with PhaseTicker(after_seconds=5.0) as ticker:
        ticker.tell("judging 20 trading days")
    assert quick.getvalue() == ""
