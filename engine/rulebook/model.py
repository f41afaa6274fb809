"""The rulebook: YAML rules that legal staff read, review and own.

``load_rulebook`` reads ``rulebook.yaml`` strictly and returns a validated,
immutable ``Rulebook``. Every problem names the file, the line, the rule id
and what is allowed; loading collects all problems of the file before it
fails, so that one review round fixes them all. The rules are compiled for
the rule engine in ``compiled``; nothing here decides a finding.

The language is documented in ``docs/rulebook.md``.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from engine.errors import (
    InvalidConfiguration,
    RulebookError,
    all_of,
    allowed,
    did_you_mean,
    unknown_value,
)
from engine.dates import FORMAT_HINT, parse_iso_date
from engine.inputs.applications import WORK_LOCATION, WORK_LOCATION_HINT
from engine.inputs.strict_yaml import YamlMap, key_problems, load_yaml
from engine.inputs.terms import Terms, load_terms, vocabulary_path
from engine.rulebook import jurisdictions
from engine.vocabulary import Disposition, Handling, Lookback, PartyRole, Relevance, Relief, RiskLevel, Severity, YesNo

RULEBOOK_FILE = "rulebook.yaml"

# Rule ids the engine itself writes into outputs; a rule may not take them.
NO_RULE = "NO-RULE"
CONSENT_SCOPE = "CONSENT-SCOPE"
CONSENT_MISSING = "CONSENT-MISSING"
# A record the screening source produced before the candidate signed the
# consent: obtained without authorisation, it may not be used.
CONSENT_TIMING = "CONSENT-TIMING"
RESERVED_IDS = frozenset({NO_RULE, CONSENT_SCOPE, CONSENT_MISSING, CONSENT_TIMING})

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# The fields a rule may test, and the vocabulary of each (categories come
# from the rulebook's own taxonomy). Ordered fields also accept
# ``at_least`` / ``at_most``.
ORDERED_FIELDS = {"severity": Severity, "relevance": Relevance, "risk_level": RiskLevel}
WORD_FIELDS = {
    "disposition": Disposition, "lookback": Lookback, "party_role": PartyRole, "juvenile": YesNo,
    "relief": Relief, "conduct_established": YesNo,
}
CONDITION_FIELDS = (
    "category", "severity", "disposition", "relevance", "risk_level", "lookback",
    "party_role", "juvenile", "relief", "conduct_established", "work_location", "years_since",
)
# The age of the record in whole years on the evaluation date, counted from
# the disposition (the day of the conviction) when the finding gives it,
# else from the offence (docs/rulebook.md). Not a vocabulary but a number:
# a rule takes ``{at_least: N}``, ``{at_most: N}``, both, or N (exactly).
AGE_FIELD = "years_since"
# Where the job is (``jurisdictions``): not a closed vocabulary but a code
# (US, US-CA, US-NY-NYC), matched with everything inside it.
LOCATION_FIELD = "work_location"
# The fields of the facts the law needs (docs/findings.md): a finding that
# does not give one has its first word (none, no).
FACT_FIELDS = ("party_role", "juvenile", "relief", "conduct_established")
# From which date a lookback runs: the offence date alone, or the latest of
# the offence, the disposition and the end of the sentence (EEOC 915.002).
LOOKBACK_FROM = ("latest", "occurred_on")

_TOP_KEYS = ("rulebook", "categories", "rules")
# The optional top-level section of the law of each place (``jurisdictions``).
_OPTIONAL_TOP_KEYS = ("jurisdictions",)
_HEADER_KEYS = ("name", "version", "effective_date", "lookback_from", "approved_by", "approved_on", "zh")
_HEADER_REQUIRED = ("name", "version", "effective_date")
_CATEGORY_KEYS = ("label", "description", "zh")
_RULE_KEYS = ("id", "title", "when", "handling", "precedence", "rationale", "legal_basis", "withdraw_follows_review", "zh")
_RULE_REQUIRED = ("id", "title", "when", "handling", "precedence", "rationale", "legal_basis")
_RANGE_KEYS = ("at_least", "at_most")
# The texts a reader sees that carry their Chinese beside the English, under
# ``zh:`` in the header, a category and a rule. A rule's legal bases may
# carry their Chinese too (``zh: legal_basis:``, in the same shape and
# order): a Chinese memo then cites the law in Chinese. The approver is a name.
ZH_HEADER_KEYS = ("name",)
ZH_CATEGORY_KEYS = ("label", "description")
ZH_RULE_KEYS = ("title", "rationale")
ZH_RULE_LISTS = ("legal_basis",)
# A rule's legal bases may be grouped by the work location whose law they
# are (``legal_basis: {US-CA: [...], everywhere: [...]}``): a memo cites for
# a job only the law of where the job is, never California's for Illinois.
EVERYWHERE = "everywhere"
# A pack of the law of a place (``jurisdictions:``): its name, its statutory
# test in one sentence and the sources of that test, with their Chinese.
_JURISDICTION_KEYS = ("name", "test", "sources", "zh")
_JURISDICTION_REQUIRED = ("name", "test", "sources")
ZH_JURISDICTION_KEYS = ("name", "test")
ZH_JURISDICTION_LISTS = ("sources",)


class YearsRange(NamedTuple):
    """The condition of a rule on the age of the record (``years_since``):
    whole years from ``at_least`` to ``at_most`` (``None``: no upper bound),
    both included."""

    at_least: int
    at_most: int | None

    def __contains__(self, years: object) -> bool:
        return isinstance(years, int) and self.at_least <= years and (self.at_most is None or years <= self.at_most)

    def cuts(self) -> tuple[int, ...]:
        """The ages at which the condition starts or stops holding (above 0):
        ``at_least`` and the year after ``at_most``."""
        return tuple(
            cut for cut in (self.at_least, None if self.at_most is None else self.at_most + 1) if cut
        )

    def describe(self) -> str:
        """The condition in words: '2 years or more', 'at most 6 years',
        'from 2 to 6 years', 'exactly 3 years'."""
        if self.at_most is None:
            return f"{self.at_least} year{'s' if self.at_least != 1 else ''} or more"
        if self.at_least == self.at_most:
            return f"exactly {self.at_least} year{'s' if self.at_least != 1 else ''}"
        if self.at_least == 0:
            return f"at most {self.at_most} year{'s' if self.at_most != 1 else ''}"
        return f"from {self.at_least} to {self.at_most} years"


class Translated:
    """A value whose texts may have a Chinese twin: ``title`` and ``title_zh``.

    Documents in Chinese print the twin; a text without one is printed in
    English, and ``rules check`` / ``tables check`` warn about it.
    """

    def in_lang(self, name: str, lang: str) -> str:
        """The text ``name`` in ``lang``.

        Args:
            name (str): the English text's attribute, such as ``"title"``.
            lang (str): a document language (``"en"``, ``"zh"``).

        Returns:
            str: the ``<name>_<lang>`` text when the value has one that is not
            empty, else the English text.
        """
        if lang != "en":
            translated = getattr(self, f"{name}_{lang}", "")
            if translated:
                return translated
        return getattr(self, name)


@dataclass(frozen=True)
class Category(Translated):
    """A category of finding in the rulebook's taxonomy (``credit_record``,
    ``offense_driving``...), with the label and description a reader sees,
    and their Chinese (``label_zh``, ``description_zh``; '' when not given)."""

    name: str
    label: str
    description: str
    label_zh: str = ""
    description_zh: str = ""


@dataclass(frozen=True)
class Rule(Translated):
    """One rule: when a finding matches every condition, it gets ``handling``.

    ``when`` maps a field to the set of words it may take (for
    ``years_since``, a ``YearsRange``); a field the rule does not mention
    matches any value. When several rules match a finding,
    the lowest ``precedence`` wins (see ``compiled.RuleEngine``).
    ``title_zh`` and ``rationale_zh`` are the Chinese of the title and the
    rationale ('' when not given); ``legal_basis_zh`` the Chinese of each
    legal basis, in the same order (empty when not given).
    ``legal_basis_places`` gives, for each legal basis in order, the work
    location whose law it is ('' for a basis that holds everywhere).
    ``withdraw_follows_review`` (a review rule only): a withdraw that relies
    on findings this rule decided, after the individualized assessment, is
    the course the rule sets, not an override of its recommendation. It is
    for a place whose law makes a person's assessment, not an escalation,
    the route to an adverse decision (Illinois, 775 ILCS 5/2-103.1).
    """

    id: str
    title: str
    when: MappingProxyType  # field -> frozenset of words (years_since: a YearsRange)
    handling: Handling
    precedence: int
    rationale: str
    legal_basis: tuple[str, ...]
    file: str
    line: int
    title_zh: str = ""
    rationale_zh: str = ""
    legal_basis_zh: tuple[str, ...] = ()
    legal_basis_places: tuple[str, ...] = ()
    withdraw_follows_review: bool = False

    def legal_basis_in(self, lang: str, work_location: str | None = None) -> tuple[str, ...]:
        """The rule's legal bases in ``lang``, for a job at ``work_location``.

        Args:
            lang (str): a document language (``"en"``, ``"zh"``).
            work_location (str | None): where the job is (``US-CA-LA``); None
                or '' (a job whose location is not known) for every basis,
                whatever its place: with the place unknown, no law can be
                left out.

        Returns:
            tuple[str, ...]: the ``zh`` citations when ``lang`` is ``"zh"``
            and the rule has them, else the English ones; of those, the ones
            that hold everywhere and those of the work location or a
            location enclosing it, in the rulebook's order.
        """
        texts = self.legal_basis_zh if lang == "zh" and self.legal_basis_zh else self.legal_basis
        if not work_location:
            return texts
        places = self.legal_basis_places or ("",) * len(texts)
        return tuple(
            text for text, place in zip(texts, places)
            if not place or jurisdictions.inside(work_location, place)
        )


@dataclass(frozen=True)
class Jurisdiction(Translated):
    """The law of a place, as the rulebook's ``jurisdictions:`` section
    states it: the pack a memo cites for a job there.

    Attributes:
        code (str): the work location it governs (``US``, ``US-CA``,
            ``US-NY-NYC``, ``CN``); a job there or anywhere inside it.
        name (str): the pack's name (``California``).
        test (str): the statutory test, in one sentence: what a finding
            must meet before an adverse decision may rest on it.
        sources (tuple[str, ...]): the citations of the test.
        line (int): the line of the code in the rulebook.
        name_zh, test_zh (str): their Chinese ('' when not given).
        sources_zh (tuple[str, ...]): the Chinese of each citation, in the
            same order (empty when not given).
    """

    code: str
    name: str
    test: str
    sources: tuple[str, ...]
    line: int
    name_zh: str = ""
    test_zh: str = ""
    sources_zh: tuple[str, ...] = ()

    def sources_in(self, lang: str) -> tuple[str, ...]:
        """The citations in ``lang`` (``"en"``, ``"zh"``): the Chinese ones
        when asked for and given, else the English ones."""
        return self.sources_zh if lang == "zh" and self.sources_zh else self.sources


@dataclass(frozen=True)
class Rulebook(Translated):
    """A loaded, validated rulebook: its header, taxonomy and rules.

    Attributes:
        name, version: as the file's ``rulebook`` header gives them.
        name_zh: the name in Chinese ('' when the header gives none).
        effective_date: the date from which the version applies.
        approved_by, approved_on: who approved it and on what date; both
            ``None`` for a draft, which is used only with ``--allow-draft``.
        categories: category name -> ``Category``, in the file's order.
        rules: the rules, in the file's order.
        path: the ``rulebook.yaml`` read.
        sha256: the SHA-256 (hex) of the file's bytes; it goes into every
            decision id.
        text: the file as read, kept by the store for replay.
        vocabulary: the words of screening sources read as the rulebook's
            values (``vocabulary.yaml`` beside the rulebook), or None when
            the rulebook has no such file.
        untranslated: a warning (``RulebookError``, with the line and rule
            id) for each text a reader sees that has no Chinese beside it.
        jurisdictions: work location code -> ``Jurisdiction``, the law of
            each place the rulebook states (``jurisdictions:``), in the
            file's order; empty when it states none.
    """

    name: str
    version: str
    effective_date: dt.date
    approved_by: str | None
    approved_on: dt.date | None
    categories: MappingProxyType  # name -> Category
    rules: tuple[Rule, ...]
    path: Path
    sha256: str = field(repr=False)
    # The file as read, so that the store keeps exactly what was evaluated
    # even if the file changes on disk afterwards.
    text: str = field(repr=False, default="")
    vocabulary: Terms | None = field(repr=False, default=None)
    # From which date a lookback runs (LOOKBACK_FROM): ``latest`` of the
    # offence, disposition and end of sentence, or ``occurred_on``.
    lookback_from: str = "latest"
    name_zh: str = ""
    untranslated: tuple[RulebookError, ...] = field(repr=False, default=(), compare=False)
    jurisdictions: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def packs_for(self, work_location: str) -> tuple[Jurisdiction, ...]:
        """The packs of law that apply to a job at ``work_location``, the
        most specific first: for ``US-NY-NYC``, New York City, New York
        State, then US federal law; for ``CN-SH``, the PRC.

        Args:
            work_location (str): where the job is (upper case), or '' when
                not known.

        Returns:
            tuple[Jurisdiction, ...]: the packs of the location and of every
            location that contains it; empty when the location is not known
            or the rulebook states the law of none of them.
        """
        return tuple(self.jurisdictions[area] for area in reversed(jurisdictions.lineage(work_location))
                     if area in self.jurisdictions)

    @property
    def approved(self) -> bool:
        """An approved rulebook names who approved it and when; any other is a draft."""
        return self.approved_by is not None and self.approved_on is not None

    @property
    def status(self) -> str:
        """``approved`` or ``draft``, as outputs print it."""
        return "approved" if self.approved else "draft"

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        """The rules by their id."""
        return {rule.id: rule for rule in self.rules}

    @cached_property
    def locations(self) -> tuple[str, ...]:
        """The work locations the rules name (``US-CA``...), sorted; empty
        when no rule conditions on where the job is."""
        return tuple(sorted({area for rule in self.rules for area in rule.when.get(LOCATION_FIELD, ())}))

    @cached_property
    def age_cuts(self) -> tuple[int, ...]:
        """The ages (whole years, above 0) at which some rule's
        ``years_since`` condition starts or stops holding, ascending; empty
        when no rule conditions on the age of the record."""
        return tuple(sorted({cut for rule in self.rules if AGE_FIELD in rule.when for cut in rule.when[AGE_FIELD].cuts()}))

    def reduce_age(self, years: int) -> int:
        """The age of a record as the rules see it: the largest of
        ``age_cuts`` that ``years`` reaches, or 0. Every ``years_since``
        condition holds for the reduced age exactly when it holds for the
        age itself, and a rulebook that names no age gives 0 for every
        record, so that its signatures stay what they were.

        Args:
            years (int): whole years since the record's date (negative is
                read as 0).

        Returns:
            int: 0 or one of ``age_cuts``.
        """
        at = bisect.bisect_right(self.age_cuts, years)
        return self.age_cuts[at - 1] if at else 0

    def reduce_location(self, work_location: str) -> str:
        """A job's work location as the rules see it: the deepest location
        the rules name that contains it, or ``jurisdictions.ELSEWHERE``
        (also for '', a location not known)."""
        return jurisdictions.reduce(work_location, self.locations)

    def domain(self, name: str) -> tuple[str, ...]:
        """Every word the condition field ``name`` can take (for
        ``work_location``: the reduced locations, see ``jurisdictions.domain``)."""
        if name == "category":
            return tuple(self.categories)
        if name == LOCATION_FIELD:
            return jurisdictions.domain(self.locations)
        if name == AGE_FIELD:
            return (0, *self.age_cuts)
        return (ORDERED_FIELDS | WORD_FIELDS)[name].words()


def load_rulebook(location: Path) -> Rulebook:
    """Load and validate a rulebook.

    Args:
        location: a folder holding ``rulebook.yaml``, or the file itself.

    Returns:
        The immutable ``Rulebook``, with the file's hash and text, and the
        vocabulary file beside it (``vocabulary.yaml``) when there is one.

    Raises:
        RulebookError: the file is missing, is not YAML, or is not a mapping
            of the expected keys.
        InvalidConfiguration: the rulebook has problems (unknown keys or
            words, bad dates, duplicate or reserved rule ids...); it carries
            every problem of the file, each a ``RulebookError`` with its line
            and rule id; or the vocabulary file has problems (each with its
            file and line).
    """
    location = Path(location)
    path = location / RULEBOOK_FILE if location.is_dir() else location
    if not path.exists():
        hint = (
            f"the folder has no {RULEBOOK_FILE}"
            if location.is_dir()
            else "no such file or folder"
        )
        raise RulebookError(
            f"cannot load the rulebook: {hint}. Pass the rulebook folder with --rules "
            "(the default is rules/ in the current folder).",
            file=str(path),
        )
    raw = path.read_bytes()
    document = load_yaml(path, RulebookError)
    rulebook = _Parser(path).parse(document, hashlib.sha256(raw).hexdigest())
    terms = vocabulary_path(path)
    vocabulary = load_terms(terms, rulebook.categories) if terms.is_file() else None
    return dataclasses.replace(rulebook, text=raw.decode("utf-8"), vocabulary=vocabulary)


class _Parser:
    """Turns the YAML document into a Rulebook, collecting every problem."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.path = path
        self.problems: list[RulebookError] = []
        # Warnings, not problems: a text without its Chinese is printed in English.
        self.untranslated: list[RulebookError] = []

    def problem(self, message: str, line: int | None, rule_id: str | None = None) -> None:
        self.problems.append(RulebookError(message, file=self.file, line=line, rule_id=rule_id))

    def parse(self, document, sha256: str) -> Rulebook:
        if not isinstance(document, YamlMap):
            raise RulebookError(
                "the rulebook must be a YAML mapping with the keys "
                f"{all_of(_TOP_KEYS)}.",
                file=self.file,
                line=1,
            )
        self.keys(document, _TOP_KEYS + _OPTIONAL_TOP_KEYS, _TOP_KEYS, "the rulebook")
        header = self.header(document.get("rulebook"), document.line_of("rulebook"))
        categories = self.categories(document.get("categories"), document.line_of("categories"))
        rules = self.rules(document.get("rules"), document.line_of("rules"), categories)
        packs = self.jurisdictions(document)
        if self.problems:
            raise InvalidConfiguration(f"The rulebook {self.file}", self.problems)
        return Rulebook(
            **header,
            categories=MappingProxyType(categories),
            rules=tuple(rules),
            path=self.path,
            sha256=sha256,
            untranslated=tuple(self.untranslated),
            jurisdictions=MappingProxyType(packs),
        )

    def jurisdictions(self, document: YamlMap) -> dict[str, Jurisdiction]:
        """The optional ``jurisdictions:`` section: work location code ->
        its pack (name, test, sources, and their Chinese under ``zh:``)."""
        if "jurisdictions" not in document:
            return {}
        raw, line = document.get("jurisdictions"), document.line_of("jurisdictions")
        example = (
            "\n    jurisdictions:\n      US-CA:\n        name: California\n"
            "        test: The employer may deny the position for a conviction only after ...\n"
            "        sources:\n          - California Gov. Code §12952(c)"
        )
        if not isinstance(raw, YamlMap) or not raw:
            self.problem(
                "'jurisdictions' must map each work location to the law of the place, with "
                f"{allowed(_JURISDICTION_KEYS)}, for example" + example,
                line,
            )
            return {}
        packs: dict[str, Jurisdiction] = {}
        for code, entry in raw.items():
            entry_line = raw.line_of(code)
            if not isinstance(code, str) or not WORK_LOCATION.fullmatch(code):
                self.problem(f"unknown work location '{code}' in 'jurisdictions'; {WORK_LOCATION_HINT}.", entry_line)
                continue
            where = f"jurisdiction '{code}'"
            if not isinstance(entry, YamlMap):
                self.problem(f"{where} must be a mapping with {allowed(_JURISDICTION_KEYS)}.", entry_line)
                continue
            count = len(self.problems)
            self.keys(entry, _JURISDICTION_KEYS, _JURISDICTION_REQUIRED, where)
            name = self.text(entry, "name", where) or ""
            test = self.text(entry, "test", where) or ""
            sources = self.sources(entry, where)
            warned = len(self.untranslated)
            zh = self.translation(
                entry, ZH_JURISDICTION_KEYS, {"name": name, "test": test, "sources": (sources, ("",) * len(sources))},
                where, lists=ZH_JURISDICTION_LISTS,
            )
            # One warning per pack: the one for its name or test, else this.
            if sources and "sources_zh" not in zh and len(self.untranslated) == warned:
                self.untranslated.append(RulebookError(
                    f"{where} has no Chinese 'sources' (write them under 'zh:', one for each, in order); "
                    "a Chinese memo prints the English instead.",
                    file=self.file, line=entry.line_of("zh") if "zh" in entry else entry_line,
                ))
            if len(self.problems) > count:
                continue
            packs[code] = Jurisdiction(code=code, name=name, test=test, sources=sources, line=entry_line, **zh)
        return packs

    def sources(self, entry: YamlMap, where: str) -> tuple[str, ...]:
        """The ``sources`` of a jurisdiction: a non-empty list of citations."""
        raw = entry.get("sources")
        if raw is None:
            return ()
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items or not all(isinstance(item, str) and item.strip() for item in items):
            self.problem(
                f"'sources' in {where} must be a non-empty list of citations, for example\n"
                "        sources:\n          - California Gov. Code §12952(c)",
                entry.line_of("sources"),
            )
            return ()
        return tuple(item.strip() for item in items)

    def keys(self, mapping: YamlMap, known, required, where: str, rule_id=None) -> None:
        for message, line in key_problems(mapping, known, where, required):
            self.problem(message, line, rule_id)

    def text(self, mapping: YamlMap, key: str, where: str, rule_id=None) -> str | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(f"'{key}' in {where} must be text.", mapping.line_of(key), rule_id)
            return None
        value = str(value).strip()
        if not value:
            self.problem(f"'{key}' in {where} is empty; write it out.", mapping.line_of(key), rule_id)
            return None
        return value

    def translation(
        self, entry: YamlMap, keys: tuple[str, ...], english: dict, where: str, rule_id=None,
        lists: tuple[str, ...] = (),
    ) -> dict:
        """The Chinese texts under ``zh:`` in ``entry``, as ``{"<key>_zh": text}``.

        ``keys`` are the texts that may have a Chinese twin; an unknown key
        is a problem, and each text that ``english`` gives without its
        Chinese is a warning (``untranslated``). ``lists`` are lists of texts
        (a rule's legal bases) whose Chinese, when given, is a list of the
        same length, item for item."""
        raw = entry.get("zh")
        found: dict = {}
        if isinstance(raw, YamlMap):
            for key in lists:
                if key in raw:
                    items = self.text_list(raw, key, english.get(key) or ((), ()), f"the 'zh' of {where}", rule_id)
                    if items:
                        found[key] = items
        if "zh" in entry and not isinstance(raw, YamlMap):
            self.problem(
                f"'zh' in {where} must map {allowed(keys)} to its Chinese text, for example\n"
                f"      zh:\n        {keys[0]}: ...",
                entry.line_of("zh"),
                rule_id,
            )
        elif raw is not None:
            inner = f"the 'zh' of {where}"
            self.keys(raw, keys + lists, (), inner, rule_id)
            for key in keys:
                value = self.text(raw, key, inner, rule_id)
                if value is not None:
                    found[key] = value
        missing = [key for key in keys if english.get(key) and key not in found]
        # A rule's legal bases are texts a Chinese memo prints too: without
        # their Chinese it cites the law in English.
        missing += [key for key in lists if english.get(key) and english[key][0] and key not in found]
        if missing:
            self.untranslated.append(RulebookError(
                f"{where} has no Chinese {all_of(missing)} (write it under 'zh:', as '{missing[0]}: ...'); "
                "a Chinese memo or notice prints the English instead.",
                file=self.file,
                line=entry.line_of("zh") if isinstance(raw, YamlMap) else entry.line,
                rule_id=rule_id,
            ))
        return {f"{key}_zh": value for key, value in found.items()}

    def text_list(self, mapping: YamlMap, key: str, english, where: str, rule_id=None) -> tuple[str, ...]:
        """The Chinese of the English texts ``english`` (texts, places) at
        ``key``: in the same shape (a list, or lists under the same work
        locations) and the same number of items; () after a problem."""
        texts, places = english
        shape = [(place, sum(1 for p in places if p == place)) for place in dict.fromkeys(places)]
        groups = self.basis_groups(mapping.get(key), mapping.line_of(key), f"'{key}' in {where}", rule_id)
        if groups == []:
            return ()
        if groups is None:
            self.problem(
                f"'{key}' in {where} must be a list of texts, or lists under the work locations of the English.",
                mapping.line_of(key),
                rule_id,
            )
            return ()
        found = [(place, len(items)) for place, items in groups]
        if found != shape:
            def described(pairs):
                if len(pairs) == 1 and not pairs[0][0]:
                    return f"{pairs[0][1]} item(s)"
                return ", ".join(f"{place or EVERYWHERE}: {count}" for place, count in pairs)

            self.problem(
                f"'{key}' in {where} has {described(found)} but the English has {described(shape)}; "
                "give the Chinese of each, in the same order and under the same work locations.",
                mapping.line_of(key),
                rule_id,
            )
            return ()
        return tuple(text for _, items in groups for text in items)

    def date(self, mapping: YamlMap, key: str, where: str) -> dt.date | None:
        value = self.text(mapping, key, where)
        if value is None:
            return None
        try:
            return parse_iso_date(value)
        except ValueError:
            self.problem(
                f"'{key}' in {where} must be a date, not '{value}'; {FORMAT_HINT}.",
                mapping.line_of(key),
            )
            return None

    def header(self, header, line: int) -> dict:
        where = "the 'rulebook' header"
        if not isinstance(header, YamlMap):
            self.problem(
                f"{where} must be a mapping with {allowed(_HEADER_KEYS)}.", line
            )
            header = YamlMap()
            header.line, header.key_lines = line, {}
        self.keys(header, _HEADER_KEYS, _HEADER_REQUIRED, where)
        if isinstance(header.get("version"), (int, float)) and not isinstance(header.get("version"), bool):
            # YAML reads 1.10 as the number 1.1: the version would change silently.
            self.problem(
                f"'version' must be text: write it in quotes, for example version: \"{header['version']}\".",
                header.line_of("version"),
            )
        if ("approved_by" in header) != ("approved_on" in header):
            present = "approved_by" if "approved_by" in header else "approved_on"
            self.problem(
                "an approval needs both 'approved_by' and 'approved_on'; a rulebook without "
                "either is a draft.",
                header.line_of(present),
            )
        lookback_from = header.get("lookback_from", "latest")
        if lookback_from not in LOOKBACK_FROM:
            self.problem(unknown_value("lookback_from", str(lookback_from), LOOKBACK_FROM), header.line_of("lookback_from"))
            lookback_from = "latest"
        name = self.text(header, "name", where) or ""
        return {
            **self.translation(header, ZH_HEADER_KEYS, {"name": name}, where),
            "lookback_from": lookback_from,
            "name": name,
            "version": self.text(header, "version", where) or "",
            "effective_date": self.date(header, "effective_date", where),
            "approved_by": self.text(header, "approved_by", where),
            "approved_on": self.date(header, "approved_on", where),
        }

    def categories(self, raw, line: int) -> dict[str, Category]:
        if not isinstance(raw, YamlMap) or not raw:
            self.problem(
                "'categories' must map each finding category to its label, e.g.\n"
                "    categories:\n      traffic_violation:\n        label: Traffic violation",
                line,
            )
            return {}
        categories = {}
        for name, entry in raw.items():
            entry_line = raw.line_of(name)
            if not isinstance(name, str) or not _CATEGORY.match(name):
                self.problem(
                    f"category name '{name}' must be lowercase letters, digits and '_' "
                    "(for example offense_theft_fraud).",
                    entry_line,
                )
                continue
            if not isinstance(entry, YamlMap):
                self.problem(f"category '{name}' needs a 'label'.", entry_line)
                continue
            where = f"category '{name}'"
            self.keys(entry, _CATEGORY_KEYS, ("label",), where)
            label = self.text(entry, "label", where) or name
            description = self.text(entry, "description", where) or ""
            categories[name] = Category(
                name=name,
                label=label,
                description=description,
                **self.translation(entry, ZH_CATEGORY_KEYS, {"label": label, "description": description}, where),
            )
        return categories

    def rules(self, raw, line: int, categories: dict) -> list[Rule]:
        if not isinstance(raw, list) or not raw:
            self.problem("'rules' must be a list of rules, each starting with '- id:'.", line)
            return []
        rules: list[Rule] = []
        first_line: dict[str, int] = {}
        for entry in raw:
            if not isinstance(entry, YamlMap):
                self.problem("each rule must be a mapping starting with '- id:'.", line)
                continue
            rule = self.rule(entry, categories)
            if rule is None:
                continue
            if rule.id in first_line:
                self.problem(
                    f"the rule id is used twice (first on line {first_line[rule.id]}); "
                    "every rule needs its own id.",
                    rule.line,
                    rule.id,
                )
                continue
            first_line[rule.id] = rule.line
            rules.append(rule)
        return rules

    def rule(self, entry: YamlMap, categories: dict) -> Rule | None:
        rule_id = self.text(entry, "id", "a rule")
        count = len(self.problems)
        if rule_id is not None and not _ID.match(rule_id):
            self.problem(
                "a rule id is letters, digits, '.', '_' and '-' (at most 64), "
                "for example ESC-DIRECT-SERIOUS.",
                entry.line_of("id"),
                rule_id,
            )
        if rule_id in RESERVED_IDS:
            self.problem(
                f"the id is reserved for the engine's own outputs ({allowed(sorted(RESERVED_IDS))}).",
                entry.line_of("id"),
                rule_id,
            )
        self.keys(entry, _RULE_KEYS, _RULE_REQUIRED, "the rule", rule_id)
        title = self.text(entry, "title", "the rule", rule_id)
        rationale = self.text(entry, "rationale", "the rule", rule_id)
        handling = self.word(entry, "handling", Handling.words(), "handling", rule_id)
        precedence = entry.get("precedence")
        if "precedence" in entry and (
            isinstance(precedence, bool) or not isinstance(precedence, int) or not 0 <= precedence <= 1000
        ):
            # durable-rules accepts a non-integer priority silently; we don't.
            self.problem(
                f"'precedence' must be a whole number from 0 to 1000 (lower wins), not '{precedence}'.",
                entry.line_of("precedence"),
                rule_id,
            )
        legal_basis, places = self.legal_basis(entry, rule_id)
        withdraw_follows_review = entry.get("withdraw_follows_review", False)
        if not isinstance(withdraw_follows_review, bool):
            self.problem(
                f"'withdraw_follows_review' must be true or false, not '{withdraw_follows_review}'.",
                entry.line_of("withdraw_follows_review"), rule_id,
            )
        elif withdraw_follows_review and handling not in (None, Handling.REVIEW.value):
            self.problem(
                f"'withdraw_follows_review' is for a rule whose handling is review; this rule's is {handling}. "
                "Leave it out, or make the rule's handling review.",
                entry.line_of("withdraw_follows_review"), rule_id,
            )
        when = self.when(entry, categories, rule_id)
        zh = self.translation(
            entry, ZH_RULE_KEYS, {"title": title, "rationale": rationale, "legal_basis": (legal_basis, places)},
            "the rule", rule_id, lists=ZH_RULE_LISTS,
        )
        if len(self.problems) > count or rule_id is None:
            return None
        return Rule(
            id=rule_id,
            title=title,
            when=MappingProxyType(when),
            handling=Handling(handling),
            precedence=precedence,
            rationale=rationale,
            legal_basis=legal_basis,
            legal_basis_places=places,
            withdraw_follows_review=withdraw_follows_review is True,
            file=self.file,
            line=entry.line,
            **zh,
        )

    def word(self, mapping: YamlMap, key: str, words, what: str, rule_id) -> str | None:
        value = self.text(mapping, key, "the rule", rule_id)
        if value is not None and value not in words:
            self.problem(unknown_value(what, value, words), mapping.line_of(key), rule_id)
            return None
        return value

    def legal_basis(self, entry: YamlMap, rule_id) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The rule's legal bases and, for each, the work location whose law
        it is ('' for everywhere): a list, or lists grouped by work location
        (``US-CA: [...]``, ``everywhere: [...]``)."""
        raw = entry.get("legal_basis")
        if raw is None:
            return (), ()
        groups = self.basis_groups(raw, entry.line_of("legal_basis"), "'legal_basis'", rule_id)
        if groups is None:
            self.problem(
                "'legal_basis' must be a non-empty list of references, or such lists grouped by the work "
                f"location whose law they are ('{EVERYWHERE}' for those that hold everywhere), for example\n"
                "      - EEOC Enforcement Guidance 915.002 (2012)\n"
                "    or\n"
                "      US-CA:\n        - California Labor Code §432.7(a)(1)",
                entry.line_of("legal_basis"),
                rule_id,
            )
            return (), ()
        texts = tuple(text for _, items in groups for text in items)
        places = tuple(place for place, items in groups for _ in items)
        return texts, places

    def basis_groups(self, raw, line, where: str, rule_id) -> list[tuple[str, tuple[str, ...]]] | None:
        """``raw`` as [(place, texts)], place '' for everywhere; None when
        it is not a list of texts or a mapping of work locations to such
        lists (a problem is recorded for a bad work location)."""
        def texts(items):
            items = [items] if isinstance(items, str) else items
            if not isinstance(items, list) or not items or not all(
                isinstance(item, str) and item.strip() for item in items
            ):
                return None
            return tuple(item.strip() for item in items)

        if not isinstance(raw, YamlMap):
            items = texts(raw)
            return None if items is None else [("", items)]
        groups = []
        for place, items in raw.items():
            if place != EVERYWHERE and (not isinstance(place, str) or not WORK_LOCATION.fullmatch(place)):
                self.problem(
                    f"unknown work location '{place}' in {where}; {WORK_LOCATION_HINT}, "
                    f"or '{EVERYWHERE}' for the bases that hold everywhere.",
                    raw.line_of(place),
                    rule_id,
                )
                return []
            found = texts(items)
            if found is None:
                return None
            groups.append(("" if place == EVERYWHERE else place, found))
        return groups or None

    def when(self, entry: YamlMap, categories: dict, rule_id) -> dict[str, frozenset]:
        raw = entry.get("when")
        line = entry.line_of("when")
        if raw is None:
            return {}
        if not isinstance(raw, YamlMap):
            self.problem(
                f"'when' must map fields to values; fields: {allowed(CONDITION_FIELDS)}.",
                line,
                rule_id,
            )
            return {}
        when: dict[str, frozenset] = {}
        for name, value in raw.items():
            key_line = raw.line_of(name)
            if name not in CONDITION_FIELDS:
                self.problem(
                    f"unknown field '{name}' in 'when'; allowed fields: {allowed(CONDITION_FIELDS)}."
                    + did_you_mean(str(name), CONDITION_FIELDS),
                    key_line,
                    rule_id,
                )
                continue
            if name == LOCATION_FIELD:
                values = self.work_locations(value, key_line, rule_id)
                if values is not None:
                    when[name] = values
                continue
            if name == AGE_FIELD:
                years = self.years_since(value, raw, name, rule_id)
                if years is not None:
                    when[name] = years
                continue
            words = tuple(categories) if name == "category" else (ORDERED_FIELDS | WORD_FIELDS)[name].words()
            if WORD_FIELDS.get(name) is YesNo and isinstance(value, bool):
                value = "yes" if value else "no"  # YAML reads an unquoted yes/no as a boolean
            values = self.condition(name, value, words, key_line, rule_id)
            if values is not None:
                when[name] = values
        # A fixed field order keeps compiled rulesets and listings stable.
        return {name: when[name] for name in CONDITION_FIELDS if name in when}

    def condition(self, name, value, words, line, rule_id) -> frozenset | None:
        what = name.replace("_", " ")
        if isinstance(value, YamlMap):
            if name not in ORDERED_FIELDS:
                self.problem(
                    f"'{name}' takes a value or a list of values; 'at_least'/'at_most' "
                    f"apply only to {allowed(ORDERED_FIELDS)}.",
                    line,
                    rule_id,
                )
                return None
            bad = [key for key in value if key not in _RANGE_KEYS]
            if bad or not value:
                self.problem(
                    f"'{name}' as a range takes {allowed(_RANGE_KEYS)}"
                    + (f", not '{bad[0]}'." + did_you_mean(str(bad[0]), _RANGE_KEYS) if bad else "."),
                    line,
                    rule_id,
                )
                return None
            low, high = 0, len(words) - 1
            for key, bound in (("at_least", "low"), ("at_most", "high")):
                if key in value:
                    word = value[key]
                    if not isinstance(word, str) or word not in words:
                        self.problem(unknown_value(what, str(word), words), value.line_of(key), rule_id)
                        return None
                    if bound == "low":
                        low = words.index(word)
                    else:
                        high = words.index(word)
            if low > high:
                self.problem(
                    f"'{name}' at_least {words[low]} and at_most {words[high]} can never both hold.",
                    line,
                    rule_id,
                )
                return None
            return frozenset(words[low : high + 1])
        items = value if isinstance(value, list) else [value]
        if not items:
            self.problem(f"'{name}' lists no values; allowed: {allowed(words)}.", line, rule_id)
            return None
        result = set()
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str):
                self.problem(
                    f"'{name}' values are words such as {allowed(words[:3])}, not '{item}'"
                    + (" (YAML reads yes/no/true/false as booleans: quote the word)" if isinstance(item, bool) else "")
                    + ".",
                    line,
                    rule_id,
                )
                return None
            if item not in words:
                self.problem(unknown_value(what, item, words), line, rule_id)
                return None
            result.add(item)
        return frozenset(result)

    def work_locations(self, value, line, rule_id) -> frozenset | None:
        """The work locations of a ``work_location`` condition: one code or
        a list of codes, each written exactly as the applications file's
        values are stored (upper case, parts joined by '-')."""
        items = value if isinstance(value, list) else [value]
        if not items or isinstance(value, YamlMap):
            self.problem(
                f"'work_location' takes a work location or a list of them; {WORK_LOCATION_HINT}.", line, rule_id
            )
            return None
        result = set()
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str) or not WORK_LOCATION.fullmatch(item):
                written = str(item)
                guess = written.strip().upper().replace("_", "-").replace(" ", "-") if isinstance(item, str) else ""
                hint = (
                    f" Did you mean '{guess}'?" if guess and WORK_LOCATION.fullmatch(guess)
                    else " (YAML reads some unquoted words as booleans: quote the code.)" if isinstance(item, bool)
                    else ""
                )
                self.problem(
                    f"unknown work location '{written}' in 'work_location'; {WORK_LOCATION_HINT}." + hint,
                    line,
                    rule_id,
                )
                return None
            result.add(item)
        return frozenset(result)

    def years_since(self, value, mapping: YamlMap, name: str, rule_id) -> YearsRange | None:
        """The ``years_since`` condition: a whole number of years (exactly
        that many), or a range of ``at_least`` and/or ``at_most``."""
        line = mapping.line_of(name)
        hint = "for example years_since: {at_least: 2}"
        if isinstance(value, YamlMap):
            bad = [key for key in value if key not in _RANGE_KEYS]
            if bad or not value:
                self.problem(
                    f"'{name}' as a range takes {allowed(_RANGE_KEYS)}"
                    + (f", not '{bad[0]}'." + did_you_mean(str(bad[0]), _RANGE_KEYS) if bad else ".")
                    + f" Each is a whole number of years, {hint}.",
                    line,
                    rule_id,
                )
                return None
            bounds = {}
            for key in _RANGE_KEYS:
                if key in value:
                    bounds[key] = self.whole_years(value[key], f"'{name}' {key}", value.line_of(key), rule_id)
                    if bounds[key] is None:
                        return None
            low, high = bounds.get("at_least", 0), bounds.get("at_most")
            if high is not None and low > high:
                self.problem(
                    f"'{name}' at_least {low} and at_most {high} can never both hold.", line, rule_id
                )
                return None
            return YearsRange(low, high)
        years = self.whole_years(value, f"'{name}'", line, rule_id)
        return None if years is None else YearsRange(years, years)

    def whole_years(self, value, what: str, line, rule_id) -> int | None:
        """A number of years: a whole number from 0 to 100."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            self.problem(
                f"{what} must be a whole number of years from 0 to 100, not '{value}'; "
                "for example years_since: {at_least: 2}, years_since: {at_most: 6} or years_since: 3.",
                line,
                rule_id,
            )
            return None
        return value
