"""Horizontal stacked bar charts as inline SVG text, for pages that must open with no network and
no plotting library.

A chart is a list of bars, each a label and its counts by category; categories are stacked in the
order of ``colours``. Every label and count is escaped; a label longer than ``LABEL_CHARS`` is cut
and ends in an ellipsis (the full label stays in the bar's tooltip).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

LABEL_CHARS = 32
LABEL_WIDTH = 230  # px, the column of labels left of the bars
BAR_WIDTH = 270  # px, the longest bar
COUNT_WIDTH = 60  # px, the total right of each bar
ROW_HEIGHT = 22  # px per bar
LEGEND_HEIGHT = 24  # px
FONT = "font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 12px"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "\u2026"


def stacked_bars_svg(
    bars: Sequence[tuple[str, Mapping[str, int]]], colours: Mapping[str, str], title: str, element_id: str
) -> str:
    """An ``<svg>`` of one bar per (label, counts), the longest bar ``BAR_WIDTH`` pixels, each
    segment titled "label: count category"; a legend of the categories on top. Categories missing
    from a bar's counts count 0; a chart of no bars says so in a line of text."""
    width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH
    height = LEGEND_HEIGHT + ROW_HEIGHT * max(len(bars), 1)
    parts = [
        f'<svg id="{_e(element_id)}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="{FONT}"><title>{_e(title)}</title>'
    ]
    x = LABEL_WIDTH
    for category, colour in colours.items():
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{_e(colour)}"/>'
            f'<text x="{x + 16}" y="16">{_e(category)}</text>'
        )
        x += 24 + 7 * len(category)
    longest = max((sum(counts.values()) for _, counts in bars), default=0)
    scale = BAR_WIDTH / longest if longest else 0.0
    if not bars:
        parts.append(f'<text x="0" y="{LEGEND_HEIGHT + 15}">none</text>')
    for row, (label, counts) in enumerate(bars):
        y = LEGEND_HEIGHT + row * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{_e(_label(label))}</text>')
        x = float(LABEL_WIDTH)
        for category, colour in colours.items():
            n = counts.get(category, 0)
            if not n:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{n * scale:.1f}" height="{ROW_HEIGHT - 6}" '
                f'fill="{_e(colour)}"><title>{_e(label)}: {n:,} {_e(category)}</title></rect>'
            )
            x += n * scale
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(counts.values()):,}</text>')
    parts.append("</svg>")
    return "".join(parts)
