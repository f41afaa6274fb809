"""Screening vendors' report JSON, read through a declarative import profile.

A vendor sends one nested JSON report per candidate; ``evaluate`` reads a
flat batch of findings. An import profile (``rules/import/<name>.yaml``, a
file employment counsel can read and change) says which part of a report
becomes which finding: where the parts are, which fields fill which batch
column, the charge-text patterns that give a category and the offence
levels that give a severity. This module loads a profile strictly and
applies it to reports.

Import decides nothing: a disposition is copied as the report words it
("Deferred Adjudication") and ``evaluate`` reads it through the
vocabulary; nothing is excluded or weighed here. What cannot be mapped (a
charge without a date, an offence level the profile does not know, a file
that is not JSON) is rejected with the file, the JSON path of the item and
what is allowed, and the rest of the report goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import string
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.dates import FORMAT_HINT, parse_iso_date
from engine.errors import AdjudicateError, InvalidConfiguration, allowed, did_you_mean
from engine.inputs.strict_yaml import YamlMap, key_problems, load_yaml
from engine.vocabulary import Severity, Vocabulary

# The batch file import writes, in this column order: the findings batch of
# docs/findings.md with the optional columns for the facts the law needs.
BATCH_COLUMNS = (
    "candidate_id", "finding_id", "category", "severity", "occurred_on", "disposition", "source",
    "jurisdiction", "description", "disposition_date", "sentence_completed_on", "report_obtained_on",
    "case_number", "party_role", "juvenile", "relief", "relief_on", "conduct_established",
)
REJECT_COLUMNS = ("file", "json_path", "candidate_id", "reason")

# Batch columns a profile section fills from report fields (the others are
# decided by its tables, written from templates, or the report's own).
FIELD_COLUMNS = (
    "occurred_on", "disposition", "disposition_date", "sentence_completed_on", "case_number",
    "party_role", "juvenile", "relief", "relief_on", "conduct_established",
)
DATE_COLUMNS = frozenset({"occurred_on", "disposition_date", "sentence_completed_on", "relief_on"})
TEMPLATE_COLUMNS = ("source", "jurisdiction", "description")

# A date, or a timestamp whose date is kept ("2026-03-02T10:15:00Z").
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+\-Z]*)?$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACING = re.compile(r"[\s_\-]+")


class ProfileError(AdjudicateError):
    """A problem in an import profile (its YAML, a key, a pattern, a table)."""


class ReportError(AdjudicateError):
    """Import cannot write its output (a missing folder, an output that is an input)."""


class Undated(Vocabulary):
    """What a section does with an item the report gives no date for."""

    REJECT = "reject"  # the item is rejected: the finding needs the date of the conduct
    REPORT_DATE = "report_date"  # the item takes the date the report was obtained


@dataclass(frozen=True)
class CategoryRow:
    """One row of a category table: the first row with a matching pattern gives the category."""

    category: str
    severity: Severity | None
    patterns: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class FindingKind:
    """What a value or a flag of the report becomes: a category, a severity, a description."""

    category: str
    severity: Severity
    description: str | None = None


@dataclass(frozen=True)
class Section:
    """One part of a report that becomes findings (a kind of search, a flag set).

    ``items`` is the path from the report to the items, one name a level;
    a list on the way is read element by element. An item is decided by
    exactly one of: a category table over its text (``category_text`` and
    ``category_table``, with the severity from ``classification`` or the
    table row), a value (``value`` looked up in ``findings`` or
    ``no_finding``), or ``flags`` (each true flag is a finding).
    """

    id: str
    name: str
    items: tuple[str, ...]
    undated: Undated
    source: tuple[str, ...] = ()
    jurisdiction: tuple[str, ...] = ()
    description: tuple[str, ...] = ()
    columns: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    required: tuple[str, ...] = ()
    category_text: tuple[str, ...] = ()
    category_table: str | None = None
    classification: tuple[str, ...] = ()
    value: tuple[str, ...] = ()
    findings: Mapping[str, FindingKind] = dataclasses.field(default_factory=dict)
    flags: Mapping[str, FindingKind] = dataclasses.field(default_factory=dict)
    no_finding: tuple[str, ...] = ()

    @property
    def no_finding_keys(self) -> frozenset[str]:
        """``no_finding`` as matched (see ``word_key``)."""
        return frozenset(word_key(word) for word in self.no_finding)


@dataclass(frozen=True)
class Profile:
    """An import profile: how one vendor's report becomes findings.

    Attributes:
        name: the profile's title.
        path: the YAML file it was read from (named in messages).
        report_id, candidate_id, obtained_on: the report's own fields, in
            order of preference.
        severities: offence level (normalised, see ``word_key``) -> severity.
        tables: category tables by name.
        sections: the parts of a report, in the profile's order.
    """

    name: str
    path: Path
    report_id: tuple[str, ...]
    candidate_id: tuple[str, ...]
    obtained_on: tuple[str, ...]
    severities: Mapping[str, Severity]
    tables: Mapping[str, tuple[CategoryRow, ...]]
    sections: tuple[Section, ...]

    @property
    def categories(self) -> frozenset[str]:
        """Every category the profile can write (to check against a rulebook)."""
        names = {row.category for rows in self.tables.values() for row in rows}
        for section in self.sections:
            names |= {kind.category for kind in (*section.findings.values(), *section.flags.values())}
        return frozenset(names)


@dataclass(frozen=True)
class ImportedFinding:
    """One row of the batch import writes; every value is text, blank when unknown."""

    candidate_id: str
    finding_id: str
    category: str
    severity: str
    occurred_on: str
    disposition: str = ""
    source: str = ""
    jurisdiction: str = ""
    description: str = ""
    disposition_date: str = ""
    sentence_completed_on: str = ""
    report_obtained_on: str = ""
    case_number: str = ""
    party_role: str = ""
    juvenile: str = ""
    relief: str = ""
    relief_on: str = ""
    conduct_established: str = ""

    def row(self) -> tuple[str, ...]:
        """The values in ``BATCH_COLUMNS`` order."""
        return tuple(getattr(self, column) for column in BATCH_COLUMNS)


@dataclass(frozen=True)
class Reject:
    """Something of a report that import could not map, and why.

    Attributes:
        file: the report file, as named on the command line.
        json_path: where in it (``$`` for the whole report,
            ``$.county_criminal_searches[0].records[0].charges[1]`` for a charge).
        candidate_id: the report's candidate, when known; else empty.
        reason: what is wrong and what is allowed.
    """

    file: str
    json_path: str
    candidate_id: str
    reason: str

    def row(self) -> tuple[str, ...]:
        """The values in ``REJECT_COLUMNS`` order."""
        return (self.file, self.json_path, self.candidate_id, self.reason)


@dataclass(frozen=True)
class ReportReading:
    """What import made of one report file.

    ``read`` is False when the report was rejected whole (not JSON, no
    candidate, no application); its ``rejects`` then say why.
    ``report_id`` is empty when the report names none.
    """

    file: str
    read: bool
    report_id: str = ""
    candidate_id: str = ""
    findings: tuple[ImportedFinding, ...] = ()
    rejects: tuple[Reject, ...] = ()
    notices: tuple[str, ...] = ()


# -- the profile --------------------------------------------------------------------------------

_TOP_KEYS = ("profile", "report", "severities", "sections")
_OPTIONAL_TOP = ("charge_categories", "violation_categories", "accident_categories")
_PROFILE_KEYS = ("name", "description")
_REPORT_KEYS = ("id", "candidate_id", "obtained_on")
_SECTION_KEYS = (
    "id", "name", "items", "undated", "category", "severity", "value", "findings", "flags", "no_finding",
    "source", "jurisdiction", "description", "columns", "required",
)
_ROW_KEYS = ("category", "severity", "patterns")
_KIND_KEYS = ("category", "severity", "description")
_SECTION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def word_key(word) -> str:
    """How an offence level, a value or a flag is matched: Unicode NFKC,
    case-folded, spaces, underscores and hyphens as one space, a JSON
    boolean as ``true`` or ``false``.

    Args:
        word: text, a number or a boolean from a report or a profile.

    Returns:
        str: the key to look up.
    """
    if isinstance(word, bool):
        return "true" if word else "false"
    text = unicodedata.normalize("NFKC", str(word)).casefold()
    return _SPACING.sub(" ", text).strip()


def load_profile(path: Path) -> Profile:
    """Load and check an import profile.

    Args:
        path (pathlib.Path): the profile's YAML file.

    Returns:
        Profile: the checked profile, its patterns compiled.

    Raises:
        ProfileError: the file cannot be read or is not YAML.
        InvalidConfiguration: the profile has problems (unknown or missing
            keys, with a "did you mean"; a pattern that is not a regular
            expression; a severity outside the vocabulary); every problem
            is listed, each with its line.
    """
    path = Path(path)
    document = load_yaml(path, ProfileError)
    return _ProfileParser(path).parse(document)


class _ProfileParser:
    """Reads a profile's YAML, keeping every problem with its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[ProfileError] = []

    def problem(self, message: str, line: int | None) -> None:
        self.problems.append(ProfileError(message, file=str(self.path), line=line))

    def keys(self, mapping: YamlMap, known, where: str, required=()) -> None:
        for message, line in key_problems(mapping, known, where, required):
            self.problem(message, line)

    def mapping(self, value, where: str, line: int | None) -> YamlMap | None:
        if isinstance(value, YamlMap):
            return value
        self.problem(f"{where} must be a mapping of keys to values; found {_kind(value)}.", line)
        return None

    def fields(self, value, where: str, line: int | None, *, templates: bool = False) -> tuple[str, ...]:
        """A list of field names (or of templates); one text is a list of one."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            what = "templates" if templates else "field names"
            self.problem(f"{where} must be a list of {what}; found {_kind(value)}.", line)
            return ()
        if templates:
            for template in value:
                try:
                    _template_fields(template)
                except ValueError as error:
                    self.problem(f"{where}: the template '{template}' is not valid ({error}).", line)
        return tuple(value)

    def severity(self, value, where: str, line: int | None) -> Severity | None:
        if isinstance(value, str) and value in Severity.words():
            return Severity(value)
        self.problem(
            f"{where}: unknown severity '{value}'; allowed: {allowed(Severity.words())}."
            + did_you_mean(str(value), Severity.words()),
            line,
        )
        return None

    def category(self, value, where: str, line: int | None) -> str:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problem(f"{where} needs a category (a category of the rulebook); found {_kind(value)}.", line)
        return ""

    def parse(self, document) -> Profile:
        if not isinstance(document, YamlMap):
            raise InvalidConfiguration(
                f"import profile {self.path}",
                [ProfileError(f"an import profile is a mapping with the keys {allowed(_TOP_KEYS)}.",
                              file=str(self.path), line=1)],
            )
        self.keys(document, _TOP_KEYS + _OPTIONAL_TOP, "the import profile", required=_TOP_KEYS)
        head = self.mapping(document.get("profile", YamlMap()), "'profile'", document.line_of("profile"))
        name = ""
        if head is not None:
            self.keys(head, _PROFILE_KEYS, "'profile'", required=("name",))
            name = str(head.get("name", ""))
        report = self.mapping(document.get("report", YamlMap()), "'report'", document.line_of("report")) or YamlMap()
        self.keys(report, _REPORT_KEYS, "'report'", required=("id", "candidate_id"))
        report_fields = {
            key: self.fields(report[key], f"report.{key}", report.line_of(key)) if key in report else ()
            for key in _REPORT_KEYS
        }
        severities = self.severities(document.get("severities"), document.line_of("severities"))
        tables = {
            key: self.table(document[key], key, document.line_of(key)) for key in _OPTIONAL_TOP if key in document
        }
        sections = self.sections(document.get("sections"), document.line_of("sections"), tables)
        if self.problems:
            raise InvalidConfiguration(f"import profile {self.path}", self.problems)
        return Profile(
            name=name, path=self.path, report_id=report_fields["id"], candidate_id=report_fields["candidate_id"],
            obtained_on=report_fields["obtained_on"], severities=severities, tables=tables, sections=sections,
        )

    def severities(self, value, line) -> dict[str, Severity]:
        table = self.mapping(value, "'severities'", line)
        if table is None:
            return {}
        severities = {}
        for level, severity in table.items():
            checked = self.severity(severity, f"severities: '{level}'", table.line_of(level))
            if checked is not None:
                severities[word_key(level)] = checked
        return severities

    def table(self, value, name: str, line) -> tuple[CategoryRow, ...]:
        if not isinstance(value, list) or not value:
            self.problem(f"'{name}' must be a list of rows with {allowed(_ROW_KEYS)}; found {_kind(value)}.", line)
            return ()
        rows = []
        for number, item in enumerate(value, 1):
            where = f"{name}, row {number}"
            row = self.mapping(item, where, line)
            if row is None:
                continue
            self.keys(row, _ROW_KEYS, where, required=("category", "patterns"))
            category = self.category(row.get("category"), where, row.line)
            severity = self.severity(row["severity"], where, row.line_of("severity")) if "severity" in row else None
            patterns = []
            for text in self.fields(row.get("patterns", []), f"{where}: patterns", row.line_of("patterns")):
                try:
                    patterns.append(re.compile(text, re.IGNORECASE))
                except re.error as error:
                    self.problem(f"{where}: the pattern '{text}' is not a regular expression ({error}).",
                                 row.line_of("patterns"))
            rows.append(CategoryRow(category, severity, tuple(patterns)))
        return tuple(rows)

    def kinds(self, value, where: str, line, *, exact: bool = False) -> dict[str, FindingKind]:
        """Value (or, ``exact``, flag name) -> finding kind."""
        table = self.mapping(value, where, line)
        kinds = {}
        for key, item in (table or {}).items():
            inner = f"{where}: '{key}'"
            kind = self.mapping(item, inner, table.line_of(key))
            if kind is None:
                continue
            self.keys(kind, _KIND_KEYS, inner, required=("category", "severity"))
            severity = self.severity(kind.get("severity"), inner, kind.line_of("severity"))
            description = kind.get("description")
            if description is not None and not isinstance(description, str):
                self.problem(f"{inner}: description must be text; found {_kind(description)}.", kind.line)
            if severity is not None:
                category = self.category(kind.get("category"), inner, kind.line)
                kinds[str(key) if exact else word_key(key)] = FindingKind(category, severity, description)
        return kinds

    def sections(self, value, line, tables) -> tuple[Section, ...]:
        if not isinstance(value, list) or not value:
            self.problem(f"'sections' must be a list of sections; found {_kind(value)}.", line)
            return ()
        sections, seen = [], {}
        for number, item in enumerate(value, 1):
            section = self.mapping(item, f"section {number}", line)
            if section is not None:
                parsed = self.section(section, number, tables)
                if parsed.id in seen:
                    self.problem(f"section id '{parsed.id}' is used twice (first on line {seen[parsed.id]}); "
                                 "finding ids would collide.", section.line_of("id"))
                seen.setdefault(parsed.id, section.line_of("id"))
                sections.append(parsed)
        return tuple(sections)

    def section(self, data: YamlMap, number: int, tables) -> Section:
        section_id = data.get("id")
        where = f"section '{section_id}'" if isinstance(section_id, str) else f"section {number}"
        self.keys(data, _SECTION_KEYS, where, required=("id", "name", "items", "undated"))
        if not isinstance(section_id, str) or not _SECTION_ID.match(section_id):
            self.problem(f"{where}: id must be lower-case letters, digits, '-' or '_' (it starts every finding id "
                         f"of the section); found {section_id!r}.", data.line_of("id"))
            section_id = str(section_id)
        items = data.get("items")
        if not isinstance(items, str) or not all(items.split(".")):
            self.problem(f"{where}: items must be a dotted path such as 'motor_vehicle_report.violations'; "
                         f"found {_kind(items)}.", data.line_of("items"))
            items = ""
        undated = data.get("undated")
        if undated not in Undated.words():
            self.problem(f"{where}: unknown undated '{undated}'; allowed: {allowed(Undated.words())}."
                         + did_you_mean(str(undated), Undated.words()), data.line_of("undated"))
            undated = Undated.REJECT.value
        deciders = [key for key in ("category", "value", "flags") if key in data]
        if len(deciders) != 1:
            self.problem(f"{where} needs exactly one of 'category' (a category table over the item's text), "
                         "'value' (with 'findings') or 'flags'; found "
                         + (allowed(deciders) if deciders else "none") + ".", data.line)
        parsed = Section(
            id=section_id, name=str(data.get("name", section_id)), items=tuple(items.split(".")) if items else (),
            undated=Undated(undated),
            **{key: self.fields(data[key], f"{where}: {key}", data.line_of(key), templates=True)
               for key in TEMPLATE_COLUMNS if key in data},
            columns=self.columns(data.get("columns"), where, data.line_of("columns")),
            required=self.required(data, where),
            no_finding=self.fields(data.get("no_finding", []), f"{where}: no_finding", data.line_of("no_finding")),
        )
        if "category" in data:
            parsed = self.category_decider(data, where, parsed, tables)
        elif "severity" in data:
            self.problem(f"{where}: 'severity' goes with 'category'; with 'value' or 'flags' each finding names "
                         "its severity.", data.line_of("severity"))
        if "value" in data:
            parsed = dataclasses.replace(
                parsed, value=self.fields(data["value"], f"{where}: value", data.line_of("value")),
                findings=self.kinds(data.get("findings"), f"{where}: findings", data.line_of("findings")),
            )
        elif "findings" in data:
            self.problem(f"{where}: 'findings' goes with 'value'.", data.line_of("findings"))
        if "flags" in data:
            parsed = dataclasses.replace(parsed, flags=self.kinds(data["flags"], f"{where}: flags",
                                                                  data.line_of("flags"), exact=True))
        return parsed

    def category_decider(self, data: YamlMap, where: str, parsed: Section, tables) -> Section:
        decider = self.mapping(data["category"], f"{where}: category", data.line_of("category")) or YamlMap()
        self.keys(decider, ("text", "table"), f"{where}: category", required=("text", "table"))
        table = decider.get("table")
        if table is not None and table not in tables:
            self.problem(f"{where}: unknown category table '{table}'; the profile has {allowed(tables) or 'none'}."
                         + did_you_mean(str(table), tables), decider.line_of("table"))
        classification: tuple[str, ...] = ()
        if "severity" in data:
            severity = self.mapping(data["severity"], f"{where}: severity", data.line_of("severity")) or YamlMap()
            self.keys(severity, ("classification",), f"{where}: severity", required=("classification",))
            classification = self.fields(severity.get("classification", []), f"{where}: severity.classification",
                                         severity.line_of("classification"))
        elif table in tables and any(row.severity is None for row in tables[table]):
            self.problem(f"{where} takes its severity from the table '{table}', and a row of it has none: give every "
                         "row a severity, or the section 'severity: {classification: [...]}'.", data.line)
        return dataclasses.replace(
            parsed, category_text=self.fields(decider.get("text", []), f"{where}: category.text",
                                              decider.line_of("text")),
            category_table=table if isinstance(table, str) else None, classification=classification,
        )

    def columns(self, value, where: str, line) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        table = self.mapping(value, f"{where}: columns", line)
        if table is None:
            return {}
        self.keys(table, FIELD_COLUMNS, f"{where}: columns")
        return {column: self.fields(fields, f"{where}: columns.{column}", table.line_of(column))
                for column, fields in table.items() if column in FIELD_COLUMNS}

    def required(self, data: YamlMap, where: str) -> tuple[str, ...]:
        required = self.fields(data.get("required", []), f"{where}: required", data.line_of("required"))
        for column in required:
            if column not in FIELD_COLUMNS:
                self.problem(f"{where}: required names '{column}', which is not a column of 'columns'; allowed: "
                             f"{allowed(FIELD_COLUMNS)}." + did_you_mean(column, FIELD_COLUMNS),
                             data.line_of("required"))
        return required


def _kind(value) -> str:
    """How a YAML or JSON value is named in messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, (dict, YamlMap)):
        return "an object" if not isinstance(value, YamlMap) else "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"the text '{value}'"


