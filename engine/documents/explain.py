"""The rulebook as a document for legal review, in Markdown or HTML.

Every rule in plain language, with its rationale and legal basis, and the
adjudication matrix: for each position risk level, which handling (and which
rule) each kind of finding gets; and the vocabulary of screening sources:
the words read as each value. The output depends only on the rulebook, so
that a diff of two renderings shows what changed.

Where the rules name work locations, the matrix is given per jurisdiction:
first the general one, for a job where no rule on a work location applies
(``elsewhere``), then one for each named location whose matrix differs
from the general one, deepest last in code order (``US``, ``US-CA``,
``US-NY``, ``US-NY-NYC``). A named location whose matrix is the general one
is listed as such rather than repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.rulebook.analysis import (
    FIELD_LABELS, MatrixRow, analyse, describe_values, full_domains, jurisdiction_matrices,
)
from engine.rulebook.jurisdictions import ELSEWHERE
from engine.rulebook.model import AGE_FIELD, EVERYWHERE, LOCATION_FIELD
from engine.rulebook.model import Rule, Rulebook
from engine.documents.templating import template
from engine.vocabulary import Severity

FORMATS = ("md", "html")


@dataclass(frozen=True)
class ExplainedRule:
    """A rule with its conditions in words.

    Attributes:
        rule (Rule): the rule.
        conditions (tuple[str, ...]): one phrase per condition, such as
            "severity serious or severe"; ("any finding",) without conditions.
    """

    rule: Rule
    conditions: tuple[str, ...]  # "severity serious or severe", ...

    @property
    def bases(self) -> tuple[tuple[str, str, str], ...]:
        """Every legal basis of the rule with its place, for legal review:
        (work location or ``everywhere``, the citation, its Chinese or '')."""
        rule = self.rule
        places = rule.legal_basis_places or ("",) * len(rule.legal_basis)
        chinese = rule.legal_basis_zh or ("",) * len(rule.legal_basis)
        return tuple((place or EVERYWHERE, text, zh) for place, text, zh in zip(places, rule.legal_basis, chinese))


@dataclass(frozen=True)
class RulebookDocument:
    """Everything the rulebook templates may use (``doc`` in the template).

    Attributes:
        rulebook (Rulebook): the rulebook.
        rules (tuple[ExplainedRule, ...]): its rules in the rulebook's order.
        severities (tuple[str, ...]): the severity words, mildest first (the matrix's columns).
        matrix (dict): risk level -> list[MatrixRow], the adjudication
            matrix (the general one, where no rule on a work location applies).
        jurisdictions (dict): work location -> its matrix (as ``matrix``),
            for each location the rules name whose matrix differs from the
            general one, in code order; empty when none does.
        same_as_general (tuple[str, ...]): the named locations whose matrix
            is the general one.
        error_count (int): errors that the static analysis found.
        warning_count (int): warnings that the static analysis found.
        vocabulary (tuple[VocabularyEntry, ...]): the words of the vocabulary
            file per value, in the file's order; empty without one.
    """

    rulebook: Rulebook
    rules: tuple[ExplainedRule, ...]
    severities: tuple[str, ...]
    matrix: dict  # risk level -> list[MatrixRow]
    error_count: int
    warning_count: int
    vocabulary: tuple = ()
    jurisdictions: dict = field(default_factory=dict)  # work location -> matrix
    same_as_general: tuple = ()


@dataclass(frozen=True)
class VocabularyEntry:
    """The words of screening sources read as one product value.

    Attributes:
        field (str): ``disposition``, ``severity`` or ``category``.
        value (str): the product value.
        words (tuple[str, ...]): the words read as it, as the file writes them.
    """

    field: str
    value: str
    words: tuple[str, ...]


def conditions_in_words(rule: Rule, rulebook: Rulebook) -> tuple[str, ...]:
    """A rule's conditions in plain language.

    Args:
        rule (Rule): the rule.
        rulebook (Rulebook): its rulebook (the values each field can take).

    Returns:
        tuple[str, ...]: one phrase per condition, such as "severity is serious
        or severe"; ("any finding",) for a rule without conditions.
    """
    all_domains = full_domains(rulebook)
    words = []
    for name, values in rule.when.items():
        if name == LOCATION_FIELD:
            places = sorted(values)
            listed = places[0] if len(places) == 1 else ", ".join(places[:-1]) + " or " + places[-1]
            words.append(f"{FIELD_LABELS[name]} is {listed} or inside it")
            continue
        if name == AGE_FIELD:
            words.append(f"{FIELD_LABELS[name]} is {values.describe()}")
            continue
        domain = tuple(str(value) for value in all_domains[name])
        words.append(f"{FIELD_LABELS[name]} is {describe_values(frozenset(values), domain)}")
    return tuple(words) or ("any finding",)


def document(rulebook: Rulebook) -> RulebookDocument:
    """The rulebook document's context: rules in words, matrix, analysis counts.

    Args:
        rulebook (Rulebook): a loaded rulebook.

    Returns:
        RulebookDocument: ready for the ``rulebook.{md,html}.j2`` templates.
    """
    analysis = analyse(rulebook)
    matrices = jurisdiction_matrices(rulebook, analysis.cells)
    general = matrices.pop(ELSEWHERE)
    return RulebookDocument(
        rulebook=rulebook,
        rules=tuple(ExplainedRule(rule, conditions_in_words(rule, rulebook)) for rule in rulebook.rules),
        severities=Severity.words(),
        matrix=general,
        jurisdictions=matrices,
        same_as_general=tuple(area for area in rulebook.locations if area not in matrices),
        error_count=len(analysis.errors),
        warning_count=len(analysis.warnings),
        vocabulary=tuple(
            VocabularyEntry(name, value, words)
            for name, values in (rulebook.vocabulary.listed.items() if rulebook.vocabulary else ())
            for value, words in values.items()
        ),
    )


def explain(rulebook: Rulebook, fmt: str = "md") -> str:
    """The rulebook document for legal review.

    Args:
        rulebook (Rulebook): a loaded rulebook.
        fmt (str): ``"md"`` or ``"html"`` (one of ``FORMATS``).

    Returns:
        str: the document.

    Raises:
        jinja2.TemplateNotFound: for a format not in ``FORMATS``.
    """
    return template(f"rulebook.{fmt}.j2").render(doc=document(rulebook))


__all__ = ["FORMATS", "MatrixRow", "RulebookDocument", "VocabularyEntry", "explain"]
