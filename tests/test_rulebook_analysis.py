"""Static analysis of the rulebook (``engine.analysis`` and ``adjudicate
rules check``): exact over the whole input space, and one broken rulebook per
failure mode, each problem line asserted exactly.

Broken rulebooks are the shipped rules/rulebook.yaml with one small text
edit, so that each case shows what it breaks.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
from pathlib import Path

import pytest
import yaml

from conftest import (
    CATEGORIES,
    RULES,
    TABLES,
    PRE_PACKS,
    add_rule as _add_rule,
    assert_clean_exit,
    delete_rule as _delete_rule,
    edit_rule as _edit_rule,
    line_number,
    run_cli,
    write_rulebook,
)
from engine.rulebook.analysis import analyse, domains
from engine.rulebook.compiled import engine_for
from engine.rulebook.model import FACT_FIELDS
from engine.rulebook.model import load_rulebook

# The vocabularies, in their order of seriousness (docs/rulebook.md).
SEVERITIES = ("minor", "moderate", "serious", "severe")
DISPOSITIONS = ("confirmed", "pending", "not_convicted", "sealed", "disputed", "diversion", "deferred")
RELEVANCES = ("none", "indirect", "direct")
RISK_LEVELS = ("low", "medium", "high", "critical")
LOOKBACKS = ("inside", "outside")
# On equal precedence the handling decides, then the rule id (docs/rulebook.md).
TIE_ORDER = ("excluded", "escalate", "review", "note", "not_relevant")
F = "rules/rulebook.yaml"


def add_rule(rule_yaml: str, text: str = PRE_PACKS) -> str:
    # A test rule written with its Chinese gets Chinese legal bases too, as
    # the shipped rules have, so that no translation warning is reported.
    if "    zh:\n" in rule_yaml and "      legal_basis:" not in rule_yaml and "\n    legal_basis:\n" in rule_yaml:
        english = rule_yaml.split("\n    legal_basis:\n", 1)[1]
        items = [line for line in english.splitlines() if line.startswith("      - ")]
        chinese = "      legal_basis:\n" + "".join("        - 测试规则\n" for _ in items)
        rule_yaml = rule_yaml.replace("\n    legal_basis:\n", "\n" + chinese + "    legal_basis:\n", 1)
    return _add_rule(rule_yaml, text)


def delete_rule(rule_id: str, text: str = PRE_PACKS) -> str:
    return _delete_rule(rule_id, text)


def edit_rule(rule_id: str, old: str, new: str, text: str = PRE_PACKS) -> str:
    return _edit_rule(rule_id, old, new, text)
# The shipped rulebook without its packs of New York, Illinois and the PRC
# (conftest.PRE_PACKS), on which these tests count: its rules on the facts
# of a finding (EXCL-JUVENILE, EXCL-CIVIL-PLAINTIFF, REV-CONDUCT-ESTABLISHED)
# make the analysis tell apart party role plaintiff or not, juvenile yes or
# no and conduct established yes or no: the six risk fields' combinations,
# 8 times.
FACT_VALUES = 2 * 2 * 2
# Its rules for California make it tell apart a job in US-CA (or inside it)
# from one elsewhere: the space, twice.
LOCATIONS = 2
# Its rule on marijuana convictions two years old (EXCL-CA-MARIJUANA-TWO-YEARS)
# makes it tell apart a record under 2 years old from one 2 years old or
# more: the space, twice again.
AGES = 2
COMBINATIONS = len(CATEGORIES) * 4 * 7 * 3 * 4 * 2 * FACT_VALUES * LOCATIONS * AGES
# A record that is neither juvenile nor a suit brought as plaintiff is judged
# by the rules on the risk fields, whether or not the employer established
# the conduct: each of their combinations counts twice in a problem.
NEITHER_JUVENILE_NOR_PLAINTIFF = 2
# The confirmed minor or moderate marijuana records 2 years old or more for
# a job in US-CA, which EXCL-CA-MARIJUANA-TWO-YEARS excludes before any
# general rule, leave each problem below: 2 severities (or 2 risk levels),
# each counted twice as above.
CA_MARIJUANA = 2 * NEITHER_JUVENILE_NOR_PLAINTIFF


def _rule_line(text: str, rule_id: str) -> int:
    return line_number(text, f"  - id: {rule_id}")


# --- the shipped rulebook ------------------------------------------------------------


# The packs: REV-NY-CERTIFICATE tells a certificate of relief apart (twice
# the facts), and the rules on US-NY, US-IL and CN 3 more work locations.
SHIPPED_COMBINATIONS = COMBINATIONS * 2 * 5 // 2


def test_the_shipped_rulebook_has_no_problem_in_1720320_combinations():
    rulebook = load_rulebook(RULES)
    analysis = analyse(rulebook)
    assert len(analysis.cells) == SHIPPED_COMBINATIONS == 1720320
    assert analysis.errors == []
    assert analysis.warnings == []
    # Every combination has a deciding rule: no finding is left to the default.
    assert all(judgement.rule is not None for judgement in analysis.cells.values())


def test_the_analysis_judges_each_rule_only_on_the_fields_it_names():
    """The work, not the clock: every fact value judged with every rule
    would post all 1,720,320 combinations to durable-rules; each rule is
    judged on the combinations of the fields it names, the others at their
    first value (``judge_space``), so the work is at most the sum of those."""
    shipped = load_rulebook(RULES)
    # A rulebook of its own, so that no other test's judging is counted.
    rulebook = dataclasses.replace(shipped, sha256=shipped.sha256 + "/counted")
    analysis = analyse(rulebook)
    assert len(analysis.cells) == SHIPPED_COMBINATIONS
    judged = engine_for(rulebook).judged
    space = domains(rulebook)
    assert judged <= sum(math.prod(len(space[name]) for name in rule.when) for rule in rulebook.rules)
    # A rule naming many fields (REV-IL-CONVICTION names eight) costs the
    # product of their values; all together still a small share of the space.
    assert judged * 20 <= SHIPPED_COMBINATIONS, judged


# --- the analysis is exact -------------------------------------------------------------
# A plain-Python reading of each rule's `when`, straight from the YAML, says
# which rules match each of the 80,640 signatures; the cells the analysis
# judged (through the durable-rules compilation) must agree everywhere.

ORDERED = {"severity": SEVERITIES, "relevance": RELEVANCES, "risk_level": RISK_LEVELS}


def _allowed_words(field: str, condition):
    if field == "years_since":
        # Whole years: a number, or a range of numbers.
        if isinstance(condition, dict):
            return range(condition.get("at_least", 0), condition.get("at_most", 100) + 1)
        return range(condition, condition + 1)
    if isinstance(condition, dict):
        order = ORDERED[field]
        low = order.index(condition.get("at_least", order[0]))
        high = order.index(condition.get("at_most", order[-1]))
        return set(order[low : high + 1])
    return set(condition) if isinstance(condition, list) else {condition}


def _plain_rules(text: str) -> list[dict]:
    document = yaml.safe_load(text)
    return [
        {
            "id": rule["id"],
            "handling": rule["handling"],
            "precedence": rule["precedence"],
            "when": {field: _allowed_words(field, value) for field, value in rule["when"].items()},
        }
        for rule in document["rules"]
    ]


def _word(value) -> str:
    return value.value if isinstance(value, enum.Enum) else value


ODD_CONDITIONS = """
  - id: ODD-LISTS
    title: A test rule with lists that are not ranges and conditions that test nothing
    when:
      category: [offense_drug, drug_test, offense_sexual]
      severity: [minor, serious]
      relevance: [none, direct]
      risk_level: {at_least: low}
      lookback: [inside, outside]
    handling: escalate
    precedence: 5
    rationale: >-
      A rule written only to check that every form of condition compiles to a
      durable-rules condition that matches exactly the same findings.
    legal_basis:
      - none, a test rule

  - id: ODD-MIDDLE
    title: A test rule on the middle risk levels
    when:
      risk_level: [medium, high]
      severity: {at_most: moderate}
      disposition: [sealed, pending, confirmed]
    handling: note
    precedence: 7
    rationale: >-
      A rule written only to check that every form of condition compiles to a
      durable-rules condition that matches exactly the same findings.
    legal_basis:
      - none, a test rule

  - id: ODD-ENDS
    title: A test rule on the lowest and highest risk levels
    when:
      risk_level: [critical, low]
      relevance: {at_least: indirect}
      severity: {at_least: moderate, at_most: serious}
    handling: review
    precedence: 8
    rationale: >-
      A rule written only to check that every form of condition compiles to a
      durable-rules condition that matches exactly the same findings.
    legal_basis:
      - none, a test rule
