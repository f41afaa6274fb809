"""Rule tests that legal staff read and write: ``rules/tests/*.yaml``.

Each case names a position (or a risk level with each finding's relevance),
optionally where the job is (``work_location``; none: a location no rule
names), one or more findings with the handling expected for each, and the expected
recommendation. ``run_rule_tests`` judges the findings with the real engine
(durable-rules, the same compiled rulebook as ``evaluate``) and reports each
case, and the coverage: the rules that decided at least one finding of some
case. The format is documented in ``docs/rule-tests.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from engine.dates import FORMAT_HINT, parse_iso_date
from engine.rulebook.lookback import lookback_of, record_age
from engine.errors import InvalidConfiguration, RulebookError, allowed, unknown_value
from engine.inputs.applications import WORK_LOCATION, WORK_LOCATION_HINT
from engine.rulebook.compiled import Signature, confirmed_twin, engine_for
from engine.rulebook.jurisdictions import ELSEWHERE
from engine.rulebook.tables import PositionTables
from engine.rulebook.model import FACT_FIELDS, NO_RULE, WORD_FIELDS, Rulebook
from engine.inputs.strict_yaml import YamlMap, key_problems, load_yaml
from engine.vocabulary import Disposition, Handling, Lookback, Recommendation, Relevance, RiskLevel, Severity

TESTS_FOLDER = "tests"
_FILE_KEYS = ("as_of", "cases")
_CASE_KEYS = ("name", "position", "risk_level", "work_location", "findings", "recommendation")
_FINDING_KEYS = (
    "category", "severity", "disposition", "occurred_on", "relevance", "lookback", "handling", "rule",
    "party_role", "juvenile", "relief", "conduct_established", "disposition_date", "years_since",
)


@dataclass(frozen=True)
class ExpectedFinding:
    """One finding of a rule test case: its risk signature, the handling
    expected, and the rule expected to decide it (``None``: any rule)."""

    signature: Signature
    handling: Handling
    rule_id: str | None  # None: any rule may decide
    line: int


@dataclass(frozen=True)
class Case:
    """One rule test case, as written in ``rules/tests/*.yaml``: its
    findings and, optionally, the recommendation they should give."""

    file: str
    line: int
    name: str
    findings: tuple[ExpectedFinding, ...]
    recommendation: Recommendation | None


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: each failure in words, and the rule that
    decided each of its findings."""

    case: Case
    failures: tuple[str, ...]
    decided_by: tuple[str, ...]  # the rule that decided each finding

    @property
    def passed(self) -> bool:
        """Whether every finding and the recommendation came out as expected."""
        return not self.failures


@dataclass(frozen=True)
class RuleTestRun:
    """Every case's result, and the rules the cases cover."""

    results: tuple[CaseResult, ...]
    rulebook: Rulebook

    @property
    def failed(self) -> list[CaseResult]:
        """The cases that failed, in the order they were run."""
        return [result for result in self.results if not result.passed]

    @property
    def covered(self) -> list[str]:
        """Ids of the rules that decided at least one finding of some case,
        in the rulebook's order."""
        decided = {rule_id for result in self.results for rule_id in result.decided_by}
        return [rule.id for rule in self.rulebook.rules if rule.id in decided]

    @property
    def uncovered(self) -> list[str]:
        """Ids of the rules no case exercises, in the rulebook's order."""
        covered = set(self.covered)
        return [rule.id for rule in self.rulebook.rules if rule.id not in covered]

    @property
    def coverage(self) -> float:
        """The share of the rulebook's rules covered, in percent (100 for an
        empty rulebook); ``rules test --min-coverage`` compares it."""
        total = len(self.rulebook.rules)
        return 100.0 * len(self.covered) / total if total else 100.0


def rule_test_files(rules_location: Path) -> list[Path]:
    """The rule test files of a rulebook: ``tests/*.yaml`` beside it.

    Args:
        rules_location: the rulebook folder, or its ``rulebook.yaml``.

    Returns:
        The files, sorted by name; empty when there are none.
    """
    folder = Path(rules_location)
    folder = folder if folder.is_dir() else folder.parent
    return sorted((folder / TESTS_FOLDER).glob("*.yaml"))


def load_cases(paths: list[Path], rulebook: Rulebook, tables: PositionTables | None) -> list[Case]:
    """Read and check rule test files against a rulebook.

    Args:
        paths: the rule test files (see ``rule_test_files``).
        rulebook: the rulebook whose words the cases use.
        tables: the position risk tables, for cases that name a position;
            ``None`` if only cases with a risk level are allowed.

    Returns:
        Every case, file by file in the given order.

    Raises:
        RulebookError: a file cannot be read or is not YAML.
        InvalidConfiguration: some cases have problems; it carries every
            problem of every file, each with its file and line.
    """
    problems: list[RulebookError] = []
    cases: list[Case] = []
    for path in paths:
        cases.extend(_CaseParser(path, rulebook, tables, problems).parse())
    if problems:
        raise InvalidConfiguration("The rule test folder", problems)
    return cases


def run_rule_tests(cases: list[Case], rulebook: Rulebook) -> RuleTestRun:
    """Judge every case's findings with the real engine (the rulebook
    compiled into durable-rules, as ``evaluate`` uses it) and compare.

    Args:
        cases: the cases, from ``load_cases``.
        rulebook: the rulebook under test.

    Returns:
        A ``RuleTestRun`` with each case's result and the rule coverage.

    Raises:
        EngineError: durable-rules could not compile or run the rulebook.
    """
    signatures = {f.signature for case in cases for f in case.findings}
    # A disputed finding is also judged as if confirmed, as ``evaluate``
    # does: it puts the recommendation on hold when it would then weigh.
    twins = {signature: confirmed_twin(signature) for signature in signatures}
    twins = {signature: twin for signature, twin in twins.items() if twin is not None}
    judgements = engine_for(rulebook).judge([*signatures, *twins.values()])
    results = []
    for case in cases:
        failures = []
        decided = []
        for number, expected in enumerate(case.findings, start=1):
            judgement = judgements[expected.signature]
            decided.append(judgement.rule_id)
            got = f"{judgement.handling} (rule {judgement.rule_id})"
            if judgement.handling is not expected.handling:
                failures.append(f"finding {number} (line {expected.line}): expected {expected.handling}, got {got}.")
            elif expected.rule_id is not None and judgement.rule_id != expected.rule_id:
                failures.append(
                    f"finding {number} (line {expected.line}): expected rule {expected.rule_id}, got {got}."
                )
        if case.recommendation is not None:
            handlings = [judgements[f.signature].handling for f in case.findings]
            held = [
                judgements[twins[f.signature]].handling
                for f in case.findings
                if f.signature in twins and judgements[f.signature].handling.weight == 0
            ]
            got = Recommendation.from_handlings(handlings, held)
            if got is not case.recommendation:
                failures.append(f"expected recommendation {case.recommendation}, got {got}.")
        results.append(CaseResult(case, tuple(failures), tuple(decided)))
    return RuleTestRun(tuple(results), rulebook)


class _CaseParser:
    def __init__(self, path: Path, rulebook: Rulebook, tables: PositionTables | None, problems: list):
        self.path = path
        self.file = str(path)
        self.rulebook = rulebook
        self.tables = tables
        self.problems = problems

    def problem(self, message: str, line: int | None) -> None:
        self.problems.append(RulebookError(message, file=self.file, line=line))

    def keys(self, mapping: YamlMap, known, where: str) -> None:
        for message, line in key_problems(mapping, known, where):
            self.problem(message, line)

    def parse(self) -> list[Case]:
        document = load_yaml(self.path, RulebookError)
        if not isinstance(document, YamlMap) or not isinstance(document.get("cases"), list):
            self.problem("a rule test file is a mapping with a list under 'cases'.", 1)
            return []
        self.keys(document, _FILE_KEYS, "the file")
        as_of = self.rulebook.effective_date
        if "as_of" in document:
            try:
                as_of = parse_iso_date(document["as_of"])
            except ValueError:
                self.problem(
                    f"'as_of' must be a date, not '{document['as_of']}'; {FORMAT_HINT}.",
                    document.line_of("as_of"),
                )
        cases = []
        for entry in document["cases"]:
            if not isinstance(entry, YamlMap):
                self.problem("each case is a mapping starting with '- name:'.", document.line_of("cases"))
                continue
            case = self.case(entry, as_of)
            if case is not None:
                cases.append(case)
        return cases

    def case(self, entry: YamlMap, as_of: dt.date) -> Case | None:
        count = len(self.problems)
        self.keys(entry, _CASE_KEYS, "a case")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem("every case needs a 'name' that says what it shows.", entry.line)
        has_position, has_risk = "position" in entry, "risk_level" in entry
        if has_position == has_risk:
            self.problem(
                "a case names either a 'position' (from the tables) or a 'risk_level' "
                "(with each finding's 'relevance'), not both and not neither.",
                entry.line,
            )
            return None
        position = None
        risk = None
        if has_position:
            position = entry["position"]
            if not isinstance(position, str):
                self.problem(
                    f"'position' is one position id, such as {allowed(list(self.tables.positions)[:2]) if self.tables else 'van_driver'}.",
                    entry.line_of("position"),
                )
                return None
            if self.tables is None:
                self.problem("the case names a position, but no position tables were loaded.", entry.line)
                return None
            if position not in self.tables.positions:
                self.problem(
                    unknown_value("position", str(position), self.tables.positions), entry.line_of("position")
                )
                return None
            risk = self.tables.positions[position].risk_level
        else:
            risk = self.word(entry, "risk_level", RiskLevel)
        recommendation = self.word(entry, "recommendation", Recommendation) if "recommendation" in entry else None
        where = self.work_location(entry)
        raw = entry.get("findings")
        if not isinstance(raw, list) or not raw:
            self.problem("a case needs a list of 'findings'.", entry.line_of("findings"))
            return None
        findings = [self.finding(item, position, risk, as_of, where) for item in raw]
        if len(self.problems) > count or risk is None:
            return None
        return Case(self.file, entry.line, name.strip(), tuple(findings), recommendation)

    def word(self, mapping: YamlMap, key: str, vocabulary, words=None):
        value = mapping.get(key)
        words = words if words is not None else vocabulary.words()
        if key not in mapping:
            self.problem(f"'{key}' is missing; allowed: {allowed(words)}.", mapping.line)
            return None
        if not isinstance(value, str) or value not in words:
            self.problem(unknown_value(key.replace("_", " "), str(value), words), mapping.line_of(key))
            return None
        return vocabulary(value)

    def disposition_date(self, item: YamlMap, occurred_on: dt.date, as_of: dt.date):
        """The finding's 'disposition_date' (None when not given), or False
        after a problem: a date, not before 'occurred_on' nor after as_of."""
        if "disposition_date" not in item:
            return None
        line = item.line_of("disposition_date")
        try:
            day = parse_iso_date(item.get("disposition_date"))
        except ValueError:
            self.problem(f"'disposition_date' must be a date; {FORMAT_HINT}.", line)
            return False
        if day < occurred_on or day > as_of:
            self.problem(
                f"'disposition_date' {day.isoformat()} must lie between 'occurred_on' "
                f"{occurred_on.isoformat()} and the file's as_of date {as_of.isoformat()}.",
                line,
            )
            return False
        return day

    def work_location(self, entry: YamlMap) -> str:
        """The case's work location as the rules see it (reduced to the
        locations the rulebook names); ``elsewhere`` when the case names none."""
        if "work_location" not in entry:
            return ELSEWHERE
        value = entry["work_location"]
        written = value.strip().upper() if isinstance(value, str) else ""
        if not WORK_LOCATION.fullmatch(written):
            self.problem(
                f"'work_location' '{value}' is not a work location; {WORK_LOCATION_HINT}.",
                entry.line_of("work_location"),
            )
            return ELSEWHERE
        return self.rulebook.reduce_location(written)

    def finding(self, item, position, risk, as_of, where: str = ELSEWHERE) -> ExpectedFinding | None:
        if not isinstance(item, YamlMap):
            self.problem("each finding is a mapping starting with '- category:'.", None)
            return None
        self.keys(item, _FINDING_KEYS, "a finding")
        category = item.get("category")
        if not isinstance(category, str) or category not in self.rulebook.categories:
            self.problem(
                unknown_value("category", str(category), self.rulebook.categories), item.line_of("category")
            )
            return None
        severity = self.word(item, "severity", Severity)
        disposition = self.word(item, "disposition", Disposition) if "disposition" in item else Disposition.CONFIRMED
        handling = self.word(item, "handling", Handling)
        rule_id = item.get("rule")
        if rule_id is not None and not isinstance(rule_id, str):
            self.problem("'rule' is one rule id, such as NR-NOT-JOB-RELATED.", item.line_of("rule"))
            rule_id = None
        elif rule_id is not None and rule_id != NO_RULE and rule_id not in self.rulebook.rules_by_id:
            self.problem(
                unknown_value("rule", str(rule_id), list(self.rulebook.rules_by_id) + [NO_RULE]),
                item.line_of("rule"),
            )
        if position is not None:
            for key in ("relevance", "lookback"):
                if key in item:
                    self.problem(
                        f"'{key}' comes from the position's table row; with a 'position', give "
                        "'occurred_on' instead.",
                        item.line_of(key),
                    )
            entry = self.tables.entry(position, category)
            try:
                occurred_on = parse_iso_date(item.get("occurred_on"))
            except ValueError:
                self.problem(
                    f"a finding of a case with a position needs 'occurred_on'; {FORMAT_HINT}.",
                    item.line_of("occurred_on"),
                )
                return None
            if occurred_on > as_of:
                self.problem(
                    f"'occurred_on' {occurred_on.isoformat()} is after the file's as_of date "
                    f"{as_of.isoformat()}; a finding cannot lie in the future.",
                    item.line_of("occurred_on"),
                )
                return None
            disposed_on = self.disposition_date(item, occurred_on, as_of)
            if disposed_on is False:
                return None
            if "years_since" in item:
                self.problem(
                    "'years_since' comes from 'occurred_on' (or 'disposition_date') and the file's as_of; "
                    "with a 'position', give the dates instead.",
                    item.line_of("years_since"),
                )
            relevance = entry.relevance
            # As ``evaluate`` reckons them: the lookback from the latest
            # date the rulebook's lookback_from names, the age of the
            # record from the disposition when given.
            since = max(occurred_on, disposed_on or occurred_on) if self.rulebook.lookback_from == "latest" else occurred_on
            lookback = lookback_of(since, as_of, entry.lookback_years)
            years = record_age(occurred_on, disposed_on, as_of)
        else:
            if "occurred_on" in item:
                self.problem(
                    "'occurred_on' needs a position's lookback; with a 'risk_level', give 'lookback: "
                    "inside' or 'lookback: outside'.",
                    item.line_of("occurred_on"),
                )
            if "disposition_date" in item:
                self.problem(
                    "'disposition_date' needs a position's lookback; with a 'risk_level', give "
                    "'years_since' (whole years since the record) instead.",
                    item.line_of("disposition_date"),
                )
            relevance = self.word(item, "relevance", Relevance)
            lookback = self.word(item, "lookback", Lookback) if "lookback" in item else Lookback.INSIDE
            years = item.get("years_since", 0)
            if isinstance(years, bool) or not isinstance(years, int) or years < 0:
                self.problem(
                    f"'years_since' is a whole number of years since the record, such as 3, not '{years}'.",
                    item.line_of("years_since"),
                )
                return None
        if None in (severity, disposition, handling, relevance, lookback, risk):
            return None
        signature = Signature(
            category, severity, disposition, relevance, risk, lookback, work_location=where,
            years_since=self.rulebook.reduce_age(years),
        )
        facts = {}
        for name in FACT_FIELDS:
            if name in item:
                value = item[name]
                if isinstance(value, bool):  # YAML reads an unquoted yes/no as a boolean
                    value = "yes" if value else "no"
                    item[name] = value
                facts[name] = self.word(item, name, WORD_FIELDS[name])
        if None in facts.values():
            return None
        return ExpectedFinding(signature._replace(**facts), handling, rule_id, item.line)
