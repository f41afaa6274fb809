"""Where the job is, in the rule language (docs/rulebook.md, "Where the job
is"): the hierarchy of work locations, the most specific rule first, both
judging paths alike, and ``rules check``, ``rules explain`` and rule tests
per jurisdiction."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import (
    AS_OF, SHIPPED_RULEBOOK, TABLES, add_rule, assert_clean_exit, consent, delete_rule, finding, line_number, run_cli,
    write_batch, write_consents, write_csv, write_rulebook,
)
from engine.documents.explain import document, explain
from engine.errors import InvalidConfiguration
from engine.evaluation.judging import evaluate_files
from engine.rulebook import jurisdictions
from engine.rulebook.analysis import analyse
from engine.rulebook.compiled import RuleEngine, Signature, compile_rule
from engine.rulebook.model import load_rulebook
from engine.rulebook.ruletests import load_cases, run_rule_tests
from engine.rulebook.tables import load_tables
from engine.vocabulary import Disposition, Lookback, Relevance, RiskLevel, Severity, YesNo

# Nested rules on one kind of finding, each at a precedence that would lose
# to the general rule if precedence came first: the most specific must win.
NESTED = """
  - id: LOC-US
    title: A test rule for the United States
    when:
      work_location: US
      category: credit_record
    handling: review
    precedence: 900
    rationale: >-
      A rule written only to check that a rule on a country applies to every
      job inside it, and before any rule that names no work location.
    legal_basis:
      - none, a test rule

  - id: LOC-US-NY
    title: A test rule for New York State
    when:
      work_location: US-NY
      category: credit_record
    handling: note
    precedence: 950
    rationale: >-
      A rule written only to check that a rule on a state decides before the
      rule on its country, whatever their precedences.
    legal_basis:
      - none, a test rule

  - id: LOC-US-NY-NYC
    title: A test rule for New York City
    when:
      work_location: US-NY-NYC
      category: credit_record
    handling: excluded
    precedence: 999
    rationale: >-
      A rule written only to check that a rule on a city decides before the
      rules on its state and country, whatever their precedences.
    legal_basis:
      - none, a test rule
