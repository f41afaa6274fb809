"""The Chinese beside the English in the rulebook and the position tables.

The rulebook carries a ``zh:`` mapping in its header (``name``), in each
category (``label``, ``description``) and in each rule (``title``,
``rationale``); positions.csv has the optional columns ``title_zh`` and
``duties_zh``, relevance.csv ``rationale_zh``. They are loaded strictly; a
text without its Chinese is printed in English in a Chinese document, and
``rules check`` / ``tables check`` warn about it with its file, line and
rule id or column.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from conftest import (
    AS_OF, RULES, SHIPPED_RULEBOOK, TABLES, assert_clean_exit, consent, edit_rule, finding, line_number,
    run_cli, write_batch, write_consents, write_rulebook,
)
from engine.documents.memos import render_memo
from engine.evaluation.judging import _position_content, evaluate_files
from engine.rulebook.model import load_rulebook
from engine.rulebook.tables import load_tables

F = "rules/rulebook.yaml"


def _check_rules(tmp_path, monkeypatch, text, tables=TABLES):
    monkeypatch.chdir(tmp_path)
    write_rulebook(Path("rules"), text)
    return run_cli(["rules", "check", "--rules", "rules", "--tables", tables])


# --- the shipped files ----------------------------------------------------------


def test_the_shipped_rulebook_and_tables_have_every_chinese_text():
    rulebook = load_rulebook(RULES)
    tables = load_tables(TABLES, rulebook)
    assert rulebook.untranslated == () and tables.untranslated == ()
    assert rulebook.name_zh and all(c.label_zh and c.description_zh for c in rulebook.categories.values())
    assert all(rule.title_zh and rule.rationale_zh for rule in rulebook.rules)
    assert all(p.title_zh and p.duties_zh for p in tables.positions.values())
    assert all(entry.rationale_zh for entry in tables.relevance.values())


def test_rules_check_and_tables_check_are_clean_on_the_shipped_files():
    for args in (["rules", "check", "--rules", RULES, "--tables", TABLES],
                 ["tables", "check", "--tables", TABLES, "--rules", RULES]):
        result = run_cli(args)
        assert_clean_exit(result)
        assert "warning" not in result.stderr, args


def _line_in_rule(text: str, rule_id: str, marker: str) -> int:
    """The 1-based line of the first line equal to ``marker`` in rule ``rule_id``."""
    start = text.index(f"  - id: {rule_id}\n")
    return text[:start].count("\n") + line_number(text[start:], marker)


def _pend_cap_plain() -> str:
    """The shipped rulebook with PEND-CAP citing two plain legal bases and
    no Chinese of them, for the tests that write that Chinese."""
    text = SHIPPED_RULEBOOK
    start = text.index("  - id: PEND-CAP")
    end = text.index("  - id: DEFER-CAP")
    block = text[start:end]
    zh_bases = block.index("      legal_basis:\n")
    english = block.index("\n    legal_basis:\n") + 1
    block = (
        block[:zh_bases] + block[english:english + len("    legal_basis:\n")]
        + "      - EEOC Enforcement Guidance 915.002 (2012), Part V.B.9 (individualized assessment)\n"
        + "      - California Gov. Code §12952(c) (a reasoned, individualized assessment)\n\n"
    )
    return text[:start] + block + text[end:]


# --- loading the rulebook's zh: strictly ---------------------------------------------


def _broken_translations():
    """(id, YAML text, expected problem) for each way a zh: mapping can be wrong."""
    text = edit_rule("PEND-CAP", "    zh:\n      title:", "    zh:\n      titel:", _pend_cap_plain())
    yield "unknown key in a rule's zh", text, (
        f"{F}:{line_number(text, '      titel: ' + load_rulebook(RULES).rules_by_id['PEND-CAP'].title_zh)}: "
        "rule PEND-CAP: unknown key 'titel' in the 'zh' of the rule; allowed keys: 'title', 'rationale' or 'legal_basis'. "
        "Did you mean 'title'?"
    )
    text = SHIPPED_RULEBOOK.replace("      label: 信用记录\n", "      labels: 信用记录\n", 1)
    yield "unknown key in a category's zh", text, (
        f"{F}:{line_number(text, '      labels: 信用记录')}: unknown key 'labels' in the 'zh' of category "
        "'credit_record'; allowed keys: 'label' or 'description'. Did you mean 'label'?"
    )
    name_zh = load_rulebook(RULES).name_zh
    text = SHIPPED_RULEBOOK.replace(f"    name: {name_zh}\n", f"    title: {name_zh}\n", 1)
    yield "unknown key in the header's zh", text, (
        f"{F}:{line_number(text, f'    title: {name_zh}')}: unknown key 'title' in the 'zh' of the 'rulebook' "
        "header; allowed keys: 'name'."
    )
    title = load_rulebook(RULES).rules_by_id["EXCL-SEALED"].title_zh
    empty = '      title: "  "'
    text = edit_rule("EXCL-SEALED", f"      title: {title}\n", empty + "\n")
    yield "empty Chinese title", text, (
        f"{F}:{line_number(text, empty)}: rule EXCL-SEALED: 'title' in the 'zh' of the rule is empty; write it out."
    )
    text = edit_rule(
        "PEND-CAP", "    zh:\n      title:", "    zh:\n      legal_basis:\n        - 只有一项\n      title:", _pend_cap_plain(),
    )
    yield "a rule's zh legal bases not one for each", text, (
        f"{F}:{_line_in_rule(text, 'PEND-CAP', '      legal_basis:')}: rule PEND-CAP: 'legal_basis' in the 'zh' of the rule has "
        "1 item(s) but the English has 2 item(s); give the Chinese of each, in the same order and under the same "
        "work locations."
    )
    text = edit_rule("PEND-CAP", "    zh:\n      title:", "    zh:\n      legal_basis: 12\n      title:", _pend_cap_plain())
    yield "a rule's zh legal bases not a list", text, (
        f"{F}:{_line_in_rule(text, 'PEND-CAP', '      legal_basis: 12')}: rule PEND-CAP: "
        "'legal_basis' in the 'zh' of the rule must be a list of texts, or lists under the work locations of the "
        "English."
    )


BROKEN = list(_broken_translations())


def test_a_rule_cites_its_legal_bases_in_chinese_when_it_has_them(tmp_path):
    text = edit_rule(
        "PEND-CAP", "    zh:\n      title:",
        "    zh:\n      legal_basis:\n        - 《执法指南》第五部分B.9\n        - 《加利福尼亚州政府法典》第12952条(c)款\n      title:",
        _pend_cap_plain(),
    )
    write_rulebook(tmp_path / "rules", text)
    rule = load_rulebook(tmp_path / "rules").rules_by_id["PEND-CAP"]
    assert rule.legal_basis_in("zh") == ("《执法指南》第五部分B.9", "《加利福尼亚州政府法典》第12952条(c)款")
    assert rule.legal_basis_in("en") == rule.legal_basis
    assert rule.legal_basis[0].startswith("EEOC Enforcement Guidance 915.002")


@pytest.mark.parametrize(("text", "problem"), [(t, p) for _, t, p in BROKEN], ids=[case for case, _, _ in BROKEN])
def test_a_broken_zh_mapping_is_refused_with_file_line_and_rule(tmp_path, monkeypatch, text, problem):
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    assert result.stderr == f"Error: The rulebook {F} has 1 problem:\n  {problem}\n"


def test_a_zh_that_is_not_a_mapping_is_refused(tmp_path, monkeypatch):
    text = edit_rule("PEND-CAP", "    zh:\n      title:", "    zh: 中文\n    zh_old:\n      title:")
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result, 1)
    line = line_number(text, "    zh: 中文")
    assert (
        f"  {F}:{line}: rule PEND-CAP: 'zh' in the rule must map 'title' or 'rationale' to its Chinese text"
    ) in result.stderr
    assert f"  {F}:{line + 1}: rule PEND-CAP: unknown key 'zh_old' in the rule;" in result.stderr
    assert "Traceback" not in result.stderr


# --- warnings for a text without its Chinese ---------------------------------------------


def test_rules_check_warns_about_each_text_without_its_chinese(tmp_path, monkeypatch):
    rulebook = load_rulebook(RULES)
    rule = rulebook.rules_by_id["NR-OUTSIDE-LOOKBACK"]
    # A rule without any zh, a category without its Chinese description.
    start = SHIPPED_RULEBOOK.index("  - id: NR-OUTSIDE-LOOKBACK\n")
    block_start = SHIPPED_RULEBOOK.index("    zh:\n", start)
    block_end = SHIPPED_RULEBOOK.index("\n    legal_basis:\n", block_start) + 1
    text = SHIPPED_RULEBOOK[:block_start] + SHIPPED_RULEBOOK[block_end:]
    description = rulebook.categories["drug_test"].description_zh
    text = text.replace(f"      description: {description}\n", "", 1)
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result)  # warnings do not fail
    drug_test_zh = line_number(text, "      label: 药物检测") - 1
    assert result.stderr.splitlines() == [
        f"{F}:{drug_test_zh}: warning: translation: category 'drug_test' has no Chinese 'description' "
        "(write it under 'zh:', as 'description: ...'); a Chinese memo or notice prints the English instead.",
        f"{F}:{line_number(text, '  - id: NR-OUTSIDE-LOOKBACK')}: warning: translation: rule NR-OUTSIDE-LOOKBACK: "
        "the rule has no Chinese 'title', 'rationale' and 'legal_basis' (write it under 'zh:', as 'title: ...'); "
        "a Chinese "
        "memo or notice prints the English instead.",
    ]
    assert "Chinese: 2 texts of the rulebook without Chinese (warnings)." in result.stdout
    assert rule.title_zh not in text


def test_rules_check_warns_about_legal_bases_without_their_chinese(tmp_path, monkeypatch):
    # PEND-CAP keeps its Chinese title and rationale but loses the Chinese
    # of its legal bases: a Chinese memo would cite the law in English.
    start = SHIPPED_RULEBOOK.index("  - id: PEND-CAP\n")
    zh_bases = SHIPPED_RULEBOOK.index("      legal_basis:\n", start)
    english = SHIPPED_RULEBOOK.index("\n    legal_basis:\n", start) + 1
    text = SHIPPED_RULEBOOK[:zh_bases] + SHIPPED_RULEBOOK[english:]
    result = _check_rules(tmp_path, monkeypatch, text)
    assert_clean_exit(result)  # a warning does not fail
    assert result.stderr.splitlines() == [
        f"{F}:{text[:text.index('    zh:', start)].count(chr(10)) + 1}: warning: translation: rule PEND-CAP: "
        "the rule has no Chinese 'legal_basis' (write it under 'zh:', as 'legal_basis: ...'); a Chinese memo or "
        "notice prints the English instead.",
    ]
    assert "Chinese: 1 text of the rulebook without Chinese (warnings)." in result.stdout
    rule = load_rulebook(tmp_path / "rules").rules_by_id["PEND-CAP"]
    assert rule.legal_basis_zh == () and rule.legal_basis_in("zh", "CN-SH") == rule.legal_basis_in("en", "CN-SH")


def test_every_legal_basis_of_the_shipped_rulebook_has_its_chinese_for_every_place():
    for rule in load_rulebook(RULES).rules:
        assert len(rule.legal_basis_zh) == len(rule.legal_basis), rule.id
        for place in ("US", "US-CA", "US-NY-NYC", "US-IL", "CN-SH", ""):
            assert len(rule.legal_basis_in("zh", place)) == len(rule.legal_basis_in("en", place)), (rule.id, place)


def _tables_copy(tmp_path) -> Path:
    folder = tmp_path / "tables"
    shutil.copytree(TABLES, folder)
    return folder


def _rewrite(path: Path, change) -> None:
    """Apply ``change`` to each row (a dict) of a CSV file; a column whose
    value ``change`` sets to None is dropped from the file."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        change(row)
    columns = [column for column in rows[0] if rows[0][column] is not None]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_tables_check_warns_about_each_text_without_its_chinese(tmp_path, monkeypatch):
    folder = _tables_copy(tmp_path)

    def blank_nurse_title(row):
        if row["position_id"] == "nurse":
            row["title_zh"] = ""

    def blank_one_rationale(row):
        if (row["position_id"], row["category"]) == ("cashier", "credit_record"):
            row["rationale_zh"] = ""

    _rewrite(folder / "positions.csv", blank_nurse_title)
    _rewrite(folder / "relevance.csv", blank_one_rationale)
    nurse = 1 + [row["position_id"] for row in csv.DictReader((folder / "positions.csv").open())].index("nurse") + 1
    cashier = 1 + [
        (row["position_id"], row["category"]) for row in csv.DictReader((folder / "relevance.csv").open())
    ].index(("cashier", "credit_record")) + 1
    monkeypatch.chdir(tmp_path)
    result = run_cli(["tables", "check", "--tables", "tables", "--rules", RULES])
    assert_clean_exit(result)
    assert result.stderr.splitlines() == [
        f"tables/positions.csv:{nurse}: warning: translation: column 'title_zh': position 'nurse' has no Chinese "
        "title; a Chinese memo or notice prints the English instead.",
        f"tables/relevance.csv:{cashier}: warning: translation: column 'rationale_zh': 'cashier' / "
        "'credit_record' has no Chinese rationale; a Chinese memo or notice prints the English instead.",
    ]
    # rules check checks the tables too, and says the same.
    result = run_cli(["rules", "check", "--rules", RULES, "--tables", "tables"])
    assert_clean_exit(result)
    assert f"tables/positions.csv:{nurse}: warning: translation: column 'title_zh'" in result.stderr


