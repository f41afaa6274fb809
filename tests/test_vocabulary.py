"""The vocabulary of screening sources (rules/vocabulary.yaml): the words
courts and vendors write, read as the product's values. The file is checked
when the rulebook loads (``rules check`` names the file and line of each
problem), is optional, and is what a batch was read with (batch.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import RULES, TABLES, assert_clean_exit, evaluate_args, read_csv, run_cli
from engine.inputs.terms import vocabulary_key
from engine.rulebook.model import load_rulebook

SHIPPED = (RULES / "vocabulary.yaml").read_text(encoding="utf-8")


def test_the_shipped_vocabulary_reads_the_words_the_issue_names():
    vocabulary = load_rulebook(RULES).vocabulary
    expected = {
        "guilty": "confirmed", "convicted": "confirmed", "nolo contendere": "confirmed", "缓刑": "confirmed",
        "判决有罪": "confirmed", "有罪判决": "confirmed",
        "dismissed": "not_convicted", "nolle prosequi": "not_convicted", "not guilty": "not_convicted",
        "acquitted": "not_convicted", "不起诉": "not_convicted", "撤诉": "not_convicted",
        "宣告无罪": "not_convicted", "无罪": "not_convicted",
        "deferred adjudication": "deferred", "adjudication withheld": "deferred",
        "diversion": None,  # the product's own word, read as itself without the file
        "conviction set aside": "sealed", "expunged": "sealed", "pardoned": "sealed",
        "juvenile adjudication": "sealed", "juvenile": "sealed", "封存": "sealed", "犯罪记录封存": "sealed",
        "pending": "pending",
    }
    assert {word: vocabulary.read_as("disposition", word) for word in expected} == expected
    severities = {word: vocabulary.read_as("severity", word) for word in (
        "felony", "misdemeanor", "infraction", "petty offence", "violation")}
    assert severities == {"felony": "serious", "misdemeanor": "moderate", "infraction": "minor",
                          "petty offence": "minor", "violation": "minor"}
    # Case, width and repeated spaces do not matter, after NFKC.
    assert vocabulary.read_as("disposition", "ＮＯＬＬＥ  Prosequi") == "not_convicted"
    assert vocabulary_key("Ｄｉｓｍｉｓｓｅｄ ") == "dismissed"


def _rules_with(tmp_path: Path, vocabulary: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "vocabulary.yaml").write_text(vocabulary, encoding="utf-8")
    return rules


BROKEN = {
    "a word under two values": (
        SHIPPED.replace("    - charge dismissed\n", "    - charge dismissed\n    - guilty\n"),
        "- charge dismissed\n    - guilty",
        "'guilty' is listed under both disposition 'confirmed' (line {confirmed}) and 'not_convicted'; "
        "a word is read as one value. Keep it under one.",
    ),
    "a target that does not exist": (
        SHIPPED.replace("  deferred:\n", "  deffered:\n"),
        "  deffered:",
        "unknown disposition value 'deffered'; allowed: 'confirmed', 'pending', 'not_convicted', 'sealed', "
        "'disputed', 'diversion' or 'deferred'. Did you mean 'deferred'?",
    ),
    "a category that does not exist": (
        SHIPPED.replace("  offense_sexual:\n", "  offense_sex:\n"),
        "  offense_sex:",
        None,
    ),
    "another value's own word": (
        SHIPPED.replace("    - charge dismissed\n", "    - charge dismissed\n    - Sealed\n"),
        "- charge dismissed\n    - Sealed",
        "'Sealed' is the product's own disposition 'sealed'; it cannot also be read as 'not_convicted'. "
        "Remove it from 'not_convicted'.",
    ),
    "an unknown section": (
        SHIPPED + "dispositions:\n  confirmed: [found guilty by a jury]\n",
        "dispositions:",
        "unknown key 'dispositions' in the vocabulary; allowed keys: 'disposition', 'severity' or 'category'. "
        "Did you mean 'disposition'?",
    ),
}


def _line_of_key(text: str, marker: str) -> int:
    """The line of the value key a problem is reported at: the last 'key:' line before the marker."""
    before = text[: text.index(marker) + len(marker.split("\n")[0])].splitlines()
    for number in range(len(before), 0, -1):
        if before[number - 1].rstrip().endswith(":"):
            return number
    raise AssertionError(marker)


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_rules_check_names_the_vocabulary_file_and_line_of_each_problem(tmp_path, case):
    text, marker, message = BROKEN[case]
    rules = _rules_with(tmp_path, text)
    result = run_cli(["rules", "check", "--rules", rules, "--tables", TABLES])
    assert_clean_exit(result, 1)
    path = rules / "vocabulary.yaml"
    assert result.stderr.startswith(f"Error: The vocabulary {path} has 1 problem:\n  {path}:")
    line = _line_of_key(text, marker)
    if message is not None:
        message = message.format(confirmed=text.splitlines().index("  confirmed:") + 1)
        assert result.stderr == f"Error: The vocabulary {path} has 1 problem:\n  {path}:{line}: {message}\n"
    else:
        assert f"{path}:{line}: unknown category value 'offense_sex'" in result.stderr


def test_without_a_vocabulary_file_only_the_products_own_words_are_read(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "vocabulary.yaml").unlink()
    batch = tmp_path / "batch.csv"
    batch.write_text(
        "candidate_id,position_id,finding_id,category,severity,occurred_on,disposition\n"
        "C-1,van_driver,F-1,offense_driving,serious,2024-01-10,Confirmed\n"
        "C-2,van_driver,F-2,offense_driving,serious,2024-01-10,Nolle Prosequi\n",
        encoding="utf-8",
    )
    consents = tmp_path / "consents.csv"
    consents.write_text(
        "candidate_id,scope,purpose,signed_on,expires_on\n"
        "C-1,all,Screening,2026-09-01,2027-09-01\nC-2,all,Screening,2026-09-01,2027-09-01\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out, rules=rules)))
    assert [(r["finding_id"], r["column"]) for r in read_csv(out / "rejected.csv")] == [("F-2", "disposition")]
    assert json.loads((out / "batch.json").read_text(encoding="utf-8"))["vocabulary"] is None
    (row,) = read_csv(out / "findings.csv")
    assert (row["disposition"], row["disposition_reported"]) == ("confirmed", "Confirmed")


def test_a_batch_records_the_vocabulary_it_was_read_with(tmp_path):
    out = tmp_path / "out"
    from conftest import EXAMPLE_BATCH, EXAMPLE_CONSENTS
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out)))
    manifest = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert manifest["vocabulary"] == {
        "file": "vocabulary.yaml", "sha256": load_rulebook(RULES).vocabulary.sha256
    }