"""


# The shipped rulebook with California's rule as its only rule on a work
# location: the tests of the mechanism below do not change with the packs.
CA_ONLY = SHIPPED_RULEBOOK
for _pack_rule in ("EXCL-NY-NOT-CONVICTED", "REV-NY-CERTIFICATE", "REV-IL-CONVICTION", "NR-CN-INDIRECT-MINOR"):
    CA_ONLY = delete_rule(_pack_rule, CA_ONLY)


def _nested(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "rules", add_rule(NESTED, CA_ONLY))


# --- the hierarchy ------------------------------------------------------------------


def test_a_location_lies_inside_each_location_its_code_begins_with():
    assert jurisdictions.lineage("US-NY-NYC") == ["US", "US-NY", "US-NY-NYC"]
    assert jurisdictions.inside("US-NY-NYC", "US-NY") and jurisdictions.inside("CN-SH", "CN")
    assert not jurisdictions.inside("US", "US-CA") and not jurisdictions.inside("US-CAX", "US-CA")
    assert [jurisdictions.depth(x) for x in ("US", "US-CA", "US-NY-NYC", jurisdictions.ELSEWHERE, "")] == [1, 2, 3, 0, 0]


@pytest.mark.parametrize(("location", "reduced"), [
    ("US-NY-NYC", "US-NY-NYC"),
    ("US-NY-BUF", "US-NY"),  # a city no rule names: its state
    ("US-NY", "US-NY"),
    ("US-TX", "US"),  # a state no rule names: its country
    ("US-CA-LA", "US-CA"),
    ("US", "US"),
    ("CN-SH", "elsewhere"),
    ("", "elsewhere"),  # not known
])
def test_a_job_is_seen_at_the_deepest_location_the_rules_name(tmp_path, location, reduced):
    rulebook = load_rulebook(_nested(tmp_path))
    assert rulebook.locations == ("US", "US-CA", "US-NY", "US-NY-NYC")
    assert rulebook.reduce_location(location) == reduced


def test_a_rule_on_a_location_compiles_to_it_and_every_named_location_inside_it(tmp_path):
    rulebook = load_rulebook(_nested(tmp_path))
    condition = compile_rule(rulebook.rules_by_id["LOC-US"], rulebook)["all"][0]["m"]["$and"]
    assert {"$or": [{"work_location": w} for w in ("US", "US-CA", "US-NY", "US-NY-NYC")]} in condition
    condition = compile_rule(rulebook.rules_by_id["LOC-US-NY-NYC"], rulebook)["all"][0]["m"]["$and"]
    assert {"work_location": "US-NY-NYC"} in condition


# --- the most specific rule wins --------------------------------------------------


@pytest.mark.parametrize(("location", "handling", "rule_id", "matched"), [
    ("US-NY-NYC", "excluded", "LOC-US-NY-NYC", ("LOC-US-NY-NYC", "LOC-US-NY", "LOC-US", "NOTE-INDIRECT-MINOR")),
    ("US-NY", "note", "LOC-US-NY", ("LOC-US-NY", "LOC-US", "NOTE-INDIRECT-MINOR")),
    ("US", "review", "LOC-US", ("LOC-US", "NOTE-INDIRECT-MINOR")),
    ("elsewhere", "note", "NOTE-INDIRECT-MINOR", ("NOTE-INDIRECT-MINOR",)),
])
def test_the_most_specific_rule_decides_before_precedence(tmp_path, location, handling, rule_id, matched):
    rulebook = load_rulebook(_nested(tmp_path))
    signature = Signature(
        "credit_record", Severity.MINOR, Disposition.CONFIRMED, Relevance.INDIRECT, RiskLevel.MEDIUM,
        Lookback.INSIDE, work_location=location,
    )
    judgement = RuleEngine(rulebook).judge([signature])[signature]
    assert (judgement.handling.value, judgement.rule_id, judgement.matched) == (handling, rule_id, matched)


def _applied_batch(folder: Path) -> tuple[Path, Path, Path]:
    rows, applied, consents = [], [], []
    for number, location in enumerate(["US-NY-NYC", "us-ny-buf", "US-NY", "US-CA", "US", "CN-SH", ""]):
        candidate = f"C-{number}"
        rows.append(finding(candidate, "", f"F-{number}", "credit_record", "minor", "2025-01-10"))
        applied.append({"candidate_id": candidate, "position_id": "financial_controller", "work_location": location})
        consents.append(consent(candidate))
    return (
        write_batch(folder / "batch.csv", rows),
        write_consents(folder / "consents.csv", consents),
        write_csv(folder / "applications.csv", ("candidate_id", "position_id", "work_location"), applied),
    )


def test_evaluate_judges_each_application_by_the_law_where_the_job_is(tmp_path):
    batch, consents, applications = _applied_batch(tmp_path)
    result = evaluate_files(
        batch, consents, rules=_nested(tmp_path), tables=TABLES, as_of=AS_OF, applications_path=applications,
    )
    decided = {d.candidate_id: (d.work_location, d.findings[0].rule_id) for d in result.decisions}
    assert decided == {
        "C-0": ("US-NY-NYC", "LOC-US-NY-NYC"),
        "C-1": ("US-NY-BUF", "LOC-US-NY"),  # read in any case; a city no rule names: its state's rule
        "C-2": ("US-NY", "LOC-US-NY"),
        "C-3": ("US-CA", "LOC-US"),  # California's rule is on another record: the country's decides
        "C-4": ("US", "LOC-US"),
        "C-5": ("CN-SH", result.decisions[5].findings[0].rule_id),
        "C-6": ("", result.decisions[6].findings[0].rule_id),
    }
    # Where no rule names the location, or none is known, the general rules decide.
    assert not decided["C-5"][1].startswith("LOC-") and decided["C-5"][1] == decided["C-6"][1]


def test_without_an_applications_file_the_location_is_unknown(tmp_path):
    batch, consents, _ = _applied_batch(tmp_path)
    rows = [finding("C-0", "financial_controller", "F-0", "credit_record", "minor", "2025-01-10")]
    batch = write_batch(tmp_path / "plain.csv", rows)
    result = evaluate_files(batch, consents, rules=_nested(tmp_path), tables=TABLES, as_of=AS_OF)
    assert not result.decisions[0].findings[0].rule_id.startswith("LOC-")


# --- a bad work location in a rule test -------------------------------------------------


def test_a_rule_test_case_names_a_work_location_and_a_bad_one_is_refused(tmp_path):
    rules = write_rulebook(tmp_path / "rules", SHIPPED_RULEBOOK)
    rulebook = load_rulebook(rules)
    tables = load_tables(TABLES, rulebook)
    good = tmp_path / "good.yaml"
    good.write_text(
        "cases:\n"
        "  - name: a dismissed charge in San Francisco\n"
        "    risk_level: high\n"
        "    work_location: us-ca-sf\n"
        "    findings:\n"
        "      - category: offense_theft_fraud\n"
        "        severity: serious\n"
        "        disposition: not_convicted\n"
        "        relevance: direct\n"
        "        conduct_established: \"yes\"\n"
        "        handling: excluded\n"
        "        rule: EXCL-CA-NOT-CONVICTED\n",
        encoding="utf-8",
    )
    run = run_rule_tests(load_cases([good], rulebook, tables), rulebook)
    assert run.failed == [] and run.covered == ["EXCL-CA-NOT-CONVICTED"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text(encoding="utf-8").replace("us-ca-sf", "California"), encoding="utf-8")
    with pytest.raises(InvalidConfiguration) as raised:
        load_cases([bad], rulebook, tables)
    assert [str(problem) for problem in raised.value.problems] == [
        f"{bad}:4: 'work_location' 'California' is not a work location; write the country's ISO 3166 code, "
        "optionally followed by the codes of the region and the city: 'US', 'US-CA', 'US-NY-NYC', 'CN-SH'."
    ]


# --- rules check per jurisdiction ----------------------------------------------------------


def test_the_analysis_covers_every_named_location_and_elsewhere(tmp_path):
    rulebook = load_rulebook(_nested(tmp_path))
    analysis = analyse(rulebook)
    assert {s.work_location for s in analysis.cells} == {"US", "US-CA", "US-NY", "US-NY-NYC", "elsewhere"}
    # The nested rules decide only where they apply; nothing else changes.
    decided = {j.rule_id for s, j in analysis.cells.items() if s.work_location == "elsewhere"}
    assert not any(rule_id.startswith("LOC-") for rule_id in decided)
    assert {j.rule_id for s, j in analysis.cells.items() if s.work_location == "US-NY-NYC"} >= {"LOC-US-NY-NYC"}


CONFLICT_IN_CALIFORNIA = """
  - id: REV-CA-DUPLICATE
    title: A test rule that contradicts the California rule at its precedence
    when:
      work_location: US-CA
      disposition: not_convicted
      severity: severe
    handling: review
    precedence: 10
    rationale: >-
      A rule written only to check that a conflict between two rules for the
      same work location is reported with that location.
    legal_basis:
      - none, a test rule
