"""Static analysis of a rulebook over its whole, finite input space.

A finding reaches the rules as a risk signature: category, severity,
disposition, relevance, risk level, lookback, the facts the law needs
(party role, juvenile, relief, conduct established) and where the job is
and, when a rule names it, the age of the record reduced to the ages the
rules tell apart (see ``compiled``). The space of signatures is finite, so the analysis is
exact: every signature is judged by the real engine (durable-rules), and
the results are examined for

- gaps: signatures that no rule covers;
- conflicts: two rules that match the same signature with different
  handlings and the same precedence, so that only the tie-break decides;
- dead rules: rules that never match, or never decide because another rule
  always takes precedence;
- monotonicity: raising severity, relevance or risk level, all else equal,
  must never lower the handling, and an older record (``years_since``)
  must never be handled more severely than a younger one;
- hygiene: duplicated conditions, thin rationales, repeated references;
- jurisdiction (a warning): a rule on a work location that weighs a record
  a general rule excludes, since the more specific rule wins whatever the
  precedence.

Where the job is takes the values of ``jurisdictions.domain``: each
location the rules name, and ``elsewhere``. Every other location (an
ancestor of a named one, such as ``US`` when only ``US-CA`` is named, or
any location no rule names) is reduced to one of these before the rules
see it, so it is judged exactly as its reduction: the analysis covers every
jurisdiction. Gaps, conflicts and monotonicity are thus found per
jurisdiction, and reports name the work location when it matters. When two
rulebooks are compared, the locations of both are judged, each rulebook
reducing them its own way.

Results are grouped into "cubes" (a set of values per field) so that a
lawyer reads a few lines instead of thousands of combinations; the same
grouping lays out the adjudication matrix and the effect of a rule change.

Each fact field multiplies the space, so a fact field is expanded only into
the values the rules tell apart: two values that every rule either names
both or names neither are judged alike by every rule, whatever the other
fields, and one of them (the first in the field's order) stands for both.
A fact field no rule mentions contributes one value (15 categories and no
rule on a fact give 10,080 signatures). The results stay exact: every
handling of the whole space is that of its representative, and
descriptions name every value a representative stands for; counts are of
combinations of the space analysed, where a representative counts once.

Even so, every location and fact the rules name multiplies the space (a
rulebook naming six work locations has some two million combinations), so
the space is not judged signature by signature. durable-rules judges each
rule on the combinations of the fields that rule names, since a rule
matches whatever the fields it does not name; a cell's matches are the
union of what each rule matched on its fields, and the winner is chosen
once per distinct set of matches and work location (``judge_space``). The
judged space is held as arrays (``JudgedSpace``), and the checks below
count and pick examples over whole arrays, so that the time grows with the
rules and what they name, not with the size of the space.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np

from engine.rulebook import jurisdictions
from engine.rulebook.compiled import Judgement, Signature, engine_for, specificity
from engine.rulebook.model import AGE_FIELD, FACT_FIELDS, LOCATION_FIELD, Rule, Rulebook
from engine.vocabulary import Disposition, Lookback, PartyRole, Relevance, Relief, RiskLevel, Severity, YesNo

FIELDS = Signature._fields
FIELD_LABELS = {
    "category": "category",
    "severity": "severity",
    "disposition": "disposition",
    "relevance": "relevance",
    "risk_level": "risk level",
    "lookback": "lookback",
    "party_role": "party role",
    "juvenile": "juvenile",
    "relief": "relief",
    "conduct_established": "conduct established",
    "work_location": "work location",
    "years_since": "years since the record",
}
# The fields judged apart from the others (``judge_space``), since few
# rules name them: the facts the law needs, and where the job is.
_SPLIT_FIELDS = (*FACT_FIELDS, LOCATION_FIELD)
# Fields whose values are ordered, and where a rise must not lower the handling.
ORDERED = ("severity", "relevance", "risk_level")
MIN_RATIONALE = 60  # characters: enough for a sentence that explains

V = TypeVar("V", bound=Hashable)
Cube = tuple  # one frozenset of values per field


def full_domains(rulebook: Rulebook, also: Sequence[Rulebook] = ()) -> dict[str, tuple]:
    """Every value each field of a signature can take, in their natural
    order; the work locations are those ``rulebook`` (and ``also``) name,
    then ``elsewhere``."""
    named = {area for book in (rulebook, *also) for area in book.locations}
    return {
        "category": tuple(rulebook.categories),
        "severity": tuple(Severity),
        "disposition": tuple(Disposition),
        "relevance": tuple(Relevance),
        "risk_level": tuple(RiskLevel),
        "lookback": tuple(Lookback),
        "party_role": tuple(PartyRole),
        "juvenile": tuple(YesNo),
        "relief": tuple(Relief),
        "conduct_established": tuple(YesNo),
        "work_location": jurisdictions.domain(named),
        # The reduced ages of records; only 0 when no rule names an age.
        AGE_FIELD: tuple(sorted({0, *(cut for book in (rulebook, *also) for cut in book.age_cuts)})),
    }


def value_classes(rulebook: Rulebook, also: Sequence[Rulebook] = ()) -> dict[str, dict]:
    """Per fact field: each representative value and the values it stands
    for, in order. Values that the rules of ``rulebook`` (and of ``also``,
    when two rulebooks are compared) name alike fall in one class."""
    rules = [rule for book in (rulebook, *also) for rule in book.rules]
    classes: dict[str, dict] = {}
    for name, domain in full_domains(rulebook).items():
        if name not in FACT_FIELDS:
            continue
        conditions = [rule.when[name] for rule in rules if name in rule.when]
        by_key: dict[tuple, list] = {}
        for value in domain:
            by_key.setdefault(tuple(value.value in words for words in conditions), []).append(value)
        classes[name] = {members[0]: tuple(members) for members in by_key.values()}
    return classes


def domains(rulebook: Rulebook, also: Sequence[Rulebook] = ()) -> dict[str, tuple]:
    """The values each field of a signature takes in the analysis, in their
    natural order: every value of the first six fields, and one value per
    class of a fact field (``value_classes``)."""
    classes = value_classes(rulebook, also)
    return {
        name: tuple(classes[name]) if name in classes else domain
        for name, domain in full_domains(rulebook, also).items()
    }


def input_space(rulebook: Rulebook, also: Sequence[Rulebook] = ()) -> list[Signature]:
    """Every risk signature a finding can have under ``rulebook``, with one
    value per class of each fact field: each category times each severity,
    disposition, relevance, risk level and lookback (10,080 signatures for
    15 categories when no rule names a fact), in the fields' order."""
    return [Signature(*values) for values in itertools.product(*domains(rulebook, also).values())]