"""

# Rules on the age of the record, with thresholds 2, 3, 4, 7 and 10: as
# text, '10' would compare below '2'.
AGE_CONDITIONS = """
  - id: AGE-TEN
    title: A test rule on records ten years old or more
    when:
      years_since: {at_least: 10}
      severity: {at_least: serious}
    handling: note
    precedence: 3
    rationale: >-
      A rule written only to check that every form of condition compiles to a
      durable-rules condition that matches exactly the same findings.
    legal_basis:
      - none, a test rule

  - id: AGE-THREE
    title: A test rule on records exactly three years old
    when:
      years_since: 3
      category: [credit_record, drug_test]
    handling: review
    precedence: 4
    rationale: >-
      A rule written only to check that every form of condition compiles to a
      durable-rules condition that matches exactly the same findings.
    legal_basis:
      - none, a test rule

  - id: AGE-TWO-TO-SIX
    title: A test rule on records two to six years old
    when:
      years_since: {at_least: 2, at_most: 6}
      relevance: direct
    handling: escalate
    precedence: 4
    rationale: >-
      A rule written only to check that every form of condition compiles to a
      durable-rules condition that matches exactly the same findings.
    legal_basis:
      - none, a test rule
"""

EXACTNESS_RULEBOOKS = {
    "shipped": PRE_PACKS,
    # Ages as numbers: at_least, at_most, both, and exactly.
    "with ages": add_rule(AGE_CONDITIONS),
    # Uncovered combinations must come out as uncovered, not as a guess.
    "with a gap": delete_rule("NOTE-INDIRECT-MINOR"),
    # Lists out of order, non-contiguous ranks, and conditions that every value meets.
    "with odd conditions": add_rule(ODD_CONDITIONS),
}


@pytest.mark.parametrize("text", list(EXACTNESS_RULEBOOKS.values()), ids=list(EXACTNESS_RULEBOOKS))
def test_every_judged_cell_is_what_the_rules_say(tmp_path, text):
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", text))
    cells = analyse(rulebook).cells
    categories = list(yaml.safe_load(text)["categories"])

    space = set(itertools.product(categories, SEVERITIES, DISPOSITIONS, RELEVANCES, RISK_LEVELS, LOOKBACKS))
    # The facts (docs/findings.md) take the values the rules tell apart, and
    # every one of them is judged with every combination of the risk fields.
    # The ages are those at which a condition starts or stops holding.
    ages = {signature.years_since for signature in cells}
    assert ages == ({0, 2, 3, 4, 7, 10} if "AGE-TEN" in text else {0, 2})
    facts = {tuple(_word(value) for value in signature[6:]) for signature in cells}
    assert len(facts) == FACT_VALUES * LOCATIONS * len(ages)
    assert {tuple(_word(value) for value in signature) for signature in cells} == {
        risk + fact for risk in space for fact in facts
    }
    assert len(cells) == len(space) * FACT_VALUES * LOCATIONS * len(ages)

    rules = _plain_rules(text)
    fields = ("category", "severity", "disposition", "relevance", "risk_level", "lookback",
              "party_role", "juvenile", "relief", "conduct_established", "work_location", "years_since")
    mismatches = []
    for signature, judgement in cells.items():
        facts = dict(zip(fields, (_word(value) for value in signature)))
        matching = sorted(
            (rule for rule in rules if all(facts[f] in words for f, words in rule["when"].items())),
            # The most specific first: a rule on the job's location (here
            # no location lies inside another) before a general one.
            key=lambda rule: (
                "work_location" not in rule["when"], rule["precedence"], TIE_ORDER.index(rule["handling"]), rule["id"],
            ),
        )
        expected = (
            tuple(rule["id"] for rule in matching),
            matching[0]["id"] if matching else "NO-RULE",
            matching[0]["handling"] if matching else "review",
        )
        got = (judgement.matched, judgement.rule_id, judgement.handling.value)
        if got != expected:
            mismatches.append((facts, expected, got))
    assert mismatches == []


# --- one broken rulebook per failure mode --------------------------------------------


def _check(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), text)
    return run_cli(["rules", "check", "--rules", "rules", "--tables", TABLES])


def _broken_rulebooks():
    """(id, rulebook text, expected problem lines on stderr, errors, warnings)."""
    # A gap: without NOTE-INDIRECT-MINOR, minor and moderate indirect records
    # inside the lookback that are neither juvenile nor a suit brought as
    # plaintiff have no rule (15 categories x 2 severities x 3 dispositions x
    # 4 risk levels = 360, conduct established or not), and read as one group.
    # In US-CA, a confirmed marijuana record 2 years old or more is covered
    # (EXCL-CA-MARIJUANA-TWO-YEARS): the gap reads as four groups.
    text = delete_rule("NOTE-INDIRECT-MINOR")
    gap = (
        "severity minor or moderate, disposition confirmed, pending or deferred, relevance indirect, any risk "
        "level, lookback inside, party role none, defendant or other, juvenile no"
    )
    then = "Such findings go to review with the reason 'no rule covers this finding'; add a rule that decides them."
    others = [c for c in CATEGORIES if c != "offense_marijuana"]
    yield "gap", text, [
        f"{F}: error: gap: no rule covers {len(CATEGORIES) * 2 * 3 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS} "
        f"combinations: any category, {gap}, years since the record under 2. {then}",
        f"{F}: error: gap: no rule covers {len(CATEGORIES) * 2 * 3 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF} "
        f"combinations: any category, {gap}, work location elsewhere, years since the record 2 or more. {then}",
        f"{F}: error: gap: no rule covers {len(CATEGORIES) * 2 * 2 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF} "
        f"combinations: any category, {gap.replace('confirmed, pending or deferred', 'pending or deferred')}, "
        f"work location US-CA, years since the record 2 or more. {then}",
        f"{F}: error: gap: no rule covers {len(others) * 2 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF} "
        f"combinations: category {', '.join(others[:-1])} or {others[-1]}, "
        f"{gap.replace('confirmed, pending or deferred', 'confirmed')}, work location US-CA, years since the "
        f"record 2 or more. {then}",
    ], 4, 0

    # A conflict: NOTE-DIRECT-MINOR reaching high risk overlaps
    # REV-DIRECT-MINOR-HIGH-RISK at the same precedence (15 x 2 x 3 = 90).
    text = edit_rule("NOTE-DIRECT-MINOR", "risk_level: {at_most: medium}", "risk_level: {at_most: high}")
    note, rev = _rule_line(text, "NOTE-DIRECT-MINOR"), _rule_line(text, "REV-DIRECT-MINOR-HIGH-RISK")
    yield "conflict", text, [
        f"{F}:{note}: error: conflict: rules NOTE-DIRECT-MINOR (line {note}, note) and "
        f"REV-DIRECT-MINOR-HIGH-RISK (line {rev}, review) both match "
        f"{len(CATEGORIES) * 2 * 3 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES - CA_MARIJUANA} combinations "
        "at the same precedence 50, for example category civil_judgment, severity minor, disposition "
        "confirmed, relevance direct, risk level high, lookback inside. Give one of them a lower "
        "precedence, or narrow its conditions."
    ], 1, 0

    # A masked rule: every record it matches is sealed, and EXCL-SEALED
    # (precedence 10) always decides first, or the exclusions on the facts
    # (precedence 5) for a juvenile record or a suit brought as plaintiff.
    text = add_rule("""
  - id: ESC-SEALED-SEVERE
    title: A severe sealed record would be escalated
    when:
      disposition: sealed
      severity: severe
    handling: escalate
    precedence: 40
    rationale: >-
      Written to be shadowed: every record this rule matches is sealed, and
      the exclusion of sealed records always decides before it.
    zh:
      title: 特别严重的已封存记录提交法务评估
      rationale: 为测试被遮蔽而写：本规则匹配的记录均已封存，排除已封存记录的规则总是先于本规则作出决定。
    legal_basis:
      - none, a test rule
