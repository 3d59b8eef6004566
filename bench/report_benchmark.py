"""The HTML review report at scale: its size, the time to build it, and how the page behaves in
headless Chromium, printed.

For each size (default 10,000 and 100,000 notices) it reviews reproducible synthetic notices
(``compliance.contract.synthetic``, seeded) and measures:

- building the page, ``review_report_html``: seconds, best of three; the page's size in MB and
  the share of it that is the embedded decisions (JSON);
- opening it from a file in headless Chromium (the OS's, through Playwright): milliseconds from
  the start of navigation to the end of the load event (the page's script has parsed the
  decisions and drawn the first rows by then), and the script's heap after loading;
- a filter (outcome ``deny``, then a rule, then all again) and "Show more": milliseconds from the
  change to the second animation frame after it (the rows drawn and painted), best of three.

    PYTHONPATH=. python bench/report_benchmark.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

import compliance  # noqa: E402
from compliance.contract.synthetic import synthetic_notices  # noqa: E402
from compliance.views.report import review_report_html  # noqa: E402

# One filter change in the page, timed there: the change handled, then two animation frames.
TIMED_CHANGE = """async ([selector, value]) => {
  const select = document.querySelector(selector);
  const start = performance.now();
  select.value = value;
  select.dispatchEvent(new Event("change"));
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - start;
}"""
TIMED_CLICK = """async (selector) => {
  const start = performance.now();
  document.querySelector(selector).click();
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - start;
}"""
LOADED = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
HEAP = "() => performance.memory ? performance.memory.usedJSHeapSize : null"


def best(times: int, measure) -> float:
    return min(measure() for _ in range(times))


def page_figures(browser, path: Path) -> dict[str, float]:
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    figures = {"load_ms": page.evaluate(LOADED), "heap_mb": (page.evaluate(HEAP) or 0) / 1e6}
    rule = page.locator("#filter-rule option").nth(1).get_attribute("value")
    figures["filter_deny_ms"] = best(3, lambda: page.evaluate(TIMED_CHANGE, ["#filter-outcome", "deny"]))
    figures["filter_rule_ms"] = best(3, lambda: page.evaluate(TIMED_CHANGE, ["#filter-rule", rule]))
    page.evaluate(TIMED_CHANGE, ["#filter-rule", ""])
    figures["filter_all_ms"] = best(3, lambda: page.evaluate(TIMED_CHANGE, ["#filter-outcome", ""]))
    figures["show_more_ms"] = best(3, lambda: page.evaluate(TIMED_CLICK, "#show-more"))
    figures["rows_shown"] = int(page.inner_text("#shown-count").replace(",", ""))
    page.close()
    if errors:
        raise SystemExit(f"the page raised: {errors}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args(argv)
    agreement = compliance.load_agreement()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no Chromium found; apt-get install chromium")
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        for n in args.sizes:
            notices = synthetic_notices(n, seed=n)
            result = compliance.review(notices, agreement)
            pages = []

            def build(result=result, notices=notices, pages=pages) -> float:
                start = time.perf_counter()
                pages.append(review_report_html(result, notices, agreement))
                return time.perf_counter() - start

            seconds = best(3, build)
            page = pages[-1]
            data = re.search(r'id="decisions-data">(.*?)</script>', page, re.S).group(1)
            path = Path(scratch) / f"report_{n}.html"
            path.write_text(page, encoding="utf-8")
            size = path.stat().st_size
            figures = page_figures(browser, path)
            counts = result["outcome"].value_counts()
            print(
                f"{n:>9,} notices ({counts.get('allow', 0):,} allow, {counts.get('deny', 0):,} deny, "
                f"{counts.get('error', 0):,} error)\n"
                f"  build {seconds:.2f} s; page {size / 1e6:.1f} MB, of which the decisions' JSON "
                f"{len(data.encode()) / size:.0%}\n"
                f"  Chromium: loaded in {figures['load_ms']:.0f} ms, script heap {figures['heap_mb']:.0f} MB; "
                f"filter deny {figures['filter_deny_ms']:.0f} ms, a rule {figures['filter_rule_ms']:.0f} ms, "
                f"all {figures['filter_all_ms']:.0f} ms; show more {figures['show_more_ms']:.0f} ms "
                f"({figures['rows_shown']:,} rows drawn)"
            )
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
