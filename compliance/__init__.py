"""resale-compliance: may this restricted stock be sold, on this date, by this route — and why.

    import compliance
    agreement = compliance.load_agreement()       # the bundled Focus Enhancements fixture
    d = compliance.check({...}, agreement)        # a Decision: outcome, findings, citations, dates
    out = compliance.review(df, agreement)        # one output row per sale notice
"""
from .agreement import Agreement, AgreementError, load_agreement
from .check import check
from .decision import OUTPUT_COLUMNS, Decision, Finding
from .model import InputError
from .review import review
from .rulebook import Rulebook, RulebookError, load_rulebook

__all__ = ["Agreement", "AgreementError", "Decision", "Finding", "InputError", "OUTPUT_COLUMNS",
           "Rulebook", "RulebookError", "check", "load_agreement", "load_rulebook", "review"]
__version__ = "0.1.0"
