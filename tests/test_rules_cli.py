"""The rulebook commands for legal review, run with CliRunner: ``rules
explain``, ``rules test`` and ``rules diff``, and the approval of a rulebook
(a draft needs --allow-draft and marks every output). Exit codes and the
exact messages are asserted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import markupsafe
import pytest
import yaml

from conftest import (
    PRE_PACKS,
    AS_OF_TEXT,
    CATEGORIES,
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    ROOT,
    RULES,
    SHIPPED_RULEBOOK,
    TABLES,
    add_rule,
    assert_clean_exit,
    delete_rule,
    edit_rule,
    evaluate_args,
    line_number,
    read_csv,
    run_cli,
    write_rulebook,
)
from engine.rulebook.compiled import Signature
from engine.rulebook.analysis import analyse
from engine.rulebook.model import load_rulebook
from engine.documents.templating import markdown_text

SHIPPED = yaml.safe_load(SHIPPED_RULEBOOK)
HEADER = SHIPPED["rulebook"]
RULE_IDS = [rule["id"] for rule in SHIPPED["rules"]]
SEVERITIES = ("minor", "moderate", "serious", "severe")
DISPOSITIONS = ("confirmed", "pending", "not_convicted", "sealed", "disputed", "diversion", "deferred")
RELEVANCES = ("none", "indirect", "direct")
RISK_LEVELS = ("low", "medium", "high", "critical")
LOOKBACKS = ("inside", "outside")

APPROVED_BY = f"  approved_by: {HEADER['approved_by']}\n"
APPROVED_ON = f"  approved_on: \"{HEADER['approved_on']}\"\n"
assert APPROVED_BY in SHIPPED_RULEBOOK and APPROVED_ON in SHIPPED_RULEBOOK
DRAFT = SHIPPED_RULEBOOK.replace(APPROVED_BY, "").replace(APPROVED_ON, "").replace(
    'version: "1.5.0"', 'version: "1.6.0"'
)
# The shipped rulebook's rules on the facts (EXCL-JUVENILE, EXCL-CIVIL-PLAINTIFF,
# REV-CONDUCT-ESTABLISHED) make a matrix cell of the six risk fields count for
# a record that is neither juvenile nor a suit brought as plaintiff, whether or
# not the employer established the conduct: twice.
NEITHER_JUVENILE_NOR_PLAINTIFF = 2
# Its rule for California makes every cell count for a job in US-CA and one
# elsewhere: twice again.
LOCATIONS = 2
# Its rule on marijuana convictions in California makes every cell count for
# a record under 2 years old and one older: twice again.
AGES = 2
ORDINARY_FACTS = ", party role none, defendant or other, juvenile no"
# The diffs below are measured on the shipped rulebook without the packs of
# New York, Illinois and the PRC (California's rule as its only rule on a
# work location), so that the counts above hold.


# --- rules explain ---------------------------------------------------------------------


def _explain(fmt: str, rules=RULES, *extra) -> str:
    result = run_cli(["rules", "explain", "--rules", rules, "--format", fmt, *extra])
    assert_clean_exit(result)
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_explain_is_deterministic(fmt):
    """Two renderings are byte-identical, in this process and in others with
    another string hash seed (which changes the order of Python's sets)."""
    first, second = _explain(fmt), _explain(fmt)
    assert first == second
    for seed in ("1", "2"):
        other = subprocess.run(
            [sys.executable, "-m", "engine", "rules", "explain", "--rules", str(RULES), "--format", fmt],
            capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, check=True,
        )
        assert other.stdout.decode("utf-8") == first


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_explain_shows_the_header_and_every_rule(fmt):
    text = _explain(fmt)
    escape = markdown_text if fmt == "md" else (lambda value: str(markupsafe.escape(value)))
    assert escape(HEADER["version"]) in text
    assert escape(HEADER["effective_date"]) in text
    assert escape(f"approved on {HEADER['approved_on']} by {HEADER['approved_by']}") in text
    for rule in SHIPPED["rules"]:
        heading = f"### {escape(rule['id'])}: {escape(rule['title'])}\n" if fmt == "md" else (
            f"<h3>{escape(rule['id'])}: {escape(rule['title'])}</h3>"
        )
        assert heading in text
        for reference in rule["legal_basis"]:
            assert escape(reference) in text
        assert escape(" ".join(rule["rationale"].split())) in text
    assert "DRAFT" not in text


def _values(text: str, domain) -> set[str]:
    if text == "any":
        return set(domain)
    head, _, last = text.rpartition(" or ")
    values = set(head.split(", ")) | {last} if head else {text}
    assert values <= set(domain), text
    return values


def _matrix_rows(text: str, fmt: str) -> dict[str, list[list[str]]]:
    """Each risk level's matrix rows, as lists of cell texts."""
    matrices = {}
    if fmt == "md":
        sections = re.split(r"^### Risk level (\w+)\n", text, flags=re.M)[1:]
        for risk, body in zip(sections[::2], sections[1::2]):
            lines = [line for line in body.split("\n## ")[0].splitlines() if line.startswith("| ")]
            matrices[risk] = [
                [cell.strip().replace("\\_", "_") for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
                for line in lines[1:]  # the first is the header
            ]
    else:
        sections = re.split(r"<h3>Risk level (\w+)</h3>\n", text)[1:]
        for risk, body in zip(sections[::2], sections[1::2]):
            table = body.split("</table>")[0]
            matrices[risk] = [
                [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
                for row in re.findall(r"<tr><td>.*?</tr>", table)
            ]
    return matrices


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_each_risk_level_has_a_matrix_that_covers_the_whole_space(fmt):
    """Every category x relevance x disposition x lookback falls in exactly
    one row of each risk level's matrix, and each severity column shows the
    handling and rule that the engine gives."""
    cells = analyse(load_rulebook(RULES)).cells
    # The matrix shows findings without the facts of docs/findings.md
    # (party role none, not juvenile, no relief, no conduct established).
    judged = {
        tuple(v.value if hasattr(v, "value") else v for v in signature[:6]): judgement
        for signature, judgement in cells.items()
        if signature[6:] == Signature(*signature[:6])[6:]
    }
    matrices = _matrix_rows(_explain(fmt), fmt)
    assert list(matrices) == list(RISK_LEVELS)
    for risk, rows in matrices.items():
        seen = []
        for row in rows:
            # The shipped rules name an age only for a job in US-CA: the
            # general matrix's column of ages says "any" throughout.
            category, relevance, disposition, lookback, years, *outcomes = row
            assert years == "any"
            assert len(outcomes) == len(SEVERITIES)
            for key in itertools.product(
                _values(category, CATEGORIES), _values(relevance, RELEVANCES),
                _values(disposition, DISPOSITIONS), _values(lookback, LOOKBACKS),
            ):
                seen.append(key)
                c, rel, disp, look = key
                for severity, outcome in zip(SEVERITIES, outcomes):
                    judgement = judged[(c, severity, disp, rel, risk, look)]
                    assert outcome == f"{judgement.handling.value} ({judgement.rule_id})", (risk, key, severity)
        assert len(seen) == len(set(seen)) == len(CATEGORIES) * 3 * 7 * 2


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_matrix_row_for_confirmed_direct_records_at_high_risk(fmt):
    rows = _matrix_rows(_explain(fmt), fmt)["high"]
    row = next(
        row for row in rows
        if "direct" in _values(row[1], RELEVANCES) and "confirmed" in _values(row[2], DISPOSITIONS)
        and "inside" in _values(row[3], LOOKBACKS) and "traffic_violation" in _values(row[0], CATEGORIES)
    )
    assert row[5:] == [
        "review (REV-DIRECT-MINOR-HIGH-RISK)",
        "review (REV-DIRECT-MINOR-HIGH-RISK)",
        "escalate (ESC-DIRECT-SERIOUS)",
        "escalate (ESC-DIRECT-SERIOUS)",
    ]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_explain_states_the_age_of_the_record(fmt):
    """The rule on marijuana convictions in California states its age in
    words, and the matrix for US-CA tells a record 2 years old or more from
    a younger one."""
    text = _explain(fmt).replace("\\_", "_")
    assert "years since the record is 2 years or more" in text
    assert "Years since" in text
    ca = text.split("## Adjudication matrix for work location US-CA" if fmt == "md" else 'id="matrix-US-CA"', 1)[1]
    rows = [line for line in ca.splitlines() if "EXCL-CA-MARIJUANA-TWO-YEARS" in line]
    assert rows and all("offense_marijuana" in row and "2 or more" in row for row in rows), rows[:3]
    # A younger record is weighed by the general rules.
    younger = [line for line in ca.splitlines() if "under 2" in line]
    assert younger and not any("EXCL-CA-MARIJUANA-TWO-YEARS" in row for row in younger)


def test_explain_escapes_a_rule_title_with_markup(tmp_path):
    title = "Sealed records <script>alert(1)</script> are never considered"
    rules = write_rulebook(tmp_path / "rules", edit_rule(
        "EXCL-SEALED",
        "    title: Sealed, expunged and juvenile records are never considered\n",
        f"    title: {title}\n",
    ))
    page = _explain("html", rules)
    assert "<script" not in page
    assert "<h3>EXCL-SEALED: Sealed records &lt;script&gt;alert(1)&lt;/script&gt; are never considered</h3>" in page
    markdown = _explain("md", rules)
    assert "<script>" not in markdown
    assert re.findall(r"(?<!\\)<", markdown) == []
    assert "### EXCL-SEALED: Sealed records \\<script\\>alert(1)\\</script\\> are never considered\n" in markdown


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_explain_writes_the_output_file(tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["rules", "explain", "--rules", RULES, "--format", fmt, "-o", f"rulebook.{fmt}"])
    assert_clean_exit(result)
    assert result.stdout == ""
    assert result.stderr == f"Wrote rulebook.{fmt}\n"
    assert Path(f"rulebook.{fmt}").read_text(encoding="utf-8") == _explain(fmt)


def test_explain_reports_a_file_it_cannot_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["rules", "explain", "--rules", RULES, "-o", "missing/rulebook.md"])
    assert_clean_exit(result, 1)
    assert result.stderr == "Error: missing/rulebook.md: cannot write the file: No such file or directory.\n"


def test_explain_marks_a_draft(tmp_path):
    rules = write_rulebook(tmp_path / "rules", DRAFT)
    assert "| Approval | DRAFT, not approved |\n" in _explain("md", rules)
    page = _explain("html", rules)
    assert '<p class="draft">DRAFT: this rulebook is not approved.</p>' in page
    assert "<tr><th>Approval</th><td>DRAFT, not approved</td></tr>" in page


# --- rules test ------------------------------------------------------------------------

SHIPPED_TEST_FILES = sorted((RULES / "tests").glob("*.yaml"))


def _shipped_cases():
    for path in SHIPPED_TEST_FILES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            yield path, document.get("as_of", HEADER["effective_date"]), case


def test_the_shipped_rule_tests_pass_with_full_coverage(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli(["rules", "test", "--min-coverage", "100"])
    assert_clean_exit(result, 0)
    count = len(list(_shipped_cases()))
    lines = result.stdout.splitlines()
    assert len(lines) == count + 1
    assert all(line.startswith("PASS ") for line in lines[:-1])
    assert lines[-1] == (
        f"{count} cases: {count} passed, 0 failed. Coverage: {len(RULE_IDS)} of {len(RULE_IDS)} rules (100%)."
    )
    assert result.stderr == ""


def test_the_shipped_rule_tests_state_what_they_expect():
    """Every case has a name of its own and a recommendation; every finding
    names its expected handling and rule; every file says what it covers."""
    names = [case["name"] for _, _, case in _shipped_cases()]
    assert len(names) == len(set(names))
    for path, _, case in _shipped_cases():
        assert "recommendation" in case, (path.name, case["name"])
        for item in case["findings"]:
            assert {"handling", "rule"} <= set(item), (path.name, case["name"])
    for path in SHIPPED_TEST_FILES:
        assert path.read_text(encoding="utf-8").startswith("# "), path.name


def test_the_shipped_rule_tests_cover_the_legal_corner_cases():
    findings = [(case, item) for _, _, case in _shipped_cases() for item in case["findings"]]
    dispositions = {item.get("disposition", "confirmed") for _, item in findings}
    assert dispositions == set(DISPOSITIONS)
    assert {"position", "risk_level"} <= {key for case, _ in findings for key in case}
    # Relevance none at every severity.
    assert {item["severity"] for _, item in findings if item.get("relevance") == "none"} == set(SEVERITIES)
    # A disputed record at a critical-risk position is still excluded.
    assert any(
        case.get("risk_level") == "critical" and item.get("disposition") == "disputed"
        and item["handling"] == "excluded" for case, item in findings
    )
    # A serious direct pending charge is capped, never escalated.
    pending = [item for _, item in findings if item.get("disposition") == "pending"]
    assert any(item["rule"] == "PEND-CAP" for item in pending)
    assert all(item["handling"] != "escalate" for item in pending)


def _lookback_years(position: str, category: str) -> int | None:
    for row in read_csv(TABLES / "relevance.csv"):
        if (row["position_id"], row["category"]) == (position, category):
            return int(row["lookback_years"]) if row["lookback_years"] else None
    raise LookupError((position, category))


def test_the_shipped_rule_tests_check_the_lookback_boundary_on_the_exact_day():
    """Position cases with a record exactly N years old (inside) and one a
    day older (outside), N being the table's lookback for the category."""
    boundaries = set()
    for _, as_of, case in _shipped_cases():
        if "position" not in case:
            continue
        as_of = dt.date.fromisoformat(as_of)
        for item in case["findings"]:
            years = _lookback_years(case["position"], item["category"])
            if years is None:
                continue
            occurred = dt.date.fromisoformat(item["occurred_on"])
            try:
                cutoff = as_of.replace(year=as_of.year - years)
            except ValueError:  # 29 February, N years before a leap day
                cutoff = as_of.replace(year=as_of.year - years, day=28)
            if occurred == cutoff:
                assert item["handling"] != "not_relevant", case["name"]
                boundaries.add(("inside", case["position"], item["category"]))
            if occurred == cutoff - dt.timedelta(days=1):
                assert item["rule"] == "NR-OUTSIDE-LOOKBACK", case["name"]
                boundaries.add(("outside", case["position"], item["category"]))
    inside = {key[1:] for key in boundaries if key[0] == "inside"}
    outside = {key[1:] for key in boundaries if key[0] == "outside"}
    assert len(inside & outside) >= 4


def _rule_test_folder(tmp_path, monkeypatch, tests: dict[str, str], rulebook: str = SHIPPED_RULEBOOK):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), rulebook)
    if tests:
        Path("rules/tests").mkdir()
    for name, text in tests.items():
        Path("rules/tests", name).write_text(text, encoding="utf-8")


def _rules_test(*extra):
    return run_cli(["rules", "test", "--rules", "rules", "--tables", TABLES, *extra])


FAILING_CASES = """\
cases:
  - name: A minor traffic accident is only noted for a high-risk position
    risk_level: high
    findings:
      - category: traffic_violation
        severity: minor
        relevance: direct
        handling: note
    recommendation: proceed

  - name: The right handling from the wrong rule
    risk_level: high
    findings:
      - category: traffic_violation
        severity: minor
        relevance: direct
        handling: review
        rule: NOTE-DIRECT-MINOR

  - name: A sealed record is excluded
    risk_level: high
    findings:
      - category: traffic_violation
        severity: severe
        disposition: sealed
        relevance: direct
        handling: excluded
        rule: EXCL-SEALED
"""


def test_a_failing_case_prints_fail_and_why(tmp_path, monkeypatch):
    _rule_test_folder(tmp_path, monkeypatch, {"failing.yaml": FAILING_CASES})
    result = _rules_test()
    assert_clean_exit(result, 1)
    assert result.stdout == (
        "FAIL failing.yaml:2 A minor traffic accident is only noted for a high-risk position\n"
        "     finding 1 (line 5): expected note, got review (rule REV-DIRECT-MINOR-HIGH-RISK).\n"
        "     expected recommendation proceed, got review.\n"
        "FAIL failing.yaml:11 The right handling from the wrong rule\n"
        "     finding 1 (line 14): expected rule NOTE-DIRECT-MINOR, got review (rule REV-DIRECT-MINOR-HIGH-RISK).\n"
        "PASS failing.yaml:20 A sealed record is excluded\n"
        "3 cases: 1 passed, 2 failed. Coverage: 2 of 22 rules (9%).\n"
        "Rules no case exercises: EXCL-JUVENILE, EXCL-CIVIL-PLAINTIFF, EXCL-NOT-CONVICTED, EXCL-DISPUTED, "
        "EXCL-DIVERSION, REV-CONDUCT-ESTABLISHED, EXCL-NY-NOT-CONVICTED, REV-NY-CERTIFICATE, "
        "REV-IL-CONVICTION, NR-CN-INDIRECT-MINOR, EXCL-CA-NOT-CONVICTED, EXCL-CA-MARIJUANA-TWO-YEARS, NR-NOT-JOB-RELATED, NR-OUTSIDE-LOOKBACK, PEND-CAP, DEFER-CAP, "
        "ESC-DIRECT-SERIOUS, REV-INDIRECT-SERIOUS, NOTE-DIRECT-MINOR, NOTE-INDIRECT-MINOR.\n"
    )
    assert result.stderr == "Error: 2 rule test cases failed.\n"


def test_coverage_below_the_minimum_fails(tmp_path, monkeypatch):
    reference = (RULES / "tests" / "reference_cases.yaml").read_text(encoding="utf-8")
    _rule_test_folder(tmp_path, monkeypatch, {"reference_cases.yaml": reference})
    result = _rules_test("--min-coverage", "50")
    assert_clean_exit(result, 1)
    assert result.stdout.endswith(
        "3 cases: 3 passed, 0 failed. Coverage: 3 of 22 rules (13%).\n"
        "Rules no case exercises: EXCL-JUVENILE, EXCL-CIVIL-PLAINTIFF, EXCL-SEALED, EXCL-NOT-CONVICTED, "
        "EXCL-DISPUTED, EXCL-DIVERSION, REV-CONDUCT-ESTABLISHED, EXCL-NY-NOT-CONVICTED, REV-NY-CERTIFICATE, "
        "REV-IL-CONVICTION, NR-CN-INDIRECT-MINOR, EXCL-CA-NOT-CONVICTED, EXCL-CA-MARIJUANA-TWO-YEARS, "
        "NR-OUTSIDE-LOOKBACK, DEFER-CAP, "
        "ESC-DIRECT-SERIOUS, REV-INDIRECT-SERIOUS, NOTE-DIRECT-MINOR, NOTE-INDIRECT-MINOR.\n"
    )
    assert result.stderr == "Error: coverage 13.6% is below --min-coverage 50%.\n"
    # 3 of 22 rules is 13.636%: a minimum of 13.63 is met, one of 13.64 is
    # not, and the message does not round it up to 13.7.
    assert_clean_exit(_rules_test("--min-coverage", "13.63"), 0)
    above = _rules_test("--min-coverage", "13.64")
    assert_clean_exit(above, 1)
    assert above.stderr == "Error: coverage 13.6% is below --min-coverage 13.64%.\n"


TWELVE_OF_THIRTEEN = """\
cases:
  - name: Twelve rules at high and medium risk
    risk_level: high
    findings:
      - {category: offense_drug, severity: severe, disposition: diversion, relevance: direct, handling: excluded}
      - {category: offense_drug, severity: severe, disposition: deferred, relevance: direct, handling: review}
      - {category: offense_drug, severity: severe, disposition: sealed, relevance: direct, handling: excluded}
      - {category: offense_drug, severity: severe, disposition: not_convicted, relevance: direct, handling: excluded}
      - {category: offense_drug, severity: severe, disposition: disputed, relevance: direct, handling: excluded}
      - {category: offense_drug, severity: severe, relevance: none, handling: not_relevant}
      - {category: offense_drug, severity: severe, relevance: direct, lookback: outside, handling: not_relevant}
      - {category: offense_drug, severity: severe, relevance: direct, handling: escalate}
      - {category: offense_drug, severity: severe, relevance: indirect, handling: review}
      - {category: offense_drug, severity: minor, relevance: direct, handling: review}
      - {category: offense_drug, severity: minor, relevance: indirect, handling: note}
  - name: The note for a medium-risk position
    risk_level: medium
    findings:
      - {category: offense_drug, severity: minor, relevance: direct, handling: note}
"""


# The shipped rulebook without its three rules on the facts and its rules for
# California: 13 rules.
WITHOUT_FACT_RULES = delete_rule("EXCL-CA-MARIJUANA-TWO-YEARS", delete_rule("EXCL-CA-NOT-CONVICTED", delete_rule(
    "EXCL-JUVENILE", delete_rule("EXCL-CIVIL-PLAINTIFF", delete_rule("REV-CONDUCT-ESTABLISHED", PRE_PACKS))
)))


def test_the_coverage_message_never_rounds_up_to_the_minimum(tmp_path, monkeypatch):
    _rule_test_folder(tmp_path, monkeypatch, {"twelve.yaml": TWELVE_OF_THIRTEEN}, WITHOUT_FACT_RULES)
    # 12 of 13 rules is 92.3%.
    result = _rules_test("--min-coverage", "92.5")
    assert_clean_exit(result, 1)
    assert "Coverage: 12 of 13 rules" in result.stdout
    shown = float(re.search(r"coverage ([\d.]+)% is below", result.stderr).group(1))
    assert shown < 92.5


def _broken_test_files():
    """(id, test file text, the marker of the line named, expected message)."""
    text = FAILING_CASES.replace("    recommendation: proceed\n", "    recomendation: proceed\n")
    yield "unknown key in a case", text, "    recomendation: proceed", (
        "unknown key 'recomendation' in a case; allowed keys: 'name', 'position', 'risk_level', 'work_location', 'findings' "
        "or 'recommendation'. Did you mean 'recommendation'?"
    )
    text = FAILING_CASES.replace("        disposition: sealed\n", "        dispositon: sealed\n")
    yield "unknown key in a finding", text, "        dispositon: sealed", (
        "unknown key 'dispositon' in a finding; allowed keys: 'category', 'severity', 'disposition', "
        "'occurred_on', 'relevance', 'lookback', 'handling', 'rule', 'party_role', 'juvenile', 'relief', 'conduct_established', 'disposition_date' or 'years_since'. "
        "Did you mean 'disposition'?"
    )
    text = "as-of: \"2026-11-01\"\n" + FAILING_CASES
    yield "unknown key in the file", text, 'as-of: "2026-11-01"', (
        "unknown key 'as-of' in the file; allowed keys: 'as_of' or 'cases'. Did you mean 'as_of'?"
    )
    text = FAILING_CASES.replace(
        "  - name: The right handling from the wrong rule\n    risk_level: high\n",
        "  - name: The right handling from the wrong rule\n    position: van_driver\n    risk_level: high\n",
    )
    yield "both a position and a risk level", text, "  - name: The right handling from the wrong rule", (
        "a case names either a 'position' (from the tables) or a 'risk_level' (with each finding's "
        "'relevance'), not both and not neither."
    )
    text = FAILING_CASES.replace("    risk_level: high\n", "", 1)
    yield "neither a position nor a risk level", text, (
        "  - name: A minor traffic accident is only noted for a high-risk position"
    ), (
        "a case names either a 'position' (from the tables) or a 'risk_level' (with each finding's "
        "'relevance'), not both and not neither."
    )
    positions = [row["position_id"] for row in read_csv(TABLES / "positions.csv")]
    position_case = (
        "cases:\n"
        "  - name: A van driver's recent accident\n"
        "    position: van_driver\n"
        "    findings:\n"
        "      - category: traffic_violation\n"
        "        severity: minor\n"
        "        occurred_on: \"2026-04-22\"\n"
        "        handling: review\n"
    )
    text = position_case.replace("position: van_driver", "position: van-driver")
    yield "unknown position", text, "    position: van-driver", (
        "unknown position 'van-driver'; allowed: " + ", ".join(f"'{p}'" for p in positions[:-1])
        + f" or '{positions[-1]}'. Did you mean 'van_driver'?"
    )
    text = position_case.replace("        occurred_on: \"2026-04-22\"\n", "")
    yield "position case without occurred_on", text, "      - category: traffic_violation", (
        "a finding of a case with a position needs 'occurred_on'; write dates as YYYY-MM-DD, for example "
        "2026-03-31."
    )
    text = position_case.replace("        occurred_on: \"2026-04-22\"\n", "        occurred_on: \"22/04/2026\"\n")
    yield "position case with a date not written YYYY-MM-DD", text, '        occurred_on: "22/04/2026"', (
        "a finding of a case with a position needs 'occurred_on'; write dates as YYYY-MM-DD, for example "
        "2026-03-31."
    )
    text = position_case.replace("        severity: minor\n", "        severity: minor\n        relevance: direct\n")
    yield "relevance in a position case", text, "        relevance: direct", (
        "'relevance' comes from the position's table row; with a 'position', give 'occurred_on' instead."
    )
    text = FAILING_CASES.replace(
        "        rule: NOTE-DIRECT-MINOR\n", "        rule: NOTE-DIRECT-MINOR\n        occurred_on: \"2026-01-01\"\n"
    )
    yield "occurred_on in a risk level case", text, '        occurred_on: "2026-01-01"', (
        "'occurred_on' needs a position's lookback; with a 'risk_level', give 'lookback: inside' or "
        "'lookback: outside'."
    )
    text = FAILING_CASES.replace("        rule: NOTE-DIRECT-MINOR\n", "        rule: NOTE-DIRECT-MINR\n")
    yield "unknown rule", text, "        rule: NOTE-DIRECT-MINR", (
        "unknown rule 'NOTE-DIRECT-MINR'; allowed: " + ", ".join(f"'{r}'" for r in RULE_IDS)
        + " or 'NO-RULE'. Did you mean 'NOTE-DIRECT-MINOR'?"
    )
    text = FAILING_CASES.replace("        handling: excluded\n", "        handling: exclude\n")
    yield "unknown handling", text, "        handling: exclude", (
        "unknown handling 'exclude'; allowed: 'excluded', 'not_relevant', 'note', 'review' or 'escalate'. "
        "Did you mean 'excluded'?"
    )
    text = FAILING_CASES.replace("    recommendation: proceed\n", "    recommendation: hire\n")
    yield "unknown recommendation", text, "    recommendation: hire", (
        "unknown recommendation 'hire'; allowed: 'proceed', 'proceed_with_note', 'review', 'on_hold', 'escalate' or "
        "'not_evaluated'."
    )
    text = "as_of: \"2026-13-01\"\n" + FAILING_CASES
    yield "as_of that is not a date", text, 'as_of: "2026-13-01"', (
        "'as_of' must be a date, not '2026-13-01'; write dates as YYYY-MM-DD, for example 2026-03-31."
    )
    yield "no list of cases", "- name: a case outside 'cases'\n", "- name: a case outside 'cases'", (
        "a rule test file is a mapping with a list under 'cases'."
    )


BROKEN_TEST_FILES = list(_broken_test_files())


@pytest.mark.parametrize(
    ("text", "marker", "message"), [case[1:] for case in BROKEN_TEST_FILES], ids=[case[0] for case in BROKEN_TEST_FILES]
)
def test_a_broken_rule_test_file_names_the_file_and_line(tmp_path, monkeypatch, text, marker, message):
    _rule_test_folder(tmp_path, monkeypatch, {"broken.yaml": text})
    result = _rules_test()
    assert_clean_exit(result, 1)
    line = line_number(text, marker)
    assert result.stderr == f"Error: The rule test folder has 1 problem:\n  rules/tests/broken.yaml:{line}: {message}\n"
    assert result.stdout == ""


def test_rules_test_without_a_tests_folder(tmp_path, monkeypatch):
    _rule_test_folder(tmp_path, monkeypatch, {})
    result = _rules_test()
    assert_clean_exit(result, 1)
    assert result.stderr == (
        "Error: no rule tests found: put *.yaml files in rules/tests (see docs/rule-tests.md).\n"
    )
    assert result.stdout == ""


def test_a_case_can_expect_that_no_rule_covers_a_finding(tmp_path, monkeypatch):
    tests = (
        "cases:\n"
        "  - name: Without NOTE-INDIRECT-MINOR a minor indirect record is covered by no rule\n"
        "    risk_level: low\n"
        "    findings:\n"
        "      - category: employment_discrepancy\n"
        "        severity: minor\n"
        "        relevance: indirect\n"
        "        handling: review\n"
        "        rule: NO-RULE\n"
        "    recommendation: review\n"
    )
    _rule_test_folder(tmp_path, monkeypatch, {"gap.yaml": tests}, delete_rule("NOTE-INDIRECT-MINOR"))
    result = _rules_test()
    assert_clean_exit(result, 0)
    assert result.stdout.startswith(
        "PASS gap.yaml:2 Without NOTE-INDIRECT-MINOR a minor indirect record is covered by no rule\n"
    )


def test_a_position_written_as_a_list_is_an_error_naming_the_line(tmp_path, monkeypatch):
    text = (
        "cases:\n"
        "  - name: A position written as a list\n"
        "    position: [van_driver]\n"
        "    findings:\n"
        "      - category: traffic_violation\n"
        "        severity: minor\n"
        "        occurred_on: \"2026-04-22\"\n"
        "        handling: review\n"
    )
    _rule_test_folder(tmp_path, monkeypatch, {"broken.yaml": text})
    result = _rules_test()
    assert_clean_exit(result, 1)
    assert result.stderr.startswith("Error: The rule test folder has 1 problem:\n  rules/tests/broken.yaml:3: ")


def test_a_finding_without_severity_says_the_severity_is_missing(tmp_path, monkeypatch):
    text = FAILING_CASES.replace("        severity: severe\n", "")
    _rule_test_folder(tmp_path, monkeypatch, {"broken.yaml": text})
    result = _rules_test()
    assert_clean_exit(result, 1)
    assert result.stderr.startswith(
        f"Error: The rule test folder has 1 problem:\n  rules/tests/broken.yaml:"
        f"{line_number(text, '      - category: traffic_violation', 3)}: "
    )
    assert "'severity'" in result.stderr
    assert "None" not in result.stderr


def test_a_finding_dated_after_the_evaluation_date_is_an_error(tmp_path, monkeypatch):
    text = (
        "as_of: \"2026-11-01\"\n"
        "cases:\n"
        "  - name: An accident that has not happened yet\n"
        "    position: van_driver\n"
        "    findings:\n"
        "      - category: traffic_violation\n"
        "        severity: minor\n"
        "        occurred_on: \"2027-01-15\"\n"
        "        handling: review\n"
    )
    _rule_test_folder(tmp_path, monkeypatch, {"future.yaml": text})
    result = _rules_test()
    assert_clean_exit(result, 1)
    assert result.stderr.startswith("Error: The rule test folder has 1 problem:\n  rules/tests/future.yaml:8: ")


# --- rules diff --------------------------------------------------------------------------


def _diff(tmp_path, monkeypatch, old: str, new: str, *extra):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("old"), old)
    write_rulebook(Path("new"), new)
    return run_cli(["rules", "diff", "old", "new", "--tables", TABLES, *extra])