def test_a_misspelt_chinese_column_is_refused(tmp_path, monkeypatch):
    folder = _tables_copy(tmp_path)
    text = (folder / "positions.csv").read_text(encoding="utf-8")
    (folder / "positions.csv").write_text(text.replace("duties_zh", "duties_hz", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli(["tables", "check", "--tables", "tables", "--rules", RULES])
    assert_clean_exit(result, 1)
    assert "unknown column 'duties_hz' in the positions table" in result.stderr
    assert "Did you mean 'duties_zh'?" in result.stderr


# --- the documents ---------------------------------------------------------------------


def _without_chinese_columns(tmp_path) -> Path:
    folder = _tables_copy(tmp_path)

    def drop(*columns):
        def change(row):
            for column in columns:
                row[column] = None
        return change

    _rewrite(folder / "positions.csv", drop("title_zh", "duties_zh"))
    _rewrite(folder / "relevance.csv", drop("rationale_zh"))
    return folder


ROWS = [finding("C-1", "van_driver", "F-1", "offense_driving", "serious", "2023-08-12", disposition="confirmed")]


def _evaluate(tmp_path, rules=RULES, tables=TABLES):
    batch = write_batch(tmp_path / "batch.csv", ROWS)
    consents = write_consents(tmp_path / "consents.csv", [consent("C-1")])
    return evaluate_files(batch, consents, rules=rules, tables=tables, as_of=AS_OF)


def test_a_chinese_memo_prints_the_chinese_and_an_english_one_the_english(tmp_path):
    result = _evaluate(tmp_path)
    decision = result.decisions[0]
    rule = result.rulebook.rules_by_id["ESC-DIRECT-SERIOUS"]
    position = result.tables.positions["van_driver"]
    entry = result.tables.entry("van_driver", "offense_driving")
    zh, _ = render_memo(result, decision, lang="zh")
    en, _ = render_memo(result, decision, lang="en")
    for text in (rule.title_zh, rule.rationale_zh, position.title_zh, position.duties_zh, entry.rationale_zh,
                 result.rulebook.name_zh, result.rulebook.categories["offense_driving"].label_zh):
        assert text in zh and text not in en
    for text in (rule.title, rule.rationale, position.title, position.duties, entry.rationale, result.rulebook.name):
        assert text in en and text not in zh


def test_a_text_without_its_chinese_is_printed_in_english(tmp_path):
    folder = _without_chinese_columns(tmp_path)
    title = load_rulebook(RULES).rules_by_id["ESC-DIRECT-SERIOUS"].title_zh
    rules = write_rulebook(tmp_path / "rules", edit_rule("ESC-DIRECT-SERIOUS", f"      title: {title}\n", ""))
    shutil.copy(RULES / "vocabulary.yaml", rules / "vocabulary.yaml")
    result = _evaluate(tmp_path, rules=rules, tables=folder)
    zh, _ = render_memo(result, result.decisions[0], lang="zh")
    rule = result.rulebook.rules_by_id["ESC-DIRECT-SERIOUS"]
    assert rule.title in zh and rule.rationale_zh in zh
    assert result.tables.positions["van_driver"].duties in zh


def test_tables_without_chinese_columns_keep_the_position_content_they_had(tmp_path):
    """The Chinese texts go into a decision id only when the tables give
    them: tables written before them give the same position content."""
    rulebook = load_rulebook(RULES)
    plain = load_tables(_without_chinese_columns(tmp_path), rulebook)
    content = _position_content(plain, "van_driver")
    assert set(content) == {"position_id", "title", "risk_level", "duties", "relevance"}
    assert all(len(row) == 4 for row in content["relevance"])
    translated = _position_content(load_tables(TABLES, rulebook), "van_driver")
    assert translated["title_zh"] == "送货车司机" and all(len(row) == 5 for row in translated["relevance"])
