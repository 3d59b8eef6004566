"""Pictures of a deal's resale windows (matplotlib), each backed by a table of what it draws.

``plot_plan`` draws a sell-down plan (``running.plan``).

``timeline_segments(agreement, investor)`` lists, per security, the spans and milestone dates
that decide when a sale can happen; ``plot_timeline`` draws them. ``plot_sweep`` draws the
outcome of one proposed sale over a range of trading days (``sweep.sweep``), banded and labelled
by the deciding rule, with the earliest allowed date marked.

The figures are built with the object-oriented API (``matplotlib.figure.Figure``), not pyplot:
nothing is registered globally, any backend works (Agg in tests and scripts), and a notebook
cell ending in the figure shows it once.

Dates in the tables are ``datetime.date``; ``end`` is inclusive, None for open-ended.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from compliance.deal.agreement import Agreement, load_agreement
from compliance.deal.periods import period_satisfied_on
from compliance.rulebook.loader import RULES_DIR, Rulebook, load_rulebook
from compliance.rulebook.parameters import Rule144Parameters
from compliance.running.check import check
from compliance.running.sweep import _as_date, sweep, sweep_bands
from compliance.views.registration_stretches import registration_stretches

DAY = timedelta(days=1)
SEGMENT_COLUMNS = ("security", "lane", "kind", "label", "start", "end", "shape", "outcome", "notice_id")

# The stretches in which registered sales are denied, by the first registration rule a registered
# sale fails there: rule id -> (kind, reason, colour); drawn hatched.
DENIED = {
    "registration.effective": ("registration_not_yet_effective", "not yet effective", "#afb8c1"),
    "registration.not_suspended": ("suspension", "suspended", "#cf222e"),
    "registration.no_stop_order": ("stop_order", "stop order (8(d))", "#82071e"),
    "registration.prospectus_current": ("prospectus_stale", "prospectus stale (10(a)(3))", "#fb8f44"),
    "registration.within_period": ("registration_period_ended", "registration period ended", "#6e7781"),
}
DENIED_HATCH = "////"
UNNAMED_DENIAL = ("registration_denied", "#6e7781")  # a registration rule DENIED does not name
DENIED_KINDS = {kind for kind, _, _ in DENIED.values()} | {UNNAMED_DENIAL[0]}
# kind -> (colour, legend label)
STYLE = {
    "holding_period": ("#afb8c1", "holding period running (144(d)(1))"),
    "rule_144_conditions": ("#f2cc60", "Rule 144 with conditions (non-affiliates)"),
    "rule_144_free": ("#4ac26b", "free resale for non-affiliates"),
    "registration_effective": ("#54aeff", "registration statement effective and current"),
    **{kind: (colour, f"registered sales denied: {reason}") for kind, reason, colour in DENIED.values()},
    UNNAMED_DENIAL[0]: (UNNAMED_DENIAL[1], "registered sales denied: another registration rule"),
    "not_current": ("#fa4549", "issuer not current (144(c)(1))"),
    "reporting_under_90_days": ("#fa4549", "issuer not current (144(c)(1))"),
    "warrant_exercise_window": ("#c297ff", "warrant exercise window (4(n))"),
}
OUTCOME_COLOURS = {"allow": "#1a7f37", "deny": "#cf222e", "error": "#9a6700"}
OUTCOME_MARKERS = {"allow": "o", "deny": "X", "error": "s"}
LABEL_FONTSIZE = 7  # points, the labels of milestones, notices and short spans
LABEL_STEP = 0.26  # the height of one level of labels, in lanes (a lane's bar is 0.6 high)
LANE_GAP = 0.35  # between a lane's labels and the next lane, in lanes
INCHES_PER_LANE = 0.62
MARGIN_INCHES = 2.0  # the title, the date axis and the legend
SHORT_SPAN_DAYS = 45  # a span shorter than this has its dates written beside it
CHAR_WIDTH_EM = 0.6  # a label's width per character, in ems: above DejaVu Sans' 0.53 to 0.58 for these labels
SECURITY_NAMES = {"shares": "Shares", "issuer": "Issuer", "warrant_shares": "Warrant Shares"}


# --- the timeline's data ------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _rulebook(rules_dir: str) -> Rulebook:
    return load_rulebook(Path(rules_dir))


def _parameters(rules_dir: str) -> Rule144Parameters:
    return _rulebook(rules_dir).parameters


def first_day_period_met(
    acquired: date, months_on: Callable[[date], int], breakpoints: list[date], counting: str
) -> date | None:
    """First day t on which ``t >= period_satisfied_on(acquired, months_on(t))``, where
    ``months_on`` is constant between consecutive ``breakpoints`` (the versions of Rule 144 and
    the day the issuer has reported for 90 days). Handles a shorter period coming into force
    (2008-02-15) in the middle of a longer one."""
    points = sorted(set(breakpoints))
    best = None
    for i, lo in enumerate(points):
        hi = points[i + 1] if i + 1 < len(points) else None
        candidate = max(lo, period_satisfied_on(acquired, months_on(lo), counting))
        if (hi is None or candidate < hi) and (best is None or candidate < best):
            best = candidate
    return best


def rule_144_dates(
    agreement: Agreement, acquired: date, params: Rule144Parameters | None = None
) -> tuple[date | None, date | None]:
    """(holding period met, free resale for a non-affiliate: 144(k), later 144(b)(1)) for a
    security acquired (fully paid) on ``acquired``, under the version of Rule 144 in force on
    each day, counting per the agreement's ``period_counting``."""
    params = params or _parameters(str(RULES_DIR))

    def qualifies_on(day: date) -> date:
        return agreement.reporting_since + timedelta(days=params.value("current_information_min_reporting_days", day))

    # the months in force can change only on a version date or the day the issuer qualifies
    breakpoints = [acquired] + [d for d in (*params.versions, *map(qualifies_on, params.versions)) if d > acquired]

    def holding_months(day: date) -> int:
        reporting = day >= qualifies_on(day)
        name = "holding_period_months_reporting_issuer" if reporting else "holding_period_months_non_reporting_issuer"
        return params.value(name, day)

    def free_months(day: date) -> int:
        return params.value("nonaffiliate_free_resale_months", day)

    counting = agreement.period_counting
    return (
        first_day_period_met(acquired, holding_months, breakpoints, counting),
        first_day_period_met(acquired, free_months, breakpoints, counting),
    )