""")
    yield "masked rule", text, [
        f"{F}:{_rule_line(text, 'ESC-SEALED-SEVERE')}: error: masked rule: rule ESC-SEALED-SEVERE never "
        "decides a finding: every combination it matches is decided by a rule of lower precedence "
        "(EXCL-CIVIL-PLAINTIFF, EXCL-JUVENILE, EXCL-SEALED). Remove it, or change its conditions."
    ], 1, 0

    # Monotonicity: a serious direct record only noted, while a serious
    # indirect one (120 = 15 x 2 severities x 4 risk levels) and a moderate
    # direct one at high or critical risk (30 = 15 x 2) go to review.
    text = edit_rule("ESC-DIRECT-SERIOUS", "    handling: escalate\n", "    handling: note\n")
    esc = _rule_line(text, "ESC-DIRECT-SERIOUS")
    yield "monotonicity", text, [
        f"{F}:{esc}: error: monotonicity: raising relevance lowers the handling in "
        f"{len(CATEGORIES) * 2 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES} "
        "combinations: for example category civil_judgment, severity serious, disposition confirmed, "
        "relevance indirect, risk level critical, lookback inside is review (REV-INDIRECT-SERIOUS), but "
        "with relevance direct it is note (ESC-DIRECT-SERIOUS).",
        f"{F}:{esc}: error: monotonicity: raising severity lowers the handling in "
        f"{len(CATEGORIES) * 2 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES - CA_MARIJUANA} "
        "combinations: for example category civil_judgment, severity moderate, disposition confirmed, "
        "relevance direct, risk level critical, lookback inside is review (REV-DIRECT-MINOR-HIGH-RISK), but "
        "with severity serious it is note (ESC-DIRECT-SERIOUS).",
    ], 2, 0

    # Monotonicity on the risk level: a confirmed minor job-related record
    # escalated at low risk but only noted at medium risk (15 x 2 = 30).
    text = add_rule("""
  - id: ESC-DIRECT-MINOR-LOW-RISK
    title: A minor job-related record is escalated for a low-risk position
    when:
      disposition: confirmed
      relevance: direct
      severity: {at_most: moderate}
      risk_level: low
      lookback: inside
    handling: escalate
    precedence: 45
    rationale: >-
      Written to be inconsistent: a low-risk position would treat a minor
      record more harshly than a medium-risk position does.
    zh:
      title: 对低风险职位，与职位相关的轻微记录提交法务评估
      rationale: 为测试不一致而写：低风险职位对轻微记录的处理比中等风险职位更严厉。
    legal_basis:
      - none, a test rule
