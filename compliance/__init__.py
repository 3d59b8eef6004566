"""resale-compliance: may this restricted stock be sold, on this date, by this route — and why.

import compliance
agreement = compliance.load_agreement()       # the default bundled fixture (fixtures/default.yaml)
d = compliance.check({...}, agreement)        # a Decision: outcome, findings, citations, dates
out = compliance.review(df, agreement)        # one output row per sale notice
c = compliance.capacity({...}, agreement)     # the most shares allowed on a day, and what binds
p = compliance.plan({...}, agreement)         # the fastest sell-down of a whole position
"""

from compliance._version import __version__
from compliance.contract.event import InputError
from compliance.deal.agreement import Agreement, AgreementError, load_agreement
from compliance.decision.display import card, decision_html, style_review
from compliance.decision.findings import OUTPUT_COLUMNS, Decision, Finding
from compliance.decision_log import read_log
from compliance.rulebook.loader import Rulebook, RulebookError, load_rulebook
from compliance.running.capacity import Capacity, capacity
from compliance.running.check import check
from compliance.running.plan import plan
from compliance.running.review import review
from compliance.running.sweep import sweep, sweep_bands


def __getattr__(name: str):
    # The plots need matplotlib (the `notebook` extra); import them only when asked for.
    if name in ("plot_plan", "plot_sweep", "plot_timeline", "timeline_segments"):
        from compliance.views import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'compliance' has no attribute {name!r}")


__all__ = [
    "__version__",
    "Agreement",
    "AgreementError",
    "Capacity",
    "Decision",
    "Finding",
    "InputError",
    "OUTPUT_COLUMNS",
    "Rulebook",
    "RulebookError",
    "capacity",
    "card",
    "check",
    "decision_html",
    "load_agreement",
    "load_rulebook",
    "plan",
    "plot_plan",
    "plot_sweep",
    "plot_timeline",
    "read_log",
    "review",
    "style_review",
    "sweep",
    "sweep_bands",
    "timeline_segments",
]
