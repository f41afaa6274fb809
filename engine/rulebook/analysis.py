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
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from engine.rulebook import jurisdictions
from engine.rulebook.compiled import Judgement, RuleEngine, Signature, engine_for, specificity
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


def judge_space(rulebook: Rulebook, also: Sequence[Rulebook] = ()) -> dict[Signature, Judgement]:
    """Every signature of the space, judged by the rulebook's engine.

    Every match is made by durable-rules, but factorised so that the fact
    fields do not multiply the work: a rule that names no fact matches a
    signature whatever its facts, so the space with the facts a finding has
    when the batch does not give them (none, no) is judged once with every
    rule; the rules that name a fact are judged apart, by an engine of
    their own, on the few fields they name times each class of facts; the
    rules that match a signature are the union of the two, and the winner
    is chosen as for a finding (``RuleEngine``)."""
    space = domains(rulebook, also)
    # The locations this rulebook tells apart; another rulebook's (when two
    # are compared) are judged as this one reduces them.
    own = rulebook.domain(LOCATION_FIELD)
    extra = [area for area in space[LOCATION_FIELD] if area not in own]
    space[LOCATION_FIELD] = own
    cells = _judge_space(rulebook, space)
    if extra:
        reduced: dict[str, list[str]] = defaultdict(list)
        for area in extra:
            reduced[rulebook.reduce_location(area)].append(area)
        for signature, judgement in list(cells.items()):
            for area in reduced.get(signature.work_location, ()):
                cells[signature._replace(work_location=area)] = judgement
    return cells


def _judge_space(rulebook: Rulebook, space: dict[str, tuple]) -> dict[Signature, Judgement]:
    engine = engine_for(rulebook)
    split = _SPLIT_FIELDS
    fact_rules = tuple(rule for rule in rulebook.rules if any(name in rule.when for name in split))
    if all(len(space[name]) == 1 for name in split):
        return engine.judge(Signature(*values) for values in itertools.product(*space.values()))
    base_fields = [name for name in FIELDS if name not in split]
    first = {name: values[0] for name, values in space.items()}
    base = engine.judge(
        Signature(**dict(zip(base_fields, values)), **{name: first[name] for name in split})
        for values in itertools.product(*(space[name] for name in base_fields))
    )
    # The rules that name a fact or a location, on the other fields they name.
    named = [name for name in base_fields if any(name in rule.when for rule in fact_rules)]
    facts_engine = RuleEngine(dataclasses.replace(rulebook, rules=fact_rules, sha256=rulebook.sha256 + "/facts"))
    fact_hits = facts_engine.judge(
        Signature(**{**first, **dict(zip(named + list(split), values))})
        for values in itertools.product(*(space[name] for name in named + list(split)))
    )
    by_projection = {
        (tuple(getattr(signature, name) for name in named), tuple(getattr(signature, name) for name in split)):
        judgement.matched for signature, judgement in fact_hits.items()
    }
    fact_ids = {rule.id for rule in fact_rules}
    cells: dict[Signature, Judgement] = {}
    decided: dict[tuple, Judgement] = {}
    for signature, judgement in base.items():
        others = tuple(rule_id for rule_id in judgement.matched if rule_id not in fact_ids)
        projection = tuple(getattr(signature, name) for name in named)
        for facts in itertools.product(*(space[name] for name in split)):
            matched = others + by_projection[(projection, facts)]
            key = (matched, facts[-1])
            if key not in decided:
                decided[key] = engine.decide(list(matched), facts[-1])
            cells[signature._replace(**dict(zip(split, facts)))] = decided[key]
    return cells


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


def _example(signatures) -> Signature:
    """The example a report gives: the first signature, one where the job is
    elsewhere if there is one (the general case reads plainest)."""
    return min(signatures, key=lambda s: (s.work_location != jurisdictions.ELSEWHERE, s))


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
    cells: Mapping[Signature, Judgement]
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


def _gaps(rulebook: Rulebook, cells) -> list[Problem]:
    uncovered = {signature: True for signature, judgement in cells.items() if judgement.rule is None}
    if not uncovered:
        return []
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


