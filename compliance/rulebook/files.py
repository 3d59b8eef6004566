"""The files a rulebook is made of, and their fingerprint, found without parsing them (cheap enough
for ``compliance --version``)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

FACTS_FILE = "facts.yaml"
RULE_144_PARAMETERS = Path("parameters") / "rule_144.yaml"


def rule_files(rules_dir: Path | str) -> list[Path]:
    """The rule files of ``rules_dir``: every ``*.yaml`` but the facts file, sorted by name."""
    return sorted(p for p in Path(rules_dir).glob("*.yaml") if p.name != FACTS_FILE)


def rulebook_files(rules_dir: Path | str) -> tuple[Path, ...]:
    """Every file the rulebook of ``rules_dir`` is read from: the facts, the Rule 144 parameters,
    then the rule files."""
    rules_dir = Path(rules_dir)
    return (rules_dir / FACTS_FILE, rules_dir / RULE_144_PARAMETERS, *rule_files(rules_dir))


def fingerprint_files(files: Iterable[Path], root: Path) -> str:
    """sha256 over each file's path relative to ``root`` and its bytes, sorted by that path."""
    digest = hashlib.sha256()
    for rel, path in sorted((Path(p).resolve().relative_to(root).as_posix(), Path(p)) for p in files):
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def rulebook_fingerprint(rules_dir: Path | str) -> str:
    """The sha256 fingerprint of the rulebook's files (the one every decision-log batch records)."""
    files = rulebook_files(rules_dir)
    root = Path(os.path.commonpath([str(Path(f).resolve()) for f in files]))
    return fingerprint_files(files, root)