""")
    yield "monotonicity of risk level", text, [
        f"{F}:{_rule_line(text, 'NOTE-DIRECT-MINOR')}: error: monotonicity: raising risk level lowers the "
        f"handling in {len(CATEGORIES) * 2 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES - CA_MARIJUANA} "
        "combinations: for example "
        "category civil_judgment, severity "
        "minor, disposition confirmed, relevance direct, risk level low, lookback inside is escalate "
        "(ESC-DIRECT-MINOR-LOW-RISK), but with risk level medium it is note (NOTE-DIRECT-MINOR).",
    ], 1, 0


BROKEN_RULEBOOKS = list(_broken_rulebooks())


@pytest.mark.parametrize(
    ("text", "lines", "errors", "warnings"),
    [case[1:] for case in BROKEN_RULEBOOKS],
    ids=[case[0] for case in BROKEN_RULEBOOKS],
)
def test_rules_check_reports_each_analysis_error(tmp_path, monkeypatch, text, lines, errors, warnings):
    result = _check(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    assert result.stderr == "".join(line + "\n" for line in lines) + (
        f"Error: the rulebook has {errors} error{'' if errors == 1 else 's'}; see above.\n"
    )
    assert (
        f"Analysis of {COMBINATIONS} combinations: {errors} error{'' if errors == 1 else 's'}, "
        f"{warnings} warning{'' if warnings == 1 else 's'}.\n"
    ) in result.stdout


def test_a_gap_is_never_decided_silently(tmp_path):
    """The cells of a gap are uncovered, go to review, and are all reported."""
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", delete_rule("NOTE-INDIRECT-MINOR")))
    analysis = analyse(rulebook)
    uncovered = [s for s, judgement in analysis.cells.items() if judgement.rule is None]
    # All but the US-CA marijuana records 2 years old or more that
    # EXCL-CA-MARIJUANA-TWO-YEARS excludes (at each of the 4 risk levels).
    assert len(uncovered) == (
        len(CATEGORIES) * 2 * 3 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES - 4 * CA_MARIJUANA
    )
    assert {analysis.cells[s].handling.value for s in uncovered} == {"review"}
    assert {(s.relevance.value, s.lookback.value) for s in uncovered} == {("indirect", "inside")}
    # A juvenile record or a suit brought as plaintiff is excluded before the gap.
    assert {(s.party_role.value, s.juvenile.value) for s in uncovered} == {("none", "no")}
    assert {s.conduct_established.value for s in uncovered} == {"yes", "no"}
    # Reported in four groups around the records the California rule takes
    # (see "gap" in _broken_rulebooks), and nothing else.
    assert [problem.kind for problem in analysis.problems] == ["gap"] * 4


# --- hygiene: warnings, which do not fail the check -----------------------------------

SHORT_RATIONALE = edit_rule(
    "EXCL-DISPUTED",
    "    rationale: >-\n"
    "      The candidate disputes the accuracy of this record. A dispute is open\n"
    "      and the record cannot be used until it is resolved; if the dispute is\n"
    "      resolved against the candidate, the record is submitted again with its\n"
    "      confirmed disposition.\n",
    "    rationale: Disputed records wait.\n",
)
PIPL = "        - PRC Labour Contract Law Art. 8 (the employer may learn the basic facts directly related to the labour contract)\n"
PIPL_ZH = "          - 《中华人民共和国劳动合同法》第八条（用人单位有权了解劳动者与劳动合同直接相关的基本情况）\n"
CITED_TWICE = edit_rule("NR-NOT-JOB-RELATED", PIPL_ZH, PIPL_ZH + PIPL_ZH, edit_rule("NR-NOT-JOB-RELATED", PIPL, PIPL + PIPL))

HYGIENE = {
    "short rationale": (
        SHORT_RATIONALE,
        f"{F}:{_rule_line(SHORT_RATIONALE, 'EXCL-DISPUTED')}: warning: hygiene: the rationale of rule "
        "EXCL-DISPUTED has 22 characters; a memo quotes it to explain a decision, so say why in a full "
        "sentence.",
    ),
    "reference cited twice": (
        CITED_TWICE,
        f"{F}:{_rule_line(CITED_TWICE, 'NR-NOT-JOB-RELATED')}: warning: hygiene: rule NR-NOT-JOB-RELATED "
        "cites 'PRC Labour Contract Law Art. 8 (the employer may learn the basic facts directly related to the labour "
        "contract)' twice.",
    ),
}


@pytest.mark.parametrize(("text", "line"), list(HYGIENE.values()), ids=list(HYGIENE))
def test_a_hygiene_warning_is_listed_and_does_not_fail(tmp_path, monkeypatch, text, line):
    result = _check(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 0)
    assert result.stderr == line + "\n"
    assert f"Analysis of {COMBINATIONS} combinations: 0 errors, 1 warning.\n" in result.stdout


SAME_CONDITIONS = add_rule("""
  - id: EXCL-SEALED-AGAIN
    title: Sealed records are excluded, said a second time
    when:
      disposition: [sealed]
    handling: excluded
    precedence: 10
    rationale: >-
      The same condition as EXCL-SEALED, written a second time by a reviewer
      who did not see the first one.
    zh:
      title: 已封存记录予以排除（重复写了一次）
      rationale: 与 EXCL-SEALED 条件相同，由未看到前一条规则的审核人员再次写出。
    legal_basis:
      - California Gov. Code §12952(a)(3)
