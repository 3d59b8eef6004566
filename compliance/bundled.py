"""Where the bundled rule files and agreement fixtures are, in a checkout and in an installed wheel.

The repository keeps them at its top, beside the package (``rules/``, ``fixtures/``). A wheel
carries the same files, under the same relative names, inside the package as
``compliance/_bundled/rules/`` and ``compliance/_bundled/fixtures/`` (setup.py's ``build_py``
copies them there), so an installed tool needs no checkout and the decision log's fingerprints of
the rulebook and of an agreement directory are the same either way.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_INSTALLED = _PACKAGE / "_bundled"
ROOT = _INSTALLED if _INSTALLED.is_dir() else _PACKAGE.parent

RULES_DIR = ROOT / "rules"
FIXTURES_DIR = ROOT / "fixtures"


def bundled_agreements() -> list[str]:
    """The names of the bundled agreement directories (those under ``fixtures/`` holding an
    ``agreement.yaml``), sorted."""
    return sorted(p.parent.name for p in FIXTURES_DIR.glob("*/agreement.yaml"))
