"""The wording of memos and notices: one catalogue per language.

``catalogues/<language>.yaml`` holds every fixed text of the decision memo and
the candidate notices in that language; the templates only lay it out. A new
language is a new catalogue with the keys of the others (a test compares
them), not a copied template.

A catalogue is read strictly (a key written twice is an error, see
``engine.inputs.strict_yaml``) the first time a document in its language is
rendered, and kept for the rest of the process.

The words of the decision's values (a handling, a severity, a step of the
timeline...) are in ``terms``, one group per vocabulary of
``engine.vocabulary``: a template prints ``t.terms.handling[f.handling]``,
never the stored word, so that a translation reaches every value.

Templates see a catalogue as ``t``: ``t.memo.title`` is the text as it stands
in the catalogue, written into the document like the template's own text,
while values from the decision go through the ``fill`` filter of
``templating`` and are escaped. Texts that the Python code puts into a
context (the memo's next steps) are plain ``str`` and escaped like any value.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import markupsafe

from engine.errors import AdjudicateError, allowed
from engine.inputs.strict_yaml import YamlMap, load_yaml

CATALOGUES = Path(__file__).parent / "catalogues"

LANGUAGES: tuple[str, ...] = tuple(sorted(path.stem for path in CATALOGUES.glob("*.yaml")))
"""The languages that documents can be written in: one per catalogue file."""


class CatalogueError(AdjudicateError):
    """A wording catalogue is missing, is not valid YAML, or has a text that is
    neither a text, a list of texts nor a group of keys."""


@dataclass(frozen=True)
class Catalogue:
    """The wording of one language, as read from its catalogue file.

    ``entries`` maps each key to a text (``str``), a list of texts (a tuple)
    or a group of further keys (a mapping), as the YAML nests them.
    """

    lang: str
    path: Path
    entries: Mapping

    def text(self, key: str):
        """The entry at a dotted ``key``, such as ``"memo.human_decision"``.

        Args:
            key (str): the keys from the top of the catalogue, joined by dots.

        Returns:
            str | tuple | Mapping: the text, list of texts or group of keys.

        Raises:
            CatalogueError: when the catalogue has no such key.
        """
        entry = self.entries
        for part in key.split("."):
            if not isinstance(entry, Mapping) or part not in entry:
                raise CatalogueError(f"the wording catalogue has no key '{key}'.", file=str(self.path))
            entry = entry[part]
        return entry

    def term(self, vocabulary: str, value) -> str:
        """The word of a value in this language: ``terms.<vocabulary>.<value>``.

        Args:
            vocabulary (str): the group of ``terms``, such as ``"handling"``.
            value (str | Vocabulary): the stored word, such as ``Handling.ESCALATE``.

        Returns:
            str: such as ``"escalate"`` in English, ``"提交法务评估"`` in Chinese.

        Raises:
            CatalogueError: when the catalogue has no word for the value.
        """
        return self.text(f"terms.{vocabulary}.{value}")

    def keys(self) -> frozenset[str]:
        """Every key that leads to a text or a list of texts, dotted.

        Returns:
            frozenset[str]: such as ``{"colon", "memo.title", "memo.next_steps.review", ...}``.
        """
        return frozenset(_dotted_keys(self.entries))

    @cached_property
    def wording(self) -> "TemplateWording":
        """The catalogue as templates see it (``t`` in a template); one per
        catalogue, so that each text is made once per process."""
        return TemplateWording(self.entries, self.lang)


class TemplateWording:
    """A group of a catalogue's keys for a template: ``t.memo.title``.

    A text comes back as ``markupsafe.Markup``, so that it is written as it
    stands, like text in the template, except the words of values
    (``terms``): those are plain ``str``, escaped like the values they
    stand for (a Markdown memo writes ``not\\_relevant``); a key the catalogue lacks is a
    jinja2 undefined value, which ``StrictUndefined`` turns into an error.
    Every key is an attribute, made once per catalogue: a memo reads a
    hundred of them, and a batch renders hundreds of thousands of memos.
    """

    def __init__(self, entries: Mapping, where: str, plain: bool = False) -> None:
        made = {}
        as_written = str if plain else markupsafe.Markup
        for key, entry in entries.items():
            if isinstance(entry, Mapping):
                made[key] = TemplateWording(entry, f"{where}.{key}", plain or (where.count(".") == 0 and key == "terms"))
            elif isinstance(entry, tuple):
                made[key] = tuple(as_written(text) for text in entry)
            else:
                made[key] = as_written(entry)
        self.__dict__.update(made)
        self.__dict__["_where"] = where
        # The language (the top group's name): the ``local`` filter picks
        # the rulebook's and the tables' texts in it.
        self.__dict__["_lang"] = where.split(".", 1)[0]

    def __getitem__(self, key: str):
        # A word of the vocabulary (a str enum) is looked up by its word:
        # ``t.terms.handling[f.handling]``. An enum member hashes by its
        # name, not its word, so it is made a plain str first.
        key = str(key)
        if key.startswith("_"):
            raise KeyError(key)
        return self.__dict__[key]  # a KeyError makes jinja2 report an undefined key

    def __getattr__(self, key: str):
        # Only for a key the catalogue lacks: the others are attributes.
        raise AttributeError(f"the wording catalogue {self.__dict__.get('_where', '?')} has no key '{key}'")

    def __repr__(self) -> str:
        return f"<wording {self._where}>"


@functools.cache
def catalogue(lang: str) -> Catalogue:
    """The wording catalogue of ``lang``, read once per process.

    Args:
        lang (str): a language code, one of ``LANGUAGES`` (``"en"``, ``"zh"``).

    Returns:
        Catalogue: its texts, with the file they came from.

    Raises:
        CatalogueError: for a language without a catalogue, or as ``read_catalogue``.
    """
    if lang not in LANGUAGES:
        raise CatalogueError(f"no wording catalogue for the language '{lang}'; allowed: {allowed(LANGUAGES)}.")
    return read_catalogue(CATALOGUES / f"{lang}.yaml")


def read_catalogue(path: Path) -> Catalogue:
    """Read one catalogue file strictly; its language is the file's name.

    Args:
        path (pathlib.Path): a ``<language>.yaml`` file.

    Returns:
        Catalogue: its texts.

    Raises:
        CatalogueError: when the file cannot be read, is not strict YAML (a
            key written twice, for one), or holds something other than texts,
            lists of texts and groups of keys; the message names the file and
            the line.
    """
    document = load_yaml(path, CatalogueError)
    if not isinstance(document, YamlMap):
        raise CatalogueError("a wording catalogue is a mapping of keys to texts.", file=str(path))
    return Catalogue(lang=path.stem, path=path, entries=_entries(document, path))


def _entries(mapping: YamlMap, path: Path) -> Mapping:
    """``mapping`` with lists as tuples, after checking that every value is a
    text, a list of texts or a group of keys."""
    entries = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise CatalogueError(f"the key '{key}' is not a word.", file=str(path), line=mapping.line_of(key))
        if isinstance(value, YamlMap):
            entries[key] = _entries(value, path)
        elif isinstance(value, str):
            entries[key] = value
        elif isinstance(value, list) and all(isinstance(text, str) for text in value):
            entries[key] = tuple(value)
        else:
            raise CatalogueError(
                f"the key '{key}' holds neither a text, a list of texts nor a group of keys; "
                "put a text in quotes.",
                file=str(path), line=mapping.line_of(key),
            )
    return entries


def _dotted_keys(entries: Mapping, prefix: str = ""):
    for key, value in entries.items():
        if isinstance(value, Mapping):
            yield from _dotted_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


__all__ = ["CATALOGUES", "LANGUAGES", "Catalogue", "CatalogueError", "TemplateWording", "catalogue", "read_catalogue"]