""")


def test_two_rules_with_the_same_conditions_get_a_hygiene_warning(tmp_path, monkeypatch):
    """The warning names both rules. Two rules with the same conditions always
    match together, so one of them can never decide: that is an error too."""
    result = _check(tmp_path, monkeypatch, SAME_CONDITIONS)
    assert_clean_exit(result, 1)
    again = _rule_line(SAME_CONDITIONS, "EXCL-SEALED-AGAIN")
    assert result.stderr == (
        f"{F}:{again}: error: masked rule: rule EXCL-SEALED-AGAIN never decides a finding: every combination "
        "it matches is decided at the same precedence 10, EXCL-SEALED wins the tie; give EXCL-SEALED-AGAIN a "
        "lower precedence (such as 9) if it should win. Remove it, or change its conditions.\n"
        f"{F}:{_rule_line(SAME_CONDITIONS, 'EXCL-SEALED')}: warning: hygiene: rules EXCL-SEALED, "
        "EXCL-SEALED-AGAIN have the same conditions; one rule per situation is easier to review.\n"
        "Error: the rulebook has 1 error; see above.\n"
    )
    analysis = analyse(load_rulebook(write_rulebook(Path("rules2"), SAME_CONDITIONS)))
    hygiene = [p for p in analysis.problems if p.kind == "hygiene"]
    assert [(p.level, p.rule_ids) for p in hygiene] == [("warning", ("EXCL-SEALED", "EXCL-SEALED-AGAIN"))]


# --- the rulebook and the tables agree on the categories -----------------------------

DRUG_TEST_CATEGORY = """  drug_test:
    label: Drug test
    description: A failed or refused pre-employment drug test.
    zh:
      label: 药物检测
      description: 入职前药物检测未通过或拒绝接受检测。
