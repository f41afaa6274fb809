"""Judging findings with durable-rules.

Every rule decision is made by durable-rules. The rulebook's rules compile to
one JSON ruleset on a private ``Host``; findings reach it as *facts*, so that
every matching rule fires (an *event* would fire only the first) and each
action records its hit. The winning rule is then chosen here, after the
engine has run, by a fixed and documented order, never by firing order:

1. the most specific rule: the one whose work location that matched lies
   deepest (``US-NY-NYC`` 3, ``US-CA`` 2, ``US`` 1, a rule that names no
   work location 0), so that the law where the job is comes before a more
   general one;
2. among equally specific rules, the lowest ``precedence``;
3. on a tie, the handling in the order excluded, escalate, review, note,
   not_relevant (a legal exclusion first, then the more cautious handling);
4. then the rule id, alphabetically.

What the engine sees of a finding is its *risk signature*: category,
severity, disposition, relevance, the position's risk level, whether the
finding is inside the lookback, the facts the law needs (party role,
juvenile, relief, conduct established), where the job is, and the age of
the record. Findings with the same signature must get the same handling, so
each distinct signature is judged once per run.

Where the job is enters the signature *reduced* (``jurisdictions``): the
deepest location the rulebook's rules name that contains the application's
work location, or ``elsewhere``. A rule on ``US-CA`` compiles to a match on
``US-CA`` or any named location inside it, so durable-rules makes that
decision too; the number of signatures grows with the locations the rules
name, and a rulebook that names none has the signatures it had before.

The age of the record (``years_since``, whole years since the disposition or
else the offence) enters the signature reduced too
(``Rulebook.reduce_age``): to the largest age at which some rule's
condition starts or stops holding, or 0. It is sent to durable-rules as a
number, and a rule's ``years_since`` compiles to ``$gte``/``$lte`` on it;
with the only threshold 2 the field takes 0 and 2, and a rulebook that
names no age sends 0 for every finding.

The traps of durable-rules this module designs around (see
``shared/durable-rules-notes.md``): the Host's background timer threads are
switched off (``_run``); numbers are sent as numbers, never as text, because
comparisons on text are lexical; sessions are deleted after use, because a
ruleset holds at most 1,024 of them; each fact carries a unique ``sig`` since
a fact identical to another is rejected; rule definitions are deep-copied,
since durable-rules mutates them; an action that raises is reported in the
state rather than raised, so the state is checked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import durable.engine

from engine.errors import EngineError
from engine.rulebook import jurisdictions
from engine.rulebook.model import AGE_FIELD, LOCATION_FIELD, NO_RULE, ORDERED_FIELDS, Rule, Rulebook
from engine.vocabulary import Disposition, Handling, Lookback, PartyRole, Relevance, Relief, RiskLevel, Severity, YesNo

RULESET = "adjudication"
_CATCH_ALL = "__any_finding__"
# Facts per durable-rules session: far below the ~46,000 at which its 32-bit
# fact hashes start to collide (issue #376 upstream).
SESSION_SIZE = 2_000

_TIE_ORDER = {
    Handling.EXCLUDED: 0,
    Handling.ESCALATE: 1,
    Handling.REVIEW: 2,
    Handling.NOTE: 3,
    Handling.NOT_RELEVANT: 4,
}


class Signature(NamedTuple):
    """What the rules may look at: the risk signature of a finding."""

    category: str
    severity: Severity
    disposition: Disposition
    relevance: Relevance
    risk_level: RiskLevel
    lookback: Lookback
    # The facts the law needs (docs/findings.md); a finding that does not
    # give one has the first word, so that older signatures keep their meaning.
    party_role: PartyRole = PartyRole.NONE
    juvenile: YesNo = YesNo.NO
    relief: Relief = Relief.NONE
    conduct_established: YesNo = YesNo.NO
    # Where the job is, reduced to the deepest location the rulebook names
    # (``Rulebook.reduce_location``); ``elsewhere`` when none contains it
    # or it is not known.
    work_location: str = jurisdictions.ELSEWHERE
    # The age of the record in whole years, reduced to the ages the rules
    # tell apart (``Rulebook.reduce_age``); 0 when no rule names an age.
    years_since: int = 0

    def fact(self, sig: int, sid: str) -> dict:
        """The signature as a durable-rules fact.

        Args:
            sig: a number unique within the session (durable-rules rejects
                a fact identical to another); the hits name it.
            sid: the durable-rules session id.

        Returns:
            The fact, with ordered fields sent as ranks (numbers), since
            durable-rules compares text lexically.
        """
        return {
            "sid": sid,
            "sig": sig,
            "category": self.category,
            "severity": self.severity.rank,
            "disposition": self.disposition.value,
            "relevance": self.relevance.rank,
            "risk_level": self.risk_level.rank,
            "lookback": self.lookback.value,
            # Words, as words: no rule compares them by order.
            "party_role": self.party_role.value,
            "juvenile": self.juvenile.value,
            "relief": self.relief.value,
            "conduct_established": self.conduct_established.value,
            "work_location": self.work_location,
            # A number, never text: durable-rules compares text lexically
            # ('10' < '2'). int() also turns a numpy integer into a plain one.
            "years_since": int(self.years_since),
        }


def confirmed_twin(signature: Signature) -> Signature | None:
    """The signature a disputed record would have if the dispute were
    resolved against the candidate, so that the same rules can say how it
    would then be handled; None for a record that is not disputed.

    Args:
        signature (Signature): a finding's risk signature.

    Returns:
        Signature | None: the same signature with the disposition confirmed.
    """
    if signature.disposition is not Disposition.DISPUTED:
        return None
    return signature._replace(disposition=Disposition.CONFIRMED)


@dataclass(frozen=True)
class Judgement:
    """The handling of one signature and the rule that decided it."""

    handling: Handling
    rule: Rule | None  # None: no rule covers the signature
    matched: tuple[str, ...]  # every rule that matched, winner first

    @property
    def rule_id(self) -> str:
        """The id of the deciding rule, or ``NO-RULE`` when none covers the signature."""
        return self.rule.id if self.rule is not None else NO_RULE


def compile_rule(rule: Rule, rulebook: Rulebook) -> dict:
    """The durable-rules JSON definition of one rule."""
    terms = []
    for name, values in rule.when.items():
        if name == LOCATION_FIELD:
            # A job inside a rule's location is reduced to that location or
            # to a named one inside it: the rule matches every one of them.
            words = sorted({w for area in values for w in jurisdictions.within(area, rulebook.locations)})
            terms.append({name: words[0]} if len(words) == 1 else {"$or": [{name: w} for w in words]})
            continue
        if name == AGE_FIELD:
            # The reduced age keeps every bound of every rule (each is one
            # of ``age_cuts``), so the bounds apply to it as written.
            if values.at_least > 0:
                terms.append({"$gte": {name: values.at_least}})
            if values.at_most is not None:
                terms.append({"$lte": {name: values.at_most}})
            continue
        domain = rulebook.domain(name)
        if set(values) >= set(domain):
            continue  # a condition that every value meets tests nothing
        if name in ORDERED_FIELDS:
            vocabulary = ORDERED_FIELDS[name]
            ranks = sorted(vocabulary(value).rank for value in values)
            if ranks == list(range(ranks[0], ranks[-1] + 1)):
                if ranks[0] == ranks[-1]:
                    terms.append({name: ranks[0]})
                else:
                    if ranks[0] > 1:
                        terms.append({"$gte": {name: ranks[0]}})
                    if ranks[-1] < len(domain):
                        terms.append({"$lte": {name: ranks[-1]}})
            else:
                terms.append({"$or": [{name: rank} for rank in ranks]})
        else:
            words = sorted(values)
            terms.append({name: words[0]} if len(words) == 1 else {"$or": [{name: w} for w in words]})
    if not terms:
        condition = {"$ex": {"sig": 1}}
    elif len(terms) == 1:
        condition = terms[0]
    else:
        condition = {"$and": terms}
    return {"all": [{"m": condition}], "pri": rule.precedence, "run": rule.id}


def compile_rulebook(rulebook: Rulebook) -> dict:
    """The whole ruleset, with a catch-all rule that makes "no rule covers
    this finding" an explicit hit instead of a MessageNotHandledException."""
    rules = {rule.id: compile_rule(rule, rulebook) for rule in rulebook.rules}
    rules[_CATCH_ALL] = {"all": [{"m": {"$ex": {"sig": 1}}}], "pri": 100_000, "run": _CATCH_ALL}
    return {RULESET: rules}


