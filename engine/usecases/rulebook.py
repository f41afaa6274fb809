"""The rulebook and the position tables as use cases: check, explain, test
and compare rulebooks, check tables. They read files only; nothing is
recorded in the store, and no role is needed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from engine.usecases.batches import check_evaluation_date
from engine.documents.explain import explain
from engine.errors import AdjudicateError
from engine.evaluation.changes import CandidateImpact, RulebookChanges, batch_impact, compare_rulebooks
from engine.rulebook.analysis import Analysis, Problem, analyse
from engine.rulebook.model import Rulebook, load_rulebook
from engine.rulebook.ruletests import TESTS_FOLDER, RuleTestRun, load_cases, rule_test_files, run_rule_tests
from engine.rulebook.tables import PositionTables, load_tables
from engine.usecases.actor import Actor
from engine.usecases.outputs import OutputFile, write_files


class NoRuleTests(AdjudicateError):
    """The rulebook has no rule tests to run."""


@dataclass(frozen=True)
class RulebookCheck:
    """A rulebook checked and analysed.

    Attributes:
        rulebook: the rulebook.
        analysis: gaps, conflicts, dead rules, monotonicity (errors and warnings).
        tables: the tables, checked against the rulebook; None when not checked.
        tables_folder: the tables folder asked for.
        tables_error: why the tables are unusable, else None (reported after
            the analysis, which stands on its own).
    """

    rulebook: Rulebook
    analysis: Analysis
    tables: PositionTables | None
    tables_folder: Path
    tables_error: AdjudicateError | None


def check_rulebook(actor: Actor, *, rules: Path, tables: Path) -> RulebookCheck:
    """Validate and analyse a rulebook, and check the tables against it when
    the folder exists.

    Args:
        actor: who checks.
        rules: the rulebook folder (with rulebook.yaml) or file.
        tables: the tables folder (positions.csv, relevance.csv).

    Returns:
        ``RulebookCheck``; analysis errors are a result, not an exception.

    Raises:
        RulebookError, InvalidConfiguration: the rulebook cannot be loaded.
    """
    rulebook = load_rulebook(rules)
    analysis = analyse(rulebook)
    checked, problem = None, None
    if Path(tables).exists():
        try:
            checked = load_tables(tables, rulebook)
        except AdjudicateError as error:
            problem = error
    return RulebookCheck(rulebook, analysis, checked, Path(tables), problem)


def explain_rulebook(actor: Actor, *, rules: Path, fmt: str = "md", output: Path | None = None) -> str:
    """The rulebook as a document for legal review: every rule in plain
    language and the adjudication matrix.

    Args:
        actor: who asks.
        rules: the rulebook folder or file.
        fmt: ``md`` or ``html``.
        output: write the document to this file as well; None for none.

    Returns:
        The document.

    Raises:
        RulebookError, InvalidConfiguration: the rulebook cannot be loaded.
        OutputError: ``output`` cannot be written.
    """
    text = explain(load_rulebook(rules), fmt)
    if output is not None:
        write_files([OutputFile(Path(output), text)])
    return text


@dataclass(frozen=True)
class RuleTests:
    """The rule tests run.

    Attributes:
        rulebook: the rulebook tested.
        run: each case's result and the coverage of the rules.
    """

    rulebook: Rulebook
    run: RuleTestRun


def test_rulebook(actor: Actor, *, rules: Path, tables: Path) -> RuleTests:
    """Run the rule tests in the rulebook's ``tests/`` folder.

    Args:
        actor: who runs them.
        rules: the rulebook folder or file.
        tables: the tables folder, for cases that name a position; used
            when it exists.

    Returns:
        ``RuleTests``; failed cases are a result, not an exception.

    Raises:
        NoRuleTests: there is no test file.
        RulebookError, TablesError, InvalidConfiguration: the rulebook, the
            tables or a test file cannot be loaded.
    """
    rulebook = load_rulebook(rules)
    files = rule_test_files(rules)
    if not files:
        raise NoRuleTests(
            f"no rule tests found: put *.yaml files in {Path(rules) / TESTS_FOLDER} (see docs/rule-tests.md)."
        )
    position_tables = load_tables(tables, rulebook) if Path(tables).exists() else None
    return RuleTests(rulebook, run_rule_tests(load_cases(files, rulebook, position_tables), rulebook))


# The test collector must not take the use case for a test.
test_rulebook.__test__ = False


@dataclass(frozen=True)
class RulebookDiff:
    """What changes from one rulebook to another.

    Attributes:
        changes: rules added, removed, changed, and matrix cells.
        problems: static-analysis errors of the new rulebook.
        impact: candidates of the batch whose recommendation would change;
            None without a batch.
        impact_error: why the batch could not be evaluated, else None
            (reported after the changes, which stand on their own).
    """

    changes: RulebookChanges
    problems: tuple[Problem, ...]
    impact: tuple[CandidateImpact, ...] | None
    impact_error: AdjudicateError | None


def diff_rulebooks(
    actor: Actor,
    *,
    old: Path,
    new: Path,
    tables: Path,
    batch: Path | None = None,
    consents: Path | None = None,
    as_of: dt.date,
    applications: Path | None = None,
) -> RulebookDiff:
    """Compare two rulebooks and, given a batch, measure the impact.

    Args:
        actor: who compares.
        old, new: the two rulebook folders or files.
        tables: the tables folder, for the batch.
        batch, consents: a findings batch and its consents file; both or neither.
        as_of: the evaluation date of the batch.
        applications: the batch's applications file, or None.

    Returns:
        ``RulebookDiff``.

    Raises:
        ValueError: only one of ``batch`` and ``consents``.
        RulebookError, InvalidConfiguration: a rulebook cannot be loaded.
    """
    if (batch is None) != (consents is None):
        raise ValueError("batch and consents go together")
    changes = compare_rulebooks(load_rulebook(old), load_rulebook(new))
    problems = tuple(analyse(changes.new).errors)
    impact, problem = None, None
    if batch is not None:
        try:
            check_evaluation_date(as_of)
            impact = tuple(batch_impact(
                old, new, batch, consents, tables=tables, as_of=as_of, applications=applications
            ))
        except AdjudicateError as error:
            problem = error
    return RulebookDiff(changes, problems, impact, problem)


def check_tables(actor: Actor, *, tables: Path, rules: Path) -> PositionTables:
    """Validate positions.csv and relevance.csv against the rulebook's categories.

    Args:
        actor: who checks.
        tables: the tables folder.
        rules: the rulebook folder or file.

    Returns:
        The ``PositionTables``.

    Raises:
        RulebookError, TablesError, InvalidConfiguration: a file has problems.
    """
    rulebook = load_rulebook(rules)
    return load_tables(tables, rulebook)
