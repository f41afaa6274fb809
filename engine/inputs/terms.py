"""The vocabulary of screening sources: the words courts and vendors write,
read as the product's own values.

``rules/vocabulary.yaml``, beside the rulebook, lists under each product
value the words that mean it: ``Nolle Prosequi`` and ``撤诉`` under the
disposition ``not_convicted``, ``felony`` under the severity ``serious``,
``DUI`` under the category ``offense_driving``. Legal reviews the file; the
engine only reads it. The file is optional: without it a batch is read in
the product's own words alone.

Words match whatever their case and width, after Unicode NFKC
(``vocabulary_key``), as the product's own words do. ``load_terms`` reads
the file strictly (``strict_yaml``) and collects every problem with its
line before it fails: a target that does not exist, a word listed under two
values, a word that is another value's own name.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from engine.errors import InvalidConfiguration, RulebookError, allowed, unknown_value
from engine.inputs.strict_yaml import YamlMap, key_problems, load_yaml
from engine.vocabulary import Disposition, Severity

VOCABULARY_FILE = "vocabulary.yaml"

# The batch columns whose words the vocabulary may extend, in file order.
FIELDS = ("disposition", "severity", "category")


def vocabulary_key(word: str) -> str:
    """The form in which two spellings of one vocabulary word are equal:
    Unicode NFKC (full-width letters become ASCII), then case folded, with
    runs of spaces made one ("Nolle  Prosequi" is "nolle prosequi").

    Args:
        word (str): a word as written.

    Returns:
        str: its key.
    """
    return " ".join(unicodedata.normalize("NFKC", word).casefold().split())


@dataclass(frozen=True)
class Terms:
    """A loaded vocabulary file.

    Attributes:
        path (pathlib.Path): the file read.
        sha256 (str): the SHA-256 (hex) of its bytes; it is part of what a
            batch was evaluated with (batch.json, the store).
        text (str): the file as read, kept by the store for replay.
        synonyms (Mapping[str, Mapping[str, str]]): per field (``FIELDS``),
            the ``vocabulary_key`` of each listed word -> the product value.
        listed (Mapping[str, Mapping[str, tuple[str, ...]]]): per field, each
            product value -> its words as the file writes them, in file
            order (for ``rules explain``).
    """

    path: Path
    sha256: str
    text: str = field(repr=False)
    synonyms: Mapping = field(repr=False)
    listed: Mapping = field(repr=False)

    def words_for(self, name: str) -> Mapping[str, str]:
        """The synonyms of one field (``vocabulary_key`` -> value); empty if none.

        Args:
            name (str): one of ``FIELDS``.

        Returns:
            Mapping[str, str]: key of a listed word -> the product value.
        """
        return self.synonyms.get(name, MappingProxyType({}))

    def read_as(self, name: str, word: str) -> str | None:
        """The product value ``word`` is read as in field ``name``, or None.

        Args:
            name (str): one of ``FIELDS``.
            word (str): the word as a batch writes it.

        Returns:
            str | None: the value; None when the vocabulary does not list the word.
        """
        return self.words_for(name).get(vocabulary_key(word))


def vocabulary_path(rulebook_path: Path) -> Path:
    """Where the vocabulary of a rulebook is: beside its ``rulebook.yaml``.

    Args:
        rulebook_path (pathlib.Path): the rulebook file.

    Returns:
        pathlib.Path: ``vocabulary.yaml`` in the same folder (it may not exist).
    """
    return Path(rulebook_path).parent / VOCABULARY_FILE


def load_terms(path: Path, categories: Collection[str]) -> Terms:
    """Read and check a vocabulary file.

    Args:
        path (pathlib.Path): the ``vocabulary.yaml`` file.
        categories (Collection[str]): the rulebook's categories, the values
            that category words may be read as.

    Returns:
        Terms: the vocabulary, with its hash and text.

    Raises:
        RulebookError: the file cannot be read or is not YAML.
        InvalidConfiguration: the file has problems; it carries every one,
            each a ``RulebookError`` with the file and line.
    """
    path = Path(path)
    document = load_yaml(path, RulebookError)
    raw = path.read_bytes()
    parser = _Parser(path, {
        "disposition": Disposition.words(),
        "severity": Severity.words(),
        "category": tuple(categories),
    })
    synonyms, listed = parser.parse(document)
    if parser.problems:
        raise InvalidConfiguration(f"The vocabulary {path}", parser.problems)
    return Terms(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=raw.decode("utf-8"),
        synonyms=MappingProxyType({name: MappingProxyType(words) for name, words in synonyms.items()}),
        listed=MappingProxyType({name: MappingProxyType(values) for name, values in listed.items()}),
    )


class _Parser:
    """Turns the YAML document into synonyms, collecting every problem."""

    def __init__(self, path: Path, targets: dict[str, tuple[str, ...]]) -> None:
        self.file = str(path)
        self.targets = targets
        self.problems: list[RulebookError] = []

    def problem(self, message: str, line: int | None) -> None:
        self.problems.append(RulebookError(message, file=self.file, line=line))

    def parse(self, document) -> tuple[dict, dict]:
        synonyms: dict[str, dict[str, str]] = {}
        listed: dict[str, dict[str, tuple[str, ...]]] = {}
        if document is None:
            return synonyms, listed  # an empty file lists no words
        if not isinstance(document, YamlMap):
            self.problem(
                f"the vocabulary is a mapping of {allowed(FIELDS)}, each mapping a product value to "
                "the words read as it, for example\n    disposition:\n      not_convicted:\n        - dismissed",
                1,
            )
            return synonyms, listed
        for message, line in key_problems(document, FIELDS, "the vocabulary"):
            self.problem(message, line)
        for name in FIELDS:
            if name in document:
                synonyms[name], listed[name] = self.field(name, document[name], document.line_of(name))
        return synonyms, listed

    def field(self, name: str, values, line: int) -> tuple[dict, dict]:
        targets = self.targets[name]
        own = {vocabulary_key(word): word for word in targets}
        synonyms: dict[str, str] = {}
        lines: dict[str, tuple[str, int]] = {}  # key -> (value, line) where first listed
        listed: dict[str, tuple[str, ...]] = {}
        if not isinstance(values, YamlMap):
            self.problem(f"'{name}' maps each {name} value to a list of words.", line)
            return synonyms, listed
        for value, words in values.items():
            value_line = values.line_of(value)
            if not isinstance(value, str) or value not in targets:
                self.problem(unknown_value(f"{name} value", str(value), targets), value_line)
                continue
            items = [words] if isinstance(words, str) else words
            if not isinstance(items, list) or not items:
                self.problem(f"{name} '{value}' lists no words; give a list of words read as it.", value_line)
                continue
            written = []
            for word in items:
                if isinstance(word, bool) or not isinstance(word, (str, int, float)) or not str(word).strip():
                    self.problem(
                        f"the words under {name} '{value}' are text, not '{word}'"
                        + (" (YAML reads yes/no/true/false as booleans: quote the word)" if isinstance(word, bool)
                           else "")
                        + ".",
                        value_line,
                    )
                    continue
                word = str(word).strip()
                key = vocabulary_key(word)
                if key in own and own[key] != value:
                    self.problem(
                        f"'{word}' is the product's own {name} '{own[key]}'; it cannot also be read as "
                        f"'{value}'. Remove it from '{value}'.",
                        value_line,
                    )
                    continue
                if key in lines:
                    first_value, first_line = lines[key]
                    if first_value != value:
                        self.problem(
                            f"'{word}' is listed under both {name} '{first_value}' (line {first_line}) and "
                            f"'{value}'; a word is read as one value. Keep it under one.",
                            value_line,
                        )
                    else:
                        self.problem(
                            f"'{word}' is listed twice under {name} '{value}' (first on line {first_line}); "
                            "keep one.",
                            value_line,
                        )
                    continue
                lines[key] = (value, value_line)
                synonyms[key] = value
                written.append(word)
            listed[value] = tuple(written)
        return synonyms, listed