def _seg(
    security: str,
    lane: str,
    kind: str,
    label: str,
    start: date,
    end: date | None,
    shape: str = "span",
    outcome: str = "",
    notice_id: str = "",
) -> dict[str, Any]:
    return {
        "security": security,
        "lane": lane,
        "kind": kind,
        "label": label,
        "start": start,
        "end": end,
        "shape": shape,
        "outcome": outcome,
        "notice_id": notice_id,
    }


def _paragraph(reference: str) -> str:
    """'17 CFR 230.144(k) (1997); ...' -> '144(k)'."""
    found = re.search(r"230\.(144(?:\([a-z0-9]+\))*)", reference)
    return found.group(1) if found else "Rule 144"


def _rule_144_lane(agreement: Agreement, security: str, lane: str, acquired: date) -> list[dict]:
    params = _parameters(str(RULES_DIR))
    met, free = rule_144_dates(agreement, acquired, params)
    out = [_seg(security, lane, "holding_period", f"holding period from {acquired}", acquired, met - DAY)]
    if free is not None and free > met:
        limits = params.value("nonaffiliate_subject_to_resale_limits", met)
        conditions = "(c), (e), (f), (h)" if limits else "(c)(1)"
        out.append(
            _seg(
                security,
                lane,
                "rule_144_conditions",
                f"Rule 144 with {conditions} for a non-affiliate",
                met,
                free - DAY,
            )
        )
    out.append(_seg(security, lane, "holding_period_met", f"holding period met {met}", met, met, "milestone"))
    for version in params.versions:
        if acquired < version <= (free or met):  # a version that changes the periods counted here
            label = f"Rule 144 {version.year} amendments {version}"
            out.append(_seg(security, lane, "rule_144_amended", label, version, version, "milestone"))
    if free is not None:
        paragraph = _paragraph(params.reference("nonaffiliate_free_resale_months", free))
        out.append(_seg(security, lane, "rule_144_free", f"free resale for a non-affiliate ({paragraph})", free, None))
        out.append(_seg(security, lane, "rule_144k", f"{paragraph} {free}", free, free, "milestone"))
    return out