"""


def test_a_conflict_in_one_jurisdiction_names_it(tmp_path, monkeypatch):
    text = add_rule(CONFLICT_IN_CALIFORNIA, CA_ONLY)
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), text)
    result = run_cli(["rules", "check", "--rules", "rules", "--tables", TABLES])
    assert_clean_exit(result, 1)
    ca, dup = line_number(text, "  - id: EXCL-CA-NOT-CONVICTED"), line_number(text, "  - id: REV-CA-DUPLICATE")
    # 16 categories x 3 relevances x 4 risk levels x 2 lookbacks x the facts the
    # rules tell apart (8) x the ages of records they tell apart (2).
    assert result.stderr.splitlines()[0] == (
        f"rules/rulebook.yaml:{ca}: error: conflict: rules EXCL-CA-NOT-CONVICTED (line {ca}, excluded) and "
        f"REV-CA-DUPLICATE (line {dup}, review) both match {16 * 3 * 4 * 2 * 8 * 2} combinations at the same "
        "precedence 10, for example category civil_judgment, severity severe, disposition not_convicted, "
        "relevance direct, risk level critical, lookback inside, work location US-CA. It holds for work location "
        "US-CA only. Give one of them a lower precedence, or narrow its conditions."
    )


def test_a_general_rule_at_a_lower_precedence_does_not_conflict_with_a_more_specific_one(tmp_path):
    # EXCL-CA-NOT-CONVICTED (excluded) and REV-CONDUCT-ESTABLISHED (review,
    # precedence 9) both match an established dismissed charge in
    # California: the California rule is more specific, so nothing ties.
    analysis = analyse(load_rulebook(write_rulebook(tmp_path / "rules", SHIPPED_RULEBOOK)))
    assert analysis.errors == []
    signature = Signature(
        "offense_theft_fraud", Severity.SERIOUS, Disposition.NOT_CONVICTED, Relevance.DIRECT, RiskLevel.HIGH,
        Lookback.INSIDE, conduct_established=YesNo.YES, work_location="US-CA",
    )
    judgement = analysis.cells[signature]
    assert judgement.rule_id == "EXCL-CA-NOT-CONVICTED"
    assert judgement.matched[:2] == ("EXCL-CA-NOT-CONVICTED", "REV-CONDUCT-ESTABLISHED")
    assert analysis.cells[signature._replace(work_location="elsewhere")].rule_id == "REV-CONDUCT-ESTABLISHED"


LOWER_IN_NEW_YORK = """
  - id: NR-NY-SEVERE
    title: A test rule that lowers severe direct records in New York
    when:
      work_location: US-NY
      relevance: direct
      severity: severe
      disposition: confirmed
    handling: not_relevant
    precedence: 50
    rationale: >-
      A rule written only to check that a handling that drops as severity
      rises in one jurisdiction is reported with that jurisdiction.
    legal_basis:
      - none, a test rule