def judge_space(rulebook: Rulebook, also: Sequence[Rulebook] = ()) -> JudgedSpace:
    """Every signature of the space, judged by the rulebook's engine.

    Every match is made by durable-rules, on what each rule looks at: a rule
    matches a signature whatever the values of the fields it does not name,
    so each rule is judged on the signatures that vary only the fields it
    names (the others at their first value), and what it matches there
    holds for every signature with the same values of those fields. The work
    is thus the sum, over the rules, of the combinations of the fields each
    names, not the size of the space: a rule on a work location and a fact
    adds a few hundred signatures, not another copy of the space. The rules
    that match a signature are the union of those whose judged projection
    matched, and the winner is chosen as for a finding (``RuleEngine.decide``)
    once per distinct set of matches and work location.

    Args:
        rulebook (Rulebook): the rulebook whose engine judges.
        also (Sequence[Rulebook]): another rulebook when two are compared:
            the space holds its locations and fact classes too, each reduced
            as ``rulebook`` reduces it.

    Returns:
        JudgedSpace: a mapping from every signature of the space to its
        judgement.

    Raises:
        EngineError: durable-rules could not compile or run the rulebook.
    """
    space = domains(rulebook, also)
    # The locations this rulebook tells apart; another rulebook's (when two
    # are compared) are judged as this one reduces them.
    own = rulebook.domain(LOCATION_FIELD)
    judged = dict(space, **{LOCATION_FIELD: own})
    names = list(space)
    axis = names.index(LOCATION_FIELD)
    masks = _matches(rulebook, judged)
    # Each location of the space, as the index of its reduction.
    reduction = np.array([own.index(rulebook.reduce_location(area)) for area in space[LOCATION_FIELD]])
    if len(reduction) != len(own) or (reduction != np.arange(len(own))).any():
        masks = np.take(masks, reduction, axis=axis + 1)
    # A cell's judgement depends on the rules it matches and on where the
    # job is (how specific each rule is there): one pattern per such pair.
    places = np.arange(len(space[LOCATION_FIELD])).reshape([-1 if i == axis else 1 for i in range(len(names))])
    keys = [*masks.reshape(len(masks), -1), np.broadcast_to(places, masks.shape[1:]).ravel()]
    patterns, inverse = _distinct_rows(keys)
    engine = engine_for(rulebook)
    rule_ids = [rule.id for rule in rulebook.rules]
    decided: dict[tuple, Judgement] = {}
    judgements, locations = [], []
    for *words, place in patterns:
        matched = tuple(
            rule_ids[index] for index in range(len(rule_ids)) if words[index // 64] >> (index % 64) & 1
        )
        area = space[LOCATION_FIELD][place]
        key = (matched, own[reduction[place]])
        if key not in decided:
            decided[key] = engine.decide(list(matched), key[1])
        judgements.append(decided[key])
        locations.append(area)
    shape = tuple(len(values) for values in space.values())
    return JudgedSpace(
        tuple(names), tuple(space.values()), inverse.reshape(shape).astype(np.int32),
        tuple(judgements), tuple(locations),
    )


def _distinct_rows(columns: list[np.ndarray]) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The distinct rows of equal-length integer columns, in their sorted
    order, and for each row the index of its distinct row. Numbered one
    column at a time, since sorting whole rows is many times slower."""
    numbers = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        values, inverse = np.unique(column, return_inverse=True)
        numbers = numbers * len(values) + inverse.ravel()
        _, numbers = np.unique(numbers, return_inverse=True)
        numbers = numbers.ravel()
    _, first = np.unique(numbers, return_index=True)
    return [tuple(int(column[row]) for column in columns) for row in first.tolist()], numbers


def _matches(rulebook: Rulebook, space: dict[str, tuple]) -> np.ndarray:
    """Which rules match each cell of ``space``, as bits (rule i is bit
    i % 64 of word i // 64): an array of shape (words, *field sizes).

    durable-rules judges each rule on the combinations of the fields it
    names, the other fields at their first value; all are sent at once,
    each distinct signature once."""
    names = list(space)
    shape = tuple(len(values) for values in space.values())
    first = {name: values[0] for name, values in space.items()}
    projections = []
    for rule in rulebook.rules:
        axes = [index for index, name in enumerate(names) if name in rule.when]
        signatures = [
            Signature(**{**first, **{names[a]: value for a, value in zip(axes, values)}})
            for values in itertools.product(*(space[names[a]] for a in axes))
        ]
        projections.append((rule, axes, signatures))
    judged = engine_for(rulebook).judge(s for _, _, signatures in projections for s in signatures)
    masks = np.zeros((max(1, -(-len(rulebook.rules) // 64)), *shape), dtype=np.uint64)
    for index, (rule, axes, signatures) in enumerate(projections):
        hit = np.fromiter((rule.id in judged[s].matched for s in signatures), dtype=bool, count=len(signatures))
        hit = hit.reshape([shape[a] for a in axes]).reshape([shape[a] if a in axes else 1 for a in range(len(shape))])
        masks[index // 64] |= hit.astype(np.uint64) << np.uint64(index % 64)
    return masks


class JudgedSpace(Mapping):
    """Every signature of an analysed space and its judgement: a read-only
    mapping ``Signature -> Judgement``, held as one array of pattern numbers
    (a pattern: the rules a cell matches and where the job is) so that a
    space of millions of cells costs a few bytes per cell, and the analyses
    work on whole arrays.

    Attributes:
        fields (tuple[str, ...]): the signature's fields, in order.
        domains (tuple[tuple, ...]): the values of each field, in order.
        patterns (numpy.ndarray): per cell, the index of its pattern (int32,
            one axis per field).
        judgements (tuple[Judgement, ...]): the judgement of each pattern.
        locations (tuple[str, ...]): the work location of each pattern.
    """

    def __init__(self, fields, domains, patterns, judgements, locations) -> None:
        self.fields = fields
        self.domains = domains
        self.patterns = patterns
        self.judgements = judgements
        self.locations = locations
        self._positions = tuple({value: index for index, value in enumerate(values)} for values in domains)

    def __getitem__(self, signature: Signature) -> Judgement:
        index = tuple(positions[value] for positions, value in zip(self._positions, signature))
        if len(index) != len(self.fields):
            raise KeyError(signature)
        return self.judgements[self.patterns[index]]

    def __iter__(self):
        return (Signature(*values) for values in itertools.product(*self.domains))

    def __len__(self) -> int:
        return self.patterns.size

    @cached_property
    def counts(self) -> np.ndarray:
        """How many cells each pattern has."""
        return np.bincount(self.patterns.ravel(), minlength=len(self.judgements))

    def position(self, name: str, value) -> int:
        """The index of ``value`` on the axis of the field ``name``."""
        return self._positions[self.fields.index(name)][value]

    def signature(self, cell: int) -> Signature:
        """The signature of a cell, given by its flat index."""
        index = np.unravel_index(cell, self.patterns.shape)
        return Signature(*(values[i] for values, i in zip(self.domains, index)))

    @cached_property
    def _example_order(self) -> np.ndarray:
        # Per cell, its place in the order of ``example``: a job elsewhere
        # first, then the signatures as Python compares them (values of a
        # field by their own order, which for words is alphabetical).
        shape = self.patterns.shape
        order = np.zeros(shape, dtype=np.int64)
        stride = 1
        for axis in reversed(range(len(shape))):
            values = self.domains[axis]
            ranks = np.empty(len(values), dtype=np.int64)
            ranks[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
            order += (ranks * stride).reshape([-1 if a == axis else 1 for a in range(len(shape))])
            stride *= len(values)
        axis = self.fields.index(LOCATION_FIELD)
        elsewhere = np.array([value != jurisdictions.ELSEWHERE for value in self.domains[axis]])
        order += elsewhere.astype(np.int64).reshape([-1 if a == axis else 1 for a in range(len(shape))]) * stride
        return order.ravel()

    def example(self, cells: np.ndarray) -> Signature:
        """The example a report gives of the cells given (by flat index):
        the first signature, one where the job is elsewhere if there is one
        (the general case reads plainest).

        Args:
            cells (numpy.ndarray): flat indexes of cells, at least one.

        Returns:
            Signature: the example.
        """
        return self.signature(int(cells[np.argmin(self._example_order[cells])]))

    def cells_of(self, patterns) -> np.ndarray:
        """The flat indexes of the cells of the given patterns, in order."""
        return np.flatnonzero(np.isin(self.patterns.ravel(), np.fromiter(patterns, dtype=np.int32)))


def _expanded(cube: Cube, classes: Mapping[str, dict], fields: Sequence[str] = FIELDS) -> Cube:
    """A cube with each representative value replaced by the values it stands for."""
    return tuple(
        frozenset(member for value in values for member in classes[name][value]) if name in classes else values
        for name, values in zip(fields, cube)
    )


def merge_cubes(
    cells: Mapping[tuple, V], field_domains: Sequence[tuple]
) -> list[tuple[Cube, V]]:
    """Group cells (one value per field) with equal results into cubes.

    Cubes that agree on every field but one, and on the result, are merged
    until nothing changes. Cubes always partition the given cells, and the
    result does not depend on the order of ``cells``.
    """
    cubes: dict[Cube, V] = {tuple(frozenset([v]) for v in key): value for key, value in cells.items()}
    changed = True
    while changed:
        changed = False
        for index in range(len(field_domains)):
            groups: dict[tuple, list[frozenset]] = defaultdict(list)
            for cube, value in cubes.items():
                groups[(cube[:index] + cube[index + 1 :], value)].append(cube[index])
            merged = {
                rest[:index] + (frozenset().union(*parts),) + rest[index:]: value
                for (rest, value), parts in groups.items()
            }
            changed = changed or len(merged) < len(cubes)
            cubes = merged
    order = [{value: rank for rank, value in enumerate(domain)} for domain in field_domains]

    def position(item):
        cube, _ = item
        return tuple(sorted(order[i][v] for v in values) for i, values in enumerate(cube))

    return sorted(cubes.items(), key=position)


def describe_values(values: frozenset, domain: tuple, any_word: str = "any") -> str:
    """A set of a field's values in words, in the field's natural order.

    Args:
        values: the values of one field in a cube.
        domain: every value the field can take, in order.
        any_word: what to write when ``values`` is the whole domain.

    Returns:
        ``any_word``, one value, or ``'a, b or c'``.
    """
    if len(values) == len(domain):
        return any_word
    ordered = [str(value) for value in domain if value in values]
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]


def describe_ages(values: frozenset, domain: tuple, any_word: str = "any") -> str:
    """Reduced ages of records (``Rulebook.reduce_age``) in words, each age
    standing for the years up to the next one: 'under 2', '2 or more',
    'from 2 to 4', 'under 2 or 5 or more'.

    Args:
        values: the reduced ages of one cube.
        domain: every reduced age, ascending (starting at 0).
        any_word: what to write when ``values`` is the whole domain.

    Returns:
        str: the years in words.
    """
    if len(values) == len(domain):
        return any_word
    runs: list[list[int]] = []
    for at, age in enumerate(domain):
        if age in values:
            if runs and runs[-1][1] == at - 1:
                runs[-1][1] = at
            else:
                runs.append([at, at])
    words = []
    for first, last in runs:
        low, end = domain[first], domain[last + 1] if last + 1 < len(domain) else None
        words.append(
            f"under {end}" if low == 0 else f"{low} or more" if end is None
            else f"{low}" if end == low + 1 else f"from {low} to {end - 1}"
        )
    return " or ".join(words)


def describe_cube(
    cube: Cube, rulebook: Rulebook, fields: Sequence[str] = FIELDS, classes=None, also: Sequence[Rulebook] = ()
) -> str:
    """A cube in words: 'any category, severity serious or severe, ...'
    (a cube of the analysis, whose fact values stand for their classes;
    ``also``: the other rulebook when two are compared, whose work
    locations are part of the space)."""
    cube = _expanded(cube, value_classes(rulebook) if classes is None else classes, fields)
    all_domains = full_domains(rulebook, also)
    parts = []
    for name, values in zip(fields, cube):
        describe = describe_ages if name == AGE_FIELD else describe_values
        text = describe(values, all_domains[name])
        if text == "any" and (name in _SPLIT_FIELDS or name == AGE_FIELD):
            continue  # a fact, a place or an age no rule tells apart here: said once, not ten times
        parts.append(f"any {FIELD_LABELS[name]}" if text == "any" else f"{FIELD_LABELS[name]} {text}")
    return ", ".join(parts)


def describe_signature(signature: Signature) -> str:
    """One risk signature in words: 'category credit_record, severity minor, ...'.

    Args:
        signature (Signature): the signature.

    Returns:
        str: the fields in words; a fact is named when given, the work
        location when it is one the rules name (not ``elsewhere``), the
        age of the record when it reaches an age a rule names.
    """
    return ", ".join(
        f"{FIELD_LABELS[name]} {value}" if name != AGE_FIELD else f"{FIELD_LABELS[name]} {value} or more"
        for name, value in zip(FIELDS, signature)
        if (name == LOCATION_FIELD and value != jurisdictions.ELSEWHERE)
        or (name == AGE_FIELD and value)
        or (name in FACT_FIELDS and value is not list(type(value))[0])
        or name not in (*_SPLIT_FIELDS, AGE_FIELD)
    )


def _where(rulebook: Rulebook, locations: set[str]) -> str:
    """'' when a problem holds in every jurisdiction (or the rules name
    none); else the jurisdictions where it holds, as a sentence."""
    every = set(rulebook.domain(LOCATION_FIELD))
    if not rulebook.locations or locations >= every:
        return ""
    listed = [jurisdictions.describe(area) for area in sorted(locations)]
    return " It holds for work location " + (
        listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    ) + " only."


@dataclass(frozen=True)
class Problem:
    """One result of the analysis; errors fail ``rules check``."""

    kind: str  # gap, conflict, dead rule, masked rule, monotonicity, jurisdiction, hygiene
    level: str  # error or warning
    message: str
    rule_ids: tuple[str, ...] = ()

    def render(self, rulebook: Rulebook) -> str:
        """The problem as one line, placed like a compiler's message:
        ``rules/rulebook.yaml:42: error: gap: ...`` (the line of its first
        rule, or just the file)."""
        rules = rulebook.rules_by_id
        where = rulebook.path
        if self.rule_ids and self.rule_ids[0] in rules:
            where = f"{where}:{rules[self.rule_ids[0]].line}"
        return f"{where}: {self.level}: {self.kind}: {self.message}"


@dataclass(frozen=True)
class Analysis:
    """The result of ``analyse``: every signature's judgement (``cells``)
    and the problems found. Errors fail ``adjudicate rules check``;
    warnings are for the reviewer."""

    rulebook: Rulebook
    cells: JudgedSpace
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        """Problems that make the rulebook unfit for use (gaps, conflicts, ...)."""
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems a reviewer should look at but that do not fail the check."""
        return [p for p in self.problems if p.level == "warning"]


def analyse(rulebook: Rulebook) -> Analysis:
    """Judge the rulebook's whole input space with durable-rules and look
    for gaps, conflicts, dead or masked rules, handlings that drop as risk
    rises, and hygiene problems (see the module docstring).

    Args:
        rulebook: a loaded rulebook (draft or approved).

    Returns:
        An ``Analysis`` with every cell and every problem found.

    Raises:
        EngineError: durable-rules could not compile or run the rulebook.
    """
    cells = judge_space(rulebook)
    problems = (
        _gaps(rulebook, cells)
        + _conflicts(rulebook, cells)
        + _dead_rules(rulebook, cells)
        + _monotonicity(rulebook, cells)
        + _overridden_exclusions(rulebook, cells)
        + _hygiene(rulebook)
    )
    return Analysis(rulebook=rulebook, cells=cells, problems=tuple(problems))


def _gaps(rulebook: Rulebook, cells: JudgedSpace) -> list[Problem]:
    open_patterns = [index for index, judgement in enumerate(cells.judgements) if judgement.rule is None]
    if not open_patterns:
        return []
    uncovered = {cells.signature(cell): True for cell in cells.cells_of(open_patterns).tolist()}
    cubes = merge_cubes(uncovered, list(domains(rulebook).values()))
    return [
        Problem(
            "gap",
            "error",
            f"no rule covers {_count(cube)}: {describe_cube(cube, rulebook)}. Such findings go to "
            "review with the reason 'no rule covers this finding'; add a rule that decides them.",
        )
        for cube, _ in cubes
    ]


def _count(cube: Cube) -> str:
    size = _size(cube)
    return "1 combination" if size == 1 else f"{size} combinations"


def _tied_pairs(rules: Mapping[str, Rule], matched: tuple[str, ...], where: str) -> list[tuple[str, str]]:
    """The pairs of rules (by id) among ``matched`` (winner first) that tie
    with the winner, as specific and at its precedence, with different
    handlings."""
    winner = rules[matched[0]]
    top = (specificity(winner, where), winner.precedence)
    tied = [rules[r] for r in matched if (specificity(rules[r], where), rules[r].precedence) == top]
    return [
        (first.id, second.id)
        for first, second in itertools.combinations(sorted(tied, key=lambda r: r.id), 2)
        if first.handling is not second.handling
    ]


def _conflicts(rulebook: Rulebook, cells: JudgedSpace) -> list[Problem]:
    rules = rulebook.rules_by_id
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)  # pair -> patterns
    # The pairs that tie are the same for every cell with the same matches
    # at the same location: worked out once per such group.
    tied_pairs: dict[tuple, list[tuple[str, str]]] = {}
    for pattern, (judgement, area) in enumerate(zip(cells.judgements, cells.locations)):
        if len(judgement.matched) < 2:
            continue
        key = (judgement.matched, area)
        if key not in tied_pairs:
            tied_pairs[key] = _tied_pairs(rules, *key)
        for pair in tied_pairs[key]:
            pairs[pair].append(pattern)
    problems = []
    for (first, second), patterns in sorted(pairs.items()):
        a, b = rules[first], rules[second]
        count = int(cells.counts[patterns].sum())
        problems.append(
            Problem(
                "conflict",
                "error",
                f"rules {a.id} (line {a.line}, {a.handling}) and {b.id} (line {b.line}, {b.handling}) "
                f"both match {count} combination{'s' if count > 1 else ''} at the "
                f"same precedence {a.precedence}, for example "
                f"{describe_signature(cells.example(cells.cells_of(patterns)))}."
                + _where(rulebook, {cells.locations[pattern] for pattern in patterns})
                + " Give one of them a lower precedence, or narrow its conditions.",
                (a.id, b.id),
            )
        )
    return problems


def _dead_rules(rulebook: Rulebook, cells: JudgedSpace) -> list[Problem]:
    matched: Counter = Counter()
    decided: Counter = Counter()
    maskers: dict[str, Counter] = defaultdict(Counter)
    for judgement, count in zip(cells.judgements, cells.counts.tolist()):
        for rule_id in judgement.matched:
            matched[rule_id] += count
            if rule_id != judgement.rule_id:
                maskers[rule_id][judgement.rule_id] += count
        if judgement.rule is not None:
            decided[judgement.rule_id] += count
    problems = []
    for rule in rulebook.rules:
        if not matched[rule.id]:
            problems.append(
                Problem("dead rule", "error", f"rule {rule.id} matches no finding at all.", (rule.id,))
            )
        elif not decided[rule.id]:
            rules = rulebook.rules_by_id
            winners = sorted(maskers[rule.id].items(), key=lambda i: (-i[1], i[0]))
            by = ", ".join(rule_id for rule_id, _ in winners)
            # A rule for a work location decides before any rule that names
            # none, whatever the precedence (``compiled``).
            deeper = [w for w, _ in winners if LOCATION_FIELD in rules[w].when and LOCATION_FIELD not in rule.when]
            tied = [w for w, _ in winners if rules[w].precedence == rule.precedence and w not in deeper]
            how = (
                f"by a rule for a more specific work location ({', '.join(deeper)})"
                if deeper else
                f"at the same precedence {rule.precedence}, {', '.join(tied)} wins the tie"
                + (f"; give {rule.id} a lower precedence (such as {rule.precedence - 1}) if it should win"
                   if rule.precedence > 0 else "")
                if tied else f"by a rule of lower precedence ({by})"
            )
            problems.append(
                Problem(
                    "masked rule",
                    "error",
                    f"rule {rule.id} never decides a finding: every combination it matches is decided "
                    f"{how}. Remove it, or change its conditions.",
                    (rule.id,),
                )
            )
    return problems


def _next_covered(cells: JudgedSpace, axis: int) -> np.ndarray:
    """Per cell, the index along ``axis`` of the next higher value that a
    rule covers (-1 when none): a gap in between must not hide a drop
    across it."""
    covered = np.array([judgement.rule is not None for judgement in cells.judgements])[cells.patterns]
    following = np.full(cells.patterns.shape, -1, dtype=np.int64)
    size = cells.patterns.shape[axis]
    for value in range(size - 2, -1, -1):
        here = [slice(None)] * cells.patterns.ndim
        above = list(here)
        here[axis], above[axis] = value, value + 1
        following[tuple(here)] = np.where(covered[tuple(above)], value + 1, following[tuple(above)])
    return following


def _monotonicity(rulebook: Rulebook, cells: JudgedSpace) -> list[Problem]:
    judgements = cells.judgements
    weights = np.array([j.handling.weight if j.rule is not None else 0 for j in judgements])
    rule_ids = sorted({j.rule_id for j in judgements})
    rule_numbers = np.array([rule_ids.index(j.rule_id) for j in judgements])
    weight = weights[cells.patterns]  # a cell no rule covers weighs nothing here
    found: dict[tuple[str, str, str], tuple[np.ndarray, int, np.ndarray]] = {}
    for name in ORDERED:
        axis = cells.fields.index(name)
        following = _next_covered(cells, axis)
        higher = np.take_along_axis(cells.patterns, np.maximum(following, 0), axis=axis)
        # No handling weighs less than one that weighs nothing.
        drops = np.flatnonzero((weight > 0) & (following >= 0) & (weights[higher] < weight))
        if not len(drops):
            continue
        low_rules = rule_numbers[cells.patterns.ravel()[drops]]
        high_rules = rule_numbers[higher.ravel()[drops]]
        for low_rule, high_rule in sorted(set(zip(low_rules.tolist(), high_rules.tolist()))):
            found[(name, rule_ids[low_rule], rule_ids[high_rule])] = (
                drops[(low_rules == low_rule) & (high_rules == high_rule)], axis, following
            )
    # An older record must never weigh more than a younger one, all else
    # equal (EEOC 915.002: the time elapsed is a factor in its favour).
    axis = cells.fields.index(AGE_FIELD)
    if cells.patterns.shape[axis] > 1:
        covered = np.array([j.rule is not None for j in judgements])[cells.patterns]
        following = _next_covered(cells, axis)
        older = np.take_along_axis(cells.patterns, np.maximum(following, 0), axis=axis)
        rises = np.flatnonzero(covered & (following >= 0) & (weights[older] > weight))
        if len(rises):
            young_rules = rule_numbers[cells.patterns.ravel()[rises]]
            old_rules = rule_numbers[older.ravel()[rises]]
            for young_rule, old_rule in sorted(set(zip(young_rules.tolist(), old_rules.tolist()))):
                found[(AGE_FIELD, rule_ids[young_rule], rule_ids[old_rule])] = (
                    rises[(young_rules == young_rule) & (old_rules == old_rule)], axis, following
                )
    problems = []
    for (name, low_rule, high_rule), (lows, axis, following) in sorted(found.items(), key=lambda item: item[0]):
        example = cells.example(lows)
        higher = example._replace(**{name: cells.domains[axis][following.ravel()[_cell(cells, example)]]})
        count = len(lows)
        before, after = cells[example], cells[higher]
        if name == AGE_FIELD:
            problems.append(Problem(
                "monotonicity",
                "error",
                f"an older record is handled more severely than a younger one in {count} "
                f"combination{'s' if count > 1 else ''}: for example {describe_signature(example)} is "
                f"{before.handling} ({low_rule}), but {higher.years_since} years or more after the record it "
                f"is {after.handling} ({high_rule})."
                + _where(rulebook, {cells.locations[p] for p in np.unique(cells.patterns.ravel()[lows]).tolist()}),
                (high_rule, low_rule),
            ))
            continue
        problems.append(
            Problem(
                "monotonicity",
                "error",
                f"raising {FIELD_LABELS[name]} lowers the handling in {count} "
                f"combination{'s' if count > 1 else ''}: for example "
                f"{describe_signature(example)} is {before.handling} ({low_rule}), but with "
                f"{FIELD_LABELS[name]} {getattr(higher, name)} it is {after.handling} ({high_rule})."
                + _where(rulebook, {cells.locations[p] for p in np.unique(cells.patterns.ravel()[lows]).tolist()}),
                (high_rule, low_rule),
            )
        )
    return problems


def _cell(cells: JudgedSpace, signature: Signature) -> int:
    """The flat index of a signature's cell."""
    return int(np.ravel_multi_index(
        tuple(values.index(value) for values, value in zip(cells.domains, signature)), cells.patterns.shape
    ))


def _overridden_exclusions(rulebook: Rulebook, cells: JudgedSpace) -> list[Problem]:
    """Warnings for a rule on a work location that decides, with a handling
    that weighs, combinations a general rule excludes: the more specific
    rule wins whatever the precedence, so a rule for a place can bring back
    a record the law excludes everywhere (a juvenile or sealed one). The
    reviewer confirms the law of that place allows it."""
    if not rulebook.locations:
        return []
    rules = rulebook.rules_by_id
    found: dict[str, list[int]] = defaultdict(list)  # winner -> patterns
    overridden: dict[str, set[str]] = defaultdict(set)
    for pattern, judgement in enumerate(cells.judgements):
        winner = judgement.rule
        if winner is None or judgement.handling.weight == 0 or LOCATION_FIELD not in winner.when:
            continue
        excluded = {
            rule_id for rule_id in judgement.matched[1:]
            if LOCATION_FIELD not in rules[rule_id].when and rules[rule_id].handling.value == "excluded"
        }
        if excluded:
            found[winner.id].append(pattern)
            overridden[winner.id] |= excluded
    problems = []
    for winner_id, patterns in sorted(found.items()):
        winner, count = rules[winner_id], int(cells.counts[patterns].sum())
        general = [rule.id for rule in rulebook.rules if rule.id in overridden[winner_id]]
        problems.append(Problem(
            "jurisdiction",
            "warning",
            f"rule {winner_id} ({winner.handling}, for work location "
            f"{', '.join(sorted(winner.when[LOCATION_FIELD]))}) decides {count} "
            f"combination{'s' if count > 1 else ''} that general rules exclude ({', '.join(general)}), for "
            f"example {describe_signature(cells.example(cells.cells_of(patterns)))}: a rule for a work location wins "
            "whatever the precedence. Make sure the law there allows weighing such a record.",
            (winner_id, *general),
        ))
    return problems


def _hygiene(rulebook: Rulebook) -> list[Problem]:
    problems = []
    same: dict[tuple, list[Rule]] = defaultdict(list)
    for rule in rulebook.rules:
        same[tuple(sorted(
            (name, tuple(values) if name == AGE_FIELD else tuple(sorted(values))) for name, values in rule.when.items()
        ))].append(rule)
        if len(rule.rationale) < MIN_RATIONALE:
            problems.append(
                Problem(
                    "hygiene",
                    "warning",
                    f"the rationale of rule {rule.id} has {len(rule.rationale)} characters; a memo "
                    "quotes it to explain a decision, so say why in a full sentence.",
                    (rule.id,),
                )
            )
        repeated = [ref for ref, count in Counter(rule.legal_basis).items() if count > 1]
        if repeated:
            problems.append(
                Problem("hygiene", "warning", f"rule {rule.id} cites '{repeated[0]}' twice.", (rule.id,))
            )
    for rules in same.values():
        if len(rules) > 1:
            ids = ", ".join(rule.id for rule in rules)
            problems.append(
                Problem(
                    "hygiene",
                    "warning",
                    f"rules {ids} have the same conditions; one rule per situation is easier to review.",
                    tuple(rule.id for rule in rules),
                )
            )
    return problems


# --- The adjudication matrix ------------------------------------------------

MATRIX_FIELDS = ("category", "relevance", "disposition", "lookback", AGE_FIELD)


@dataclass(frozen=True)
class MatrixRow:
    """One row of a risk level's matrix: the findings it covers, and the
    handling (with its deciding rule) for each severity."""

    category: str
    relevance: str
    disposition: str
    lookback: str
    years_since: str  # the age of the record in words ('any' when no rule names one)
    outcomes: tuple[tuple[str, str], ...]  # (handling, rule id) per severity


def matrix(
    rulebook: Rulebook, cells: JudgedSpace, work_location: str = jurisdictions.ELSEWHERE
) -> dict[RiskLevel, list[MatrixRow]]:
    """Per risk level: category × relevance × disposition × lookback (×
    the age of the record, when a rule names one) rows, severity columns;
    rows with the same outcomes are merged.

    Args:
        rulebook (Rulebook): the rulebook.
        cells (JudgedSpace): its judged space (``judge_space``).
        work_location (str): the jurisdiction (a reduced location, see
            ``jurisdictions``); ``elsewhere``: the general matrix, for a job
            where no rule on a work location applies.

    Returns:
        dict[RiskLevel, list[MatrixRow]]: the rows of each risk level.
    """
    all_domains = domains(rulebook)
    field_domains = [all_domains[name] for name in MATRIX_FIELDS]
    result = {}
    outcome = [(judgement.handling.value, judgement.rule_id) for judgement in cells.judgements]
    for risk in RiskLevel:
        # The cells of this risk level and location with the facts a finding
        # has when the batch gives none, read from the array at once.
        fixed = dict(Signature._field_defaults, risk_level=risk, work_location=work_location)
        where = tuple(
            slice(None) if name in (*MATRIX_FIELDS, "severity") else cells.position(name, fixed[name])
            for name in cells.fields
        )
        patterns = cells.patterns[where]  # axes: the matrix fields and severity, in the fields' order
        axes = [name for name in cells.fields if name in (*MATRIX_FIELDS, "severity")]
        patterns = np.moveaxis(
            patterns, [axes.index(name) for name in (*MATRIX_FIELDS, "severity")], range(len(MATRIX_FIELDS) + 1)
        )
        positions = [[cells.position(name, value) for value in all_domains[name]] for name in MATRIX_FIELDS]
        severities = [cells.position("severity", severity) for severity in Severity]
        rows: dict[tuple, tuple] = {}
        for key, index in zip(itertools.product(*field_domains), itertools.product(*positions)):
            row = patterns[index].tolist()
            rows[key] = tuple(outcome[row[severity]] for severity in severities)
        result[risk] = [
            MatrixRow(
                *(
                    (describe_ages if name == AGE_FIELD else describe_values)(values, domain)
                    for name, values, domain in zip(MATRIX_FIELDS, cube, field_domains)
                ),
                outcomes=outcomes,
            )
            for cube, outcomes in merge_cubes(rows, field_domains)
        ]
    return result


def jurisdiction_matrices(
    rulebook: Rulebook, cells: JudgedSpace
) -> dict[str, dict[RiskLevel, list[MatrixRow]]]:
    """The general matrix (``elsewhere``) and, for each work location the
    rules name, its matrix when it differs from the general one.

    Args:
        rulebook (Rulebook): the rulebook.
        cells (JudgedSpace): its judged space (``judge_space``).

    Returns:
        dict[str, dict[RiskLevel, list[MatrixRow]]]: ``elsewhere`` first,
        then the named locations whose matrix differs, in order.
    """
    general = matrix(rulebook, cells)
    result = {jurisdictions.ELSEWHERE: general}
    for area in rulebook.locations:
        own = matrix(rulebook, cells, area)
        if own != general:
            result[area] = own
    return result


# --- What a change of rulebook changes ----------------------------------------


@dataclass(frozen=True)
class CellChange:
    """A group of combinations (``count`` of them, described in ``where``)
    whose handling or deciding rule changes between two rulebooks;
    ``before`` and ``after`` are (handling, rule id)."""

    where: str  # the combinations, in words
    count: int
    before: tuple[str, str]  # (handling, rule id)
    after: tuple[str, str]


def changed_cells(old: Rulebook, new: Rulebook) -> list[CellChange]:
    """The combinations whose handling or deciding rule differs between two
    rulebooks, grouped. Categories are those the two rulebooks share."""
    # One space for both: the fact values that either rulebook tells apart.
    old_cells, new_cells = judge_space(old, (new,)), judge_space(new, (old,))
    classes = value_classes(new, (old,))
    # The spaces differ only in their categories: compared on those shared.
    axis = FIELDS.index("category")
    shared = [category for category in new_cells.domains[axis] if category in set(old_cells.domains[axis])]
    outcomes: dict[tuple[str, str], int] = {}
    codes = [
        np.array([outcomes.setdefault((j.handling.value, j.rule_id), len(outcomes)) for j in cells.judgements])[
            np.take(cells.patterns, [cells.domains[axis].index(category) for category in shared], axis=axis)
        ]
        for cells in (old_cells, new_cells)
    ]
    outcome = list(outcomes)
    domains_shared = list(new_cells.domains)
    domains_shared[axis] = tuple(shared)
    changes = {}
    for cell in np.flatnonzero(codes[0] != codes[1]).tolist():
        index = np.unravel_index(cell, codes[0].shape)
        signature = Signature(*(values[i] for values, i in zip(domains_shared, index)))
        changes[signature] = (outcome[codes[0][index]], outcome[codes[1][index]])
    return [
        CellChange(describe_cube(cube, new, classes=classes, also=(old,)), _size(cube), before, after)
        for cube, (before, after) in merge_cubes(changes, list(domains(new, (old,)).values()))
    ]


def _size(cube: Cube) -> int:
    size = 1
    for values in cube:
        size *= len(values)
    return size
