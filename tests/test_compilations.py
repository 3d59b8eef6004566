"""The rulebook is written once and compiled three ways: to durable_rules (check), to numpy
(batch review) and to scalar functions (the ordered scan and check's date search). On the facts
of a few hundred synthetic notices, on their own dates and moved a year later, all three give every
rule the same status: the rulebook's own rules, and a new rule family with a new parameter loaded
from a folder of its own."""

from __future__ import annotations

import shutil

import numpy as np

import compliance
from compliance.contract.synthetic import synthetic_notices
from compliance.facts.derive import derive_facts, row
from compliance.rulebook import vectorized as vz
from compliance.rulebook.durable import engine_for
from compliance.rulebook.loader import RULES_DIR
from compliance.running.check import scalar_rulebook
from compliance.running.review import _parse, reference_review


def statuses_seen(engine, agreement, notices) -> set[tuple[str, str]]:
    """Judge ``notices`` on their own dates and a year later with the three compilations of
    ``engine``'s rulebook, assert every rule gets the same status from each, and return the
    (rule, status) pairs seen."""
    rulebook = engine.rulebook
    events, _, _, _ = _parse(notices, agreement, rulebook)
    seen = set()
    for events_on in (events, events.on(events.sale_date + np.timedelta64(365, "D"))):
        facts, _ = derive_facts(events_on, agreement, rulebook.parameters)
        codes = vz.statuses(rulebook, facts, len(events_on))
        scalar = scalar_rulebook(rulebook)
        for i in range(len(events_on)):
            values = row(facts, i)
            durable = engine.evaluate(values)
            for j, rule in enumerate(rulebook.rules):
                name = vz.STATUS_NAMES[codes[i, j]]
                assert durable[rule.id] == name, (rule.id, values)
                assert vz.STATUS_NAMES[scalar[j](values)] == name, (rule.id, values)
                seen.add((rule.id, name))
    return seen


def test_durable_numpy_and_scalar_statuses_agree():
    engine = engine_for()
    rulebook = engine.rulebook
    seen = statuses_seen(engine, compliance.load_agreement(), synthetic_notices(300, seed=3))
    # every rule is seen passing or not applicable, and most are seen failing
    assert {r.id for r in rulebook.rules} <= {rule for rule, _ in seen}
    assert sum(1 for _, status in seen if status == "fail") >= 12


def test_a_missing_date_leaves_the_holding_period_undetermined_in_every_compilation():
    # Warrant Shares said to be cash-exercised with no exercise date have no holding-period
    # start, so whether 144(d)(1) is met cannot be known.
    # durable_rules matched "sale_date >= holding_period_satisfied_on" inside an $and without
    # the second field; the compiled guards must keep it undetermined.
    agreement = compliance.load_agreement()
    event = {
        "notice_id": "X",
        "investor": "Folkinburg Investments",
        "security": "warrant_shares",
        "quantity": 1,
        "sale_date": "2002-08-28",
        "route": "rule_144",
        "affiliate": False,
        "opinion_of_counsel": True,
        "company_advised": True,
        "warrant_exercise": "cash",
        "manner_of_sale": "brokers_transaction",
        "form_144_filed_on": "2002-08-21",
        "sale_price": 2.0,
    }
    decision = compliance.check(event, agreement)
    assert decision.finding("rule144.holding_period").status == "undetermined"
    assert decision.outcome == "deny"
    import pandas as pd

    batch = compliance.review(pd.DataFrame([event]), agreement)
    assert "rule144.holding_period" in batch.loc[0, "failed_rules"].split(";")


# A throw-away rule family, written as docs/adding-a-rule.md says: one family file with one rule
# reading facts of facts.yaml and a new Rule 144 parameter with a value per version.
SAMPLE_FAMILY = """
family: sample
rules:
  - id: sample.block_size
    title: An affiliate's Rule 144 sale stays within a block size
    applies_when:
      all:
        - {fact: route, eq: rule_144}
        - {fact: affiliate, eq: true}
    fails_if:
      any:
        - {fact: quantity, gt: {param: sample_block_shares}}
        - {fact: form_144_filed_on, gt: {fact: sale_date}}
    cites:
      regulation: ["17 CFR 230.144(e)(1)"]
    message:
      fail: >-
        {quantity} shares exceed the block size of the {regime} version, or Form 144 is filed late
        ({form_144_filed_on}).
      pass: "{quantity} shares are within the block size."
"""
SAMPLE_PARAMETER = """
  sample_block_shares:
    description: The largest block an affiliate may sell at once (a made-up limit for a test)
    unit: shares
    reference: 17 CFR 230.144(e)(1)
    values:
      1997-04-29: {value: 2000, reference: "made up for a test"}
      2008-02-15: {value: 3000, reference: "made up for a test"}
"""


def test_a_new_rule_family_in_a_folder_is_judged_alike_by_the_three_compilations(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    (rules / "sample.yaml").write_text(SAMPLE_FAMILY)
    parameters = rules / "parameters" / "rule_144.yaml"
    parameters.write_text(parameters.read_text() + SAMPLE_PARAMETER)
    engine = engine_for(rules)
    assert "sample.block_size" in {r.id for r in engine.rulebook.rules}
    agreement = compliance.load_agreement()
    notices = synthetic_notices(300, seed=3)
    seen = statuses_seen(engine, agreement, notices)
    # the spread: quantities on both sides of each version's block size, Form 144 late and absent
    assert {("sample.block_size", s) for s in ("fail", "pass", "not_applicable", "undetermined")} <= seen

    # check() and review() both take the folder, and agree row by row
    few = notices.head(120)
    fast = compliance.review(few, agreement, rules_dir=rules, workers=1).astype(str)
    slow = reference_review(few, agreement, rules_dir=rules).astype(str)
    assert fast.equals(slow)
    assert fast["failed_rules"].str.contains("sample.block_size").any()
    event = {k: v for k, v in few.iloc[0].to_dict().items() if v != ""}
    assert compliance.check(event, agreement, rules_dir=rules).finding("sample.block_size")
