"""Position risk tables: each position's risk level and duties, and how
strongly each category of finding bears on those duties.

Two CSV files in one folder: ``positions.csv`` and ``relevance.csv`` (see
``docs/position-tables.md``). Every position must have a relevance row for
every category of the rulebook: a missing pair is an error, never a silent
default, because a default would decide a candidate's case without anybody
having written down why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from engine.errors import InputFileError, InvalidConfiguration, TablesError, allowed, unknown_value
from engine.rulebook.model import Rulebook, Translated
from engine.inputs.tabular import LINE, read_table
from engine.vocabulary import Relevance, RiskLevel

POSITIONS_FILE = "positions.csv"
RELEVANCE_FILE = "relevance.csv"
POSITION_COLUMNS = ("position_id", "title", "risk_level", "duties")
RELEVANCE_COLUMNS = ("position_id", "category", "relevance", "lookback_years", "rationale")
# The Chinese beside the English texts a memo or notice prints. Optional
# columns: a table without them loads, and each text without its Chinese is
# a warning (``PositionTables.untranslated``).
POSITION_ZH_COLUMNS = ("title_zh", "duties_zh")
RELEVANCE_ZH_COLUMNS = ("rationale_zh",)
MAX_LOOKBACK_YEARS = 99


@dataclass(frozen=True)
class Position(Translated):
    """A position a candidate may apply for: its title, risk level
    (``low`` to ``critical``) and duties, as ``positions.csv`` gives them,
    with the Chinese title and duties ('' when the table has none)."""

    position_id: str
    title: str
    risk_level: RiskLevel
    duties: str
    title_zh: str = ""
    duties_zh: str = ""
    # The row in positions.csv, for warnings; not part of the position.
    line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class RelevanceEntry(Translated):
    """How one category of finding bears on one position, and why (with
    the why in Chinese, ``rationale_zh``; '' when the table has none)."""

    position_id: str
    category: str
    relevance: Relevance
    # None only where relevance is none: no period makes such a finding count.
    lookback_years: int | None
    rationale: str
    rationale_zh: str = ""
    # The row in relevance.csv, for warnings; not part of the entry.
    line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class PositionTables:
    """The loaded position risk tables: every position, and for each
    position and category how strongly the category bears on its duties.

    Attributes:
        positions: position id -> ``Position``.
        relevance: (position id, category) -> ``RelevanceEntry``; every
            pair is present.
        folder: the folder read.
        sha256: one SHA-256 (hex) over both files; it goes into the
            decision ids through each position's content.
        texts: file name -> the file as read, kept by the store for replay.
        untranslated: a warning (``TablesError``, with its file, line and
            column) for each text without its Chinese beside it.
    """

    positions: MappingProxyType  # position_id -> Position
    relevance: MappingProxyType  # (position_id, category) -> RelevanceEntry
    folder: Path
    sha256: str
    # The files as read (name -> text), kept for the store.
    texts: MappingProxyType = field(repr=False, default_factory=lambda: MappingProxyType({}))
    untranslated: tuple[TablesError, ...] = field(repr=False, default=(), compare=False)

    def entry(self, position_id: str, category: str) -> RelevanceEntry:
        """How ``category`` bears on the position ``position_id``.

        Raises:
            KeyError: the pair is not in the tables (loading guarantees every
                pair of a known position and a rulebook category is).
        """
        return self.relevance[(position_id, category)]

    def entries_for(self, position_id: str) -> list[RelevanceEntry]:
        """The position's rows, in category order."""
        return self._by_position[position_id]

    @cached_property
    def _by_position(self) -> dict[str, list[RelevanceEntry]]:
        rows: dict[str, list[RelevanceEntry]] = {pid: [] for pid in self.positions}
        for (pid, _), entry in sorted(self.relevance.items()):
            rows[pid].append(entry)
        return rows


def load_tables(folder: Path, rulebook: Rulebook) -> PositionTables:
    """Load and check the position risk tables against a rulebook.

    Args:
        folder: the folder holding ``positions.csv`` and ``relevance.csv``.
        rulebook: the rulebook whose categories every position must cover.

    Returns:
        The immutable ``PositionTables``.

    Raises:
        TablesError: the folder or a file is missing or cannot be read.
        InvalidConfiguration: the tables have problems (an unknown risk
            level, category or relevance, a missing position-category pair,
            a lookback outside 0-99 years...); it carries every problem,
            each a ``TablesError`` with its file and line.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TablesError(
            "the position risk tables folder does not exist. Pass it with --tables "
            "(the default is position_risk_tables/ in the current folder).",
            file=str(folder),
        )
    problems: list[TablesError] = []
    positions, broken = _load_positions(folder / POSITIONS_FILE, problems)
    relevance = _load_relevance(folder / RELEVANCE_FILE, positions, broken, rulebook, problems)
    if problems:
        raise InvalidConfiguration(f"The position risk table folder {folder}", problems)
    digest = hashlib.sha256()
    texts = {}
    for name in (POSITIONS_FILE, RELEVANCE_FILE):
        raw = (folder / name).read_bytes()
        texts[name] = raw.decode("utf-8")
        digest.update(name.encode() + b"\0" + raw + b"\0")
    return PositionTables(
        positions=MappingProxyType(positions),
        relevance=MappingProxyType(relevance),
        folder=folder,
        sha256=digest.hexdigest(),
        texts=MappingProxyType(texts),
        untranslated=tuple(_untranslated(folder, positions, relevance)),
    )


def _untranslated(folder: Path, positions: dict, relevance: dict) -> list[TablesError]:
    """A warning for each position title, duties and relevance rationale
    that has no Chinese beside it, in the files' order."""
    warnings = []
    for position in positions.values():
        for column in POSITION_ZH_COLUMNS:
            if not getattr(position, column):
                warnings.append(TablesError(
                    f"position '{position.position_id}' has no Chinese {column.removesuffix('_zh')}; "
                    "a Chinese memo or notice prints the English instead.",
                    file=str(folder / POSITIONS_FILE), line=position.line, column=column,
                ))
    for entry in sorted(relevance.values(), key=lambda entry: entry.line):
        if not entry.rationale_zh:
            warnings.append(TablesError(
                f"'{entry.position_id}' / '{entry.category}' has no Chinese rationale; "
                "a Chinese memo or notice prints the English instead.",
                file=str(folder / RELEVANCE_FILE), line=entry.line, column="rationale_zh",
            ))
    return warnings