def _template_fields(template: str) -> tuple[str, ...]:
    """The field names of a ``{field}`` template; ``ValueError`` if it is not one."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name or spec or conversion or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise ValueError("write a field as {name}, with no format")
        names.append(name)
    return tuple(names)


# -- a report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One item of a section: its object, the objects around it (innermost
    first, the report last), its 1-based list positions and its JSON path."""

    value: dict
    scope: tuple[dict, ...]
    positions: tuple[int, ...]
    path: str


def read_report(
    path: Path,
    profile: Profile,
    *,
    applications: Collection[str],
    name: str | None = None,
    obtained_on: dt.date | None = None,
    encoding: str = "utf-8",
) -> ReportReading:
    """Read one report file and map it to findings through ``profile``.

    Args:
        path (pathlib.Path): the report's JSON file.
        profile (Profile): the vendor's import profile.
        applications (Collection[str]): the candidate ids that have an
            application; a report for any other candidate is rejected whole.
        name (str | None): how the file is named in rejects (as the user
            typed it); ``str(path)`` when None.
        obtained_on (datetime.date | None): when the report was obtained,
            for a report that does not say (``--obtained-on``).
        encoding (str): the file's text encoding.

    Returns:
        ReportReading: the findings, the rejects and notices for the user.
        Never raises for anything in the file: every problem is a reject.
    """
    name = str(path) if name is None else name
    report, problem = _parse_json(Path(path), encoding)
    if problem is not None:
        return ReportReading(file=name, read=False, rejects=(Reject(name, "$", "", problem),))
    if not isinstance(report, dict):
        return ReportReading(file=name, read=False, rejects=(Reject(
            name, "$", "", f"a report must be a JSON object ({{...}}) with the report's fields; found {_kind(report)}."
        ),))
    candidate_id = _text(_first(report, profile.candidate_id))
    report_id = _text(_first(report, profile.report_id))
    whole = []
    if not candidate_id:
        whole.append(Reject(name, "$", "", "the report names no candidate: it has no "
                                           f"{allowed(profile.candidate_id)}."))
    elif candidate_id not in applications:
        whole.append(Reject(
            name, _field_path(report, profile.candidate_id), candidate_id,
            f"candidate '{candidate_id}' has no application in the applications file; add the application "
            "(candidate_id, position_id) or leave the report out.",
        ))
    if not report_id:
        whole.append(Reject(name, "$", candidate_id, f"the report has no id ({allowed(profile.report_id)}); "
                                                     "finding ids are made from it."))
    if whole:
        return ReportReading(file=name, read=False, report_id=report_id, candidate_id=candidate_id,
                             rejects=tuple(whole))
    return _Mapper(profile, name, report, report_id, candidate_id, obtained_on).run()