def test_diff_of_identical_rulebooks(tmp_path, monkeypatch):
    result = _diff(tmp_path, monkeypatch, SHIPPED_RULEBOOK, SHIPPED_RULEBOOK)
    assert_clean_exit(result)
    assert result.stdout == (
        "From version 1.5.0 (old) to version 1.5.0 (new):\n"
        "No rule was added, removed or changed.\n"
        "No cell of the adjudication matrix changes.\n"
    )
    assert result.stderr == ""


def test_diff_names_a_withdraw_that_follows_a_review(tmp_path, monkeypatch):
    without = edit_rule("REV-IL-CONVICTION", "    withdraw_follows_review: true\n", "")
    result = _diff(tmp_path, monkeypatch, without, SHIPPED_RULEBOOK)
    assert_clean_exit(result)
    assert "REV-IL-CONVICTION" in result.stdout
    assert "a withdraw after review now follows the rule (it is no longer an override)" in result.stdout
    # A change of what is an override changes no recommendation.
    assert "No cell of the adjudication matrix changes." in result.stdout
    (tmp_path / "back").mkdir()
    back = _diff(tmp_path / "back", monkeypatch, SHIPPED_RULEBOOK, without)
    assert "a withdraw after review is again an override of the rule" in back.stdout


NOTE_TO_REVIEW = edit_rule("NOTE-INDIRECT-MINOR", "    handling: note\n", "    handling: review\n", PRE_PACKS).replace(
    'version: "1.5.0"', 'version: "1.6.0"'
)


