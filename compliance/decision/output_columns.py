"""The output contract: the columns of a decision row, in order, and how each is made from the
rules' findings. ``Decision.to_row`` (one event, ``check()``) and the review's vectorized
rendering (``running/review.py``) both build their rows from these definitions.

Each column, from a rule's status (pass, fail, not_applicable, undetermined; a failing rule is one
that fails or is undetermined) and the facts:

``outcome``          deny when a failing rule blocks ``sale``, else allow; error for bad input
``failed_rules``     the failing rules that block ``sale``, in rulebook order, ``;``-separated
``citations``        a deny cites the failing rules that block ``sale``, an allow the applicable
                     ``sale`` rules that pass (``cited_status``); agreement sections first, each
                     once, ``;``-separated
``earliest_allowed_date``, ``delivery_date``  ISO dates; '' when none
``delivery_late_business_days``  a whole number; '' when not delivered or no Delivery Date
``legend_removal``, ``dwac_eligible``  false when a failing rule blocks one of what ``FLAGS``
                     names (legend_removal or sale: the legend comes off only for an allowed sale;
                     dwac), else true; '' for a row in error
``regime``           the version of Rule 144 in force on the sale date (the fact ``regime``)
``reasons``          a deny: the messages of the failing rules that block ``sale``; an allow:
                     ``ALLOWED_REASON``; then the messages of the failing rules ``against`` the
                     Company, then the delivery note; joined by ``REASON_SEPARATOR``. A row in
                     error: ``ERROR_REASON``
``error``            the input error; '' when none
"""

from __future__ import annotations

OUTPUT_COLUMNS = (
    "notice_id",
    "outcome",
    "failed_rules",
    "citations",
    "earliest_allowed_date",
    "delivery_date",
    "delivery_late_business_days",
    "legend_removal",
    "dwac_eligible",
    "regime",
    "reasons",
    "error",
)
# The statuses that stop what a rule blocks (fail closed: undetermined stops too).
FAILING = ("fail", "undetermined")
# What a failing rule must block for the outcome to be deny.
SALE = "sale"
ALLOW, DENY = "allow", "deny"
OUTCOMES = (ALLOW, DENY)  # indexed by whether the sale is stopped
ERROR_OUTCOME = "error"
# The boolean columns: each false when a failing rule blocks one of the things named. The legend
# comes off only for a sale that is allowed (the agreement's legend clauses lift it on a permitted
# resale), so whatever stops the sale stops legend removal too.
FLAGS = {"legend_removal": ("legend_removal", SALE), "dwac_eligible": ("dwac",)}
LIST_SEPARATOR = ";"
REASON_SEPARATOR = " "
ABSENT = ""  # a date, count or text that is not there; the flags of a row in error
ALLOWED_REASON = "Allowed: all {passing} applicable rules pass."
ERROR_REASON = "Input error: {error}"


def cited_status(outcome: str) -> tuple[str, ...]:
    """The statuses of the ``sale`` rules whose citations a decision with ``outcome`` gives."""
    return {"deny": FAILING, "allow": ("pass",)}.get(outcome, ())


def joined(items) -> str:
    """Rule ids or citations as one column value."""
    return LIST_SEPARATOR.join(items)
