"""The HTML review report: what the page holds, checked against the review it was made from, and
how it behaves opened from a file in headless Chromium (tests marked ``browser``: Chromium from
the OS packages, driven by Playwright).

The sample is the bundled Focus Enhancements review (fixtures/focus_enhancements/sale_notices.csv):
every count, row and reason the page shows is compared with the review's DataFrame, never with
numbers written here.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import compliance
from compliance.contract.notice_files import read_notices
from compliance.decision_log import agreement_fingerprint, rulebook_fingerprint
from compliance.rulebook.durable import engine_for
from compliance.views.report import PAGE_ROWS, review_report_html, write_report

ROOT = Path(__file__).resolve().parent.parent
FOCUS = ROOT / "fixtures" / "focus_enhancements"
HOSTILE_ID = "<script>alert(1)</script>"
HOSTILE_INVESTOR = "</script><img src=x onerror=alert(2)>"
OUTCOMES = ("allow", "deny", "error")


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement(FOCUS)


@pytest.fixture(scope="module")
def notices():
    return read_notices(FOCUS / "sale_notices.csv")


@pytest.fixture(scope="module")
def result(notices, agreement):
    return compliance.review(notices, agreement)


@pytest.fixture(scope="module")
def page_html(result, notices, agreement):
    return review_report_html(result, notices, agreement)


@pytest.fixture(scope="module")
def hostile(agreement):
    """A review of two notices whose texts try to break out of the page: a notice id that is a
    script element, and an investor (unknown, so the row is in error) that closes the script
    element and adds an image whose error handler runs script."""
    notices = pd.DataFrame(
        {
            "notice_id": [HOSTILE_ID, "H2"],
            "investor": ["Papell Holdings Limited", HOSTILE_INVESTOR],
            "security": ["shares", "shares"],
            "quantity": ["1000", "1000"],
            "sale_date": ["2002-10-01", "2002-10-01"],
            "route": ["rule_144", "rule_144"],
            "affiliate": ["false", "false"],
        }
    )
    return notices, compliance.review(notices, agreement)


def embedded_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="decisions-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def rows_denied_by(result: pd.DataFrame, rule_id: str) -> np.ndarray:
    """Positions of the rows whose failed_rules hold ``rule_id`` (whole ids, not prefixes)."""
    return np.flatnonzero([rule_id in failed.split(";") for failed in result["failed_rules"]])


def denying_rules(result: pd.DataFrame) -> list[str]:
    return sorted({r for failed in result["failed_rules"] for r in failed.split(";") if r})


# --- the HTML itself ------------------------------------------------------------------------------


def test_the_sample_has_every_outcome_and_several_denying_rules(result):
    # the checks below compare the page with the review; they say something only if it has variety
    assert set(result["outcome"]) == set(OUTCOMES)
    assert len(denying_rules(result)) > 5


def test_counts_by_outcome_are_the_reviews(page_html, result):
    shown = dict(re.findall(r'data-outcome="(\w+)">([\d,]+)<', page_html))
    counts = result["outcome"].value_counts()
    assert {k: int(v.replace(",", "")) for k, v in shown.items()} == {
        **{o: int(counts.get(o, 0)) for o in OUTCOMES},
        "total": len(result),
    }


def test_each_denying_rule_has_its_count_citations_and_quoted_clauses(page_html, result, agreement):
    rulebook = engine_for().rulebook
    denials = page_html.split('<section id="denials">', 1)[1]
    sections = dict(
        re.findall(r'<div class="rule" id="rule-([\w.]+)">(.*?)(?=<div class="rule" |</section>)', denials, re.S)
    )
    assert sorted(sections) == denying_rules(result)
    for rule_id, text in sections.items():
        assert f"{len(rows_denied_by(result, rule_id)):,} denied" in text
        rule = rulebook.rule(rule_id)
        for key in rule.agreement_clauses:
            clause = agreement.clauses[key]
            assert html.escape(clause.section, quote=False) in text
            assert html.escape(clause.text, quote=False) in text
        for citation in rule.regulation:
            assert html.escape(citation) in text


def test_the_embedded_decisions_are_the_reviews_rows(page_html, result, notices):
    data = embedded_data(page_html)
    field = {name: k for k, name in enumerate(data["fields"])}
    assert len(data["rows"]) == len(result)
    for position, row in enumerate(data["rows"]):
        expected = result.iloc[position]
        assert row[field["notice_id"]] == expected["notice_id"]
        assert data["outcomes"][row[field["outcome"]]] == expected["outcome"]
        assert data["investors"][row[field["investor"]]] == notices["investor"].iloc[position]
        assert row[field["sale_date"]] == notices["sale_date"].iloc[position]
        failed = [data["rules"][k] for k in data["failed_rules"][row[field["failed_rules"]]]]
        assert ";".join(failed) == expected["failed_rules"]
        assert data["citations"][row[field["citations"]]] == expected["citations"]
        assert row[field["earliest_allowed_date"]] == expected["earliest_allowed_date"]
        assert data["reasons"][row[field["reasons"]]] == expected["reasons"]


def test_the_agreement_and_rulebook_are_named_with_their_fingerprints(page_html, agreement):
    assert f'<code id="agreement-fingerprint">{agreement_fingerprint(FOCUS)}</code>' in page_html
    assert f'<code id="rulebook-fingerprint">{rulebook_fingerprint()}</code>' in page_html
    assert html.escape(agreement.title) in page_html


def test_hostile_notice_texts_are_escaped(hostile, agreement):
    notices, result = hostile
    page = review_report_html(result, notices, agreement)
    assert HOSTILE_ID not in page and HOSTILE_INVESTOR not in page
    assert "<img" not in page
    # the page's own two script elements: the data and the code
    assert page.count("<script") == 2 and page.count("</script>") == 2
    # the values arrive intact where they are shown: as text in the data, escaped in the HTML
    data = embedded_data(page)
    assert data["rows"][0][0] == HOSTILE_ID
    assert HOSTILE_INVESTOR in data["investors"]
    assert html.escape(HOSTILE_INVESTOR) in page  # the investor filter's option and the chart's bar


def test_the_page_needs_no_network(page_html):
    # no address of another host in any attribute, no stylesheet or script fetched, no CSS url()
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", page_html, re.I)
    assert not re.search(r"https?://", page_html)
    assert "<link" not in page_html and "@import" not in page_html and "url(" not in page_html
    assert not re.search(r"<script[^>]*\ssrc=", page_html)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page_html).group(1)
    assert "default-src 'none'" in policy


def test_an_empty_review_makes_a_page_that_says_so(notices, agreement):
    empty = notices.iloc[:0]
    page = review_report_html(compliance.review(empty, agreement), empty, agreement)
    assert dict(re.findall(r'data-outcome="(\w+)">([\d,]+)<', page)) == {o: "0" for o in (*OUTCOMES, "total")}
    assert "No notice was denied." in page
    assert embedded_data(page)["rows"] == []


def test_a_rule_the_rulebook_lacks_is_refused(result, notices, agreement):
    renamed = result.assign(failed_rules=result["failed_rules"].str.replace("rule144.volume", "rule144.gone"))
    with pytest.raises(ValueError, match="rule144.gone"):
        review_report_html(renamed, notices, agreement)


def test_result_and_notices_must_have_the_same_rows(result, notices, agreement):
    with pytest.raises(ValueError, match="different rows"):
        review_report_html(result, notices.iloc[1:], agreement)


def test_write_report_writes_the_whole_page_and_nothing_beside_it(tmp_path, result, notices, agreement, page_html):
    path = tmp_path / "report.html"
    write_report(path, result, notices, agreement)
    assert path.read_text(encoding="utf-8") == page_html
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "missing" / "report.html", result, notices, agreement)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# --- in headless Chromium -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("the browser tests need Chromium from the OS packages (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


class OpenedPage:
    """A report page opened from a file, with every console error, page error, dialog and
    request (and failed request) it caused."""

    def __init__(self, browser, path: Path):
        self.console_errors, self.page_errors, self.dialogs = [], [], []
        self.requests, self.failed_requests = [], []
        self.page = browser.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed_requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def shown_rows(self) -> list[int]:
        return [
            int(r) for r in self.page.locator("#decisions-body tr").evaluate_all("rs => rs.map(r => r.dataset.row)")
        ]

    def shown_ids(self) -> list[str]:
        return self.page.locator("#decisions-body td.notice").all_inner_texts()

    def number(self, selector: str) -> int:
        return int(self.page.inner_text(selector).replace(",", ""))


@pytest.fixture
def opened(browser, tmp_path):
    pages = []

    def open_report(result, notices, agreement) -> OpenedPage:
        path = tmp_path / f"report{len(pages)}.html"
        write_report(path, result, notices, agreement)
        pages.append(OpenedPage(browser, path))
        return pages[-1]

    yield open_report
    for p in pages:
        p.page.close()


@pytest.mark.browser
def test_the_report_opens_with_no_errors_and_no_network(opened, result, notices, agreement):
    report = opened(result, notices, agreement)
    assert report.console_errors == [] and report.page_errors == [] and report.dialogs == []
    assert report.failed_requests == []
    assert all(url.startswith("file://") for url in report.requests), report.requests
    # the script ran (the policy let it): every row of the sample is drawn on opening
    assert len(result) <= PAGE_ROWS
    assert report.shown_rows() == list(range(len(result)))
    assert report.shown_ids() == list(result["notice_id"])


@pytest.mark.browser
def test_the_counts_shown_are_the_reviews(opened, result, notices, agreement):
    report = opened(result, notices, agreement)
    counts = result["outcome"].value_counts()
    for outcome in OUTCOMES:
        assert report.number(f'td[data-outcome="{outcome}"]') == counts.get(outcome, 0)
        report.page.select_option("#filter-outcome", outcome)
        expected = np.flatnonzero(result["outcome"] == outcome)
        assert report.number("#match-count") == len(expected)
        assert report.shown_rows() == list(expected)
    assert report.number('td[data-outcome="total"]') == len(result)


@pytest.mark.browser
def test_filtering_by_a_rule_shows_exactly_the_rows_it_denies(opened, result, notices, agreement):
    report = opened(result, notices, agreement)
    offered = report.page.locator("#filter-rule option").evaluate_all("os => os.map(o => o.textContent)")
    assert sorted(o.split(" ")[0] for o in offered[1:]) == denying_rules(result)
    for k, rule_id in enumerate(o.split(" ")[0] for o in offered[1:]):
        report.page.select_option("#filter-rule", index=k + 1)
        expected = rows_denied_by(result, rule_id)
        assert report.shown_rows() == list(expected), rule_id
        assert report.shown_ids() == list(result["notice_id"].iloc[expected]), rule_id
        assert report.number("#match-count") == len(expected)
    # with an investor as well: both filters hold
    investor = "Papell Holdings Limited"
    choices = report.page.locator("#filter-investor option").evaluate_all("os => os.map(o => o.textContent)")
    report.page.select_option("#filter-investor", index=[c.rsplit(" (", 1)[0] for c in choices].index(investor))
    expected = [p for p in rows_denied_by(result, rule_id) if notices["investor"].iloc[p] == investor]
    assert report.shown_rows() == expected
    assert report.console_errors == [] and report.page_errors == []


@pytest.mark.browser
def test_expanding_a_denied_row_shows_its_reasons(opened, result, notices, agreement):
    report = opened(result, notices, agreement)
    report.page.select_option("#filter-outcome", "deny")
    for position in np.flatnonzero(result["outcome"] == "deny"):
        row = report.page.locator(f'#decisions-body tr[data-row="{position}"]')
        reasons = row.locator("details .reasons")
        assert not reasons.is_visible()
        row.locator("summary").click()
        assert reasons.is_visible()
        assert reasons.inner_text() == result["reasons"].iloc[position]
        links = row.locator("details a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links == [f"#rule-{r}" for r in result["failed_rules"].iloc[position].split(";")]


@pytest.mark.browser
def test_hostile_notice_texts_stay_text_in_the_browser(opened, hostile, agreement):
    notices, result = hostile
    report = opened(result, notices, agreement)
    assert report.dialogs == [] and report.console_errors == [] and report.page_errors == []
    assert report.page.locator("img").count() == 0
    assert report.shown_ids() == [HOSTILE_ID, "H2"]
    assert report.page.locator("#decisions-body tr").nth(1).locator("td").nth(1).inner_text() == HOSTILE_INVESTOR


@pytest.mark.browser
def test_a_long_review_is_drawn_a_page_at_a_time(opened, result, notices, agreement):
    # The sample 20 times over: the report is a view, so the rows need not form one review.
    times = 20
    many = pd.concat([result] * times, ignore_index=True)
    report = opened(many, pd.concat([notices] * times, ignore_index=True), agreement)
    assert report.shown_rows() == list(range(PAGE_ROWS))
    report.page.select_option("#filter-outcome", "deny")
    expected = list(np.flatnonzero(many["outcome"] == "deny"))
    assert len(expected) > 2 * PAGE_ROWS
    assert report.number("#match-count") == len(expected)
    shown = PAGE_ROWS
    while shown < len(expected):
        assert report.shown_rows() == expected[:shown]
        assert report.number("#shown-count") == shown
        report.page.click("#show-more")
        shown = min(shown + PAGE_ROWS, len(expected))
    assert report.shown_rows() == expected
    assert report.page.locator("#show-more").is_hidden()