def _recommendations(tmp_path, rules: Path) -> dict[str, tuple[str, str]]:
    out = tmp_path / f"evaluated-{rules.name}"
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out, rules=rules, as_of=AS_OF_TEXT))
    assert_clean_exit(result)
    return {row["candidate_id"]: (row["position_id"], row["recommendation"]) for row in read_csv(out / "decisions.csv")}


def test_diff_of_a_changed_handling_lists_the_rule_the_cells_and_the_candidates(tmp_path, monkeypatch):
    result = _diff(
        tmp_path, monkeypatch, PRE_PACKS, NOTE_TO_REVIEW,
        "--batch", EXAMPLE_BATCH, "--consents", EXAMPLE_CONSENTS, "--as-of", AS_OF_TEXT,
    )
    assert_clean_exit(result)
    lines = result.stdout.splitlines()
    # In US-CA, a confirmed marijuana record 2 years old or more stays
    # excluded (EXCL-CA-MARIJUANA-TWO-YEARS): the cells read as four groups.
    cells = "severity minor or moderate, disposition confirmed, pending or deferred, relevance indirect, any risk " \
        f"level, lookback inside{ORDINARY_FACTS}"
    change = "note (NOTE-INDIRECT-MINOR) -> review (NOTE-INDIRECT-MINOR)"
    others = [c for c in CATEGORIES if c != "offense_marijuana"]
    per_location = len(CATEGORIES) * 2 * 3 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF
    assert lines[:7] == [
        "From version 1.5.0 (old) to version 1.6.0 (new):",
        "~ rule NOTE-INDIRECT-MINOR: handling: note becomes review",
        "Matrix cells whose handling or deciding rule changes:",
        f"  any category, {cells}, years since the record under 2 ({per_location * LOCATIONS}): {change}",
        f"  any category, {cells}, work location elsewhere, years since the record 2 or more ({per_location}): "
        f"{change}",
        f"  any category, {cells.replace('confirmed, pending or deferred', 'pending or deferred')}, work location "
        f"US-CA, years since the record 2 or more ({per_location * 2 // 3}): {change}",
        f"  category {', '.join(others[:-1])} or {others[-1]}, "
        f"{cells.replace('confirmed, pending or deferred', 'confirmed')}, work location US-CA, years since the "
        f"record 2 or more ({len(others) * 2 * 4 * NEITHER_JUVENILE_NOR_PLAINTIFF}): {change}",
    ]
    # Reviewing minor indirect records while minor direct ones are noted is
    # itself inconsistent: the diff says so.
    assert lines[7] == "The new rulebook has 1 static-analysis error (adjudicate rules check --rules new):"
    assert lines[8].startswith("  monotonicity: raising relevance lowers the handling in 1528 combinations")

    # The impact, computed independently: evaluate the batch with each rulebook.
    before = _recommendations(tmp_path, tmp_path / "old")
    after = _recommendations(tmp_path, tmp_path / "new")
    changed = sorted(c for c in before if before[c][1] != after[c][1])
    assert changed  # the example batch has minor indirect records
    assert lines[9:] == [f"Candidates of batch.csv whose recommendation would change: {len(changed)}"] + [
        f"  {c} ({after[c][0]}): {before[c][1]} -> {after[c][1]}" for c in changed
    ]
    assert result.stderr == ""


