"""Properties of the durable_rules adapter (compliance/rulebook/durable.py), pinned against
durable_rules' traps: not thread-safe, at most 1,024 live sessions per ruleset, a missing fact
makes a rule match nothing, comparisons are loosely typed.
"""

from __future__ import annotations

import operator
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import numpy as np
import pytest
from sample_events import ALLOWED

import compliance
from compliance.decision.findings import compose
from compliance.rulebook import durable
from compliance.rulebook.durable import DurableRulesEngine, engine_for
from compliance.rulebook.loader import load_rulebook

INVESTORS = [
    "Stone Street Limited Partnership",
    "Folkinburg Investments",
    "Boat Basin Investments LLC",
    "Papell Holdings Limited",
]
ROUTES = ["registration_statement", "rule_144", "other_exemption"]
MANNERS = ["brokers_transaction", "market_maker", "riskless_principal", "other", None]

# Worked by hand in tests/test_input.py (VALID): allowed.
VALID = ALLOWED  # allowed: worked by hand in tests/sample_events.py


def varied_events(seed: int, n: int) -> list[dict]:
    """Seeded events over 2002-2009: every investor, security, route, flags; some bad input."""
    rng = random.Random(seed)
    first, span = date(2002, 1, 1), (date(2009, 12, 31) - date(2002, 1, 1)).days
    events = []
    for i in range(n):
        day = first + timedelta(days=rng.randrange(span))
        event = {
            "notice_id": f"S{seed}-{i}",
            "investor": rng.choice(INVESTORS),
            "security": rng.choice(["shares", "shares", "warrant_shares"]),
            "quantity": rng.choice([1, 500, 4999, 5001, 100000, 380001, 2000000]),
            "sale_date": day.isoformat(),
            "route": rng.choice(ROUTES),
            "affiliate": rng.random() < 0.4,
            "opinion_of_counsel": rng.random() < 0.8,
            "company_advised": rng.random() < 0.8,
            "delivery": rng.choice(["certificate", "dwac"]),
        }
        manner = rng.choice(MANNERS)
        if manner:
            event["manner_of_sale"] = manner
        if rng.random() < 0.7:
            event["form_144_filed_on"] = (day + timedelta(days=rng.choice([-3, 0, 2]))).isoformat()
        if rng.random() < 0.6:
            event["sale_price"] = rng.choice([0.5, 1.1296, 2.75])
        if rng.random() < 0.3:
            event["prior_144_sales_3m"] = rng.choice([0, 1000, 300000])
        if event["security"] == "warrant_shares" and rng.random() < 0.85:
            exercised = date(2002, 1, 10) + timedelta(days=rng.randrange(1600))
            event["warrant_exercised_on"] = exercised.isoformat()
            event["warrant_exercise"] = rng.choice(["cash", "cashless"])
        if rng.random() < 0.4:
            received = day + timedelta(days=rng.randrange(0, 5))
            event["notice_received_at"] = received.isoformat() + "T16:30:00"
            event["certificate_received_at"] = (received - timedelta(days=1)).isoformat()
            if rng.random() < 0.6:
                event["delivered_at"] = (received + timedelta(days=rng.randrange(0, 12))).isoformat()
        if rng.random() < 0.05:
            event["quantity"] = -1  # a bad row now and then: errors must be stable too
        events.append(event)
    return events


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement()


# -- (a) 8 threads at once give the answers of one thread --------------------------------------
THREADS, PER_THREAD, ROUNDS = 8, 40, 2