"""


def test_monotonicity_is_checked_per_jurisdiction(tmp_path):
    analysis = analyse(load_rulebook(write_rulebook(tmp_path / "rules", add_rule(LOWER_IN_NEW_YORK))))
    drops = [p for p in analysis.errors if p.kind == "monotonicity"]
    assert drops and all("work location US-NY" in p.message for p in drops)
    assert all(p.message.endswith("It holds for work location US-NY only.") for p in drops)


# --- rules explain per jurisdiction --------------------------------------------------------


def test_explain_gives_a_matrix_for_each_jurisdiction_that_differs(tmp_path):
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", CA_ONLY))
    doc = document(rulebook)
    assert list(doc.jurisdictions) == ["US-CA"] and doc.same_as_general == ()
    ca_rows = [row for row in doc.jurisdictions["US-CA"][RiskLevel.HIGH] if row.disposition == "not_convicted"]
    assert ca_rows and all(rule_id == "EXCL-CA-NOT-CONVICTED" for row in ca_rows for _, rule_id in row.outcomes)
    text = explain(rulebook)
    assert "- Applies when: disposition is not\\_convicted; work location is US-CA or inside it\n" in text
    assert "## Adjudication matrix for work location US-CA\n" in text
    assert "### Risk level critical (US-CA)\n" in text


def test_the_shipped_packs_give_a_matrix_for_each_state_and_the_prc(tmp_path):
    # New York City has no rule of its own: a job there is judged by New
    # York State's rules, and it gets no matrix of its own.
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", SHIPPED_RULEBOOK))
    assert rulebook.locations == ("CN", "US-CA", "US-IL", "US-NY")
    assert [rulebook.reduce_location(x) for x in ("US-NY-NYC", "CN-SH", "US-IL-CHI", "US-TX", "")] == [
        "US-NY", "CN", "US-IL", "elsewhere", "elsewhere",
    ]
    doc = document(rulebook)
    assert list(doc.jurisdictions) == ["CN", "US-CA", "US-IL", "US-NY"]
    decided = {
        place: {rule_id for rows in doc.jurisdictions[place].values() for row in rows for _, rule_id in row.outcomes}
        for place in doc.jurisdictions
    }
    assert "REV-IL-CONVICTION" in decided["US-IL"] and "ESC-DIRECT-SERIOUS" not in {
        rule_id for row in doc.jurisdictions["US-IL"][RiskLevel.CRITICAL] for _, rule_id in row.outcomes
        if row.category.startswith("offense_")
    }
    assert "NR-CN-INDIRECT-MINOR" in decided["CN"] and "NOTE-INDIRECT-MINOR" not in decided["CN"]


# A rule on a fact only: the matrix shows a record whose batch gives no
# fact, so France's matrix is the general one.
SAME_AS_GENERAL = """
  - id: EXCL-FR-CONDUCT
    title: A test rule for France on established conduct
    when:
      work_location: FR
      disposition: not_convicted
      conduct_established: "yes"
    handling: excluded
    precedence: 9
    rationale: >-
      A rule written only to check that a jurisdiction whose matrix is the
      general one is listed as such rather than repeated.
    legal_basis:
      - none, a test rule