"""


def test_a_category_of_the_rulebook_missing_from_the_tables_fails_the_check(tmp_path, monkeypatch):
    text = PRE_PACKS.replace(
        DRUG_TEST_CATEGORY,
        DRUG_TEST_CATEGORY + "  offense_wildlife:\n    label: Wildlife offence\n"
        "    description: Poaching or trading in protected species.\n"
        "    zh:\n      label: 野生动物犯罪\n      description: 非法猎捕或买卖受保护物种。\n",
    )
    assert text != PRE_PACKS
    result = _check(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: The position risk table folder {TABLES} has 14 problems:"
    assert lines[1] == (
        f"  {TABLES}/relevance.csv: position 'quality_inspector' has no row for 'offense_wildlife'. Every "
        "position needs a row for every category, with its relevance and rationale; there is no default."
    )
    assert len(lines) == 15
    assert f"Analysis of {17 * 4 * 7 * 3 * 4 * 2 * FACT_VALUES * LOCATIONS * AGES} combinations: 0 errors, 0 warnings.\n" in result.stdout


def test_a_category_of_the_tables_missing_from_the_rulebook_fails_the_check(tmp_path, monkeypatch):
    text = PRE_PACKS.replace(DRUG_TEST_CATEGORY, "")
    assert text != PRE_PACKS
    result = _check(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: The position risk table folder {TABLES} has 14 problems:"
    allowed = ", ".join(f"'{c}'" for c in CATEGORIES[:-2]) + f" or '{CATEGORIES[-2]}'"
    assert lines[1] == (
        f"  {TABLES}/relevance.csv:17: column 'category': unknown category 'drug_test'; allowed: {allowed}."
    )
    assert len(lines) == 15


def test_a_drop_across_a_gap_is_reported_with_the_gap(tmp_path, monkeypatch):
    """Indirect relevance: minor escalates, moderate is a gap, serious is a note. The drop from
    escalate to note spans the gap and must be reported in the same round as the gap."""
    text = PRE_PACKS.replace(
        "      severity: {at_most: moderate}\n      lookback: inside\n    handling: note\n    precedence: 50\n"
        "    rationale: >-\n      The record is minor or moderate and bears only indirectly",
        "      severity: minor\n      lookback: inside\n    handling: escalate\n    precedence: 50\n"
        "    rationale: >-\n      The record is minor or moderate and bears only indirectly",
    ).replace(
        "      relevance: indirect\n      severity: {at_least: serious}\n      lookback: inside\n    handling: review",
        "      relevance: indirect\n      severity: {at_least: serious}\n      lookback: inside\n    handling: note",
    )
    assert text.count("handling: escalate") == 2 and "severity: minor\n" in text
    result = _check(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    assert "error: gap: no rule covers" in result.stderr
    assert ("error: monotonicity: raising severity lowers the handling" in result.stderr
            and "is escalate (NOTE-INDIRECT-MINOR), but with severity serious it is note (REV-INDIRECT-SERIOUS)."
            in result.stderr)


# --- the age of the record (years_since) ---------------------------------------------


def test_an_older_record_handled_more_severely_than_a_younger_one_is_an_error(tmp_path):
    text = add_rule("""
  - id: ESC-OLD-CREDIT
    title: An old job-related credit record is escalated
    when:
      category: credit_record
      relevance: direct
      disposition: confirmed
      years_since: {at_least: 5}
    handling: escalate
    precedence: 1
    rationale: >-
      Written to be inconsistent: a credit record five years old or more
      would weigh more than the same record when it was younger.
    legal_basis:
      - none, a test rule