def test_diff_of_an_added_and_a_removed_rule(tmp_path, monkeypatch):
    new = add_rule("""
  - id: REV-DISPUTED
    title: A disputed record goes to review
    when:
      disposition: disputed
    handling: review
    precedence: 10
    rationale: >-
      A disputed record is reviewed by a person who hears the candidate's
      account of the dispute before anything is decided.
    legal_basis:
      - US Fair Credit Reporting Act §611
""", delete_rule("EXCL-DISPUTED", PRE_PACKS))
    result = _diff(tmp_path, monkeypatch, PRE_PACKS, new)
    assert_clean_exit(result)
    assert result.stdout == (
        "From version 1.5.0 (old) to version 1.5.0 (new):\n"
        "+ rule REV-DISPUTED added: A disputed record goes to review (review, precedence 10)\n"
        "- rule EXCL-DISPUTED removed: A record the candidate disputes is not used until the dispute is resolved\n"
        "Matrix cells whose handling or deciding rule changes:\n"
        f"  any category, any severity, disposition disputed, any relevance, any risk level, any lookback"
        f"{ORDINARY_FACTS} ({len(CATEGORIES) * 4 * 3 * 4 * 2 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES}): "
        "excluded (EXCL-DISPUTED) -> review (REV-DISPUTED)\n"
    )