def _read(path: Path, what: str, columns, optional, problems: list) -> list[dict]:
    try:
        table = read_table(path, what=what, required=columns, optional=optional, formats=("csv",))
    except InputFileError as exc:
        raise TablesError(exc.message, file=exc.file, line=exc.line, column=exc.column) from None
    problems.extend(TablesError(bad.message, file=str(path), line=bad.line) for bad in table.malformed)
    return table.frame.to_dict("records")


def _load_positions(path: Path, problems: list) -> tuple[dict[str, Position], set[str]]:
    """The valid positions, and the ids of rows that have a problem."""
    positions: dict[str, Position] = {}
    first_line: dict[str, int] = {}
    rows = _read(path, "positions table", POSITION_COLUMNS, POSITION_ZH_COLUMNS, problems)
    for row in rows:
        line = row[LINE]

        def problem(column, message):
            problems.append(TablesError(message, file=str(path), line=line, column=column))

        empty = [column for column in POSITION_COLUMNS if not row[column]]
        for column in empty:
            problem(column, "is empty; every position needs an id, a title, a risk level and its duties.")
        if empty:
            continue
        position_id = row["position_id"]
        if position_id in first_line:
            problem("position_id", f"position '{position_id}' is listed twice (first on line {first_line[position_id]}).")
            continue
        if row["risk_level"] not in RiskLevel.words():
            problem("risk_level", unknown_value("risk level", row["risk_level"], RiskLevel.words()))
            continue
        first_line[position_id] = line
        positions[position_id] = Position(
            position_id=position_id,
            title=row["title"],
            risk_level=RiskLevel(row["risk_level"]),
            duties=row["duties"],
            title_zh=row.get("title_zh", ""),
            duties_zh=row.get("duties_zh", ""),
            line=line,
        )
    broken = {row["position_id"] for row in rows if row["position_id"]} - set(positions)
    return positions, broken


def _load_relevance(path: Path, positions: dict, broken: set, rulebook: Rulebook, problems: list) -> dict:
    relevance: dict[tuple[str, str], RelevanceEntry] = {}
    first_line: dict[tuple[str, str], int] = {}
    # Pairs that have a row, valid or not: a broken row is reported once, as
    # itself, not again as a missing pair.
    written: set[tuple[str, str]] = set()
    categories = list(rulebook.categories)
    for row in _read(path, "relevance table", RELEVANCE_COLUMNS, RELEVANCE_ZH_COLUMNS, problems):
        line = row[LINE]

        def problem(column, message):
            problems.append(TablesError(message, file=str(path), line=line, column=column))

        required = ("position_id", "category", "relevance", "rationale")
        empty = [column for column in required if not row[column]]
        for column in empty:
            problem(column, "is empty; every row needs a position, a category, a relevance and a rationale.")
        if empty:
            continue
        position_id, category = row["position_id"], row["category"]
        if position_id in broken:
            continue  # its row in positions.csv is reported already
        if position_id not in positions:
            problem("position_id", unknown_value("position", position_id, positions) + f" Add it to {POSITIONS_FILE} first.")
            continue
        if category not in rulebook.categories:
            problem("category", unknown_value("category", category, categories))
            continue
        written.add((position_id, category))
        if row["relevance"] not in Relevance.words():
            problem("relevance", unknown_value("relevance", row["relevance"], Relevance.words()))
            continue
        level = Relevance(row["relevance"])
        lookback = _lookback(row["lookback_years"], level)
        if isinstance(lookback, str):
            problem("lookback_years", lookback)
            continue
        key = (position_id, category)
        if key in first_line:
            problem("category", f"'{position_id}' / '{category}' is listed twice (first on line {first_line[key]}).")
            continue
        first_line[key] = line
        relevance[key] = RelevanceEntry(
            position_id=position_id,
            category=category,
            relevance=level,
            lookback_years=lookback,
            rationale=row["rationale"],
            rationale_zh=row.get("rationale_zh", ""),
            line=line,
        )
    for position_id in positions:
        missing = [category for category in categories if (position_id, category) not in written]
        if missing:
            problems.append(
                TablesError(
                    f"position '{position_id}' has no row for {allowed(missing)}. Every position "
                    "needs a row for every category, with its relevance and rationale; "
                    "there is no default.",
                    file=str(path),
                )
            )
    return relevance


def _lookback(text: str, level: Relevance) -> int | None | str:
    """The lookback in years, or a message saying what is wrong."""
    if not text:
        if level is Relevance.NONE:
            return None
        return (
            f"is empty; a row with relevance '{level}' needs the number of years a finding "
            "counts (a whole number, for example 7)."
        )
    # isascii: '²'.isdigit() is true, but int('²') fails.
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_LOOKBACK_YEARS:
        return f"must be a whole number of years from 0 to {MAX_LOOKBACK_YEARS}, not '{text}'."
    return int(text)