""")
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", text))
    assert rulebook.age_cuts == (2, 5)
    problems = [p for p in analyse(rulebook).errors if p.kind == "monotonicity"]
    assert problems
    assert all(p.message.startswith("an older record is handled more severely than a younger one in ") for p in problems)
    assert all(p.rule_ids[0] == "ESC-OLD-CREDIT" for p in problems)
    by_younger = {p.rule_ids[1]: p.message for p in problems}
    # A minor record at a medium-risk position: noted while under 5 years
    # old, escalated from then on (the reduced ages 2 and 5 are compared).
    assert by_younger["NOTE-DIRECT-MINOR"].endswith(
        "for example category credit_record, severity minor, disposition confirmed, relevance direct, "
        "risk level low, lookback inside, years since the record 2 or more is note (NOTE-DIRECT-MINOR), but 5 "
        "years or more after the record it is escalate (ESC-OLD-CREDIT)."
    )


def test_a_rulebook_without_a_rule_on_the_age_judges_every_record_at_age_zero(tmp_path):
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", delete_rule("EXCL-CA-MARIJUANA-TWO-YEARS")))
    assert rulebook.age_cuts == () and rulebook.domain("years_since") == (0,)
    assert {rulebook.reduce_age(years) for years in range(0, 60)} == {0}
    cells = analyse(rulebook).cells
    assert len(cells) == COMBINATIONS // AGES
    assert {signature.years_since for signature in cells} == {0}


def test_the_age_of_a_record_is_counted_as_the_lookback_counts_years():
    """Whole years: a record is N years old or more when it is on or before
    the evaluation date moved back N years, 29 February becoming 28 February
    in a year that has none (the lookback's boundary day)."""
    import datetime as dt
    from engine.rulebook.lookback import age_in_years, record_age, years_before

    start = dt.date(2019, 1, 1)
    days = [start + dt.timedelta(days=n) for n in range(0, 365 * 10, 3)] + [
        dt.date(2020, 2, 29), dt.date(2024, 2, 29), dt.date(2023, 2, 28), dt.date(2023, 3, 1),
    ]
    for as_of in (dt.date(2028, 2, 29), dt.date(2027, 2, 28), dt.date(2026, 11, 1), dt.date(2027, 3, 1)):
        for day in days:
            if day > as_of:
                continue
            expected = max(n for n in range(0, 20) if day <= years_before(as_of, n))
            assert age_in_years(day, as_of) == expected, (day, as_of)
            assert record_age(day, None, as_of) == expected
    assert record_age(dt.date(2024, 11, 1), None, dt.date(2026, 11, 1)) == 2
    assert record_age(dt.date(2024, 11, 2), None, dt.date(2026, 11, 1)) == 1
    # From the disposition when given.
    assert record_age(dt.date(2020, 1, 1), dt.date(2025, 3, 1), dt.date(2026, 11, 1)) == 1
    assert record_age(dt.date(2026, 2, 28), None, dt.date(2028, 2, 29)) == 2