def _parse_json(path: Path, encoding: str) -> tuple[object, str | None]:
    """The parsed JSON of ``path``, or None and the reason it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "the report file does not exist; check the path."
    except IsADirectoryError:
        return None, "this is a folder, not a report file."
    except OSError as error:
        return None, f"the report file cannot be read: {error.strerror}."
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError) as error:
        reason = error.reason if isinstance(error, UnicodeDecodeError) else "unknown encoding"
        return None, f"the file cannot be read as {encoding} ({reason}); pass the report's encoding with --encoding."
    try:
        report = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        return None, (f"the file is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}; "
                      "a report is one JSON object as the vendor sends it.")
    except _RepeatedKey as error:
        return None, f"the key '{error.args[0]}' is written twice in one object; which one holds is unclear."
    except RecursionError:
        return None, "the JSON nests too deeply to be read; a report is a few levels deep."
    where = _invalid_text(report, "$")
    if where is not None:
        return None, f"the text at {where} is not valid Unicode (a lone surrogate escape); ask the vendor to resend it."
    return report, None


class _RepeatedKey(Exception):
    pass


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKey(key)
        result[key] = value
    return result


def _invalid_text(value, path: str) -> str | None:
    """The JSON path of the first text with a lone surrogate, or None."""
    stack = [(value, path)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str) and _SURROGATE.search(value):
            return path
        if isinstance(value, dict):
            for key, inner in value.items():
                if _SURROGATE.search(key):
                    return path
                stack.append((inner, f"{path}.{key}"))
        elif isinstance(value, list):
            stack.extend((inner, f"{path}[{index}]") for index, inner in enumerate(value))
    return None


def _first(scope: dict | tuple[dict, ...], fields: tuple[str, ...]):
    """The value of the first of ``fields`` present (not null, not blank)
    in the innermost object of ``scope`` that has one."""
    scope = (scope,) if isinstance(scope, dict) else scope
    for field in fields:
        for obj in scope:
            value = obj.get(field)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                return value
    return None


def _field_path(report: dict, fields: tuple[str, ...]) -> str:
    for field in fields:
        if field in report:
            return f"$.{field}"
    return "$"


def _text(value) -> str:
    """A scalar of the report as a cell's text; a boolean as yes or no."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _newest_date(value) -> dt.date | None:
    """The latest date written anywhere in the report (a report cannot have
    been produced before the newest entry it holds)."""
    newest = None
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            date = _as_date(value)
            if date is not None and (newest is None or date > newest):
                newest = date
    return newest


