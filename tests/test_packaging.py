"""The package installs anywhere: bundled agreements by name, and a built wheel that carries the rule
files and agreement fixtures inside the ``compliance`` package and works from an unrelated folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pytest
from sample_events import ALLOWED

import compliance
from compliance.bundled import FIXTURES_DIR, RULES_DIR, bundled_agreements
from compliance.cli import main
from compliance.decision_log import agreement_fingerprint, rulebook_fingerprint

ROOT = Path(__file__).resolve().parent.parent

ALLOWED = {**ALLOWED, "notice_id": "C1"}


# --- bundled agreements by name -------------------------------------------------------------------


def test_a_checkout_reads_the_top_level_folders():
    assert RULES_DIR == ROOT / "rules"
    assert FIXTURES_DIR == ROOT / "fixtures"
    assert bundled_agreements() == ["focus_enhancements", "harbor_2012"]


@pytest.mark.parametrize("name", ["focus_enhancements", "harbor_2012"])
def test_a_bundled_agreement_by_name(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder of that name here
    by_name = compliance.load_agreement(name)
    assert by_name.directory == FIXTURES_DIR / name
    assert by_name == compliance.load_agreement(FIXTURES_DIR / name)


def test_a_folder_of_that_name_here_wins_over_the_bundled_one(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES_DIR / "harbor_2012", tmp_path / "harbor_2012")
    monkeypatch.chdir(tmp_path)
    assert compliance.load_agreement("harbor_2012").directory == Path("harbor_2012")


def test_an_unknown_name_lists_the_bundled_agreements(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        compliance.AgreementError,
        match=r"'no_such_deal': not a directory, and not one of the bundled agreements "
        r"\(focus_enhancements, harbor_2012\)",
    ):
        compliance.load_agreement("no_such_deal")
    assert main(["rules", "--agreement", "no_such_deal"]) == 2


def test_a_missing_path_still_names_the_missing_file(tmp_path):
    with pytest.raises(compliance.AgreementError, match="no agreement file"):
        compliance.load_agreement(tmp_path / "harbor_2012")


# --- the wheel, installed into a fresh virtualenv -------------------------------------------------


def _run(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip wheel`` of this checkout, installed with its dependencies into a fresh virtualenv:
    (the wheel's path, the virtualenv's bin folder, an unrelated working folder)."""
    base = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"), str(ROOT)], cwd=base
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "dist").glob("resale_compliance-*.whl")
    venv.create(base / "venv", with_pip=True)
    bin_dir = base / "venv" / "bin"
    pip = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=base)
    assert pip.returncode == 0, pip.stderr
    work = base / "elsewhere"
    work.mkdir()
    return wheel, bin_dir, work


@pytest.mark.slow
def test_the_wheel_carries_the_data_inside_the_package(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"compliance", wheel.name.split("-")[0] + "-0.1.0.dist-info"}
    for folder in ("rules", "fixtures"):
        expected = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
        }
        assert expected
        assert {
            n.removeprefix("compliance/_bundled/") for n in names if n.startswith(f"compliance/_bundled/{folder}/")
        } == expected
    if find_spec("compliance.decision_log._loops") is not None:  # this machine builds the C extension ...
        assert any(
            n.startswith("compliance/decision_log/_loops.") and n.endswith(".so") for n in names
        )  # so must the wheel


@pytest.mark.slow
def test_the_installed_commands_work_from_an_unrelated_folder(installed, tmp_path, capsys):
    _, bin_dir, work = installed
    compliance_cmd = str(bin_dir / "compliance")

    rules = _run([compliance_cmd, "rules"], cwd=work)
    assert (rules.returncode, rules.stderr) == (0, "")
    assert main(["rules"]) == 0
    assert rules.stdout == capsys.readouterr().out  # the same rulebook as the checkout's

    event = json.dumps(ALLOWED)
    checked = _run([compliance_cmd, "check", event], cwd=work)
    assert (checked.returncode, checked.stderr) == (0, "")
    # acquired Wed 2002-01-16 -> one year met Fri 2003-01-17, before the sale on Mon 2003-02-03
    assert json.loads(checked.stdout)["outcome"] == "allow"
    assert main(["check", event]) == 0
    assert checked.stdout == capsys.readouterr().out

    shutil.copy(FIXTURES_DIR / "focus_enhancements" / "sale_notices.csv", work / "notices.csv")
    reviewed = _run([compliance_cmd, "review", "notices.csv", "-o", "decisions.csv"], cwd=work)
    assert reviewed.returncode == 1, reviewed.stderr  # the sample holds denied and error rows
    assert main(["review", str(work / "notices.csv"), "-o", str(tmp_path / "decisions.csv")]) == 1
    assert (work / "decisions.csv").read_text() == (tmp_path / "decisions.csv").read_text()

    loaded = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import compliance; a = compliance.load_agreement('harbor_2012'); print(a.title)",
        ],
        cwd=work,
    )
    assert (loaded.returncode, loaded.stderr) == (0, "")
    assert loaded.stdout.strip() == compliance.load_agreement(FIXTURES_DIR / "harbor_2012").title


@pytest.mark.slow
def test_the_decision_log_fingerprints_are_the_same_installed(installed):
    _, bin_dir, work = installed
    script = (
        "import json, compliance.bundled as b\n"
        "from compliance.decision_log import agreement_fingerprint, rulebook_fingerprint\n"
        "print(json.dumps([str(b.ROOT), rulebook_fingerprint(),\n"
        "                  *(agreement_fingerprint(b.FIXTURES_DIR / n) for n in b.bundled_agreements())]))"
    )
    out = _run([str(bin_dir / "python"), "-c", script], cwd=work)
    assert out.returncode == 0, out.stderr
    root, *fingerprints = json.loads(out.stdout)
    assert Path(root).parts[-2:] == ("compliance", "_bundled")  # read from the installed package
    assert fingerprints == [
        rulebook_fingerprint(),
        *(agreement_fingerprint(FIXTURES_DIR / n) for n in bundled_agreements()),
    ]