def _registration_lane(agreement: Agreement, security: str, first_day: date) -> list[dict]:
    """From ``first_day`` (the security's acquisition) on: the stretches in which the statement
    is effective and current, and those in which registered sales are denied, by reason, as the
    registration rules judge them; its effective date and post-effective amendments as milestones."""
    rs = agreement.registration_statement
    if rs is None or security not in rs.covers:
        return []
    lane = f"Registration statement ({rs.form})"
    out = []
    for stretch in registration_stretches(agreement, first_day, _rulebook(str(RULES_DIR))):
        until = f"to {stretch.end}" if stretch.end is not None else "on"
        if not stretch.failing_rule:
            kind, label = "registration_effective", f"effective and current {stretch.start} {until}"
        else:
            kind, reason, _ = DENIED.get(stretch.failing_rule, (UNNAMED_DENIAL[0], stretch.failing_rule, ""))
            label = f"registered sales denied, {reason}: {stretch.start} {until}"
        out.append(_seg(security, lane, kind, label, stretch.start, stretch.end))
    on = rs.effective_on
    out.append(_seg(security, lane, "registration_effective_on", f"effective {on}", on, on, "milestone"))
    for effective_on, information_as_of in rs.post_effective_amendments:
        out.append(
            _seg(
                security,
                lane,
                "post_effective_amendment",
                f"POS AM effective {effective_on} (information as of {information_as_of})",
                effective_on,
                effective_on,
                "milestone",
            )
        )
    return out


def _current_information_lane(agreement: Agreement) -> list[dict]:
    lane = "Current information (144(c))"
    out = []
    params = _parameters(str(RULES_DIR))
    qualifies = agreement.reporting_since + timedelta(
        days=params.value("current_information_min_reporting_days", agreement.closing_date)
    )
    if qualifies > agreement.closing_date:
        out.append(
            _seg(
                "issuer",
                lane,
                "reporting_under_90_days",
                "reporting for less than 90 days",
                agreement.reporting_since,
                qualifies - DAY,
            )
        )
    for report in agreement.late_reports:
        # the convention of the rule: due D, filed F -> not current from D+1 to F-1
        end = report.filed_on - DAY if report.filed_on is not None else None
        if end is not None and end < report.due_on + DAY:
            continue
        filed = f"filed {report.filed_on}" if report.filed_on else "not filed"
        out.append(
            _seg(
                "issuer",
                lane,
                "not_current",
                f"{report.form} for {report.period_end} due {report.due_on}, {filed}",
                report.due_on + DAY,
                end,
            )
        )
    return out


def _warrant_lanes(agreement: Agreement, investor_name: str) -> list[dict]:
    if agreement.warrant_issued_on is None or agreement.investors[investor_name].warrant_shares == 0:
        return []
    out = [
        _seg(
            "warrant_shares",
            "Warrant exercise (4(n))",
            "warrant_exercise_window",
            f"exercisable {agreement.warrant_issued_on} to {agreement.warrant_expires_on or 'open'}",
            agreement.warrant_issued_on,
            agreement.warrant_expires_on,
        )
    ]
    if agreement.warrant_cashless_permitted:
        # Cashless exercise tacks to the warrant's issue date (144(d)(3)(x)); a cash exercise
        # restarts the holding period on the exercise date, which only the sale notice knows.
        out += _rule_144_lane(agreement, "warrant_shares", "Rule 144 (cashless exercise)", agreement.warrant_issued_on)
    out += _registration_lane(agreement, "warrant_shares", agreement.warrant_issued_on)
    return out


def _notice_markers(agreement: Agreement, investor_name: str, notices: pd.DataFrame) -> list[dict]:
    if "outcome" not in notices.columns:
        from compliance.running.review import review

        result = review(notices, agreement)
        notices = notices.assign(outcome=result["outcome"].to_numpy())
    out = []
    for row in notices.to_dict(orient="records"):
        if row.get("investor") != investor_name:
            continue
        try:
            day = _as_date(row.get("sale_date"), "sale_date")
        except (ValueError, TypeError):
            continue  # an unreadable date cannot be placed (the review reports it as an error)
        security = row.get("security") if row.get("security") in ("shares", "warrant_shares") else "shares"
        label = f"{row.get('notice_id', '')}: {row.get('route', '')}, {row.get('quantity', '')}"
        out.append(
            _seg(
                security,
                "Sale notices",
                "notice",
                label,
                day,
                day,
                "notice",
                str(row.get("outcome", "")),
                str(row.get("notice_id", "")),
            )
        )
    return out