def test_threads_give_the_same_answers_as_one_thread(agreement):
    batches = [varied_events(seed, PER_THREAD) for seed in range(THREADS)]
    sequential = [[compliance.check(e, agreement).to_row() for e in batch] for batch in batches]
    outcomes = {row["outcome"] for batch in sequential for row in batch}
    assert {"allow", "deny", "error"} <= outcomes  # the events are varied enough to mean something

    start = threading.Barrier(THREADS)
    stop = threading.Event()

    def run(batch):
        start.wait()  # all threads post at once
        return [compliance.check(e, agreement).to_row() for e in batch]

    def keep_busy(python: bool):  # the processor kept busy: Python holding the GIL, numpy not
        while not stop.is_set():
            if python:
                sum(i * i for i in range(20_000))
            else:
                np.sort(np.random.default_rng(0).random(200_000))

    busy = [threading.Thread(target=keep_busy, args=(k % 2 == 0,)) for k in range(4)]
    for thread in busy:
        thread.start()
    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            rounds = [list(pool.map(run, batches)) for _ in range(ROUNDS)]
    finally:
        stop.set()
        for thread in busy:
            thread.join()
    for concurrent in rounds:
        for i, (got, expected) in enumerate(zip(concurrent, sequential, strict=True)):
            for row, want in zip(got, expected, strict=True):
                assert row == want, (i, row["notice_id"])


def test_an_evaluation_runs_its_actions_in_the_calling_thread():
    # No background dispatcher: building and evaluating start no thread, so no action can run
    # after the evaluation has returned.
    before = threading.active_count()
    engine = DurableRulesEngine(engine_for().rulebook)
    engine.evaluate(VALID_FACTS)
    assert threading.active_count() == before


def test_an_action_the_engine_drops_is_an_error_never_a_pass(monkeypatch):
    # The engine hands out the first action, then none: the rules it never reached are not read
    # as rules that did not match.
    engine = DurableRulesEngine(engine_for().rulebook)
    monkeypatch.setattr(durable, "durable_rules_engine", _DroppingAfterFirst(durable.durable_rules_engine))
    with pytest.raises(durable.EngineIncomplete, match="ran no action for"):
        engine.evaluate(VALID_FACTS)


class _DroppingAfterFirst:
    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def complete_and_start_action(self, handle, state):
        self._module.complete_and_start_action(handle, state)
        while self._module.complete_and_start_action(handle, state):
            pass
        return None


# -- the facts of VALID, worked by hand --------------------------------------------------------
# Written out (not derived by compliance/facts/) so that these adapter tests need only the
# vocabulary of rules/facts.yaml. Dates: Closing/full payment 2002-01-16; sale Mon 2003-02-03.
VALID_FACTS = {
    "sale_date": date(2003, 2, 3),
    "route": "rule_144",
    "security": "shares",
    "quantity": 100000,
    "affiliate": False,
    "delivery": "certificate",
    "opinion_of_counsel": True,
    "company_advised": True,
    "manner_of_sale": "brokers_transaction",
    "regime": "1997-04-29",  # latest version on or before 2003-02-03
    "sale_date_is_trading_day": True,
    "closing_date": date(2002, 1, 16),
    "position_held": 1128718,
    "position_available": 1128718,  # Schedule A, nothing sold before
    "warrant_exercise_recorded": False,
    "warrant_issued_on": date(2002, 1, 16),
    "warrant_expires_on": date(2006, 1, 16),
    "warrant_cashless_permitted": True,
    "acquisition_date": date(2002, 1, 16),
    "holding_period_months": 12,
    "holding_period_satisfied_on": date(2003, 1, 17),  # day after the 1-year anniversary
    "nonaffiliate_free_resale_on": date(2004, 1, 17),  # day after the 2-year anniversary
    "issuer_reporting_qualifies_on": date(1993, 4, 1),  # 1993-01-01 + 90 days
    "late_periodic_reports": 0,
    "late_periodic_report_list": "none",
    "shares_outstanding": 38000000,
    "one_percent_of_outstanding": 380000,
    "volume_reference_date": date(2003, 2, 3),
    "average_weekly_volume": 300000,
    "volume_limit": 380000,  # max(380,000; 300,000)
    "volume_aggregate_3m": 100000,
    "amount_aggregate_3m_dollars": 100000.0,  # x $1.00
    "form_144_filed": True,
    "form_144_filed_on": date(2003, 2, 3),
    "form_144_lapses_on": date(2003, 5, 4),  # good through 2003-02-03 + 3 months = 05-03
    "registration_covers_security": True,
    "registration_effective_on": date(2002, 3, 15),
    "registration_suspended": False,
    "registration_stop_order": False,
    "registration_period_ends_on": date(2004, 1, 16),
    "prospectus_update_required_after": date(2002, 12, 15),  # effective + 9 months
    "prospectus_information_as_of": date(2001, 12, 31),  # the amendment of 2003-05-12 is later
    "prospectus_oldest_permitted_information": date(2001, 10, 3),  # sale date - 16 months
    "delivery_business_days": 3,
    "business_day_convention": "settlement",
    "delivered": False,
    "delivery_date_known": False,
    "delivery_date_owed": False,  # not a sale under the registration statement
    "dwac_delivery_on": date(2003, 2, 3),  # no Delivery Date: the sale date
    "transfer_agent_in_fast": True,
}
# By hand from the rule files: a rule_144 sale of Shares, certificate delivery, nothing delivered.
VALID_STATUSES = {
    "rule144.holding_period": "pass",
    "rule144.current_public_information": "pass",
    "rule144.volume": "pass",
    "rule144.manner_of_sale": "pass",
    "rule144.form_144": "pass",
    "rule144.form_144_lapsed": "pass",
    "transfer.opinion_of_counsel": "pass",
    "transfer.company_advised": "pass",
    "event.trading_day": "pass",
    "event.acquired": "pass",
    "event.position": "pass",
    "dtc.fast_participation": "pass",
    "dtc.dwac_request": "not_applicable",
    "delivery.on_time": "not_applicable",
    "warrant.exercised": "not_applicable",
    "warrant.exercise_window": "not_applicable",
}