"""


def test_explain_lists_a_jurisdiction_whose_matrix_is_the_general_one(tmp_path):
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", add_rule(SAME_AS_GENERAL, CA_ONLY)))
    doc = document(rulebook)
    assert list(doc.jurisdictions) == ["US-CA"] and doc.same_as_general == ("FR",)
    assert "\nSame as this matrix: FR.\n" in explain(rulebook)
    rendered = explain(rulebook, "html")
    assert "<p>Same as this matrix: FR.</p>" in rendered
    assert '<h2 id="matrix-US-CA">Adjudication matrix for work location US-CA</h2>' in rendered
    assert "matrix-FR" not in rendered


def test_a_rulebook_without_locations_is_explained_as_before(tmp_path):
    # Without the rules for California (the last one on the age of a record).
    text = CA_ONLY
    start = text.index("  - id: EXCL-CA-NOT-CONVICTED\n")
    end = text.index("\n  - id: ", text.index("  - id: EXCL-CA-MARIJUANA-TWO-YEARS\n") + 1)
    rulebook = load_rulebook(write_rulebook(tmp_path / "rules", text[:start] + text[end + 1:]))
    assert rulebook.locations == ()
    rendered = explain(rulebook)
    assert "work location" not in rendered and "Adjudication matrix for" not in rendered



WEIGHS_A_JUVENILE_RECORD = """
  - id: REV-TX-JUVENILE
    title: A test rule that weighs a juvenile record in Texas
    when:
      work_location: US-TX
      juvenile: "yes"
      relevance: direct
    handling: review
    precedence: 50
    rationale: >-
      A rule written only to check that a rule for a work location that
      weighs a record a general rule excludes is pointed out to the reviewer.
    legal_basis:
      - none, a test rule
