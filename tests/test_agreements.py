"""Agreements are data: two bundled deals served by the same rules, the agreement-file
schema and its reference page, ``compliance validate`` and ``compliance coverage``, and malformed
agreement files of every kind failing with a message naming the file and the field.

Expected dates are worked out by hand beside each case (weekdays checked on a calendar).
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

import compliance
from compliance.cli import main
from compliance.deal.agreement import default_agreement_dir
from compliance.deal.calendars import business_day_calendar, trading_calendar
from compliance.deal.schema import SCHEMA_FORMATS, SCHEMA_PATH, schema, validate_directory

ROOT = Path(__file__).resolve().parent.parent
FOCUS = ROOT / "fixtures" / "focus_enhancements"
HARBOR = ROOT / "fixtures" / "harbor_2012"
DOC = ROOT / "docs" / "agreement-format.md"


@pytest.fixture(scope="module")
def focus():
    return compliance.load_agreement(FOCUS)


@pytest.fixture(scope="module")
def harbor():
    return compliance.load_agreement(HARBOR)


def deal_with(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """A copy of ``source`` with one textual change in agreement.yaml (``old`` must be present)."""
    directory = tmp_path / source.name
    shutil.copytree(source, directory)
    path = directory / "agreement.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {source.name}/agreement.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


# --- both deals load, validate and keep their own terms ---------------------------------------


@pytest.mark.parametrize("directory", [FOCUS, HARBOR], ids=["focus", "harbor"])
def test_bundled_agreements_load_and_validate(directory):
    assert validate_directory(directory, compliance.load_rulebook().clause_keys) == []
    agreement = compliance.load_agreement(directory)
    assert compliance.load_rulebook().clause_keys <= set(agreement.clauses)


def test_default_agreement_is_named_by_data_not_code(focus):
    assert default_agreement_dir() == FOCUS
    assert compliance.load_agreement().title == focus.title


def test_harbor_agreement_reads_as_the_issue_states(harbor):
    assert harbor.synthetic is True
    assert (harbor.issuer, harbor.dated) == ("Harbor Light Therapeutics, Inc.", date(2012, 9, 20))
    assert (harbor.market_name, harbor.market_mic) == ("NASDAQ Global Market", "XNAS")
    assert harbor.business_day == "trading"
    assert harbor.business_calendar is trading_calendar("XNAS")
    assert (harbor.delivery_business_days, harbor.delivery_routes) == (2, ("registration_statement",))
    assert harbor.closing_date == date(2012, 9, 25) and harbor.price_per_share == 2.0
    assert {n: (i.shares, i.warrant_shares) for n, i in harbor.investors.items()} == {
        "Alder Capital Master Fund": (1_500_000, 0),
        "Birch Street Partners": (500_000, 0),
    }
    assert (harbor.warrant_issued_on, harbor.warrant_expires_on, harbor.warrant_cashless_permitted) == (
        None,
        None,
        False,
    )
    assert harbor.reporting_since == date(2010, 6, 1)
    (late,) = harbor.late_reports
    assert (late.form, late.period_end, late.due_on, late.filed_on) == (
        "10-Q",
        date(2013, 3, 31),
        date(2013, 5, 15),
        date(2013, 5, 24),
    )
    assert harbor.shares_outstanding == ((date(2012, 8, 14), 20_000_000),)
    assert harbor.weekly_volume == ((date(2010, 5, 31), 150_000),)
    rs = harbor.registration_statement
    assert (rs.form, rs.filed_on, rs.effective_on, rs.registration_period_ends_on) == (
        "S-3",
        date(2012, 10, 1),
        date(2012, 10, 19),
        date(2014, 9, 25),
    )
    assert rs.updated_by_incorporated_reports is True
    assert (rs.suspensions, rs.stop_orders, rs.post_effective_amendments, rs.covers) == ((), (), (), ("shares",))
    (fast,) = harbor.fast_participation
    assert (fast.start, fast.end) == (date(2013, 1, 2), None)
    assert not fast.contains(date(2012, 12, 31)) and fast.contains(date(2013, 1, 2))


def test_focus_agreement_keeps_its_defaults(focus):
    assert focus.business_day == "settlement"
    assert focus.business_calendar is business_day_calendar("settlement")
    assert focus.registration_statement.updated_by_incorporated_reports is False
    assert focus.synthetic is False
    assert all(c.resale_relevant for c in focus.clauses.values())


@pytest.mark.parametrize("empty", ["warrants: {}", "warrants: null", "warrants:"])
def test_a_deal_without_warrants_may_write_an_empty_warrants_section(tmp_path, empty):
    directory = deal_with(
        tmp_path, HARBOR, "# No warrants: Section 2.1(b).", empty + "  # No warrants: Section 2.1(b)."
    )
    agreement = compliance.load_agreement(directory)
    assert agreement.warrant_issued_on is None and agreement.warrant_expires_on is None


def test_warrant_shares_may_be_left_out_and_default_to_zero(tmp_path):
    directory = deal_with(tmp_path, HARBOR, "shares: 500000, warrant_shares: 0}", "shares: 500000}")
    assert compliance.load_agreement(directory).investors["Birch Street Partners"].warrant_shares == 0


# --- the same rule, each deal's own section, term and calendar --------------------------------


def test_delivery_rule_cites_each_deals_own_section_term_and_calendar(focus, harbor):
    # Focus, Section 1(b)(ii): three business days on the settlement calendar. Both items Fri
    # 2002-10-11; Mon 10-14 Columbus Day (Federal Reserve closed) -> Tue 10-15 (1), Wed 10-16 (2),
    # Thu 10-17 (3) = Delivery Date 2002-10-17; delivered Fri 10-18 -> 1 business day late.
    f = compliance.check(
        {
            "notice_id": "F",
            "investor": "Papell Holdings Limited",
            "security": "shares",
            "quantity": 1000,
            "sale_date": "2002-10-11",
            "route": "registration_statement",
            "affiliate": False,
            "notice_received_at": "2002-10-11",
            "certificate_received_at": "2002-10-11",
            "delivered_at": "2002-10-18",
        },
        focus,
    )
    # Harbor, Section 4.1(c): two Trading Days of the NASDAQ Global Market. Both items Fri
    # 2012-10-26; Mon 10-29 and Tue 10-30 closed (Hurricane Sandy) -> Wed 10-31 (1), Thu 11-01 (2)
    # = Delivery Date 2012-11-01; delivered Fri 11-02 -> 1 Trading Day late.
    h = compliance.check(
        {
            "notice_id": "H",
            "investor": "Birch Street Partners",
            "security": "shares",
            "quantity": 1000,
            "sale_date": "2012-10-26",
            "route": "registration_statement",
            "affiliate": False,
            "notice_received_at": "2012-10-26",
            "certificate_received_at": "2012-10-26",
            "delivered_at": "2012-11-02",
        },
        harbor,
    )
    for decision, agreement, section, due, days, calendar in (
        (f, focus, "Section 1(b)(ii)", "2002-10-17", 3, business_day_calendar("settlement")),
        (h, harbor, "Section 4.1(c)", "2012-11-01", 2, trading_calendar("XNAS")),
    ):
        assert (agreement.delivery_business_days, agreement.business_calendar) == (days, calendar)
        finding = decision.finding("delivery.on_time")
        assert finding.status == "fail" and finding.against == "company"
        assert finding.citations == (section,)
        assert decision.outcome == "allow"  # a late delivery never denies the investor's sale
        assert decision.delivery_date.isoformat() == due
        assert decision.delivery_late_business_days == 1
        assert finding.facts["delivery_date"] == due


@pytest.mark.parametrize(
    "calendar, expected",
    [
        # Both items Fri 2012-11-09; Mon 11-12 Veterans Day: Nasdaq trades, the Reserve Banks close.
        # trading (Harbor): Mon 11-12 (1), Tue 11-13 (2)
        ("trading", "2012-11-13"),
        # settlement: Tue 11-13 (1), Wed 11-14 (2)
        ("settlement", "2012-11-14"),
    ],
)
def test_harbor_delivery_date_follows_its_business_day_convention(tmp_path, calendar, expected):
    directory = deal_with(tmp_path, HARBOR, "business_day: trading", f"business_day: {calendar}")
    d = compliance.check(
        {
            "notice_id": "V",
            "investor": "Birch Street Partners",
            "security": "shares",
            "quantity": 1000,
            "sale_date": "2012-11-09",
            "route": "registration_statement",
            "affiliate": False,
            "notice_received_at": "2012-11-09",
            "certificate_received_at": "2012-11-09",
        },
        compliance.load_agreement(directory),
    )
    assert d.delivery_date.isoformat() == expected


def test_trading_business_days_on_the_focus_deal(tmp_path):
    # Focus switched to `trading` (XNAS): Columbus Day Mon 2002-10-14 is a Trading Day.
    # Items Fri 2002-10-11 -> Mon 10-14 (1), Tue 10-15 (2), Wed 10-16 (3).
    directory = deal_with(tmp_path, FOCUS, "business_day: settlement", "business_day: trading")
    d = compliance.check(
        {
            "notice_id": "T",
            "investor": "Papell Holdings Limited",
            "security": "shares",
            "quantity": 1000,
            "sale_date": "2002-10-11",
            "route": "registration_statement",
            "affiliate": False,
            "notice_received_at": "2002-10-11",
            "certificate_received_at": "2002-10-11",
        },
        compliance.load_agreement(directory),
    )
    assert d.delivery_date == date(2002, 10, 16)


def test_rules_command_shows_each_deals_sections(capsys):
    assert main(["rules", "--agreement", str(HARBOR)]) == 0
    out = capsys.readouterr().out
    assert "Section 4.1(c)" in out and "Section 3.2(f)" in out and "Section 1(b)(ii)" not in out


# --- nothing in compliance/ or rules/ names a deal --------------------------------------------


def _deal_names() -> list[str]:
    names = {"Focus", "Harbor", "Papell", "Alder", "Birch", "focus_enhancements", "harbor_2012"}
    for directory in (FOCUS, HARBOR):
        agreement = compliance.load_agreement(directory)
        names.add(agreement.issuer)
        names.add(agreement.issuer.split()[0])
        names.update(agreement.investors)
    return sorted(names)


def _source_files() -> list[Path]:
    files = [
        p
        for folder in ("compliance", "rules")
        for p in sorted((ROOT / folder).rglob("*"))
        if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".json", ".md", ".txt")
    ]
    assert len(files) > 10
    return files


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_code_or_rule_file_names_a_deal(path):
    text = path.read_text(encoding="utf-8")
    found = [name for name in _deal_names() if name in text]
    assert not found, f"{path.relative_to(ROOT)} names {found}"


# --- the regime switch, same notice shape on both sides of 2008-02-15 -------------------------


@pytest.mark.parametrize(
    "sale_date, outcome, regime, manner_status, form_status",
    [
        # 1997 version: riskless principal is not a permitted manner; 1,000 shares > 500 needs Form 144.
        ("2008-02-14", "deny", "1997-04-29", "fail", "pass"),
        # 2008 version: riskless principal permitted; 1,000 shares and $1,000 under 5,000 / $50,000.
        ("2008-02-15", "allow", "2008-02-15", "pass", "not_applicable"),
    ],
)
def test_regime_switch_with_the_same_notice(focus, sale_date, outcome, regime, manner_status, form_status):
    d = compliance.check(
        {
            "notice_id": "R",
            "investor": "Papell Holdings Limited",
            "security": "shares",
            "quantity": 1000,
            "sale_date": sale_date,
            "route": "rule_144",
            "affiliate": True,
            "opinion_of_counsel": True,
            "company_advised": True,
            "manner_of_sale": "riskless_principal",
            "form_144_filed_on": sale_date,
            "sale_price": 1.0,
        },
        focus,
    )
    assert (d.outcome, d.regime) == (outcome, regime)
    assert d.finding("rule144.manner_of_sale").status == manner_status
    assert d.finding("rule144.form_144").status == form_status
    # Thu 2008-02-14 is denied only for the manner; the next version is in force Fri 2008-02-15.
    assert d.earliest_allowed_date == date(2008, 2, 15)
    assert d.failed_rules == ([] if outcome == "allow" else ["rule144.manner_of_sale"])


def test_harbor_six_month_holding_and_one_year_free_resale(harbor):
    # Acquired Tue 2012-09-25, reporting issuer (since 2010-06-01): 6 months -> anniversary
    # Mon 2013-03-25, met Tue 2013-03-26; one year -> anniversary Wed 2013-09-25, free Thu 2013-09-26.
    base = {
        "notice_id": "N",
        "investor": "Birch Street Partners",
        "security": "shares",
        "quantity": 1000,
        "route": "rule_144",
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
    }
    before = compliance.check({**base, "sale_date": "2013-09-25"}, harbor)
    after = compliance.check({**base, "sale_date": "2013-09-26"}, harbor)
    facts = before.finding("rule144.holding_period").facts
    assert facts["holding_period_months"] == 6
    assert facts["holding_period_satisfied_on"] == "2013-03-26"
    assert before.finding("rule144.current_public_information").status == "pass"
    assert after.finding("rule144.current_public_information").status == "not_applicable"
    for d in (before, after):
        assert d.outcome == "allow"
        assert {d.finding(r).status for r in ("rule144.volume", "rule144.manner_of_sale", "rule144.form_144")} == {
            "not_applicable"
        }


def test_harbor_prospectus_kept_current_by_incorporated_reports(harbor):
    # Mon 2014-03-03: 16 months back is 2012-11-03, after the information date 2012-06-30; the
    # S-3 is refreshed by the reports it incorporates, so the prospectus is current.
    d = compliance.check(
        {
            "notice_id": "P",
            "investor": "Birch Street Partners",
            "security": "shares",
            "quantity": 1000,
            "sale_date": "2014-03-03",
            "route": "registration_statement",
            "affiliate": False,
        },
        harbor,
    )
    assert d.finding("registration.prospectus_current").status == "pass"
    assert d.outcome == "allow"


# --- validate and coverage commands -----------------------------------------------------------


@pytest.mark.parametrize("directory", [FOCUS, HARBOR], ids=["focus", "harbor"])
def test_validate_command_ok(directory, capsys):
    assert main(["validate", str(directory)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_validate_command_prints_every_problem_and_exits_2(tmp_path, capsys):
    directory = deal_with(tmp_path, FOCUS, "closing_date: 2002-01-16", "closing_date: 2002-02-30")
    path = directory / "agreement.yaml"
    text = path.read_text().replace(
        "  dwac_delivery:\n    section: Section 1(b)(iii)", "  dwac_delivery_x:\n    section: Section 1(b)(iii)"
    )
    path.write_text(text)
    assert main(["validate", str(directory)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert f"{path}: field 'closing_date': expected a YYYY-MM-DD date, got '2002-02-30'" in out
    assert any(line.startswith(f"{path}: field 'clauses.dwac_delivery': missing") for line in out)
    assert out[-1] == f"2 problem(s) in {path}"


def test_validate_command_on_a_directory_without_agreement_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "no agreement file" in capsys.readouterr().out


def test_coverage_command_harbor(capsys):
    assert main(["coverage", str(HARBOR)]) == 0
    out = capsys.readouterr().out
    assert "(synthetic)" in out
    assert re.search(r"Section 4\.1\(c\)\s+delivery_date\s+delivery\.on_time, registration\.", out)
    assert re.search(r"Section 3\.2\(f\)\s+rule_144_acknowledgement\s+rule144\.holding_period", out)
    encoded, unencoded = out.split("Resale-relevant clauses no rule encodes yet:")
    assert re.search(r"Section 4\.2\s+registration_statement\s+registration\.", encoded)
    assert "registration_statement" not in unencoded
    assert re.search(r"Section 4\.3\s+rule_144_reporting", unencoded)
    assert "governing_law" not in unencoded
    assert re.search(r"Section 6\.8\s+governing_law\s+\(not resale-relevant\)", out)


def test_coverage_command_focus_and_the_coverage_api(focus, capsys):
    assert main(["coverage", str(FOCUS)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("Resale-relevant clauses no rule encodes yet:\n  none")
    from compliance.views.coverage import clause_coverage

    coverage = clause_coverage(focus, compliance.load_rulebook())
    assert coverage.missing == () and coverage.unencoded == ()
    by_key = {c.key: c for c in coverage.clauses}
    assert "delivery.on_time" in by_key["delivery_date"].rules
    assert by_key["delivery_date"].section == "Section 1(b)(ii)"


def test_coverage_lists_cited_keys_the_agreement_lacks(tmp_path, capsys):
    directory = deal_with(tmp_path, FOCUS, "  dwac_delivery:\n", "  dwac_delivery_x:\n")
    assert main(["coverage", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "does not map (compliance validate fails):\n  dwac_delivery" in out
    assert re.search(r"Section 1\(b\)\(iii\)\s+dwac_delivery_x\s+\(no rule yet\)", out)


def test_coverage_of_an_unloadable_agreement_exits_2(tmp_path, capsys):
    directory = deal_with(tmp_path, HARBOR, "mic: XNAS", "mic: XLON")
    assert main(["coverage", str(directory)]) == 2
    assert "principal_trading_market.mic" in capsys.readouterr().err


# --- malformed agreement files ----------------------------------------------------------------

MALFORMED = [
    # (id, source, old, new, field named, expected words)
    (
        "missing field",
        FOCUS,
        "closing_date: 2002-01-16",
        "# closing_date: 2002-01-16",
        "closing_date",
        "missing (expected a YYYY-MM-DD date)",
    ),
    (
        "missing nested field",
        FOCUS,
        "  title: Common Stock and Warrant Purchase Agreement\n",
        "",
        "agreement.title",
        "missing (expected non-empty text)",
    ),
    (
        "missing investor shares",
        HARBOR,
        "{name: Birch Street Partners, shares: 500000, warrant_shares: 0}",
        "{name: Birch Street Partners, warrant_shares: 0}",
        "investors[1].shares",
        "missing (expected a whole number >= 0)",
    ),
    (
        "wrong type",
        FOCUS,
        "shares: 1128718",
        "shares: lots",
        "investors[3].shares",
        "expected a whole number >= 0, got 'lots'",
    ),
    (
        "negative number",
        HARBOR,
        "shares: 1500000",
        "shares: -1500000",
        "investors[0].shares",
        "expected a whole number >= 0, got -1500000",
    ),
    (
        "zero delivery term",
        HARBOR,
        "business_days: 2",
        "business_days: 0",
        "delivery_term.business_days",
        "expected a whole number >= 1, got 0",
    ),
    (
        "price not a number",
        HARBOR,
        "price_per_share: 2.00",
        "price_per_share: two dollars",
        "price_per_share",
        "expected a number > 0, got 'two dollars'",
    ),
    (
        "boolean expected",
        FOCUS,
        "cashless_exercise_permitted: true",
        "cashless_exercise_permitted: maybe",
        "warrants.cashless_exercise_permitted",
        "expected true or false, got 'maybe'",
    ),
    (
        "bad date",
        FOCUS,
        "closing_date: 2002-01-16",
        "closing_date: 2002-02-30",
        "closing_date",
        "expected a YYYY-MM-DD date, got '2002-02-30'",
    ),
    (
        "date not ISO",
        HARBOR,
        "effective_on: 2012-10-19",
        "effective_on: 10/19/2012",
        "registration_statement.effective_on",
        "expected a YYYY-MM-DD date, got '10/19/2012'",
    ),
    (
        "unknown business_day",
        FOCUS,
        "business_day: settlement",
        "business_day: weekdays",
        "conventions.business_day",
        "expected one of settlement, exchange, banking, trading, got 'weekdays'",
    ),
    (
        "unknown period counting",
        HARBOR,
        "period_counting: day_after",
        "period_counting: same_day",
        "conventions.period_counting",
        "expected one of day_after, anniversary, got 'same_day'",
    ),
    (
        "unknown market",
        HARBOR,
        "mic: XNAS",
        "mic: XLON",
        "principal_trading_market.mic",
        "expected one of XNYS, XNAS, got 'XLON'",
    ),
    (
        "unknown route",
        FOCUS,
        "routes: [registration_statement]",
        "routes: [registered]",
        "delivery_term.routes[0]",
        "expected one of registration_statement, rule_144, other_exemption, got 'registered'",
    ),
    (
        "unknown security covered",
        FOCUS,
        "covers: [shares, warrant_shares]",
        "covers: [shares, options]",
        "registration_statement.covers[1]",
        "expected one of shares, warrant_shares, got 'options'",
    ),
    (
        "unknown time zone",
        FOCUS,
        "company_timezone: America/Los_Angeles",
        "company_timezone: Pacific/Nowhere",
        "company_timezone",
        "unknown 'Pacific/Nowhere'",
    ),
    (
        "suspension ends before it starts",
        FOCUS,
        "{start: 2002-08-01, end: 2002-08-20}",
        "{start: 2002-08-20, end: 2002-08-01}",
        "registration_statement.suspensions[0].end",
        "expected on or after start 2002-08-20 (a window cannot end before it starts), got 2002-08-01",
    ),
    (
        "FAST window ends before it starts",
        HARBOR,
        "{from: 2013-01-02, to: null}",
        "{from: 2013-01-02, to: 2012-12-31}",
        "transfer_agent.fast_participation[0].to",
        "a window cannot end before it starts",
    ),
    (
        "misspelt field",
        FOCUS,
        "  business_day: settlement",
        "  busines_day: settlement",
        "conventions.busines_day",
        "unknown field (expected one of: business_day, period_counting)",
    ),
    (
        "clause without a section",
        HARBOR,
        "    section: Section 4.1(d)\n",
        "",
        "clauses.dwac_delivery.section",
        "missing (expected non-empty text)",
    ),
    (
        "bad clause key",
        HARBOR,
        "  governing_law:",
        "  Governing-Law:",
        "clauses.Governing-Law",
        "a clause key is lower-case letters, digits and '_'",
    ),
    (
        "no investors",
        HARBOR,
        "  - {name: Alder Capital Master Fund, shares: 1500000, warrant_shares: 0}\n"
        "  - {name: Birch Street Partners, shares: 500000, warrant_shares: 0}\n",
        "  []\n",
        "investors",
        "expected at least 1 item(s), got 0",
    ),
    (
        "repeated investor",
        HARBOR,
        "name: Birch Street Partners",
        "name: Alder Capital Master Fund",
        "investors[1].name",
        "expected a name not already listed",
    ),
    (
        "warrant shares without warrants",
        HARBOR,
        "shares: 500000, warrant_shares: 0",
        "shares: 500000, warrant_shares: 10",
        "warrants.issued_on",
        "missing (expected a YYYY-MM-DD date: investors hold 10 warrant_shares)",
    ),
    (
        "warrant total disagrees",
        FOCUS,
        "total_shares: 243449",
        "total_shares: 243450",
        "warrants.total_shares",
        "expected the sum of the investors' warrant_shares (243449), got 243450",
    ),
    (
        "closing before the agreement",
        HARBOR,
        "closing_date: 2012-09-25",
        "closing_date: 2012-09-19",
        "closing_date",
        "expected on or after agreement.dated 2012-09-20",
    ),
    (
        "report filed on time listed as late",
        HARBOR,
        "filed_on: 2013-05-24",
        "filed_on: 2013-05-15",
        "issuer.late_periodic_reports[0].filed_on",
        "expected after due_on 2013-05-15",
    ),
    (
        "volume week not a Monday",
        HARBOR,
        "weeks_from: 2010-05-31",
        "weeks_from: 2010-06-01",
        "issuer.weekly_volume[0].weeks_from",
        "expected a Monday, got 2010-06-01 (Tuesday)",
    ),
    (
        "registration period ends before effectiveness",
        HARBOR,
        "registration_period_ends_on: 2014-09-25",
        "registration_period_ends_on: 2012-09-25",
        "registration_statement.registration_period_ends_on",
        "expected on or after effective_on 2012-10-19",
    ),
    (
        "missing agreement text file",
        FOCUS,
        "text: purchase_agreement.txt",
        "text: missing.txt",
        "agreement.text",
        "got 'missing.txt' (not found)",
    ),
]


@pytest.mark.parametrize("source, old, new, field, words", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_agreement_names_file_field_and_expectation(tmp_path, source, old, new, field, words):
    directory = deal_with(tmp_path, source, old, new)
    path = directory / "agreement.yaml"
    with pytest.raises(compliance.AgreementError) as caught:
        compliance.load_agreement(directory)
    lines = [p for p in caught.value.problems if p.startswith(f"{path}: field '{field}': ")]
    assert lines, f"no problem names field {field!r}: {caught.value.problems}"
    assert any(words in line for line in lines), lines
    # the command says the same and exits 2
    assert validate_directory(directory, compliance.load_rulebook().clause_keys) == caught.value.problems


def test_a_clause_key_the_rulebook_cites_missing(tmp_path):
    directory = deal_with(tmp_path, HARBOR, "  dwac_delivery:\n", "  dwac_transfer:\n")
    path = directory / "agreement.yaml"
    agreement = compliance.load_agreement(directory)  # the file itself is well-formed ...
    problems = validate_directory(directory, compliance.load_rulebook().clause_keys)
    assert problems == [
        f"{path}: field 'clauses.dwac_delivery': missing (expected the section and text of "
        "the clause the rulebook cites as 'dwac_delivery')"
    ]
    with pytest.raises(compliance.AgreementError, match=r"agreement.yaml: field 'clauses'.*dwac_delivery"):
        compliance.check(
            {
                "notice_id": "K",
                "investor": "Birch Street Partners",
                "security": "shares",
                "quantity": 1,
                "sale_date": "2013-01-02",
                "route": "registration_statement",
                "affiliate": False,
            },
            agreement,
        )  # ... but unusable with these rules


def test_several_problems_are_reported_together(tmp_path):
    directory = deal_with(tmp_path, HARBOR, "closing_date: 2012-09-25", "closing_date: soon")
    path = directory / "agreement.yaml"
    path.write_text(path.read_text().replace("business_day: trading", "business_day: weekdays"))
    with pytest.raises(compliance.AgreementError) as caught:
        compliance.load_agreement(directory)
    fields = [re.search(r"field '([^']+)'", p).group(1) for p in caught.value.problems]
    assert fields == ["closing_date", "conventions.business_day"]
    assert str(caught.value) == "\n".join(caught.value.problems)


@pytest.mark.parametrize(
    "text, words",
    [
        ("agreement: [unclosed\n", "not valid YAML"),
        ("clauses: {}\nclauses: {}\n", "repeated key 'clauses'"),
        ("- just\n- a list\n", "field '(top level)': expected a mapping"),
    ],
)
def test_unreadable_agreement_files(tmp_path, text, words):
    (tmp_path / "agreement.yaml").write_text(text)
    with pytest.raises(compliance.AgreementError, match=re.escape(words)) as caught:
        compliance.load_agreement(tmp_path)
    assert str(tmp_path / "agreement.yaml") in str(caught.value)


def test_missing_agreement_file(tmp_path):
    with pytest.raises(compliance.AgreementError, match="no agreement file"):
        compliance.load_agreement(tmp_path)


# --- the schema is data, and the reference page mirrors it ------------------------------------


def _schema_fields(node: dict, prefix: str = "") -> list[str]:
    node = {**schema()["$defs"].get(node.get("$ref", "").rsplit("/", 1)[-1], {}), **node}
    fields = []
    items = node.get("items")
    if isinstance(items, dict):
        node = {**schema()["$defs"].get(items.get("$ref", "").rsplit("/", 1)[-1], {}), **items}
        prefix += "[]"
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        fields.append(path)
        fields += _schema_fields(child, path)
    if isinstance(node.get("additionalProperties"), dict):  # clauses.<key>
        fields += _schema_fields(node["additionalProperties"], f"{prefix}.<key>")
    return fields


def test_schema_is_valid_json_schema_and_data():
    from jsonschema import Draft202012Validator

    document = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(document)
    assert document["properties"]["conventions"]["properties"]["business_day"]["enum"] == [
        "settlement",
        "exchange",
        "banking",
        "trading",
    ]


def test_schema_markets_are_the_calendars_markets():
    from compliance.deal import calendars

    assert schema()["properties"]["principal_trading_market"]["properties"]["mic"]["enum"] == list(calendars._MARKETS)


def test_reference_page_documents_every_schema_field():
    page = DOC.read_text(encoding="utf-8")
    fields = _schema_fields(schema())
    assert "investors[].warrant_shares" in fields and "clauses.<key>.resale_relevant" in fields
    undocumented = [f for f in fields if f"`{f}`" not in page]
    assert not undocumented, f"docs/agreement-format.md lacks {undocumented}"
    for values in ("settlement", "exchange", "banking", "trading", "day_after", "anniversary", "XNYS", "XNAS"):
        assert f"`{values}`" in page


def test_the_validator_checks_every_format_the_schema_uses():
    # The validator checks only SCHEMA_FORMATS; a format added to the schema but not there would
    # pass any value unchecked.
    def formats(node) -> set[str]:
        if isinstance(node, dict):
            found = {node["format"]} if isinstance(node.get("format"), str) else set()
            return found.union(*(formats(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(formats(v) for v in node))
        return set()

    assert formats(json.loads(SCHEMA_PATH.read_text())) == set(SCHEMA_FORMATS)