class _Host(durable.engine.Host):
    """A durable-rules host that runs actions only in the calling thread."""

    def __init__(self, action) -> None:
        self._record_hit = action
        super().__init__()

    def _run(self) -> None:
        # The stock Host starts two timer threads that dispatch actions in
        # the background; they race with assert_facts (which then returns
        # None) and are not needed without timers.
        pass

    def get_action(self, action_name):
        return lambda c: self._record_hit(action_name, c.m["sig"])


class RuleEngine:
    """The compiled rulebook, ready to judge signatures.

    Create one per rulebook and process (``engine_for`` caches them): the C
    ruleset behind a Host is never freed. Not thread-safe: durable-rules has
    no locks; use processes for parallel work.
    """

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self._hits: list[tuple[str, int]] = []
        self._host = _Host(lambda rule_id, sig: self._hits.append((rule_id, sig)))
        try:
            self._host.register_rulesets(copy.deepcopy(compile_rulebook(rulebook)))
        except Exception as exc:  # durable-rules reports compile errors as bare codes
            raise EngineError(
                f"durable-rules could not compile the rulebook ({exc}).", file=str(rulebook.path)
            ) from None
        self._sessions = 0
        # The handling of a signature depends on the rulebook alone, so a
        # process judges each signature once, however many parts it sees.
        self._judged: dict[Signature, Judgement] = {}

    @property
    def judged(self) -> int:
        """How many distinct signatures this engine has posted to durable-rules so far."""
        return len(self._judged)

    def judge(self, signatures: Iterable[Signature]) -> dict[Signature, Judgement]:
        """Judge each distinct signature; the result does not depend on order."""
        wanted = set(signatures)
        unseen = wanted - self._judged.keys()
        if unseen:
            self._judged.update(self._judge(unseen))
        return {signature: self._judged[signature] for signature in wanted}

    def _judge(self, signatures: set[Signature]) -> dict[Signature, Judgement]:
        distinct = sorted(signatures)
        hits: dict[int, list[str]] = {index: [] for index in range(len(distinct))}
        for start in range(0, len(distinct), SESSION_SIZE):
            chunk = range(start, min(start + SESSION_SIZE, len(distinct)))
            for rule_id, sig in self._assert([distinct[i] for i in chunk], start):
                if rule_id != _CATCH_ALL:
                    hits[sig].append(rule_id)
        return {
            signature: self._decide(hits[index], signature.work_location) for index, signature in enumerate(distinct)
        }

    def _assert(self, signatures: list[Signature], offset: int) -> list[tuple[str, int]]:
        self._sessions += 1
        sid = f"judge-{self._sessions}"
        facts = [signature.fact(offset + i, sid) for i, signature in enumerate(signatures)]
        self._hits.clear()
        try:
            state = self._host.assert_facts(RULESET, facts)
        except durable.engine.MessageObservedException:
            # durable-rules identifies a fact by a 32-bit hash of its text
            # (#376 upstream): two different facts of one session can
            # collide. Halves put them in different sessions; a lone fact
            # cannot collide, so this ends.
            self._host.delete_state(RULESET, sid)
            if len(signatures) == 1:
                raise EngineError(
                    "durable-rules rejected a finding as already observed; this is a defect "
                    "in adjudicate, please report it."
                ) from None
            half = len(signatures) // 2
            return self._assert(signatures[:half], offset) + self._assert(signatures[half:], offset + half)
        else:
            # Free the session: a ruleset holds at most 1,024 live ones.
            self._host.delete_state(RULESET, sid)
        if state is None or "exception" in state:
            raise EngineError(
                f"a rule action failed inside durable-rules: {(state or {}).get('exception', 'no state returned')}."
            )
        hits = list(self._hits)
        caught = sum(1 for rule_id, _ in hits if rule_id == _CATCH_ALL)
        if caught != len(signatures):
            raise EngineError(
                f"durable-rules judged {caught} of {len(signatures)} findings; no decision was made."
            )
        return hits

    def decide(self, rule_ids: list[str], work_location: str = jurisdictions.ELSEWHERE) -> Judgement:
        """The judgement of a signature that the rules ``rule_ids`` match
        (in any order): the winner by specificity, then precedence, then
        handling, then id (see the module docstring).

        Args:
            rule_ids (list[str]): the rules that match the signature.
            work_location (str): the signature's reduced work location.

        Returns:
            Judgement: the handling, the deciding rule and every match, winner first.
        """
        return self._decide(rule_ids, work_location)

    def _decide(self, rule_ids: list[str], work_location: str) -> Judgement:
        if not rule_ids:
            return Judgement(Handling.REVIEW, None, ())
        rules = self.rulebook.rules_by_id
        ranked = sorted(
            (rules[rule_id] for rule_id in set(rule_ids)),
            key=lambda rule: (
                -specificity(rule, work_location), rule.precedence, _TIE_ORDER[rule.handling], rule.id,
            ),
        )
        return Judgement(ranked[0].handling, ranked[0], tuple(rule.id for rule in ranked))


def specificity(rule: Rule, work_location: str) -> int:
    """How specifically ``rule`` applies to a job at ``work_location`` (a
    reduced location): the depth of the rule's location that contains it
    (``US`` 1, ``US-CA`` 2, ``US-NY-NYC`` 3), 0 for a rule that names no
    work location. The most specific matching rule decides.

    Args:
        rule (Rule): a rule that matches the signature.
        work_location (str): the signature's reduced work location.

    Returns:
        int: the rule's specificity.
    """
    return jurisdictions.specificity(rule.when.get(LOCATION_FIELD, ()), work_location)


_ENGINES: dict[str, RuleEngine] = {}


def engine_for(rulebook: Rulebook) -> RuleEngine:
    """The process's RuleEngine for this rulebook content (created once)."""
    key = rulebook.sha256
    if key not in _ENGINES:
        _ENGINES[key] = RuleEngine(rulebook)
    return _ENGINES[key]
