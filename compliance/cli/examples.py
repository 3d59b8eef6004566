"""The examples the help shows, read from ``fixtures/cli_examples.txt`` (bundled data: they run on
the bundled fixtures, which code does not name)."""

from __future__ import annotations

from compliance.bundled import FIXTURES_DIR

EXAMPLES_FILE = FIXTURES_DIR / "cli_examples.txt"


def cli_examples() -> dict[str, str]:
    """Each command's example lines, by the command's words (``"log verify"``; ``"compliance"`` for
    the top level). Lines starting with ``#`` are comments; blank lines are dropped. A missing
    file gives no examples: the help is still printed, without them."""
    try:
        text = EXAMPLES_FILE.read_text(encoding="utf-8")
    except OSError:
        return {}
    examples: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("[") and line.rstrip().endswith("]"):
            lines = examples.setdefault(line.strip()[1:-1], [])
        elif line.strip() and not line.startswith("#"):
            lines.append(line.rstrip())
    return {command: "\n".join(lines) for command, lines in examples.items()}
