"""The rulebook as a document for legal review, in Markdown or HTML.

Every rule in plain language, with its rationale and legal basis, and the
adjudication matrix: for each position risk level, which handling (and which
rule) each kind of finding gets. The output depends only on the rulebook, so
that a diff of two renderings shows what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.rulebook.analysis import FIELD_LABELS, MatrixRow, analyse, describe_values, domains, matrix
from engine.rulebook.model import Rule, Rulebook
from engine.documents.templating import HTML, MARKDOWN
from engine.vocabulary import Severity

FORMATS = ("md", "html")


@dataclass(frozen=True)
class ExplainedRule:
    rule: Rule
    conditions: tuple[str, ...]  # "severity serious or severe", ...


@dataclass(frozen=True)
class RulebookDocument:
    """Everything the rulebook templates may use."""

    rulebook: Rulebook
    rules: tuple[ExplainedRule, ...]
    severities: tuple[str, ...]
    matrix: dict  # risk level -> list[MatrixRow]
    error_count: int
    warning_count: int


def conditions_in_words(rule: Rule, rulebook: Rulebook) -> tuple[str, ...]:
    all_domains = domains(rulebook)
    words = []
    for name, values in rule.when.items():
        domain = tuple(str(value) for value in all_domains[name])
        words.append(f"{FIELD_LABELS[name]} is {describe_values(frozenset(values), domain)}")
    return tuple(words) or ("any finding",)


def document(rulebook: Rulebook) -> RulebookDocument:
    analysis = analyse(rulebook)
    return RulebookDocument(
        rulebook=rulebook,
        rules=tuple(ExplainedRule(rule, conditions_in_words(rule, rulebook)) for rule in rulebook.rules),
        severities=Severity.words(),
        matrix=matrix(rulebook, analysis.cells),
        error_count=len(analysis.errors),
        warning_count=len(analysis.warnings),
    )


def explain(rulebook: Rulebook, fmt: str = "md") -> str:
    """The rulebook document in ``fmt`` ('md' or 'html')."""
    environment = MARKDOWN if fmt == "md" else HTML
    return environment.get_template(f"rulebook.{fmt}.j2").render(doc=document(rulebook))


__all__ = ["FORMATS", "MatrixRow", "RulebookDocument", "explain"]
