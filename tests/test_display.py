"""What the Jupyter views contain, not just that they render.

The HTML card of a known decision carries its citations and the words of the clauses it cites;
the timeline of Papell Holdings Limited has the spans and dates worked out by hand from
fixtures/focus_enhancements/agreement.yaml; the sweep's first allowed day is the
``earliest_allowed_date`` that ``check`` gives on the range's first day.
"""

from __future__ import annotations

import dataclasses
import html
import re
import runpy
from datetime import date, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import compliance  # noqa: E402
from compliance.deal.agreement import Clause  # noqa: E402
from compliance.decision.display import card, clauses_for, decision_html, style_review  # noqa: E402
from compliance.running.sweep import first_allowed_day, sweep, sweep_bands, trading_days  # noqa: E402
from compliance.views.plots import (  # noqa: E402
    label_places,
    plot_sweep,
    plot_timeline,
    rule_144_dates,
    stagger,
    timeline_segments,
)

ROOT = Path(__file__).resolve().parent.parent
FOCUS = ROOT / "fixtures" / "focus_enhancements"
PAPELL = "Papell Holdings Limited"
D = date.fromisoformat


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement(FOCUS)


def registered(**changes):
    event = {
        "notice_id": "R1",
        "investor": PAPELL,
        "security": "shares",
        "quantity": 100000,
        "sale_date": "2002-10-11",
        "route": "registration_statement",
        "affiliate": False,
        "notice_received_at": "2002-10-11",
        "certificate_received_at": "2002-10-11",
    }
    return {**event, **changes}


def rule_144(**changes):
    event = {
        "notice_id": "P1",
        "investor": PAPELL,
        "security": "shares",
        "quantity": 100000,
        "sale_date": "2002-10-01",
        "route": "rule_144",
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "brokers_transaction",
        "form_144_filed_on": "2002-10-01",
        "sale_price": 1.05,
    }
    return {**event, **changes}