def timeline_segments(
    agreement: Agreement | None = None, investor: str | None = None, notices: pd.DataFrame | None = None
) -> pd.DataFrame:
    """What ``plot_timeline`` draws for one investor, one row per span, milestone or notice.

    Columns: ``security`` (shares | warrant_shares | issuer), ``lane`` (the row of the chart),
    ``kind``, ``label``, ``start``, ``end`` (inclusive; None = open-ended), ``shape`` (span |
    milestone | notice), ``outcome`` and ``notice_id`` (notices only).

    Kinds: holding_period (acquisition to the day before it is met), holding_period_met,
    rule_144_conditions (met, until free resale), rule_144k and rule_144_free (free resale for a
    non-affiliate: 144(k) before 2008-02-15, 144(b)(1)(i) after; the label names which),
    rule_144_amended (a new version of Rule 144 in force while the periods run); for the
    registration statement, from the acquisition on, consecutive stretches as its rules judge a
    registered sale: registration_effective (effective and current) or denied, by the first rule
    failed, registration_not_yet_effective, suspension, stop_order, prospectus_stale (Securities
    Act 10(a)(3)), registration_period_ended (open-ended) or registration_denied (another rule),
    and the milestones registration_effective_on and post_effective_amendment; not_current (a
    late report: due D, filed F -> D+1 to F-1), reporting_under_90_days,
    warrant_exercise_window, notice.

    ``notices``: sale notices (the input columns); those of ``investor`` are placed on their
    sale date, coloured by ``outcome`` (reviewed here with ``compliance.review`` unless the frame
    already has an ``outcome`` column)."""
    if agreement is None:
        agreement = load_agreement()
    if investor is None:
        investor = next(iter(agreement.investors))
    if investor not in agreement.investors:
        raise ValueError(f"investor {investor!r} is not on the agreement ({', '.join(agreement.investors)})")
    rows = _rule_144_lane(agreement, "shares", "Rule 144", agreement.closing_date)
    rows += _registration_lane(agreement, "shares", agreement.closing_date)
    rows += _current_information_lane(agreement)
    rows += _warrant_lanes(agreement, investor)
    if notices is not None:
        rows += _notice_markers(agreement, investor, notices)
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))


# --- where the labels go -------------------------------------------------------------------------


def stagger(centres: list[float], widths: list[float]) -> list[int]:
    """A level for each label (0 nearest its lane) so that no two labels on one level overlap.

    Labels are centred on ``centres`` and ``widths`` wide (one unit, e.g. days); taken from left
    to right, each goes on the lowest level whose labels all end before it begins. Labels that
    only touch do not overlap."""
    ends: list[float] = []  # per level, where its rightmost label ends
    levels = [0] * len(centres)
    for i in sorted(range(len(centres)), key=lambda i: centres[i]):
        left, right = centres[i] - widths[i] / 2, centres[i] + widths[i] / 2
        level = next((k for k, end in enumerate(ends) if end <= left), len(ends))
        if level == len(ends):
            ends.append(right)
        ends[level] = right
        levels[i] = level
    return levels