def test_vocabulary_of_the_hand_facts():
    rulebook = engine_for().rulebook
    assert set(VALID_FACTS) <= set(rulebook.facts)
    rule_ids = {r.id for r in rulebook.rules}
    assert set(VALID_STATUSES) <= rule_ids


def test_complete_facts_decide_every_rule(agreement):
    engine = engine_for()
    statuses = engine.evaluate(VALID_FACTS)
    assert {r: statuses[r] for r in VALID_STATUSES} == VALID_STATUSES
    assert "undetermined" not in statuses.values()
    assert compose(engine.rulebook, statuses, VALID_FACTS, agreement, "N1").outcome == "allow"


# -- (b) sessions are deleted: far more than 1,024 evaluations on one ruleset -----------------
_SESSION_CAP_CONTROL = """
from durable.engine import Host
host = Host()
host.set_rulesets({"session_cap_control": {"r": {"all": [{"m": {"$gt": {"x": 0}}}], "run": lambda c: None}}})
for sid in range(1, 1025):
    host.assert_fact("session_cap_control", {"sid": str(sid), "x": 1})
try:
    host.assert_fact("session_cap_control", {"sid": "1025", "x": 1})
except MemoryError:
    print("MemoryError at session 1025")
"""


def test_the_session_cap_is_real():
    # Control: without delete_state, the 1,025th live session of a ruleset raises MemoryError.
    # Run in a child process: a host left with 1,024 live sessions has crashed (SIGSEGV in a
    # durable_rules timer thread) later tests of the same process.
    done = subprocess.run([sys.executable, "-c", _SESSION_CAP_CONTROL], capture_output=True, text=True, timeout=120)
    assert "MemoryError at session 1025" in done.stdout, (done.returncode, done.stdout, done.stderr)


def test_3000_sequential_evaluations_do_not_hit_the_session_cap():
    engine = DurableRulesEngine(load_rulebook())  # fresh: its sessions start at 1
    first = engine.evaluate(VALID_FACTS)
    assert {r: first[r] for r in VALID_STATUSES} == VALID_STATUSES
    for _ in range(2999):
        assert engine.evaluate(VALID_FACTS) == first