def text(markup: str) -> str:
    """The card's visible text: tags dropped, entities decoded, whitespace folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


# --- the decision card ---------------------------------------------------------------------------


def test_card_of_a_registered_sale_quotes_section_1b_ii(agreement):
    d = compliance.check(registered(delivered_at="2002-10-21"), agreement)
    assert d.outcome == "allow" and d.delivery_date == D("2002-10-17")
    page = decision_html(d, agreement)
    shown = text(page)
    for citation in d.citations:
        assert citation in shown
    # the Delivery Date covenant, in the agreement's own words, under its section number
    assert "Section 1(b)(ii)" in shown
    assert 'Within three (3) business days (such third business day, the "Delivery Date")' in shown
    # the summary: outcome, Delivery Date, lateness (a finding against the Company)
    assert "ALLOW" in shown and "2002-10-17" in shown
    assert "delivery.on_time" in shown and "against the Company" in shown
    assert re.search(r"delivered late \(business days\) 2\b", shown)
    # the failing finding against the Company is open; passing ones are one click away
    on_time = page[page.index("<code>delivery.on_time</code>") - 400 : page.index("<code>delivery.on_time</code>")]
    assert "<details open" in on_time


def test_card_of_a_denied_rule_144_sale_shows_facts_citations_and_section_3i(agreement):
    # 400 shares at $1.05 ($420): under 144(h)'s 500 shares and $10,000, so only the holding
    # period (met 2003-01-17) stops the sale of Tue 2002-10-01.
    d = compliance.check(rule_144(quantity=400), agreement)
    assert d.failed_rules == ["rule144.holding_period"]
    shown = text(decision_html(d, agreement))
    assert "DENY" in shown
    assert "Section 3(i)" in shown and "17 CFR 230.144(d)(1)" in shown
    assert "will not become available for at least one year from the date of payment" in shown
    # the facts the rule used
    assert "holding_period_satisfied_on 2003-01-17" in shown
    assert "acquisition_date 2002-01-16" in shown
    assert "earliest allowed date 2003-01-17" in shown
    assert "Clauses quoted from Common Stock and Warrant Purchase Agreement" in shown


def test_every_agreement_citation_of_every_finding_is_quoted(agreement):
    d = compliance.check(registered(), agreement)
    shown = text(decision_html(d, agreement))
    for f in d.findings:
        if f.status == "not_applicable":
            continue
        for key, clause in clauses_for(f, agreement):
            assert clause.section in f.citations
            assert clause.text[:80] in shown, (f.rule, key)


def test_clauses_for_quotes_the_clause_keys_of_the_rule_not_every_clause_of_the_section(agreement):
    d = compliance.check(registered(), agreement)
    position = d.finding("event.position")
    assert position.citations[:2] == ("Section 1(a)", "Section 4(n)")
    # Section 1(a) holds two clauses (the purchase, the legend); the rule cites the purchase
    assert [k for k, _ in clauses_for(position, agreement)] == ["purchase", "warrants"]
    assert [k for k, _ in clauses_for(d.finding("delivery.on_time"), agreement)] == ["delivery_date"]


def test_card_does_not_quote_another_agreements_words(agreement):
    d = compliance.check(registered(), agreement)
    renumbered = dataclasses.replace(
        agreement, clauses={k: Clause("Section 99", "Words of some other deal.") for k in agreement.clauses}
    )
    shown = text(decision_html(d, renumbered))
    assert "Words of some other deal." not in shown
    assert "Within three (3) business days" not in shown
    assert "not available" in shown


def test_error_card_names_the_field_and_the_value(agreement):
    d = compliance.check(registered(quantity="many"), agreement)
    assert d.outcome == "error"
    shown = text(card(d, agreement)._repr_html_())
    assert "ERROR" in shown and "quantity" in shown and "many" in shown
    assert "Findings" not in shown


def test_card_defaults_to_the_bundled_agreement():
    d = compliance.check(registered())
    assert "Within three (3) business days" in text(decision_html(d))


# --- the review table ------------------------------------------------------------------------------


def test_review_table_highlights_denials_and_quotes_clauses_under_why(agreement):
    notices = pd.DataFrame(
        [
            registered(notice_id="A1", sale_date="2002-10-11"),  # allowed
            registered(notice_id="D1", sale_date="2002-08-05"),  # suspended: denied
            registered(notice_id="E1", sale_date="2002-02-30"),  # no such date: error
            rule_144(notice_id="D2", sale_date="2002-10-01"),  # holding period: denied
        ]
    )
    result = compliance.review(notices, agreement)
    assert list(result["outcome"]) == ["allow", "deny", "error", "deny"]
    page = style_review(result, agreement).to_html()

    highlighted: dict[str, set[int]] = {}
    for selectors, props in re.findall(r"([^{}]+)\{([^{}]*)\}", page):
        colour = re.search(r"background-color:\s*(#[0-9a-f]{6})", props)
        if colour:
            rows = {int(r) for r in re.findall(r"_row(\d+)_col\d+", selectors)}
            highlighted.setdefault(colour.group(1), set()).update(rows)
    assert highlighted.get("#ffebe9") == {1, 3}  # the denials
    assert highlighted.get("#fff8c5") == {2}  # the error
    shown = text(page)
    assert "registration.not_suspended" in shown and "rule144.holding_period" in shown
    assert "why" in shown
    # Section 3(i), cited by the Rule 144 denial, quoted in its "why"
    assert "will not become available for at least one year" in shown
    assert "sale_date" in shown and "2002-02-30" in shown  # the error, under "why"


# --- the timeline ---------------------------------------------------------------------------------


def spans(segments: pd.DataFrame, security: str, kind: str) -> list[tuple]:
    rows = segments[(segments["security"] == security) & (segments["kind"] == kind)]
    return [(r.start, r.end) for r in rows.itertuples()]


def test_timeline_of_papell_holdings_by_hand(agreement):
    seg = timeline_segments(agreement, PAPELL)
    # Shares: paid at the Closing 2002-01-16; one year met the day after the anniversary
    assert spans(seg, "shares", "holding_period") == [(D("2002-01-16"), D("2003-01-16"))]
    assert spans(seg, "shares", "holding_period_met") == [(D("2003-01-17"), D("2003-01-17"))]
    assert spans(seg, "shares", "rule_144_conditions") == [(D("2003-01-17"), D("2004-01-16"))]
    assert spans(seg, "shares", "rule_144k") == [(D("2004-01-17"), D("2004-01-17"))]
    assert spans(seg, "shares", "rule_144_free") == [(D("2004-01-17"), None)]
    labels = dict(zip(seg["kind"], seg["label"], strict=True))
    assert labels["rule_144_conditions"] == "Rule 144 with (c), (e), (f), (h) for a non-affiliate"
    assert labels["rule_144k"] == "144(k) 2004-01-17"
    # the SB-2 (test_registration_stretches_by_hand): effective 2002-03-15, one suspension, one
    # post-effective amendment
    assert spans(seg, "shares", "registration_effective_on") == [(D("2002-03-15"), D("2002-03-15"))]
    assert spans(seg, "shares", "suspension") == [(D("2002-08-01"), D("2002-08-20"))]
    assert spans(seg, "shares", "stop_order") == []
    assert spans(seg, "shares", "post_effective_amendment") == [(D("2003-05-12"), D("2003-05-12"))]
    assert spans(seg, "shares", "rule_144_amended") == []  # 2008-02-15 is after 144(k) on 2004-01-17
    # the 10-Q due 2003-11-14 and filed 2003-11-26: not current 2003-11-15 .. 2003-11-25
    assert spans(seg, "issuer", "not_current") == [(D("2003-11-15"), D("2003-11-25"))]
    assert spans(seg, "issuer", "reporting_under_90_days") == []
    # Warrant Shares: the four-year window; cashless exercise tacks to the issue date
    assert spans(seg, "warrant_shares", "warrant_exercise_window") == [(D("2002-01-16"), D("2006-01-16"))]
    assert spans(seg, "warrant_shares", "holding_period_met") == [(D("2003-01-17"), D("2003-01-17"))]
    assert spans(seg, "warrant_shares", "rule_144k") == [(D("2004-01-17"), D("2004-01-17"))]
    assert spans(seg, "warrant_shares", "registration_effective") == spans(seg, "shares", "registration_effective")
    assert set(seg["shape"]) == {"span", "milestone"}


# The registration lane of the Focus fixture, by hand from fixtures/focus_enhancements/agreement.yaml:
# Shares paid at the Closing 2002-01-16; the SB-2 effective 2002-03-15 (information as of
# 2001-12-31), so registered sales are denied 2002-01-16 .. 2002-03-14 (Section 5(a)); suspended
# 2002-08-01 .. 2002-08-20. Section 10(a)(3): used more than nine months after 2002-03-15, i.e.
# after 2002-12-15, the prospectus needs information not older than the sale date less sixteen
# months: on 2003-04-30 that is 2001-12-30 (2001-12-31 is fresh enough), on 2003-05-01 it is
# 2002-01-01 (stale). The POS AM effective 2003-05-12 brings information as of 2002-12-31, stale
# only from 2004-05-01, after the registration period ends 2004-01-16. So:
REGISTRATION_STRETCHES = [
    ("registration_not_yet_effective", D("2002-01-16"), D("2002-03-14"), "registration.effective"),
    ("registration_effective", D("2002-03-15"), D("2002-07-31"), ""),
    ("suspension", D("2002-08-01"), D("2002-08-20"), "registration.not_suspended"),
    ("registration_effective", D("2002-08-21"), D("2003-04-30"), ""),
    ("prospectus_stale", D("2003-05-01"), D("2003-05-11"), "registration.prospectus_current"),
    ("registration_effective", D("2003-05-12"), D("2004-01-16"), ""),
    ("registration_period_ended", D("2004-01-17"), None, "registration.within_period"),
]


def registration_lane(seg: pd.DataFrame, security: str) -> pd.DataFrame:
    return seg[(seg["security"] == security) & seg["lane"].str.startswith("Registration") & (seg["shape"] == "span")]


def test_registration_stretches_by_hand(agreement):
    seg = timeline_segments(agreement, PAPELL)
    lane = registration_lane(seg, "shares")
    assert list(zip(lane["kind"], lane["start"], lane["end"], strict=True)) == [k[:3] for k in REGISTRATION_STRETCHES]
    assert lane["label"].iloc[4] == "registered sales denied, prospectus stale (10(a)(3)): 2003-05-01 to 2003-05-11"
    # the Warrant Shares' lane starts at the warrant's issue, the Closing
    warrant = registration_lane(seg, "warrant_shares")
    assert list(zip(warrant["kind"], warrant["start"], warrant["end"], strict=True)) == [
        k[:3] for k in REGISTRATION_STRETCHES
    ]


def test_effective_stretches_never_overlap_denied_ones(agreement):
    lane = registration_lane(timeline_segments(agreement, PAPELL), "shares")
    ends = [e if e is not None else D("9999-12-31") for e in lane["end"]]
    starts = list(lane["start"])
    # consecutive and disjoint: each stretch starts the day after the previous one ends
    assert all(ends[i] + timedelta(days=1) == starts[i + 1] for i in range(len(starts) - 1))
    effective = [(s, e) for k, s, e in zip(lane["kind"], starts, ends, strict=True) if k == "registration_effective"]
    denied = [(s, e) for k, s, e in zip(lane["kind"], starts, ends, strict=True) if k != "registration_effective"]
    assert effective and denied
    assert not any(s1 <= e2 and s2 <= e1 for s1, e1 in effective for s2, e2 in denied)


@pytest.mark.parametrize("kind, start, end, rule", REGISTRATION_STRETCHES)
def test_registration_stretches_are_what_check_decides(agreement, kind, start, end, rule):
    # a registered sale on the first and last day of each stretch (the open one: a year on) fails
    # the stretch's registration rule first, or none in an effective stretch
    for day in (start, end or start + timedelta(days=365)):
        when = day.isoformat()
        d = compliance.check(
            registered(sale_date=when, notice_received_at=when, certificate_received_at=when), agreement
        )
        failed = [r for r in d.failed_rules if r.startswith("registration.")]
        assert failed[:1] == ([rule] if rule else []), (kind, when, d.failed_rules)


HARBOR = ROOT / "fixtures" / "harbor_2012"


@pytest.mark.skipif(not (HARBOR / "agreement.yaml").is_file(), reason="no Harbor Light fixture")
def test_timeline_under_the_2008_rule_on_the_harbor_fixture():
    # fixtures/harbor_2012/README.md, by hand: paid 2012-09-25; six months met 2013-03-26; a
    # non-affiliate needs only current information until one year, met 2013-09-26 (144(b)(1)(i));
    # the 10-Q due 2013-05-15 filed 2013-05-24: not current 2013-05-16..2013-05-23; no warrants
    harbor = compliance.load_agreement(HARBOR)
    seg = timeline_segments(harbor, "Alder Capital Master Fund")
    assert spans(seg, "shares", "holding_period_met") == [(D("2013-03-26"), D("2013-03-26"))]
    assert spans(seg, "shares", "rule_144_conditions") == [(D("2013-03-26"), D("2013-09-25"))]
    assert spans(seg, "shares", "rule_144k") == [(D("2013-09-26"), D("2013-09-26"))]
    labels = dict(zip(seg["kind"], seg["label"], strict=True))
    assert labels["rule_144_conditions"] == "Rule 144 with (c)(1) for a non-affiliate"
    assert labels["rule_144k"] == "144(b)(1)(i) 2013-09-26"
    assert spans(seg, "issuer", "not_current") == [(D("2013-05-16"), D("2013-05-23"))]
    assert spans(seg, "shares", "registration_effective") == [(D("2012-10-19"), D("2014-09-25"))]
    assert "warrant_shares" not in set(seg["security"])


def test_timeline_dates_are_the_engines_dates(agreement):
    d = compliance.check(rule_144(), agreement)
    facts = d.finding("rule144.current_public_information").facts
    seg = timeline_segments(agreement, PAPELL)
    assert (
        spans(seg, "shares", "holding_period_met")[0][0].isoformat()
        == d.finding("rule144.holding_period").facts["holding_period_satisfied_on"]
    )
    assert spans(seg, "shares", "rule_144k")[0][0].isoformat() == facts["nonaffiliate_free_resale_on"]
    # the sale is allowed from the day the timeline says, and not the trading day before
    assert (
        compliance.check(rule_144(sale_date="2003-01-17", form_144_filed_on="2003-01-17"), agreement).outcome == "allow"
    )
    assert compliance.check(
        rule_144(sale_date="2003-01-16", form_144_filed_on="2003-01-16"), agreement
    ).failed_rules == ["rule144.holding_period"]


def test_holding_period_shortened_by_the_2008_amendments_mid_period(agreement):
    # acquired 2007-06-01: twelve months would end 2008-06-01, but six months (met 2007-12-02)
    # apply from 2008-02-15, so the period is met on 2008-02-15; 144(b)(1) one year: 2008-06-02
    later = dataclasses.replace(agreement, closing_date=D("2007-06-01"))
    assert rule_144_dates(later, D("2007-06-01")) == (D("2008-02-15"), D("2008-06-02"))
    seg = timeline_segments(later, PAPELL)
    amended = seg[(seg["security"] == "shares") & (seg["kind"] == "rule_144_amended")]
    assert list(zip(amended["start"], amended["label"], strict=True)) == [
        (D("2008-02-15"), "Rule 144 2008 amendments 2008-02-15")
    ]
    d = compliance.check(rule_144(sale_date="2007-12-03", form_144_filed_on="2007-12-03"), later)
    assert d.failed_rules == ["rule144.holding_period"]
    assert d.earliest_allowed_date == D("2008-02-15")


def test_timeline_places_notices_coloured_by_their_review_outcome(agreement):
    notices = pd.DataFrame(
        [
            registered(notice_id="A1", sale_date="2002-10-11"),
            registered(notice_id="D1", sale_date="2002-08-05"),
            registered(notice_id="X1", investor="Folkinburg Investments", sale_date="2002-10-11"),
            registered(notice_id="E1", sale_date="2002-02-30"),  # cannot be placed
        ]
    )
    seg = timeline_segments(agreement, PAPELL, notices)
    marks = seg[seg["shape"] == "notice"]
    assert list(zip(marks["notice_id"], marks["start"], marks["outcome"], strict=True)) == [
        ("A1", D("2002-10-11"), "allow"),
        ("D1", D("2002-08-05"), "deny"),
    ]


def test_stagger_puts_overlapping_labels_on_separate_levels():
    # labels two wide centred on 0, 1, 10, 2, taken left to right: 0 -> level 0 (ends at 1);
    # 1 begins at 0, before 1 -> level 1 (ends at 2); 2 begins at 1, where level 0 ends (touching
    # is not overlapping) -> level 0; 10 -> level 0
    assert stagger([0, 1, 10, 2], [2, 2, 2, 2]) == [0, 1, 0, 0]
    assert stagger([5, 5, 5], [1, 1, 1]) == [0, 1, 2]
    assert stagger([], []) == []


def test_labels_of_the_fixtures_notices_do_not_overlap(agreement):
    notices = pd.read_csv(FOCUS / "sale_notices.csv", dtype=str, keep_default_na=False)
    seg = timeline_segments(agreement, PAPELL, notices)
    first, last = D("2001-12-01"), D("2008-06-01")
    # about what the picture gives: 2,374 days over some 600 points of axes, a character 0.6 em
    # of 7 points: 2374 * 4.2 / 600 = 16.6
    days_per_char = 16.0
    places = label_places(seg, days_per_char, first, last)
    labelled = places[places["text"] != ""].join(seg[["security", "lane", "shape"]])
    # every milestone is labelled with what it is; every notice with its id
    assert set(labelled.loc[labelled["shape"] == "milestone", "text"]) >= {
        "holding period met 2003-01-17",
        "144(k) 2004-01-17",
        "effective 2002-03-15",
        "POS AM effective 2003-05-12 (information as of 2002-12-31)",
    }
    papell = notices[notices["investor"] == PAPELL]
    assert sorted(labelled.loc[labelled["shape"] == "notice", "text"]) == sorted(papell["notice_id"])
    # no two labels on one level of one side of one lane overlap, and none leaves the axes
    for _, group in labelled.groupby(["security", "lane", "side", "level"]):
        half = (group["text"].str.len() + 1) * days_per_char / 2
        bounds = sorted(zip(group["centre"] - half, group["centre"] + half, strict=True))
        assert all(right <= left for (_, right), (left, _) in zip(bounds, bounds[1:], strict=False))
        assert bounds[0][0] >= first.toordinal() and bounds[-1][1] <= last.toordinal()
    # FE-011 (2002-07-31) and FE-012 (2002-08-01), a day apart, are written on different lines
    at = labelled[labelled["security"] == "shares"].set_index("text")
    assert tuple(at.loc["FE-011", ["side", "level"]]) != tuple(at.loc["FE-012", ["side", "level"]])
    # "effective 2002-03-15" would cross the left edge: it is moved inside
    assert at.loc["effective 2002-03-15", "centre"] > D("2002-03-15").toordinal()


def test_plot_timeline_draws_every_lane_and_milestone(agreement):
    fig = plot_timeline(agreement, PAPELL)
    ax = fig.axes[0]
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert lanes[0] == "Shares · Rule 144"
    assert "Issuer · Current information (144(c))" in lanes
    assert "Warrant Shares · Warrant exercise (4(n))" in lanes
    annotations = {t.get_text() for t in ax.texts}
    assert {
        "holding period met 2003-01-17",
        "144(k) 2004-01-17",
        "effective 2002-03-15",
        "POS AM effective 2003-05-12 (information as of 2002-12-31)",
    } <= annotations
    assert {"2003-11-15 to 11-25", "2002-08-01 to 08-20", "2003-05-01 to 05-11"} <= annotations
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {
        "registration statement effective and current",
        "registered sales denied: not yet effective",
        "registered sales denied: suspended",
        "registered sales denied: prospectus stale (10(a)(3))",
        "registered sales denied: registration period ended",
    } <= legend


def test_render_timeline_script_writes_a_png(tmp_path):
    script = runpy.run_path(str(ROOT / "scripts" / "render_timeline.py"))
    out = tmp_path / "timeline.png"
    assert script["main"](["-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the sweep ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event, start, end, earliest",
    [
        (rule_144(quantity=400), "2002-12-02", "2003-02-07", "2003-01-17"),  # holding period; no notice needed
        (registered(), "2002-07-22", "2002-09-06", "2002-07-22"),  # allowed at once
        (registered(), "2002-08-03", "2002-09-06", "2002-08-21"),  # a Saturday, suspended
        (rule_144(form_144_filed_on="2003-11-03"), "2003-11-03", "2003-12-05", "2003-11-03"),
        (rule_144(form_144_filed_on="2003-11-03"), "2003-11-17", "2003-12-05", "2003-11-26"),  # not current
        (registered(), "2003-04-21", "2003-05-30", "2003-04-21"),
        (registered(), "2003-05-01", "2003-05-30", "2003-05-12"),  # stale prospectus
    ],
    ids=["holding", "registered", "suspended", "current", "late-10Q", "prospectus", "stale"],
)
def test_sweep_first_allowed_day_is_the_earliest_allowed_date(agreement, event, start, end, earliest):
    frame = sweep(event, agreement, start, end)
    assert list(frame.columns) == ["date", "outcome", "failed_rules"]
    assert list(frame["date"]) == trading_days(agreement, start, end)
    d = compliance.check({**event, "sale_date": start}, agreement)
    assert d.earliest_allowed_date == D(earliest)
    assert first_allowed_day(frame) == d.earliest_allowed_date
    before = frame[frame["date"] < D(earliest)]
    assert (before["outcome"] == "deny").all()


def test_sweep_without_a_cure_never_allows(agreement):
    event = rule_144(opinion_of_counsel=False, sale_date="2003-02-03", form_144_filed_on="2003-02-03")
    frame = sweep(event, agreement, "2003-02-03", "2003-02-28")
    assert compliance.check(event, agreement).earliest_allowed_date is None
    assert first_allowed_day(frame) is None
    assert set(frame["failed_rules"]) == {"transfer.opinion_of_counsel"}


def test_sweep_bands_and_plot_label_the_deciding_rule(agreement):
    frame = sweep(registered(), agreement, "2002-07-22", "2002-09-06")
    bands = sweep_bands(frame)
    assert [(b.start, b.end, b.outcome, b.deciding_rule) for b in bands.itertuples()] == [
        (D("2002-07-22"), D("2002-07-31"), "allow", ""),
        (D("2002-08-01"), D("2002-08-20"), "deny", "registration.not_suspended"),
        (D("2002-08-21"), D("2002-09-06"), "allow", ""),
    ]
    assert bands["trading_days"].sum() == len(frame)
    fig = plot_sweep(registered(), agreement, "2002-08-05", "2002-09-06")
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert "registration.not_suspended" in labels and "allowed" in labels
    assert "earliest allowed 2002-08-21" in labels
