"""The package's import contracts ([tool.importlinter] in pyproject.toml): the pipeline's layers
(cli, views, running, decision_log, decision, facts, rulebook, contract, deal) import only
downward, and no package's modules import each other in a cycle, function-level imports included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(command), "--no-cache", "--no-logo", *args], cwd=ROOT, capture_output=True, text=True)


def test_the_import_contracts_are_kept():
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_an_upward_import_breaks_both_contracts(tmp_path):
    # The same contracts over a copy of the package in which the deal imports the running code:
    # a lower layer importing a higher one, and a cycle (running imports the deal).
    package = tmp_path / "compliance"
    subprocess.run(["cp", "-r", str(ROOT / "compliance"), str(package)], check=True)
    with open(package / "deal" / "periods.py", "a") as periods:
        periods.write("\nfrom compliance.running import check  # noqa: E402,F401\n")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    command = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(command), "--no-cache", "--no-logo", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "compliance.deal.periods -> compliance.running.check" in done.stdout
    assert "0 kept, 2 broken" in done.stdout
