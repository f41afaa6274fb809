"""What a new rulebook version changes, before it goes live.

``compare_rulebooks`` lists the rules added, removed and changed (in words,
field by field) and the cells of the adjudication matrix whose handling or
deciding rule changes. ``batch_impact`` evaluates a real batch with both
versions and lists the candidates whose recommendation would change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from engine.rulebook.analysis import CellChange, changed_cells
from engine.evaluation.judging import evaluate_files
from engine.documents.explain import conditions_in_words
from engine.rulebook.model import Rule, Rulebook


@dataclass(frozen=True)
class RuleChange:
    """A rule kept in both versions whose content changed, field by field in words."""

    rule_id: str
    changes: tuple[str, ...]  # one sentence per field that changed


@dataclass(frozen=True)
class RulebookChanges:
    """What a new rulebook version changes: rules added, removed and changed,
    and the cells of the adjudication matrix whose handling or deciding rule
    differs (what ``adjudicate rules diff`` shows)."""

    old: Rulebook
    new: Rulebook
    added: tuple[Rule, ...]
    removed: tuple[Rule, ...]
    changed: tuple[RuleChange, ...]
    cells: tuple[CellChange, ...]


@dataclass(frozen=True)
class CandidateImpact:
    """A candidate of a real batch whose recommendation the new rulebook
    changes: ``before`` and ``after`` are recommendation words, or
    ``(no decision)``."""

    candidate_id: str
    position_id: str
    before: str
    after: str


def compare_rulebooks(old: Rulebook, new: Rulebook) -> RulebookChanges:
    """Compare two rulebook versions before the new one goes live.

    Args:
        old: the rulebook in force.
        new: the proposed version.

    Returns:
        The rules added and removed (by id), the rules changed with one
        sentence per changed field (title, conditions, handling, precedence,
        rationale, legal basis), and the changed cells of the adjudication
        matrix, both rulebooks judged over their whole input space by
        durable-rules.

    Raises:
        EngineError: durable-rules could not compile or run either rulebook.
    """
    old_rules, new_rules = old.rules_by_id, new.rules_by_id
    changed = []
    for rule_id in sorted(set(old_rules) & set(new_rules)):
        sentences = _rule_changes(old_rules[rule_id], new_rules[rule_id], old, new)
        if sentences:
            changed.append(RuleChange(rule_id, tuple(sentences)))
    return RulebookChanges(
        old=old,
        new=new,
        added=tuple(new_rules[i] for i in sorted(set(new_rules) - set(old_rules))),
        removed=tuple(old_rules[i] for i in sorted(set(old_rules) - set(new_rules))),
        changed=tuple(changed),
        cells=tuple(changed_cells(old, new)),
    )


def _rule_changes(before: Rule, after: Rule, old: Rulebook, new: Rulebook) -> list[str]:
    sentences = []
    if before.title != after.title:
        sentences.append(f"title: '{before.title}' becomes '{after.title}'")
    old_when, new_when = conditions_in_words(before, old), conditions_in_words(after, new)
    if old_when != new_when:
        sentences.append(f"applies when: '{'; '.join(old_when)}' becomes '{'; '.join(new_when)}'")
    if before.handling is not after.handling:
        sentences.append(f"handling: {before.handling} becomes {after.handling}")
    if before.precedence != after.precedence:
        sentences.append(f"precedence: {before.precedence} becomes {after.precedence}")
    if before.withdraw_follows_review != after.withdraw_follows_review:
        sentences.append(
            "a withdraw after review now follows the rule (it is no longer an override)"
            if after.withdraw_follows_review else
            "a withdraw after review is again an override of the rule"
        )
    if before.rationale != after.rationale:
        sentences.append("rationale rewritten")
    added = [ref for ref in after.legal_basis if ref not in before.legal_basis]
    removed = [ref for ref in before.legal_basis if ref not in after.legal_basis]
    if added:
        sentences.append("legal basis added: " + "; ".join(added))
    if removed:
        sentences.append("legal basis removed: " + "; ".join(removed))
    return sentences


def batch_impact(
    old: Path,
    new: Path,
    batch: Path,
    consents: Path,
    *,
    tables: Path,
    as_of: dt.date,
    encoding: str = "utf-8",
    applications: Path | None = None,
) -> list[CandidateImpact]:
    """Candidates of a real batch whose recommendation differs between two rulebooks.

    The batch is evaluated twice in memory, once with each rulebook (drafts
    allowed, since a proposed version is usually not approved yet); nothing
    is written or recorded.

    Args:
        old, new: rulebook folders (with ``rulebook.yaml``) or files.
        batch: the findings batch file (CSV, XLSX or JSON).
        consents: the consents file.
        tables: the position risk tables folder.
        as_of: the evaluation date (ages of findings, consent expiry).
        encoding: the text encoding of CSV inputs.
        applications: the batch's applications file, or None (see
            ``engine.inputs.applications``): with it, each application is
            compared, a candidate may appear once per position.

    Returns:
        One ``CandidateImpact`` per candidate (or application) whose
        recommendation changes, sorted by candidate id and position.

    Raises:
        AdjudicateError: an input cannot be used (``InputFileError``,
            ``RulebookError``, ``TablesError``, ``InvalidConfiguration``), or
            the rule engine failed (``EngineError``).
    """
    results = [
        evaluate_files(
            batch, consents, rules=rules, tables=tables, as_of=as_of, encoding=encoding, allow_draft=True,
            applications_path=applications,
        )
        for rules in (old, new)
    ]
    # A decision is one candidate's for one position (with applications, a
    # candidate may have several); without a position, the candidate's only one.
    before = {(d.candidate_id, d.position.position_id if d.position else ""): d for d in results[0].decisions}
    after = {(d.candidate_id, d.position.position_id if d.position else ""): d for d in results[1].decisions}
    impact = []
    for candidate in sorted(set(before) | set(after)):
        was, will = before.get(candidate), after.get(candidate)
        old_value = was.recommendation.value if was else "(no decision)"
        new_value = will.recommendation.value if will else "(no decision)"
        if old_value != new_value:
            position = (will or was).position
            impact.append(
                CandidateImpact(candidate[0], position.position_id if position else "", old_value, new_value)
            )
    return impact