def _as_date(value) -> dt.date | None:
    match = _DATE_PREFIX.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return parse_iso_date(match.group(1))
    except ValueError:
        return None


class _Mapper:
    """Applies a profile to one parsed report."""

    def __init__(self, profile: Profile, file: str, report: dict, report_id: str, candidate_id: str,
                 obtained_on: dt.date | None) -> None:
        self.profile = profile
        self.file = file
        self.report = report
        self.report_id = report_id
        self.candidate_id = candidate_id
        self.findings: list[ImportedFinding] = []
        self.rejects: list[Reject] = []
        self.notices: list[str] = []
        stated = _first(report, profile.obtained_on)
        self.obtained_on = _as_date(stated) if stated is not None else None
        if stated is not None and self.obtained_on is None:
            self.reject(_field_path(report, profile.obtained_on),
                        f"'{stated}' is not a date; {FORMAT_HINT}. The report is read as if it stated no date.")
        if self.obtained_on is None:
            self.obtained_on = obtained_on
        self.report_date = self.obtained_on
        self.newest: dt.date | None = None
        self.undated_named: list[str] = []

    def reject(self, path: str, reason: str) -> None:
        self.rejects.append(Reject(self.file, path, self.candidate_id, reason))

    def run(self) -> ReportReading:
        if self.report_date is None:
            # Not stated: the newest date the report holds is the earliest it can have been produced.
            self.newest = _newest_date(self.report)
        for section in self.profile.sections:
            for item in self.items(section):
                self.map(section, item)
        if self.undated_named:
            self.notices.append(
                f"{self.file}: the report does not say when it was obtained ({allowed(self.profile.obtained_on)}); "
                f"its undated findings ({', '.join(dict.fromkeys(self.undated_named))}) are dated "
                f"{self.newest.isoformat()}, the newest date the report holds. Pass --obtained-on YYYY-MM-DD "
                "to date them when the report was obtained."
            )
        return ReportReading(
            file=self.file, read=True, report_id=self.report_id, candidate_id=self.candidate_id,
            findings=tuple(self.findings), rejects=tuple(self.rejects), notices=tuple(self.notices),
        )

    def items(self, section: Section) -> Iterator[_Item]:
        level = [_Item(self.report, (self.report,), (), "$")]
        for name in section.items:
            deeper = []
            for item in level:
                value = item.value.get(name)
                path = f"{item.path}.{name}"
                if value is None:
                    continue
                if isinstance(value, dict):
                    deeper.append(_Item(value, (value, *item.scope), item.positions, path))
                elif isinstance(value, list):
                    for index, element in enumerate(value):
                        inner = f"{path}[{index}]"
                        if isinstance(element, dict):
                            deeper.append(_Item(element, (element, *item.scope), (*item.positions, index + 1), inner))
                        else:
                            self.reject(inner, f"expected an object of the {section.name}; found {_kind(element)}.")
                else:
                    self.reject(path, f"expected an object or a list of objects of the {section.name}; "
                                      f"found {_kind(value)}.")
            level = deeper
        yield from level

    def map(self, section: Section, item: _Item) -> None:
        finding_id = "-".join([self.report_id, section.id, *(str(p) for p in item.positions)])
        if section.flags:
            # Flags are the vendor's JSON keys, matched as written.
            for flag, value in item.value.items():
                if flag in section.flags:
                    if not isinstance(value, bool):
                        self.reject(f"{item.path}.{flag}", f"the flag '{flag}' must be true or false; "
                                                           f"found {_kind(value)}.")
                    elif value:
                        self.emit(section, item, f"{finding_id}-{flag}", section.flags[flag])
                elif word_key(flag) not in section.no_finding_keys and value is True:
                    known = [*section.flags, *section.no_finding]
                    self.reject(f"{item.path}.{flag}", (
                        f"unknown flag '{flag}' of the {section.name} is set; the profile knows {allowed(known)}. "
                        f"Add it to the flags or no_finding of section '{section.id}' in {self.profile.path}."
                        + did_you_mean(flag, known)))
            return
        if section.value:
            self.map_value(section, item, finding_id)
        else:
            self.map_text(section, item, finding_id)

    def map_value(self, section: Section, item: _Item, finding_id: str) -> None:
        value = _first(item.value, section.value)
        known = [*section.findings, *section.no_finding]
        if value is None or isinstance(value, (dict, list)):
            self.reject(item.path, f"the {section.name} has no {allowed(section.value)}"
                                   f"; allowed values: {allowed(known)}.")
            return
        key = word_key(value)
        if key in section.findings:
            self.emit(section, item, finding_id, section.findings[key])
        elif key not in section.no_finding_keys:
            self.reject(_item_field(item, section.value), (
                f"unknown {section.value[0]} '{_text(value) if not isinstance(value, bool) else key}' of the "
                f"{section.name}; allowed: {allowed(known)}. Add it to the findings or no_finding of section "
                f"'{section.id}' in {self.profile.path}." + did_you_mean(key, known)))

    def map_text(self, section: Section, item: _Item, finding_id: str) -> None:
        problems = []
        texts = [_text(item.value.get(field)) for field in section.category_text]
        text = " ".join(part for part in texts if part)
        row = None
        if not text:
            problems.append(f"it has no {allowed(section.category_text)} to read its category from.")
        else:
            table = self.profile.tables.get(section.category_table or "", ())
            row = next((row for row in table if any(p.search(text) for p in row.patterns)), None)
            if row is None:
                problems.append(f"'{text}' matches no pattern of the table '{section.category_table}' (add a last "
                                "row with the pattern '.' to catch the rest).")
        severity = row.severity if row is not None else None
        if section.classification:
            level = _first(item.value, section.classification)
            known = list(self.profile.severities)
            if level is None:
                problems.append(f"it has no {allowed(section.classification)}; allowed: {allowed(known)}.")
            elif word_key(level) not in self.profile.severities:
                problems.append(
                    f"unknown {section.classification[0]} '{_text(level)}'; allowed: {allowed(known)}. "
                    f"Add it to the severities of {self.profile.path}." + did_you_mean(word_key(level), known))
            else:
                severity = self.profile.severities[word_key(level)]
        if problems:
            self.reject(item.path, f"the {section.name} cannot be mapped: " + " ".join(problems))
            return
        self.emit(section, item, finding_id, FindingKind(row.category, severity))

    def emit(self, section: Section, item: _Item, finding_id: str, kind: FindingKind) -> None:
        values: dict[str, str] = {}
        problems = []
        for column, fields in section.columns.items():
            value = _first(item.scope, fields)
            if value is None:
                continue
            if isinstance(value, (dict, list)):
                problems.append(f"{fields[0]} must be a single value; found {_kind(value)}.")
            elif column in DATE_COLUMNS:
                date = _as_date(value)
                if date is None:
                    problems.append(f"its {column} '{_text(value)}' is not a date; {FORMAT_HINT}.")
                else:
                    values[column] = date.isoformat()
            else:
                values[column] = _text(value)
        for column in section.required:
            if column not in values:
                why = (": a blank disposition would be read as a conviction; ask the source for it, or add the "
                       "finding to the batch by hand") if column == "disposition" else ""
                problems.append(f"it has no {column} ({allowed(section.columns.get(column, ()))}){why}.")
        if "occurred_on" not in values and not any(p.startswith("occurred_on") for p in problems):
            if section.undated is Undated.REJECT:
                looked = allowed(section.columns.get("occurred_on", ())) or "no field is named in the profile"
                problems.append(f"it has no date ({looked}); a finding needs the date of the conduct.")
            elif self.report_date is not None:
                values["occurred_on"] = self.report_date.isoformat()
            elif self.newest is not None:
                values["occurred_on"] = self.newest.isoformat()
                self.undated_named.append(section.name)
            else:
                problems.append("neither it nor the report has a date: pass --obtained-on YYYY-MM-DD, the day the "
                                "report was obtained.")
        if problems:
            self.reject(item.path, f"the {section.name} cannot be mapped: " + " ".join(problems))
            return
        description = kind.description or _fill(section.description, item.scope)
        self.findings.append(ImportedFinding(
            candidate_id=self.candidate_id, finding_id=finding_id, category=kind.category,
            severity=kind.severity.value, source=_fill(section.source, item.scope),
            jurisdiction=_fill(section.jurisdiction, item.scope), description=description,
            report_obtained_on=self.obtained_on.isoformat() if self.obtained_on else "", **values,
        ))


def _item_field(item: _Item, fields: tuple[str, ...]) -> str:
    for field in fields:
        if field in item.value:
            return f"{item.path}.{field}"
    return item.path


def _fill(templates: tuple[str, ...], scope: tuple[dict, ...]) -> str:
    """The first template whose fields all have a value in ``scope``, filled; else ''."""
    for template in templates:
        names = _template_fields(template)
        values = {name: _text(_first(scope, (name,))) for name in names}
        if all(values.values()):
            return template.format_map(values)
    return ""