def _conflicts(rulebook: Rulebook, cells) -> list[Problem]:
    rules = rulebook.rules_by_id
    pairs: dict[tuple[str, str], list[Signature]] = defaultdict(list)
    # The pairs that tie are the same for every cell with the same matches
    # at the same location: worked out once per such group.
    tied_pairs: dict[tuple, list[tuple[str, str]]] = {}
    for signature, judgement in cells.items():
        if len(judgement.matched) < 2:
            continue
        key = (judgement.matched, signature.work_location)
        if key not in tied_pairs:
            tied_pairs[key] = _tied_pairs(rules, *key)
        for pair in tied_pairs[key]:
            pairs[pair].append(signature)
    problems = []
    for (first, second), signatures in sorted(pairs.items()):
        a, b = rules[first], rules[second]
        count = len(signatures)
        problems.append(
            Problem(
                "conflict",
                "error",
                f"rules {a.id} (line {a.line}, {a.handling}) and {b.id} (line {b.line}, {b.handling}) "
                f"both match {count} combination{'s' if count > 1 else ''} at the "
                f"same precedence {a.precedence}, for example {describe_signature(_example(signatures))}."
                + _where(rulebook, {s.work_location for s in signatures})
                + " Give one of them a lower precedence, or narrow its conditions.",
                (a.id, b.id),
            )
        )
    return problems


def _dead_rules(rulebook: Rulebook, cells) -> list[Problem]:
    matched: Counter = Counter()
    decided: Counter = Counter()
    maskers: dict[str, Counter] = defaultdict(Counter)
    for judgement in cells.values():
        for rule_id in judgement.matched:
            matched[rule_id] += 1
            if rule_id != judgement.rule_id:
                maskers[rule_id][judgement.rule_id] += 1
        if judgement.rule is not None:
            decided[judgement.rule_id] += 1
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


def _next_covered(cells, signature: Signature, name: str) -> Signature | None:
    """The same signature with ``name`` raised to the next value that a rule
    covers: a gap in between must not hide a drop across it."""
    value = getattr(signature, name)
    for higher in list(type(value))[value.rank:]:
        candidate = signature._replace(**{name: higher})
        if cells[candidate].rule is not None:
            return candidate
    return None


def _monotonicity(rulebook: Rulebook, cells) -> list[Problem]:
    found: dict[tuple[str, str, str], list[tuple[Signature, Signature]]] = defaultdict(list)
    # An older record must never weigh more than a younger one, all else
    # equal (EEOC 915.002: the time elapsed is a factor in its favour).
    ages = full_domains(rulebook)[AGE_FIELD]
    older_age = dict(zip(ages, ages[1:]))
    for signature, judgement in cells.items():
        older = older_age.get(signature.years_since)
        if older is not None and judgement.rule is not None:
            after = cells[signature._replace(years_since=older)]
            if after.rule is not None and after.handling.weight > judgement.handling.weight:
                found[(AGE_FIELD, judgement.rule_id, after.rule_id)].append((signature, signature._replace(years_since=older)))
        if judgement.rule is None or judgement.handling.weight == 0:
            continue  # no handling weighs less than one that weighs nothing
        for name in ORDERED:
            higher = _next_covered(cells, signature, name)
            if higher is not None and cells[higher].handling.weight < judgement.handling.weight:
                found[(name, judgement.rule_id, cells[higher].rule_id)].append((signature, higher))
    problems = []
    for (name, low_rule, high_rule), pairs in sorted(found.items()):
        example, higher = min(pairs, key=lambda pair: (pair[0].work_location != jurisdictions.ELSEWHERE, pair))
        count = len(pairs)
        before, after = cells[example], cells[higher]
        if name == AGE_FIELD:
            problems.append(Problem(
                "monotonicity",
                "error",
                f"an older record is handled more severely than a younger one in {count} "
                f"combination{'s' if count > 1 else ''}: for example {describe_signature(example)} is "
                f"{before.handling} ({low_rule}), but {higher.years_since} years or more after the record it "
                f"is {after.handling} ({high_rule})." + _where(rulebook, {low.work_location for low, _ in pairs}),
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
                + _where(rulebook, {low.work_location for low, _ in pairs}),
                (high_rule, low_rule),
            )
        )
    return problems