def test_diff_says_in_words_what_changed_in_a_rule(tmp_path, monkeypatch):
    new = edit_rule(
        "EXCL-DISPUTED",
        "    title: A record the candidate disputes is not used until the dispute is resolved\n",
        "    title: A disputed record is not used while the dispute is open\n",
        PRE_PACKS,
    )
    new = edit_rule("EXCL-DISPUTED", "    precedence: 10\n", "    precedence: 15\n", new)
    new = edit_rule("EXCL-DISPUTED", "      confirmed disposition.\n", "      confirmed disposition by the source.\n", new)
    new = edit_rule(
        "EXCL-DISPUTED",
        "        - PRC Personal Information Protection Law Art. 46 (the right to have inaccurate or incomplete "
        "information corrected or completed)\n",
        "        - UK GDPR Art. 16 (the right to rectification)\n",
        new,
    )
    new = edit_rule("EXCL-SEALED", "      disposition: sealed\n", "      disposition: [sealed, disputed]\n", new)
    result = _diff(tmp_path, monkeypatch, PRE_PACKS, new)
    assert_clean_exit(result)
    assert result.stdout == (
        "From version 1.5.0 (old) to version 1.5.0 (new):\n"
        "~ rule EXCL-DISPUTED: title: 'A record the candidate disputes is not used until the dispute is "
        "resolved' becomes 'A disputed record is not used while the dispute is open'\n"
        "~ rule EXCL-DISPUTED: precedence: 10 becomes 15\n"
        "~ rule EXCL-DISPUTED: rationale rewritten\n"
        "~ rule EXCL-DISPUTED: legal basis added: UK GDPR Art. 16 (the right to rectification)\n"
        "~ rule EXCL-DISPUTED: legal basis removed: PRC Personal Information Protection Law Art. 46 (the right "
        "to have inaccurate or incomplete information corrected or completed)\n"
        "~ rule EXCL-SEALED: applies when: 'disposition is sealed' becomes 'disposition is sealed or disputed'\n"
        "Matrix cells whose handling or deciding rule changes:\n"
        f"  any category, any severity, disposition disputed, any relevance, any risk level, any lookback"
        f"{ORDINARY_FACTS} ({len(CATEGORIES) * 4 * 3 * 4 * 2 * NEITHER_JUVENILE_NOR_PLAINTIFF * LOCATIONS * AGES}): "
        "excluded (EXCL-DISPUTED) -> excluded (EXCL-SEALED)\n"
        # EXCL-DISPUTED now never decides: EXCL-SEALED (precedence 10) takes every disputed record that the
        # exclusions on the facts (precedence 5) do not take first.
        "The new rulebook has 1 static-analysis error (adjudicate rules check --rules new):\n"
        "  masked rule: rule EXCL-DISPUTED never decides a finding: every combination it matches is decided by "
        "a rule of lower precedence (EXCL-CIVIL-PLAINTIFF, EXCL-JUVENILE, EXCL-SEALED). Remove it, or change its "
        "conditions.\n"
    )