def label_places(segments: pd.DataFrame, days_per_char: float, first: date, last: date) -> pd.DataFrame:
    """Where ``plot_timeline`` writes each label, one row per row of ``segments`` (same index).

    Columns: ``text`` ("" for an unlabelled span), ``side`` (above | below the lane), ``level``
    (0 nearest the lane), ``centre`` (ordinal of the day under the label's centre).

    A milestone's label (what it is and its date) goes above its lane; a span shorter than
    ``SHORT_SPAN_DAYS`` has its dates written below; a notice's id goes alternately above and
    below as ``stagger`` gives levels. Widths: the text's characters plus one, ``days_per_char``
    days each; labels on one (lane, side) are staggered, and a label that would cross
    ``first`` or ``last`` (the edges of the axes) is moved inside."""
    rows = []
    for row in segments.itertuples(index=False):
        centre = row.start.toordinal()
        if row.shape == "milestone":
            rows.append((row.label, "above", centre))
        elif row.shape == "notice":
            rows.append((row.notice_id, "notice", centre))
        elif row.end is not None and (row.end - row.start).days < SHORT_SPAN_DAYS:
            rows.append((f"{row.start:%Y-%m-%d} to {row.end:%m-%d}", "below", (centre + row.end.toordinal()) / 2))
        else:
            rows.append(("", "", centre))
    places = pd.DataFrame(rows, columns=["text", "side", "centre"], index=segments.index)
    half = (places["text"].str.len() + 1) * days_per_char / 2
    places["centre"] = places["centre"].clip(lower=first.toordinal() + half, upper=last.toordinal() - half)
    places["level"] = 0
    labelled = places[places["text"] != ""].assign(security=segments["security"], lane=segments["lane"])
    for _, group in labelled.groupby(["security", "lane", "side"], sort=False):
        levels = stagger(list(group["centre"]), list(2 * half[group.index]))
        places.loc[group.index, "level"] = levels
    notices = places["side"] == "notice"
    places.loc[notices, "side"] = places.loc[notices, "level"].map(lambda k: "above" if k % 2 == 0 else "below")
    places.loc[notices, "level"] //= 2
    return places[["text", "side", "level", "centre"]]


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_timeline(
    agreement: Agreement | None = None,
    investor: str | None = None,
    notices: pd.DataFrame | None = None,
    *,
    ax=None,
    segments: pd.DataFrame | None = None,
):
    """Draw ``timeline_segments(agreement, investor, notices)`` (or ``segments`` given) and
    return the matplotlib Figure. One row per (security, lane); the stretches in which registered
    sales are denied are hatched, coloured and named by reason in the legend; milestones are
    diamonds labelled with what they are and their date; notices are markers coloured by outcome
    (allow green, deny red, error amber) labelled with their id. Labels go where
    ``label_places`` says; each lane is as tall as its levels of labels need."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if agreement is None:
        agreement = load_agreement()
    if investor is None:
        investor = next(iter(agreement.investors))
    if segments is None:
        segments = timeline_segments(agreement, investor, notices)
    order = {name: i for i, name in enumerate(SECURITY_NAMES)}
    lanes = sorted(
        dict.fromkeys(zip(segments["security"], segments["lane"], strict=True)),
        key=lambda lane: order.get(lane[0], len(order)),
    )  # stable: lanes keep their order
    own_figure = ax is None
    fig, ax = _new_axes(ax, (11, INCHES_PER_LANE * len(lanes) + MARGIN_INCHES))

    days = [d for d in list(segments["start"]) + list(segments["end"]) if isinstance(d, date)]
    x_min = min(days) - timedelta(days=45)
    x_max = max(days) + timedelta(days=75)
    ax.set_xlim(mdates.date2num(x_min), mdates.date2num(x_max))
    lane_names = [f"{SECURITY_NAMES.get(s, s)} · {lane}" for s, lane in lanes]
    ax.set_yticks(range(len(lanes)), labels=lane_names, fontsize=8.5)
    fig.draw_without_rendering()  # lays the figure out: the axes' width is known
    width_points = ax.get_window_extent().width * 72 / fig.dpi
    places = label_places(segments, (x_max - x_min).days * CHAR_WIDTH_EM * LABEL_FONTSIZE / width_points, x_min, x_max)
    centre_of, half_of, height = _stack_lanes(lanes, segments, places)
    if own_figure:
        fig.set_figheight(INCHES_PER_LANE * height + MARGIN_INCHES)

    legend: dict[str, Any] = {}
    for i, row in zip(segments.index, segments.itertuples(index=False), strict=True):
        lane = (row.security, row.lane)
        y, half = centre_of[lane], half_of[lane]
        if row.shape == "span":
            colour, name = STYLE.get(row.kind, ("#8c959f", row.kind))
            hatch = DENIED_HATCH if row.kind in DENIED_KINDS else None
            end = (row.end if row.end is not None else x_max) + DAY
            start_n = mdates.date2num(row.start)
            ax.broken_barh(
                [(start_n, mdates.date2num(end) - start_n)],
                (y - half, 2 * half),
                facecolors=colour,
                edgecolor="white",
                hatch=hatch,
                linewidth=0,
                zorder=1,
            )
            legend.setdefault(name, Patch(facecolor=colour, edgecolor="white", hatch=hatch, label=name))
        elif row.shape == "milestone":
            ax.plot([row.start], [y], marker="D", color="#1f2328", markersize=6, zorder=4)
        elif row.shape == "notice":
            colour = OUTCOME_COLOURS.get(row.outcome, "#6e7781")
            marker = OUTCOME_MARKERS.get(row.outcome, "o")
            ax.plot([row.start], [y], marker=marker, color=colour, markersize=7, markeredgecolor="white", zorder=5)
            legend.setdefault(
                f"notice: {row.outcome}",
                Line2D([], [], marker=marker, linestyle="none", color=colour, label=f"notice: {row.outcome}"),
            )
        place = places.loc[i]
        if place.text:
            above = place.side == "above"
            edge = y + half + place.level * LABEL_STEP if above else y - half - place.level * LABEL_STEP
            ax.annotate(
                place.text,
                (mdates.date2num(x_min) + place.centre - x_min.toordinal(), edge),
                xytext=(0, 1.5 if above else -1.5),
                textcoords="offset points",
                ha="center",
                va="bottom" if above else "top",
                fontsize=LABEL_FONTSIZE,
                color=STYLE.get(row.kind, ("#1f2328",))[0] if row.shape == "span" else "#1f2328",
            )

    ax.set_yticks([centre_of[lane] for lane in lanes], labels=lane_names, fontsize=8.5)
    ax.set_ylim(-LANE_GAP / 2, height - LANE_GAP / 2)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", color="#d0d7de", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{agreement.issuer}: resale windows of {investor}", fontsize=11, loc="left")
    ax.legend(
        handles=list(legend.values()),
        fontsize=7.5,
        loc="upper right",  # the lane names widen the figure to the left of the axes
        bbox_to_anchor=(1, -0.08),
        ncol=3,
        frameon=False,
    )
    return fig


def _stack_lanes(lanes: list[tuple], segments: pd.DataFrame, places: pd.DataFrame):
    """Each lane's centre and half height (in lanes: a lane of spans is 0.6 high, one of
    markers only 0.24), stacked from the bottom with room for its levels of labels above and
    below and ``LANE_GAP`` between lanes; and the height of the stack."""
    centre_of, half_of, cursor = {}, {}, 0.0
    for lane in reversed(lanes):
        mine = (segments["security"] == lane[0]) & (segments["lane"] == lane[1])
        levels = places[mine & (places["text"] != "")].groupby("side")["level"].max() + 1
        half = 0.3 if (segments.loc[mine, "shape"] == "span").any() else 0.12
        centre_of[lane] = cursor + levels.get("below", 0) * LABEL_STEP + half
        half_of[lane] = half
        cursor = centre_of[lane] + half + levels.get("above", 0) * LABEL_STEP + LANE_GAP
    return centre_of, half_of, cursor


def plot_sweep(
    event: Mapping[str, Any],
    agreement: Agreement | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    ax=None,
    frame: pd.DataFrame | None = None,
):
    """Draw the outcome of ``event`` on every trading day from ``start`` to ``end`` (``frame``:
    a ``sweep`` already computed) as allowed/denied bands labelled by the deciding rule, mark
    ``earliest_allowed_date`` of ``check`` on the first day, and return the Figure.

    The data: ``sweep(event, agreement, start, end)`` and ``sweep_bands(frame)``."""
    import matplotlib.dates as mdates

    if agreement is None:
        agreement = load_agreement()
    if frame is None:
        frame = sweep(event, agreement, start, end)
    if frame.empty:
        raise ValueError("the sweep has no trading day to draw")
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    bands = sweep_bands(frame)
    earliest = check({**event, "sale_date": first.isoformat()}, agreement).earliest_allowed_date

    fig, ax = _new_axes(ax, (11, 2.6))
    span = (last - first).days + 1
    starts = list(bands["start"])
    narrow = 0
    for i, band in enumerate(bands.itertuples(index=False)):
        right = starts[i + 1] if i + 1 < len(starts) else band.end + DAY
        x0 = mdates.date2num(band.start)
        width = mdates.date2num(right) - x0
        colour = OUTCOME_COLOURS.get(band.outcome, "#6e7781")
        ax.broken_barh(
            [(x0, width)],
            (0, 1),
            facecolors=colour,
            alpha=0.85 if band.outcome == "allow" else 0.75,
            edgecolor="white",
            linewidth=0.8,
        )
        label = "allowed" if band.outcome == "allow" else (band.deciding_rule or band.outcome)
        extra = len([r for r in band.failed_rules.split(";") if r]) - 1
        if extra > 0:
            label += f" +{extra}"
        if (right - band.start).days >= span * 0.12:
            ax.text(x0 + width / 2, 0.5, label, ha="center", va="center", color="white", fontsize=8)
        else:  # too narrow to hold its label: above the band, staggered
            ax.text(
                x0 + width / 2, 1.06 + 0.24 * (narrow % 2), label, ha="center", va="bottom", color=colour, fontsize=7.5
            )
            narrow += 1
    if earliest is not None and first <= earliest <= last + DAY:
        x = mdates.date2num(earliest)
        ax.plot([x, x], [-0.08, 1.0], color="#1f2328", linewidth=1.6, linestyle="--")
        ax.plot([x], [-0.08], marker="^", color="#1f2328", markersize=7)
        ax.text(x, -0.2, f"earliest allowed {earliest.isoformat()}", ha="center", va="top", fontsize=8)
    note = (
        f"earliest allowed date (check on {first}): {earliest.isoformat()}"
        if earliest is not None
        else f"earliest allowed date (check on {first}): none, time alone does not cure it"
    )
    quantity = event.get("quantity", "")
    quantity = f"{quantity:,}" if isinstance(quantity, int) else quantity
    who = f"{event.get('investor', '')}: {quantity} {event.get('security', '')} by {event.get('route', '')}"
    ax.set_title(f"{who}, sale dates {first} to {last}\n{note}", fontsize=10, loc="left")
    ax.set_ylim(-0.5, 1.6)
    ax.set_yticks([])
    ax.set_xlim(mdates.date2num(first), mdates.date2num(last + DAY))
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return fig


def plot_plan(steps: pd.DataFrame, *, ax=None, title: str | None = None):
    """Draw a sell-down plan (``running.plan.plan``): cumulative shares sold over time as a
    staircase, the position it runs up to as the ceiling, and each stretch between sales shaded
    and labelled with the rule that binds from its first sale on (what stops one share more).
    Returns the Figure."""
    import matplotlib.dates as mdates

    fig, ax = _new_axes(ax, (11, 3.6))
    position = steps.attrs.get("position")
    if steps.empty:
        ax.set_title(title or "no sale in this plan", fontsize=10, loc="left")
        return fig
    days = list(steps["sale_date"])
    last = steps.attrs.get("out_on") or days[-1]
    right = last + timedelta(days=max(7, (days[-1] - days[0]).days // 20))
    xs = [mdates.date2num(d) for d in days] + [mdates.date2num(right)]
    cumulative = list(steps["cumulative"])
    ax.step(xs, cumulative + cumulative[-1:], where="post", color="#0969da", linewidth=2, label="sold (cumulative)")
    if position:
        ax.axhline(position, color="#1f2328", linestyle="--", linewidth=1, label=f"position {position:,}")
    palette = ("#ddf4ff", "#fff8c5", "#ffebe9", "#dafbe1", "#fbefff")
    rules = list(dict.fromkeys(";".join(r) or "none" for r in steps["binding_rules"]))
    for i, row in enumerate(steps.itertuples(index=False)):
        rule = ";".join(row.binding_rules) or "none"
        x0, x1 = xs[i], xs[i + 1]
        ax.axvspan(x0, x1, color=palette[rules.index(rule) % len(palette)], alpha=0.9, zorder=0)
        if x1 - x0 >= (xs[-1] - xs[0]) * 0.08:
            ax.text((x0 + x1) / 2, (position or cumulative[-1]) * 0.05, rule, ha="center", fontsize=7.5)
    ax.set_ylim(0, (position or cumulative[-1]) * 1.08)
    ax.set_xlim(xs[0] - 1, xs[-1])
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    gone = steps.attrs.get("out_on")
    ax.set_title(
        title or (f"position gone on {gone}" if gone else f"{steps.attrs.get('remaining', 0):,} shares left unsold"),
        fontsize=10,
        loc="left",
    )
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