def _overridden_exclusions(rulebook: Rulebook, cells) -> list[Problem]:
    """Warnings for a rule on a work location that decides, with a handling
    that weighs, combinations a general rule excludes: the more specific
    rule wins whatever the precedence, so a rule for a place can bring back
    a record the law excludes everywhere (a juvenile or sealed one). The
    reviewer confirms the law of that place allows it."""
    if not rulebook.locations:
        return []
    rules = rulebook.rules_by_id
    found: dict[str, list[Signature]] = defaultdict(list)
    overridden: dict[str, set[str]] = defaultdict(set)
    for signature, judgement in cells.items():
        winner = judgement.rule
        if winner is None or judgement.handling.weight == 0 or LOCATION_FIELD not in winner.when:
            continue
        excluded = {
            rule_id for rule_id in judgement.matched[1:]
            if LOCATION_FIELD not in rules[rule_id].when and rules[rule_id].handling.value == "excluded"
        }
        if excluded:
            found[winner.id].append(signature)
            overridden[winner.id] |= excluded
    problems = []
    for winner_id, signatures in sorted(found.items()):
        winner, count = rules[winner_id], len(signatures)
        general = [rule.id for rule in rulebook.rules if rule.id in overridden[winner_id]]
        problems.append(Problem(
            "jurisdiction",
            "warning",
            f"rule {winner_id} ({winner.handling}, for work location "
            f"{', '.join(sorted(winner.when[LOCATION_FIELD]))}) decides {count} "
            f"combination{'s' if count > 1 else ''} that general rules exclude ({', '.join(general)}), for "
            f"example {describe_signature(_example(signatures))}: a rule for a work location wins "
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
    rulebook: Rulebook, cells: Mapping[Signature, Judgement], work_location: str = jurisdictions.ELSEWHERE
) -> dict[RiskLevel, list[MatrixRow]]:
    """Per risk level: category × relevance × disposition × lookback (×
    the age of the record, when a rule names one) rows, severity columns;
    rows with the same outcomes are merged.

    Args:
        rulebook (Rulebook): the rulebook.
        cells (Mapping[Signature, Judgement]): its judged space (``judge_space``).
        work_location (str): the jurisdiction (a reduced location, see
            ``jurisdictions``); ``elsewhere``: the general matrix, for a job
            where no rule on a work location applies.

    Returns:
        dict[RiskLevel, list[MatrixRow]]: the rows of each risk level.
    """
    all_domains = domains(rulebook)
    field_domains = [all_domains[name] for name in MATRIX_FIELDS]
    result = {}
    for risk in RiskLevel:
        rows: dict[tuple, tuple] = {}
        for key in itertools.product(*field_domains):
            category, relevance, disposition, lookback, years = key
            rows[key] = tuple(
                (cells[s].handling.value, cells[s].rule_id)
                for s in (
                    Signature(
                        category, severity, disposition, relevance, risk, lookback, work_location=work_location,
                        years_since=years,
                    )
                    for severity in Severity
                )
            )
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
    rulebook: Rulebook, cells: Mapping[Signature, Judgement]
) -> dict[str, dict[RiskLevel, list[MatrixRow]]]:
    """The general matrix (``elsewhere``) and, for each work location the
    rules name, its matrix when it differs from the general one.

    Args:
        rulebook (Rulebook): the rulebook.
        cells (Mapping[Signature, Judgement]): its judged space.

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
    shared = set(old_cells) & set(new_cells)
    changes = {
        signature: (
            (old_cells[signature].handling.value, old_cells[signature].rule_id),
            (new_cells[signature].handling.value, new_cells[signature].rule_id),
        )
        for signature in shared
        if (old_cells[signature].handling, old_cells[signature].rule_id)
        != (new_cells[signature].handling, new_cells[signature].rule_id)
    }
    return [
        CellChange(describe_cube(cube, new, classes=classes, also=(old,)), _size(cube), before, after)
        for cube, (before, after) in merge_cubes(changes, list(domains(new, (old,)).values()))
    ]


def _size(cube: Cube) -> int:
    size = 1
    for values in cube:
        size *= len(values)
    return size