@pytest.mark.parametrize("option", ["--batch", "--consents"])
def test_diff_needs_both_batch_and_consents(tmp_path, monkeypatch, option):
    path = EXAMPLE_BATCH if option == "--batch" else EXAMPLE_CONSENTS
    result = _diff(tmp_path, monkeypatch, SHIPPED_RULEBOOK, NOTE_TO_REVIEW, option, path)
    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Usage: adjudicate rules diff [OPTIONS] OLD NEW\n"
        "Try 'adjudicate rules diff --help' for help.\n"
        "\n"
        "Error: --batch and --consents go together.\n"
    )
    assert result.stdout == ""


# --- approval --------------------------------------------------------------------------


def test_evaluate_refuses_a_draft_rulebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("draft"), DRAFT)
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "out", rules="draft"))
    assert_clean_exit(result, 2)
    assert result.stderr == (
        "Error: draft/rulebook.yaml: rulebook version 1.6.0 is a draft: it has no 'approved_by' and "
        "'approved_on'. Decisions may rest only on an approved rulebook; to try a draft, pass --allow-draft, "
        "and every output is marked DRAFT.\n"
    )
    assert result.stdout == ""
    assert not Path("out").exists()


def test_a_draft_evaluated_with_allow_draft_marks_every_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("draft"), DRAFT)
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, "out", rules="draft") + ["--allow-draft"])
    assert_clean_exit(result)
    assert result.stderr.startswith("Warning: rulebook version 1.6.0 is a DRAFT; every output is marked so.\n")

    decisions = read_csv(Path("out/decisions.csv"))
    assert decisions and {row["rulebook_version"] for row in decisions} == {"1.6.0 DRAFT"}
    banner = "**DRAFT: rulebook version 1.6.0 is not approved. This memo may not be used for a decision.**"
    for row in decisions:
        memo = Path("out", row["memo"]).read_text(encoding="utf-8")
        assert memo.startswith(f"# DRAFT Decision memo: candidate {row['candidate_id']}\n"), row["candidate_id"]
        assert banner in memo
        page = Path("out", row["memo"]).with_suffix(".html").read_text(encoding="utf-8")
        assert f"<h1>DRAFT Decision memo: candidate {row['candidate_id']}</h1>" in page
        assert '<p class="draft">DRAFT: rulebook version 1.6.0 is not approved.' in page
    manifest = json.loads(Path("out/batch.json").read_text(encoding="utf-8"))
    assert manifest["rulebook"]["status"] == "draft"
    assert manifest["rulebook"]["version"] == "1.6.0"
    assert (manifest["rulebook"]["approved_by"], manifest["rulebook"]["approved_on"]) == (None, None)
    assert manifest["rulebook"]["sha256"] == hashlib.sha256(Path("draft/rulebook.yaml").read_bytes()).hexdigest()


