"""The analysis of a rulebook with rules on many work locations
(``adjudicate rules check`` and ``rules explain``): the same results as the
analysis that judged every cell of the space, found by judging each rule on
the fields it names.

``tests/data/many_locations`` is the shipped rulebook of version 1.3.0 with
19 rules on US, US-CA, US-NY, US-NY-NYC, US-IL, CN and CN-SH, on the facts
of a record; ``tests/data/many_locations_broken`` the same with a gap, a
conflict, a drop in handling, a masked rule and two rules with the same
conditions. Their goldens under ``tests/golden/analysis`` were written by
the analysis that judged the whole space signature by signature, before it
was factorised; regenerate them with ADJUDICATE_UPDATE_GOLDEN=1 only when
the analysis is meant to say something else, and read the diff.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from engine.rulebook.analysis import analyse, domains, judge_space
from engine.rulebook.compiled import RuleEngine, engine_for
from engine.rulebook.model import load_rulebook

UPDATE_GOLDEN = os.environ.get("ADJUDICATE_UPDATE_GOLDEN") == "1"
GOLDEN = ROOT / "tests" / "golden" / "analysis"
MANY = Path("tests/data/many_locations")
BROKEN = Path("tests/data/many_locations_broken")
# The fact classes and work locations the fixture tells apart: party role
# (plaintiff, other, the rest), juvenile, relief (a certificate or not),
# conduct established, and 7 locations and elsewhere.
SPLITS = 3 * 2 * 2 * 2 * 8
COMBINATIONS = 16 * 4 * 7 * 3 * 4 * 2 * SPLITS


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{path} differs; if the change is meant, regenerate with ADJUDICATE_UPDATE_GOLDEN=1 and read the diff"
    )


@pytest.mark.parametrize(("rules", "exit_code"), [(MANY, 0), (BROKEN, 1)], ids=["clean", "broken"])
def test_rules_check_on_many_work_locations_says_what_the_whole_space_said(monkeypatch, rules, exit_code):
    monkeypatch.chdir(ROOT)
    result = run_cli(["rules", "check", "--rules", rules])
    assert result.exit_code == exit_code, result.output
    _golden(f"{rules.name}.check.txt", result.stdout)
    _golden(f"{rules.name}.check.stderr.txt", result.stderr)  # the problems, one a line


def test_rules_explain_on_many_work_locations_says_what_the_whole_space_said(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run_cli(["rules", "explain", "--rules", MANY])
    assert result.exit_code == 0, result.output
    _golden("many_locations.explain.md", result.stdout)


def test_the_broken_fixture_shows_every_kind_of_problem_on_work_locations():
    """The golden above holds these problems, each in one jurisdiction or a few."""
    analysis = analyse(load_rulebook(ROOT / BROKEN))
    kinds = {problem.kind for problem in analysis.problems}
    assert kinds >= {"gap", "conflict", "monotonicity", "masked rule", "jurisdiction", "hygiene"}
    # Each drop holds in a few jurisdictions, and the report says which.
    monotonicity = [p.message for p in analysis.problems if p.kind == "monotonicity"]
    assert monotonicity and all("It holds for work location" in message for message in monotonicity)
    assert any(message.endswith("It holds for work location US-IL only.") for message in monotonicity)


def test_every_sampled_cell_is_what_the_engine_says_of_the_whole_signature():
    """The straightforward judgement, for a sample of the space: durable-rules
    judges each whole signature with every rule, and the factorised
    analysis must give the same judgement (rule, handling, every match)."""
    rulebook = load_rulebook(ROOT / MANY)
    cells = judge_space(rulebook)
    assert len(cells) == COMBINATIONS
    sample = [cells.signature(cell) for cell in random.Random(13).sample(range(len(cells)), 4_000)]
    # An engine of its own, so that nothing the analysis judged is reused.
    whole = RuleEngine(rulebook).judge(sample)
    # Compared by what they decide: the rules' file names depend on how the
    # rulebook was named when this process first loaded it.
    def decided(judgement):
        return judgement.handling, judgement.rule_id, judgement.matched

    assert {s: decided(cells[s]) for s in sample} == {s: decided(j) for s, j in whole.items()}
    # The sample reaches every location and every rule's decision.
    assert {s.work_location for s in sample} == set(domains(rulebook)["work_location"])


def test_the_engine_judges_each_rule_on_the_fields_it_names_not_the_whole_space(tmp_path):
    """The work grows with what the rules name: every cell is judged by
    durable-rules through a few thousand signatures, not 1.9 million."""
    folder = tmp_path / "rules"
    folder.mkdir()
    # Another text, so that this process's engine for it starts empty.
    text = (ROOT / MANY / "rulebook.yaml").read_text(encoding="utf-8") + "\n# a copy\n"
    (folder / "rulebook.yaml").write_text(text, encoding="utf-8")
    rulebook = load_rulebook(folder)
    cells = judge_space(rulebook)
    assert len(cells) == COMBINATIONS
    assert engine_for(rulebook).judged < 10_000
