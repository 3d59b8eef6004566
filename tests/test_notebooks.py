"""The notebooks run top to bottom from a clean kernel, and are committed without outputs.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (the kernel inherits this
process's environment: PYTHONPATH gets the repository, MPLBACKEND is Agg). A failing cell fails the
test with the cell's traceback; every cell has a timeout and each notebook a time budget (they take
about 10 s each). Deselect with ``pytest -m "not notebook"`` for a fast loop.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds, per cell
BUDGET = 60  # seconds, per notebook


def test_the_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == ["01_focus_enhancements_tour.ipynb", "02_batch_review.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {i} has outputs"


def run(path: Path, monkeypatch) -> tuple[nbformat.NotebookNode, float]:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell failed\n{exc}", pytrace=False)
    return nb, time.monotonic() - start


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


@pytest.mark.notebook
def test_tour_notebook_runs_and_answers(monkeypatch):
    nb, elapsed = run(NOTEBOOK_DIR / "01_focus_enhancements_tour.ipynb", monkeypatch)
    assert elapsed < BUDGET, f"took {elapsed:.1f} s"
    text = outputs_text(nb)
    # Rule 144: first sale 2003-01-17, 380,000 shares; the Columbus Day Delivery Date
    assert "earliest_allowed_date=2003-01-17" in text
    assert "'volume_limit': 380000" in text
    assert "settlement    2002-10-17" in text and "exchange      2002-10-16" in text
    # the card quotes Section 1(b)(ii); the figures were drawn
    assert "Within three (3) business days" in text
    assert sum("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", [])) >= 4


@pytest.mark.notebook
def test_batch_review_notebook_runs_and_summarises(monkeypatch):
    nb, elapsed = run(NOTEBOOK_DIR / "02_batch_review.ipynb", monkeypatch)
    assert elapsed < BUDGET, f"took {elapsed:.1f} s"
    text = outputs_text(nb)
    assert "rule144.holding_period" in text and "examples" in text  # denials by rule
    assert "Papell Holdings Limited" in text and "deny" in text  # denials by investor
    assert sum("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", [])) >= 2
