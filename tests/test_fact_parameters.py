"""Which facts depend on which Rule 144 parameters is declared once, in rules/facts.yaml (a fact's
``parameters``); compliance/facts/derive.py looks up only those parameters, and the earliest-date search
expects only those facts to change with a new version of Rule 144. A declaration left out is
caught here: every parameter the facts read is changed in a copy of the rules, and every fact
that moves must have declared it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

import compliance
from compliance.contract.synthetic import synthetic_notices
from compliance.facts.derive import derive_facts, parameter_dependent, parameters_in_force
from compliance.rulebook.loader import RULES_DIR, RulebookError, load_rulebook
from compliance.running.review import _parse


def _same(a, b) -> np.ndarray:
    if hasattr(a, "codes"):  # Coded text: compare the values, not the codes
        a, b = (np.asarray(list(c.distinct) + [None], dtype=object)[c.codes] for c in (a, b))
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fM":
        return (a == b) | (np.isnan(a) & np.isnan(b) if a.dtype.kind == "f" else np.isnat(a) & np.isnat(b))
    return a == b


def test_the_parameters_the_facts_read_are_derived_from_the_declarations():
    params = load_rulebook().parameters
    assert set(parameters_in_force(params)) >= {
        "current_information_min_reporting_days",
        "holding_period_months_reporting_issuer",
        "holding_period_months_non_reporting_issuer",
        "nonaffiliate_free_resale_months",
        "current_information_lookback_months",
        "volume_percent_of_outstanding",
        "volume_average_weeks",
        "aggregation_months",
    }
    assert {"holding_period_satisfied_on", "volume_limit", "volume_aggregate_3m"} <= set(parameter_dependent(params))
    assert "quantity" not in parameter_dependent(params)


def test_every_fact_that_moves_with_a_parameter_declares_it(tmp_path):
    agreement = compliance.load_agreement()
    rulebook = load_rulebook()
    events, _, _, _ = _parse(synthetic_notices(400, seed=5, bad_fraction=0), agreement, rulebook)
    before, _ = derive_facts(events, agreement, rulebook.parameters)
    moved_any = set()
    for param, declared in rulebook.parameters.facts_from.items():
        rules = tmp_path / param
        shutil.copytree(RULES_DIR, rules)
        path = rules / "parameters" / "rule_144.yaml"
        doc = yaml.safe_load(path.read_text())
        for entry in doc["parameters"][param]["values"].values():
            entry["value"] += 1
        path.write_text(yaml.safe_dump(doc))
        changed = load_rulebook(rules)
        after, _ = derive_facts(events, agreement, changed.parameters)
        moved = {name for name in before if not _same(before[name], after[name]).all()}
        assert moved <= set(declared), (param, moved - set(declared))
        moved_any |= moved
    assert {"holding_period_satisfied_on", "volume_window_starts_after", "average_weekly_volume"} <= moved_any


def test_a_fact_naming_an_unknown_parameter_does_not_load(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    facts = rules / "facts.yaml"
    facts.write_text(facts.read_text() + "lapse_day: {type: date, parameters: [form_144_lapse_months]}\n")
    with pytest.raises(RulebookError, match="facts.yaml: fact 'lapse_day': unknown parameter 'form_144_lapse_months'"):
        load_rulebook(rules)