# -- (c) a missing fact: the rule is undetermined and the outcome deny ------------------------
@pytest.mark.parametrize(
    "missing, rules",
    [
        # fails_if: sale_date < holding_period_satisfied_on -> unknown.
        ("holding_period_satisfied_on", ["rule144.holding_period"]),
        # fails_if: sale_date < issuer_reporting_qualifies_on (false) or late_periodic_reports > 0
        # (unknown) -> unknown.
        ("late_periodic_reports", ["rule144.current_public_information"]),
        # fails_if: volume_aggregate_3m > volume_limit -> unknown.
        # (durable_rules matched `volume_aggregate_3m <= $m.volume_limit` without volume_limit until
        # engine.py guarded field-to-field comparisons)
        ("volume_limit", ["rule144.volume"]),
        ("volume_aggregate_3m", ["rule144.volume"]),
        # fails_if: sale_date_is_trading_day == false -> unknown.
        ("sale_date_is_trading_day", ["event.trading_day"]),
    ],
)
def test_missing_fact_makes_rule_undetermined_and_denies(agreement, missing, rules):
    engine = engine_for()
    facts = {k: v for k, v in VALID_FACTS.items() if k != missing}
    statuses = engine.evaluate(facts)
    for rule in rules:
        assert statuses[rule] == "undetermined", rule
    others = {r: s for r, s in statuses.items() if r not in rules}
    assert "undetermined" not in others.values()
    decision = compose(engine.rulebook, statuses, facts, agreement, "N1")
    assert decision.outcome == "deny"
    assert set(rules) <= set(decision.failed_rules)
    assert missing in decision.finding(rules[0]).message


def test_unknown_or_true_is_true():
    # Three-valued logic, not "any missing fact fails": without `affiliate`, the 144(e) family still
    # applies because its non-affiliate branch holds on its own (1997 version, sale 2003-02-03 before
    # the 144(k) free-resale day 2004-01-17): unknown OR true = true, so the rules are decided (pass).
    engine = engine_for()
    statuses = engine.evaluate({k: v for k, v in VALID_FACTS.items() if k != "affiliate"})
    for rule in ("rule144.current_public_information", "rule144.volume", "rule144.manner_of_sale", "rule144.form_144"):
        assert statuses[rule] == "pass", rule


def test_none_is_absent_not_a_value():
    engine = engine_for()
    statuses = engine.evaluate({**VALID_FACTS, "holding_period_satisfied_on": None})
    assert statuses["rule144.holding_period"] == "undetermined"


# -- the adapter against a plain-Python three-valued evaluation of the same conditions --------
_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def kleene(cond: tuple, facts: dict):
    """True, False, or None (unknown) for a normalised rulebook condition."""
    kind = cond[0]
    if kind in ("true", "false"):
        return kind == "true"
    if kind in ("all", "any"):
        values = [kleene(c, facts) for c in cond[1]]
        decisive, other = (False, True) if kind == "all" else (True, False)
        if decisive in values:
            return decisive
        return other if all(v is other for v in values) else None
    _, fact, op, (operand_kind, operand) = cond
    left = facts.get(fact)
    right = facts.get(operand) if operand_kind == "fact" else operand
    if left is None or right is None:
        return None
    return _COMPARE[op](left, right)


def reference_status(rule, facts: dict) -> str:
    # compliance/engine.py: fail = applies and fails; pass = not fails; not applicable = not
    # applies (wins over pass); none of them = undetermined.
    applies, fails = kleene(rule.applies_when, facts), kleene(rule.fails_if, facts)
    if applies is False:
        return "not_applicable"
    if applies is True and fails is True:
        return "fail"
    if fails is False:
        return "pass"
    return "undetermined"


_DATES = [date(2002, 1, 16), date(2003, 1, 17), date(2003, 2, 3), date(2004, 1, 17), date(2008, 2, 15)]
_INTEGERS = [0, 1, 500, 5000, 100000, 380000]


def synthetic_facts(rulebook, rng: random.Random, p_missing: float) -> dict:
    """Typed values for every fact of the vocabulary, from small pools (so that equal values and
    boundaries occur), each left out with probability ``p_missing``."""
    facts = {}
    for name, spec in rulebook.facts.items():
        if rng.random() < p_missing:
            continue
        kind = spec["type"]
        if kind == "date":
            facts[name] = rng.choice(_DATES)
        elif kind == "integer":
            facts[name] = rng.choice(_INTEGERS)
        elif kind == "number":
            facts[name] = rng.choice([0.0, 500.5, 10000.0, 60000.0])
        elif kind == "boolean":
            facts[name] = rng.random() < 0.5
        elif kind == "enum":
            facts[name] = rng.choice(spec["values"])
        elif kind == "regime":
            facts[name] = rng.choice([v.isoformat() for v in rulebook.parameters.versions])
        else:
            facts[name] = "text"
    return facts


