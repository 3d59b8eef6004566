#!/usr/bin/env python
"""Render the README's timeline image: the resale windows of one investor of the bundled deal.

    python scripts/render_timeline.py                      # writes docs/timeline.png
    python scripts/render_timeline.py --investor "Folkinburg Investments" --notices \
        fixtures/focus_enhancements/sale_notices.csv -o /tmp/folkinburg.png

The picture is drawn by ``compliance.views.plots.plot_timeline`` from the agreement file (nothing is
drawn by hand); rerun this script after changing the agreement or the plot and commit the PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
try:
    import compliance  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from compliance.deal.agreement import load_agreement  # noqa: E402
from compliance.views.plots import plot_timeline  # noqa: E402

DEFAULT_INVESTOR = "Papell Holdings Limited"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreement", help="agreement directory (default: the bundled one)")
    parser.add_argument("--investor", default=DEFAULT_INVESTOR)
    parser.add_argument("--notices", help="a CSV of sale notices to place on the timeline")
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "timeline.png"))
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args(argv)

    agreement = load_agreement(args.agreement)
    notices = pd.read_csv(args.notices, dtype=str, keep_default_na=False) if args.notices else None
    fig = plot_timeline(agreement, args.investor, notices)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    # no "Software" stamp: the file changes only when the picture does
    fig.savefig(out, dpi=args.dpi, metadata={"Software": None})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