"""


def test_a_rule_for_a_place_that_weighs_what_a_general_rule_excludes_is_a_warning(tmp_path):
    analysis = analyse(load_rulebook(write_rulebook(tmp_path / "rules", add_rule(WEIGHS_A_JUVENILE_RECORD))))
    assert analysis.errors == []
    warnings = [p for p in analysis.warnings if p.kind == "jurisdiction"]
    # Every general exclusion it outranks: the juvenile record, and a sealed,
    # disputed... one that is juvenile too.
    assert len(warnings) == 1 and warnings[0].rule_ids[:2] == ("REV-TX-JUVENILE", "EXCL-JUVENILE")
    assert {"EXCL-SEALED", "EXCL-CIVIL-PLAINTIFF"} <= set(warnings[0].rule_ids)
    assert warnings[0].message.startswith("rule REV-TX-JUVENILE (review, for work location US-TX) decides ")
    assert "juvenile yes" in warnings[0].message and "work location US-TX" in warnings[0].message
    # The shipped rulebook's rule for California excludes: nothing to warn of.
    shipped = analyse(load_rulebook(write_rulebook(tmp_path / "shipped", SHIPPED_RULEBOOK)))
    assert [p for p in shipped.warnings if p.kind == "jurisdiction"] == []


# --- legal bases grouped by the work location whose law they are ---------------

GROUPED_BASES = """\
    legal_basis:
      everywhere:
        - The principle that holds everywhere
      US:
        - EEOC Enforcement Guidance 915.002 (2012), Part V.B.9
      US-CA:
        - California Gov. Code §12952(c)
    zh:
      legal_basis:
        everywhere:
          - 处处适用的原则
        US:
          - 美国平等就业机会委员会《执法指南》915.002（2012年）第五部分B.9
        US-CA:
          - 《加利福尼亚州政府法典》第12952条(c)款
"""


def _replace_bases(text: str) -> str:
    """The shipped rulebook with PEND-CAP's legal bases and their Chinese
    replaced by ``text``."""
    start = SHIPPED_RULEBOOK.index("  - id: PEND-CAP")
    end = SHIPPED_RULEBOOK.index("  - id: DEFER-CAP")
    block = SHIPPED_RULEBOOK[start:end]
    head = block[:block.index("    zh:\n")]
    zh_title = block[block.index("    zh:\n") + len("    zh:\n"):block.index("      legal_basis:\n")]
    new_block = head + text.replace("    zh:\n", "    zh:\n" + zh_title, 1) + "\n"
    return SHIPPED_RULEBOOK[:start] + new_block + SHIPPED_RULEBOOK[end:]


def test_a_rule_cites_only_the_law_of_where_the_job_is(tmp_path):
    rule = load_rulebook(write_rulebook(tmp_path / "rules", _replace_bases(GROUPED_BASES))).rules_by_id["PEND-CAP"]
    assert rule.legal_basis_places == ("", "US", "US-CA")
    assert rule.legal_basis_in("en", "US-CA-LA") == (
        "The principle that holds everywhere",
        "EEOC Enforcement Guidance 915.002 (2012), Part V.B.9",
        "California Gov. Code §12952(c)",
    )
    # An Illinois job is never given California's law, a Shanghai job no US law.
    assert rule.legal_basis_in("en", "US-IL") == (
        "The principle that holds everywhere", "EEOC Enforcement Guidance 915.002 (2012), Part V.B.9",
    )
    assert rule.legal_basis_in("zh", "CN-SH") == ("处处适用的原则",)
    # With the place unknown, no law can be left out.
    assert len(rule.legal_basis_in("zh", "")) == 3
    assert len(rule.legal_basis_in("zh")) == 3


def test_grouped_legal_bases_with_a_bad_place_or_another_shape_in_chinese_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = _replace_bases(GROUPED_BASES.replace("      US-CA:\n        - California", "      California:\n        - California"))
    write_rulebook(Path("rules"), text)
    result = run_cli(["rules", "check", "--rules", "rules"])
    assert_clean_exit(result, 1)
    assert "rule PEND-CAP: unknown work location 'California' in 'legal_basis'; " in result.stderr
    assert "or 'everywhere' for the bases that hold everywhere." in result.stderr

    text = _replace_bases(GROUPED_BASES.replace("        US-CA:\n          - 《加利福尼亚州政府法典》第12952条(c)款\n", ""))
    write_rulebook(Path("rules"), text)
    result = run_cli(["rules", "check", "--rules", "rules"])
    assert_clean_exit(result, 1)
    assert (
        "rule PEND-CAP: 'legal_basis' in the 'zh' of the rule has everywhere: 1, US: 1 but the English has "
        "everywhere: 1, US: 1, US-CA: 1; give the Chinese of each, in the same order and under the same work "
        "locations." in result.stderr
    )
