"""The rulebook loader: the shipped rules load and cite; every kind of malformed rule file fails to
load with a RulebookError naming the file and the rule; Rule 144 parameters are time-versioned.

Each malformed case copies the real ``rules/`` directory to a temporary directory and introduces
exactly one defect in one named rule. Defects are made on the parsed YAML (find the rule by id,
change one thing, dump the file back), so the tests do not depend on the files' exact text;
``test_round_trip_without_defect_loads`` proves the dump alone introduces no error.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

import compliance
from compliance.rulebook.loader import RULES_DIR, RulebookError, load_rulebook
from compliance.rulebook.parameters import ParameterError

# -- helpers ----------------------------------------------------------------------------------


def copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def rule_of(doc: dict, rule_id: str) -> dict:
    for raw in doc["rules"]:
        if raw.get("id") == rule_id:
            return raw
    raise AssertionError(f"fixture changed: no rule {rule_id!r} in the shipped rule file")


def with_defect(tmp_path: Path, filename: str, rule_id: str, mutate) -> Path:
    """A copy of rules/ where ``mutate(rule_dict, file_doc)`` changed one rule of ``filename``."""
    rules = copy_rules(tmp_path)
    path = rules / filename
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(rule_of(doc, rule_id), doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return rules


def rename(node, key: str, old, new) -> int:
    """Replace every ``key: old`` with ``key: new`` inside ``node``; returns how many changed."""
    changed = 0
    if isinstance(node, dict):
        for k, v in list(node.items()):
            if k == key and v == old:
                node[k] = new
                changed += 1
            else:
                changed += rename(v, key, old, new)
    elif isinstance(node, list):
        for item in node:
            changed += rename(item, key, old, new)
    return changed


def rename_once(node, key: str, old, new) -> None:
    assert rename(node, key, old, new) >= 1, f"fixture changed: no {key}: {old!r} to rename"


def rename_operator(node, old: str, new: str) -> int:
    """Rename a comparison operator key (``gt`` -> ``new``) inside a condition tree."""
    changed = 0
    if isinstance(node, dict):
        if old in node and ("fact" in node or "param" in node):
            node[new] = node.pop(old)
            changed += 1
        for v in list(node.values()):
            changed += rename_operator(v, old, new)
    elif isinstance(node, list):
        for item in node:
            changed += rename_operator(item, old, new)
    return changed


def assert_names(exc: pytest.ExceptionInfo, filename: str, rule_id: str, *more: str) -> None:
    message = str(exc.value)
    assert filename in message, message
    assert rule_id in message, message
    for text in more:
        assert text in message, message


# -- the shipped rulebook ---------------------------------------------------------------------

REGULATION_FORM = re.compile(r"^(17 CFR \d+\.\d+(\([a-z0-9]+\))+|Securities Act Section \d+(\([a-z0-9]+\))*)$")


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook()


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement()


def test_shipped_rulebook_loads_with_rules_from_every_file(rulebook):
    families = {rule.family for rule in rulebook.rules}
    # One family per rule file (facts.yaml is the vocabulary, not a rule file).
    files = {p.name for p in RULES_DIR.glob("*.yaml")} - {"facts.yaml"}
    assert {rule.source for rule in rulebook.rules} == files
    assert len(families) == len(files)
    ids = [rule.id for rule in rulebook.rules]
    assert len(ids) == len(set(ids))
    assert all(rule.id.startswith(rule.family + ".") for rule in rulebook.rules)


def test_every_shipped_rule_has_a_citation_that_resolves(rulebook, agreement):
    for rule in rulebook.rules:
        assert rule.agreement_clauses or rule.regulation, rule.id
        for clause in rule.agreement_clauses:
            # The bundled agreement maps every clause key the rules cite to a section.
            assert re.match(r"^(Section|Schedule) ", agreement.citation(clause)), (rule.id, clause)
        for paragraph in rule.regulation:
            assert REGULATION_FORM.match(paragraph), (rule.id, paragraph)


def test_shipped_rules_cover_the_required_families(rulebook):
    # Rule 144, registration statement, legend removal/transfer, delivery, DTC, warrants, the event.
    families = {rule.family for rule in rulebook.rules}
    assert {"rule144", "registration", "transfer", "delivery", "dtc", "warrant", "event"} <= families


def test_round_trip_without_defect_loads(tmp_path, rulebook):
    # Control for every malformed case below: the YAML dump of an unchanged rule is still valid.
    rules = with_defect(tmp_path, "rule_144.yaml", "rule144.volume", lambda rule, doc: None)
    reloaded = load_rulebook(rules)
    assert [r.id for r in reloaded.rules] == [r.id for r in rulebook.rules]
    assert reloaded.rules == rulebook.rules


# -- malformed rule files ---------------------------------------------------------------------
# (case id, file, rule id, mutation, text the message must also contain)


def _drop(key):
    def mutate(rule, doc):
        assert key in rule, f"fixture changed: {rule['id']} has no {key!r}"
        del rule[key]

    return mutate


def _set(key, value):
    def mutate(rule, doc):
        rule[key] = value

    return mutate


def _set_cites(agreement=None, regulation=None):
    def mutate(rule, doc):
        rule["cites"] = {"agreement": agreement, "regulation": regulation}

    return mutate


def _template(which, old, new):
    def mutate(rule, doc):
        assert old in rule["message"][which], "fixture changed"
        rule["message"][which] = rule["message"][which].replace(old, new)

    return mutate


def _operator(old, new):
    def mutate(rule, doc):
        assert rename_operator(rule, old, new) >= 1, f"fixture changed: no {old!r} in {rule['id']}"

    return mutate


def _rename(key, old, new):
    return lambda rule, doc: rename_once(rule, key, old, new)


def _replace_fails_if(condition):
    return _set("fails_if", condition)


def _duplicate_id_of(other):
    return _set("id", other)


MALFORMED = [
    # unknown fact, as the subject and as the operand of a comparison
    ("unknown_fact", "event.yaml", "event.position", _rename("fact", "quantity", "quantitty"), "quantitty"),
    (
        "unknown_fact_operand",
        "event.yaml",
        "event.position",
        _rename("fact", "position_available", "position_availabel"),
        "position_availabel",
    ),
    (
        "unknown_fact_nested",
        "rule_144.yaml",
        "rule144.current_public_information",
        _rename("fact", "late_periodic_reports", "late_reports"),
        "late_reports",
    ),
    # unknown fact in a message template (fail and pass)
    (
        "unknown_fact_in_fail_message",
        "event.yaml",
        "event.position",
        _template("fail", "{quantity}", "{quantty}"),
        "quantty",
    ),
    (
        "unknown_fact_in_pass_message",
        "rule_144.yaml",
        "rule144.holding_period",
        _template("pass", "{acquisition_date}", "{acquired_on}"),
        "acquired_on",
    ),
    # message placeholders are plain {fact}: the batch renders a template as joined columns
    (
        "format_spec_in_message",
        "event.yaml",
        "event.position",
        _template("fail", "{quantity}", "{quantity:,}"),
        "{quantity:,}",
    ),
    (
        "conversion_in_message",
        "rule_144.yaml",
        "rule144.holding_period",
        _template("fail", "{acquisition_date}", "{acquisition_date!r}"),
        "{acquisition_date!r}",
    ),
    (
        "unclosed_brace_in_message",
        "rule_144.yaml",
        "rule144.holding_period",
        _template("pass", "{acquisition_date}", "{acquisition_date"),
        "acquisition_date",
    ),
    # bad operator
    ("bad_operator", "event.yaml", "event.position", _operator("gt", "greater"), "greater"),
    ("bad_operator_lte", "rule_144.yaml", "rule144.holding_period", _operator("lt", "lte"), "lte"),
    ("bad_operator_nested", "warrant.yaml", "warrant.exercise_window", _operator("gt", "after"), "after"),
    (
        "two_operators",
        "event.yaml",
        "event.acquired",
        _replace_fails_if({"fact": "sale_date", "lt": {"fact": "closing_date"}, "gt": {"fact": "closing_date"}}),
        "comparison",
    ),
    # missing citation
    ("no_cites_key", "event.yaml", "event.trading_day", _drop("cites"), "cites"),
    (
        "empty_citation_lists",
        "registration.yaml",
        "registration.effective",
        _set_cites(agreement=[], regulation=[]),
        "no citation",
    ),
    ("null_citations", "dtc.yaml", "dtc.dwac_request", _set_cites(), "no citation"),
    # bad regulation citation format
    (
        "regulation_rule_144_shorthand",
        "rule_144.yaml",
        "rule144.holding_period",
        _set_cites(agreement=["rule_144_acknowledgement"], regulation=["Rule 144(d)(1)"]),
        "Rule 144(d)(1)",
    ),
    (
        "regulation_dotted_cfr",
        "rule_144.yaml",
        "rule144.volume",
        _set_cites(agreement=["rule_144_acknowledgement"], regulation=["17 C.F.R. 230.144(e)(1)"]),
        "17 C.F.R. 230.144(e)(1)",
    ),
    (
        "regulation_space_before_paragraph",
        "rule_144.yaml",
        "rule144.form_144",
        _set_cites(agreement=["rule_144_acknowledgement"], regulation=["17 CFR 230.144 (h)(1)"]),
        "17 CFR 230.144 (h)(1)",
    ),
    (
        "regulation_upper_case_paragraph",
        "registration.yaml",
        "registration.prospectus_current",
        _set_cites(agreement=["delivery_date"], regulation=["Securities Act Section 10(A)(3)"]),
        "Securities Act Section 10(A)(3)",
    ),
    # type mismatches
    (
        "date_fact_vs_integer_constant",
        "rule_144.yaml",
        "rule144.holding_period",
        _replace_fails_if({"fact": "sale_date", "lt": 20030117}),
        "20030117",
    ),
    (
        "date_fact_vs_date_literal",
        "event.yaml",
        "event.acquired",
        _replace_fails_if({"fact": "sale_date", "lt": date(2002, 1, 16)}),
        "sale_date",
    ),
    (
        "date_fact_vs_integer_fact",
        "event.yaml",
        "event.acquired",
        _replace_fails_if({"fact": "sale_date", "lt": {"fact": "quantity"}}),
        "sale_date",
    ),
    ("enum_value_not_in_list", "dtc.yaml", "dtc.dwac_request", _rename("eq", "dwac", "dtc"), "dtc"),
    (
        "enum_in_list_value_not_in_list",
        "transfer.yaml",
        "transfer.opinion_of_counsel",
        _set("applies_when", {"fact": "route", "in": ["rule_144", "rule_145"]}),
        "rule_145",
    ),
    (
        "boolean_vs_text",
        "event.yaml",
        "event.trading_day",
        _replace_fails_if({"fact": "sale_date_is_trading_day", "eq": "no"}),
        "no",
    ),
    (
        "integer_vs_boolean",
        "event.yaml",
        "event.position",
        _replace_fails_if({"fact": "quantity", "gt": True}),
        "quantity",
    ),
    (
        "ordered_operator_on_enum",
        "event.yaml",
        "event.acquired",
        _set("applies_when", {"fact": "security", "lt": "warrant_shares"}),
        "security",
    ),
    (
        "regime_not_a_version",
        "rule_144.yaml",
        "rule144.manner_of_sale",
        _set("applies_when", {"fact": "regime", "eq": "2009-01-01"}),
        "2009-01-01",
    ),
    # unknown parameter, as operand and as subject
    (
        "unknown_parameter_operand",
        "rule_144.yaml",
        "rule144.manner_of_sale",
        _rename("param", "permitted_manners_of_sale", "permitted_manner_of_sale"),
        "permitted_manner_of_sale",
    ),
    (
        "unknown_parameter_subject",
        "rule_144.yaml",
        "rule144.current_public_information",
        _rename("param", "nonaffiliate_subject_to_current_information", "nonaffiliates_current_info"),
        "nonaffiliates_current_info",
    ),
    (
        "parameter_compared_with_fact",
        "rule_144.yaml",
        "rule144.form_144",
        _set("applies_when", {"param": "form_144_threshold_shares", "lt": {"fact": "volume_aggregate_3m"}}),
        "parameter",
    ),
    # unknown definition ref
    (
        "unknown_definition",
        "rule_144.yaml",
        "rule144.volume",
        _rename("ref", "subject_to_resale_limits", "subject_to_resale_limit"),
        "subject_to_resale_limit",
    ),
    # duplicate id (within the file: the second holder of the id is named)
    ("duplicate_id", "event.yaml", "event.acquired", _duplicate_id_of("event.trading_day"), "duplicate"),
    # id outside its family
    ("id_outside_family", "event.yaml", "event.acquired", _set("id", "rule144.acquired"), "'event.'"),
    ("id_family_prefix_without_dot", "warrant.yaml", "warrant.exercised", _set("id", "warrantexercised"), "warrant"),
    # unknown key (a misspelt one, and an invented one)
    (
        "unknown_key_misspelt_fails_if",
        "event.yaml",
        "event.acquired",
        lambda rule, doc: rule.__setitem__("fail_if", rule.pop("fails_if")),
        "fail_if",
    ),
    ("unknown_key_priority", "dtc.yaml", "dtc.fast_participation", _set("priority", 3), "priority"),
    # other structural defects the loader promises to catch
    ("missing_fails_if", "registration.yaml", "registration.within_period", _drop("fails_if"), "fails_if"),
    ("missing_title", "registration.yaml", "registration.no_stop_order", _drop("title"), "title"),
    (
        "missing_pass_message",
        "transfer.yaml",
        "transfer.company_advised",
        lambda rule, doc: rule["message"].pop("pass"),
        "message",
    ),
    ("bad_blocks", "dtc.yaml", "dtc.fast_participation", _set("blocks", ["dwac", "sael"]), "sael"),
    ("bad_against", "delivery.yaml", "delivery.on_time", _set("against", "issuer"), "issuer"),
    ("applies_when_misspelt_always", "event.yaml", "event.position", _set("applies_when", "Always"), "Always"),
]


# Where the defect is the id itself, the message names the id as written in the file.
NAMED_AS_WRITTEN = {
    "duplicate_id": "event.trading_day",
    "id_outside_family": "rule144.acquired",
    "id_family_prefix_without_dot": "warrantexercised",
}


@pytest.mark.parametrize(
    "case, filename, rule_id, mutate, text", [pytest.param(*case, id=case[0]) for case in MALFORMED]
)
def test_malformed_rule_file_names_file_and_rule(tmp_path, case, filename, rule_id, mutate, text):
    rules = with_defect(tmp_path, filename, rule_id, mutate)
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    assert_names(exc, filename, NAMED_AS_WRITTEN.get(case, rule_id), text)


def test_invalid_yaml_names_file_and_line(tmp_path):
    # A tab used as indentation inside rule event.position: not valid YAML. The loader cannot parse
    # the file, so it names the file and the line (1-based) where parsing stopped.
    rules = copy_rules(tmp_path)
    path = rules / "event.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if re.match(r"^\s*- id: event\.position\s*$", line))
    lines.insert(at + 1, "\ttitle: indented with a tab")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    message = str(exc.value)
    assert "event.yaml" in message and "YAML" in message
    assert f"line {at + 2}," in message, message  # the inserted line: index at+1, line number at+2


def test_file_without_rules_list_names_the_file(tmp_path):
    rules = copy_rules(tmp_path)
    (rules / "extra.yaml").write_text("family: extra\nrule:\n  - id: extra.x\n", encoding="utf-8")
    with pytest.raises(RulebookError, match=r"extra\.yaml"):
        load_rulebook(rules)


def test_duplicate_id_across_files_of_one_family(tmp_path):
    rules = copy_rules(tmp_path)
    doc = yaml.safe_load((rules / "event.yaml").read_text(encoding="utf-8"))
    copy = {"family": "event", "rules": [rule_of(doc, "event.position")]}
    (rules / "zz_event_more.yaml").write_text(yaml.safe_dump(copy, sort_keys=False), encoding="utf-8")
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    assert_names(exc, "zz_event_more.yaml", "event.position", "duplicate")


# -- hand-made malformed rule files, refused ----------------------------------------------------


def test_citation_given_as_a_string_not_a_list(tmp_path):
    rules = with_defect(tmp_path, "event.yaml", "event.trading_day", _set_cites(agreement="principal_trading_market"))
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    assert_names(exc, "event.yaml", "event.trading_day")


def test_null_message_template(tmp_path):
    rules = with_defect(
        tmp_path, "event.yaml", "event.trading_day", lambda rule, doc: rule["message"].__setitem__("pass", None)
    )
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    assert_names(exc, "event.yaml", "event.trading_day", "message")


def test_duplicate_key_in_a_rule(tmp_path):
    rules = copy_rules(tmp_path)
    path = rules / "event.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if re.match(r"^\s*- id: event\.position\s*$", line))
    indent = lines[at].index("-") + 2
    lines.insert(at + 1, " " * indent + "fails_if: {fact: quantity, gt: 0}")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    assert_names(exc, "event.yaml", "event.position")


# -- Rule 144 parameters ----------------------------------------------------------------------


def test_parameter_value_at_a_non_version_date_fails(tmp_path):
    rules = copy_rules(tmp_path)
    path = rules / "parameters" / "rule_144.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = doc["parameters"]["form_144_threshold_shares"]["values"]
    values[date(2008, 3, 1)] = values.pop(date(2008, 2, 15))
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(ParameterError) as exc:
        load_rulebook(rules)
    message = str(exc.value)
    assert "rule_144.yaml" in message and "form_144_threshold_shares" in message and "2008-03-01" in message


def test_parameter_versions_are_the_two_regimes(rulebook):
    params = rulebook.parameters
    assert params.versions == (date(1997, 4, 29), date(2008, 2, 15))
    assert params.version_on(date(2008, 2, 14)) == date(1997, 4, 29)
    assert params.version_on(date(2008, 2, 15)) == date(2008, 2, 15)
    with pytest.raises(ParameterError):
        params.version_on(date(1997, 4, 28))
    # Values straight from the Release texts (domain.md): 1997 f = brokers' transactions or market
    # makers; 2008 adds riskless principal transactions.
    assert params.value("permitted_manners_of_sale", date(2008, 2, 14)) == ["brokers_transaction", "market_maker"]
    assert params.value("permitted_manners_of_sale", date(2008, 2, 15)) == [
        "brokers_transaction",
        "market_maker",
        "riskless_principal",
    ]


def _affiliate_riskless(sale_date: str) -> dict:
    return {
        "notice_id": f"R-{sale_date}",
        "investor": "Papell Holdings Limited",
        "security": "shares",
        "quantity": 100000,
        "sale_date": sale_date,
        "route": "rule_144",
        "affiliate": True,
        "opinion_of_counsel": True,
        "company_advised": True,
        "manner_of_sale": "riskless_principal",
        "form_144_filed_on": sale_date,
        "sale_price": 1.0,
    }


def test_param_expansion_gives_different_outcomes_in_the_two_regimes(agreement):
    # Worked by hand. Papell, affiliate, 100,000 Shares acquired (paid) 2002-01-16, Rule 144:
    #  holding period 12 months -> met 2003-01-17 (passes either day); issuer current (the only late
    #  report, due 2003-11-14, is outside the 12-month look-back); volume limit = max(1% of 38,000,000
    #  = 380,000; 300,000 weekly) = 380,000 >= 100,000; Form 144 required (100,000 > 500 / 5,000) and
    #  filed on the sale date; opinion and advance notice given; Thu 2008-02-14 and Fri 2008-02-15 are
    #  trading days. Only 144(f) differs:
    #  2008-02-14: 1997 version, permitted = brokers_transaction, market_maker -> riskless_principal
    #              fails -> deny on rule144.manner_of_sale alone; the 2008 version (from 2008-02-15,
    #              a trading day) cures it -> earliest allowed 2008-02-15.
    #  2008-02-15: 2008 version adds riskless_principal -> allow.
    before = compliance.check(_affiliate_riskless("2008-02-14"), agreement)
    after = compliance.check(_affiliate_riskless("2008-02-15"), agreement)
    assert before.outcome == "deny"
    assert before.failed_rules == ["rule144.manner_of_sale"]
    assert before.finding("rule144.manner_of_sale").status == "fail"
    assert before.regime == "1997-04-29"
    assert before.earliest_allowed_date == date(2008, 2, 15)
    assert "17 CFR 230.144(f)" in before.citations
    assert after.outcome == "allow"
    assert after.failed_rules == []
    assert after.finding("rule144.manner_of_sale").status == "pass"
    assert after.regime == "2008-02-15"


def test_param_expansion_same_manner_same_outcome_in_both_regimes(agreement):
    # Control: brokers_transaction is permitted in both versions, so the same two days both allow.
    for day in ("2008-02-14", "2008-02-15"):
        event = {**_affiliate_riskless(day), "manner_of_sale": "brokers_transaction"}
        assert compliance.check(event, agreement).outcome == "allow", day


def test_stray_top_level_key_and_non_text_title_fail(tmp_path):
    rules = copy_rules(tmp_path)
    path = rules / "event.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nfamly: event\n", encoding="utf-8")
    with pytest.raises(RulebookError, match="event.yaml"):
        load_rulebook(rules)
    rules = copy_rules(tmp_path / "again")
    path = rules / "event.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "    title: The sale date is a trading day of the Principal Trading Market",
            "    title: [The sale date, is a trading day]",
        ),
        encoding="utf-8",
    )
    with pytest.raises(RulebookError) as exc:
        load_rulebook(rules)
    assert_names(exc, "event.yaml", "event.trading_day")
