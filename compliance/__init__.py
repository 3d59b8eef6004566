"""resale-compliance: may this restricted stock be sold, on this date, by this route — and why.

import compliance
agreement = compliance.load_agreement()       # the default bundled fixture (fixtures/default.yaml)
d = compliance.check({...}, agreement)        # a Decision: outcome, findings, citations, dates
out = compliance.review(df, agreement)        # one output row per sale notice
c = compliance.capacity({...}, agreement)     # the most shares allowed on a day, and what binds
p = compliance.plan({...}, agreement)         # the fastest sell-down of a whole position
"""

from compliance._version import __version__

# Each public name and the module that defines it, imported on first use (PEP 562), so that
# ``import compliance`` and the ``compliance`` command start without loading pandas or the engine.
_EXPORTS = {
    "InputError": "compliance.contract.event",
    "Agreement": "compliance.deal.agreement",
    "AgreementError": "compliance.deal.agreement",
    "load_agreement": "compliance.deal.agreement",
    "card": "compliance.decision.display",
    "decision_html": "compliance.decision.display",
    "style_review": "compliance.decision.display",
    "OUTPUT_COLUMNS": "compliance.decision.findings",
    "Decision": "compliance.decision.findings",
    "Finding": "compliance.decision.findings",
    "read_log": "compliance.decision_log",
    "Rulebook": "compliance.rulebook.loader",
    "RulebookError": "compliance.rulebook.loader",
    "load_rulebook": "compliance.rulebook.loader",
    "Capacity": "compliance.running.capacity",
    "capacity": "compliance.running.capacity",
    "check": "compliance.running.check",
    "plan": "compliance.running.plan",
    "review": "compliance.running.review",
    "sweep": "compliance.running.sweep",
    "sweep_bands": "compliance.running.sweep",
    # The plots need matplotlib (the `notebook` extra).
    "plot_plan": "compliance.views.plots",
    "plot_sweep": "compliance.views.plots",
    "plot_timeline": "compliance.views.plots",
    "timeline_segments": "compliance.views.plots",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'compliance' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


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