def _mismatches(p_missing: float, seed: int, n: int) -> list:
    engine = engine_for()
    rng = random.Random(seed)
    found = []
    for _ in range(n):
        facts = synthetic_facts(engine.rulebook, rng, p_missing)
        statuses = engine.evaluate(facts)
        for rule in engine.rulebook.rules:
            want = reference_status(rule, facts)
            if statuses[rule.id] != want:
                found.append((rule.id, want, statuses[rule.id], {f: facts.get(f) for f in rule.condition_facts}))
    return found


def test_adapter_matches_reference_on_complete_facts():
    # 300 random complete fact sets: durable_rules decides every rule as the plain evaluation does.
    assert _mismatches(0.0, seed=11, n=300) == []


def test_adapter_matches_reference_with_missing_facts():
    # 300 random fact sets with about 15% of the facts missing.
    assert _mismatches(0.15, seed=5, n=300) == []


def test_missing_compared_fact_never_passes():
    engine = engine_for()
    statuses = engine.evaluate({"sale_date": date(2004, 1, 17), "prospectus_update_required_after": date(2008, 2, 15)})
    # Neither route nor holding_period_satisfied_on is known: the holding period cannot be decided.
    assert statuses["rule144.holding_period"] == "undetermined"


@pytest.mark.parametrize("amount", [1e16, 1e-05, 1e20])
def test_any_float_fact_can_be_evaluated(amount):
    engine = DurableRulesEngine(engine_for().rulebook)  # its own host: the failure leaves state behind
    statuses = engine.evaluate({**VALID_FACTS, "amount_aggregate_3m_dollars": amount})
    # The amount only matters to 144(h)'s applicability, already met by 100,000 > 500 shares.
    assert statuses["rule144.form_144"] == "pass"


def test_float_facts_in_plain_notation_are_evaluated():
    # Control for the case above: the same comparisons with 2.5e16 and 1.5e-05 work.
    engine = engine_for()
    for amount in (2.5e16, 1.5e-05, 123.0):
        assert engine.evaluate({**VALID_FACTS, "amount_aggregate_3m_dollars": amount})["rule144.form_144"] == "pass"


# -- (d) loose typing cannot leak: input is normalised before the engine ----------------------
def test_string_numbers_reach_the_engine_as_text_when_not_normalised():
    # The trap itself (stack-notes): durable_rules compares a string with a number as text, so
    # '200000' > 1128718 holds ('2' > '1') and the position rule fails although 200,000 < 1,128,718.
    engine = engine_for()
    statuses = engine.evaluate({**VALID_FACTS, "quantity": "200000"})
    assert statuses["event.position"] == "fail"
    assert engine.evaluate({**VALID_FACTS, "quantity": 200000})["event.position"] == "pass"


@pytest.mark.parametrize(
    "changes, as_given",
    [
        # 200,000 Shares: within the 1,128,718 held and the 380,000 volume limit -> allow either way.
        ({"quantity": 200000}, {"quantity": "200000"}),
        ({"quantity": 200000}, {"quantity": " 200000 "}),
        # 2,000,000 exceeds the position (and the volume limit) -> deny either way.
        ({"quantity": 2000000}, {"quantity": "2000000"}),
        ({"affiliate": False}, {"affiliate": "false"}),
        ({"prior_144_sales_3m": 90000}, {"prior_144_sales_3m": "90000"}),
        ({"sale_price": 1.0}, {"sale_price": "1.00"}),
    ],
)
def test_loose_input_types_decide_like_typed_input(agreement, changes, as_given):
    typed = compliance.check({**VALID, **changes}, agreement).to_row()
    loose = compliance.check({**VALID, **as_given}, agreement).to_row()
    assert loose == typed


def test_quantity_as_text_is_judged_numerically(agreement):
    # By hand: 200,000 <= 1,128,718 held and <= 380,000 (1% of 38,000,000) -> allow. Compared as text
    # it would fail event.position (see the trap above).
    decision = compliance.check({**VALID, "quantity": "200000"}, agreement)
    assert decision.outcome == "allow", decision.reasons
    assert decision.finding("event.position").status == "pass"
