#!/usr/bin/env python
"""Render the README's picture of the review report: the bundled sample notices reviewed under the
bundled agreement, the report opened in headless Chromium, the table filtered to one rule and the
first denied row's reasons opened; the picture ends with the table (the quoted clauses below it
are left out).

    python scripts/render_report_screenshot.py                # writes docs/report.png
    python scripts/render_report_screenshot.py --html /tmp/report.html -o /tmp/report.png

Needs the ``test`` extra (Playwright) and Chromium from the OS packages (``apt-get install
chromium``; Playwright's own browser download is not used). The page is made by
``compliance.views.report`` (nothing is drawn by hand); rerun this script after changing the report
or the sample and commit the PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import compliance  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from compliance.contract.notice_files import read_notices  # noqa: E402
from compliance.deal.agreement import load_agreement  # noqa: E402
from compliance.running.review import review  # noqa: E402
from compliance.views.report import write_report  # noqa: E402

NOTICES = ROOT / "fixtures" / "focus_enhancements" / "sale_notices.csv"
RULE = "rule144.form_144"  # the rule the table is filtered to
# where the table's section ends, in pixels from the top of the page
BOTTOM_OF_TABLE = "() => document.getElementById('decisions').getBoundingClientRect().bottom + window.scrollY"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit(f"no Chromium found (looked for {', '.join(CHROMIUM)}); apt-get install chromium")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "report.png"))
    parser.add_argument("--html", help="also keep the report page here (default: a temporary file)")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    args = parser.parse_args(argv)

    os.chdir(ROOT)  # the page names the agreement and rules folders relative to the checkout
    agreement = load_agreement()
    notices = read_notices(NOTICES)
    result = review(notices, agreement)
    with tempfile.TemporaryDirectory() as scratch:
        page_path = Path(args.html or Path(scratch) / "report.html").resolve()
        write_report(page_path, result, notices, agreement)
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path())
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(page_path.as_uri())
            page.select_option("#filter-rule", label=next(o for o in _rule_options(page) if o.startswith(RULE)))
            page.locator("#decisions-body tr.outcome-deny summary").first.click()
            bottom = page.evaluate(BOTTOM_OF_TABLE)
            clip = {"x": 0, "y": 0, "width": args.width, "height": bottom + 16}
            page.screenshot(path=str(out), full_page=True, clip=clip)
            browser.close()
    print(f"wrote {out}")
    return 0


def _rule_options(page) -> list[str]:
    return page.locator("#filter-rule option").all_inner_texts()


if __name__ == "__main__":
    sys.exit(main())
