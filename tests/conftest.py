"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import compliance

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def edited_agreement(tmp_path):
    """A copy of a bundled agreement directory with one piece of ``agreement.yaml`` replaced:
    ``edited_agreement(old, new, fixture="focus_enhancements")`` loads it."""

    def edit(old: str, new: str, fixture: str = "focus_enhancements") -> compliance.Agreement:
        directory = tmp_path / fixture
        shutil.copytree(FIXTURES / fixture, directory, dirs_exist_ok=True)
        path = directory / "agreement.yaml"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
        return compliance.load_agreement(directory)

    return edit