def test_an_approved_rulebook_marks_nothing_draft(tmp_path):
    result = run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, tmp_path / "out") + ["--allow-draft"])
    assert_clean_exit(result)
    assert "DRAFT" not in result.stderr
    decisions = read_csv(tmp_path / "out/decisions.csv")
    assert {row["rulebook_version"] for row in decisions} == {HEADER["version"]}
    for row in decisions:
        assert (tmp_path / "out" / row["memo"]).read_text(encoding="utf-8").startswith("# Decision memo: ")
    manifest = json.loads((tmp_path / "out/batch.json").read_text(encoding="utf-8"))
    assert manifest["rulebook"] | {"sha256": None} == {
        "name": HEADER["name"], "version": HEADER["version"], "effective_date": HEADER["effective_date"],
        "status": "approved", "approved_by": HEADER["approved_by"], "approved_on": HEADER["approved_on"],
        "sha256": None,
    }
    assert manifest["rulebook"]["sha256"] == hashlib.sha256((RULES / "rulebook.yaml").read_bytes()).hexdigest()


@pytest.mark.parametrize("kept", ["approved_by", "approved_on"])
def test_an_approval_with_only_one_of_its_two_keys_is_an_error(tmp_path, monkeypatch, kept):
    text = SHIPPED_RULEBOOK.replace(APPROVED_ON if kept == "approved_by" else APPROVED_BY, "")
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), text)
    result = run_cli(["rules", "check", "--rules", "rules", "--tables", TABLES])
    assert_clean_exit(result, 1)
    # The message points at the key that is there.
    kept_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(f"  {kept}: "))
    assert result.stderr == (
        "Error: The rulebook rules/rulebook.yaml has 1 problem:\n"
        f"  rules/rulebook.yaml:{kept_line}: an approval needs both 'approved_by' and 'approved_on'; a rulebook "
        "without either is a draft.\n"
    )


def test_rules_check_says_a_rulebook_is_a_draft(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), DRAFT)
    result = run_cli(["rules", "check", "--rules", "rules", "--tables", TABLES])
    assert_clean_exit(result)
    assert result.stdout.splitlines()[0] == (
        f"Rulebook rules/rulebook.yaml: {HEADER['name']}, version 1.6.0 (DRAFT, not approved), "
        f"{len(RULE_IDS)} rules, {len(CATEGORIES)} categories."
    )


def test_diff_warns_when_the_content_changed_under_the_same_version(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("old"), SHIPPED_RULEBOOK)
    write_rulebook(Path("new"), edit_rule("PEND-CAP", "precedence: 30", "precedence: 31"))
    result = run_cli(["rules", "diff", "old", "new"])
    assert_clean_exit(result)
    assert result.stderr.startswith(
        "Warning: the rulebook changed but its version is still 1.5.0; give the new rulebook a version of its own"
    )
    assert "~ rule PEND-CAP: precedence: 30 becomes 31" in result.stdout
    same = run_cli(["rules", "diff", "old", "old"])
    assert_clean_exit(same)
    assert same.stderr == ""
