"""The rulebook is written once and compiled three ways: to durable_rules (check), to numpy
(batch review) and to scalar functions (the ordered scan and check's date search). On the facts
of a few hundred synthetic notices, on their own dates and moved a year later, all three give every
rule the same status."""
from __future__ import annotations

import numpy as np

import compliance
from compliance import vectorized as vz
from compliance.check import engine_for, scalar_rulebook
from compliance.facts import derive_facts, row
from compliance.review import _parse
from compliance.synthetic import synthetic_notices


def test_durable_numpy_and_scalar_statuses_agree():
    agreement = compliance.load_agreement()
    engine = engine_for()
    rulebook = engine.rulebook
    events, _, _, _ = _parse(synthetic_notices(300, seed=3), agreement, rulebook)
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
    # every rule is seen passing or not applicable, and most are seen failing
    assert {r.id for r in rulebook.rules} <= {rule for rule, _ in seen}
    assert sum(1 for _, status in seen if status == "fail") >= 12


def test_a_missing_date_leaves_the_holding_period_undetermined_in_every_compilation():
    # Warrant Shares said to be cash-exercised with no exercise date have no holding-period
    # start, so whether 144(d)(1) is met cannot be known.
    # durable_rules matched "sale_date >= holding_period_satisfied_on" inside an $and without
    # the second field; the compiled guards must keep it undetermined.
    agreement = compliance.load_agreement()
    event = {"notice_id": "X", "investor": "Folkinburg Investments", "security": "warrant_shares",
             "quantity": 1, "sale_date": "2002-08-28", "route": "rule_144", "affiliate": False,
             "opinion_of_counsel": True, "company_advised": True, "warrant_exercise": "cash",
             "manner_of_sale": "brokers_transaction", "form_144_filed_on": "2002-08-21", "sale_price": 2.0}
    decision = compliance.check(event, agreement)
    assert decision.finding("rule144.holding_period").status == "undetermined"
    assert decision.outcome == "deny"
    import pandas as pd
    batch = compliance.review(pd.DataFrame([event]), agreement)
    assert "rule144.holding_period" in batch.loc[0, "failed_rules"].split(";")
