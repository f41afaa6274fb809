"""Which factors an individualized assessment addresses: those of the law
of the work location, for the kind of finding.

A reviewer answers, for each finding the recommendation relies on, the
factors of the statutory test that applies where the job is; a finding
that is not a criminal record (a degree that could not be verified, a
credit record) is not asked about rehabilitation or the age at the time.
The most specific jurisdiction with a test of its own wins: a job in
``US-NY-NYC`` is assessed under New York's Article 23-A, one in ``US-TX``
under the EEOC's guidance, one in ``CN-SH`` under the PRC's necessity test.
A job whose work location is not known is assessed under the EEOC's
factors, as before work locations were recorded.

Sources:

- US (EEOC Enforcement Guidance 915.002, 2012): the three Green factors
  (the nature and gravity of the offence or conduct, the time elapsed, the
  nature of the job) and the individualized assessment (the age at the
  time, rehabilitation, the candidate's own account).
- California (Gov. Code §12952(c)(1)(A); 2 CCR §11017.1): the nature and
  gravity, the time that has passed, the nature of the job.
- New York (Correction Law Art. 23-A §753(1)(a)-(h)): the public policy of
  encouraging the employment of people with convictions, the specific
  duties, the bearing of the offence on fitness, the time elapsed, the age
  at the time, the seriousness, rehabilitation and good conduct, and the
  employer's legitimate interest in protecting property and people; with
  §753(2), the presumption of rehabilitation that a certificate of relief
  or of good conduct creates.
- Illinois (775 ILCS 5/2-103.1(B)): the time since the conviction, the
  number of convictions, the nature and severity and its relation to the
  safety of others, the facts and circumstances, the age at the time, and
  rehabilitation.
- The PRC (PIPL Arts. 5-6: necessity and the minimum scope; Labour Contract
  Law Art. 8: facts directly related to the labour contract): relevance to
  the job, and necessity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.decisions import JudgedFinding
from engine.inputs.applications import enclosing_locations
from engine.vocabulary import AssessmentFactor as F
from engine.vocabulary import Relief

# The finding categories of criminal records in the default taxonomy (the
# rulebook's ``offense_*`` categories): the factors about an offence and its
# offender apply to them alone.
_CRIMINAL_PREFIX = "offense_"


@dataclass(frozen=True)
class StatutoryTest:
    """The test an assessment answers where the job is.

    Attributes:
        jurisdiction: the work location it applies to, and everything inside
            it (``US-NY``); ``US`` for the EEOC's, which also applies where
            the work location is not known.
        source: the law, as cited.
        criminal: the factors for a criminal record, in the order the law
            lists them.
        other: the factors for any other finding.
    """

    jurisdiction: str
    source: str
    criminal: tuple[F, ...]
    other: tuple[F, ...]


_EEOC = StatutoryTest(
    "US", "EEOC Enforcement Guidance 915.002 (2012), the Green factors and the individualized assessment",
    (F.NATURE_AND_GRAVITY, F.TIME_ELAPSED, F.NATURE_OF_JOB, F.AGE_AT_THE_TIME, F.REHABILITATION,
     F.CANDIDATE_ACCOUNT),
    (F.NATURE_AND_GRAVITY, F.TIME_ELAPSED, F.NATURE_OF_JOB, F.CANDIDATE_ACCOUNT),
)
TESTS: dict[str, StatutoryTest] = {test.jurisdiction: test for test in (
    _EEOC,
    StatutoryTest(
        "US-CA", "California Gov. Code §12952(c)(1)(A) and 2 CCR §11017.1",
        (F.NATURE_AND_GRAVITY, F.TIME_ELAPSED, F.NATURE_OF_JOB),
        (F.NATURE_AND_GRAVITY, F.TIME_ELAPSED, F.NATURE_OF_JOB),
    ),
    StatutoryTest(
        "US-NY", "New York Correction Law Art. 23-A §753(1)",
        (F.PUBLIC_POLICY, F.SPECIFIC_DUTIES, F.BEARING_ON_FITNESS, F.TIME_ELAPSED, F.AGE_AT_THE_TIME,
         F.SERIOUSNESS, F.REHABILITATION, F.LEGITIMATE_INTEREST),
        (F.NATURE_AND_GRAVITY, F.TIME_ELAPSED, F.NATURE_OF_JOB, F.CANDIDATE_ACCOUNT),
    ),
    StatutoryTest(
        "US-IL", "Illinois Human Rights Act, 775 ILCS 5/2-103.1(B)",
        (F.TIME_ELAPSED, F.NUMBER_OF_CONVICTIONS, F.NATURE_AND_GRAVITY, F.CIRCUMSTANCES, F.AGE_AT_THE_TIME,
         F.REHABILITATION),
        (F.NATURE_AND_GRAVITY, F.TIME_ELAPSED, F.NATURE_OF_JOB, F.CANDIDATE_ACCOUNT),
    ),
    StatutoryTest(
        "CN", "PIPL Arts. 5-6 and Labour Contract Law Art. 8",
        (F.JOB_RELEVANCE, F.NECESSITY),
        (F.JOB_RELEVANCE, F.NECESSITY),
    ),
)}
# Reliefs that create New York's presumption of rehabilitation (§753(2)).
_PRESUMING = (Relief.CERTIFICATE_OF_RELIEF, Relief.CERTIFICATE_OF_REHABILITATION)


def statutory_test(work_location: str) -> StatutoryTest:
    """The statutory test of the most specific jurisdiction the job lies in
    that has one; the EEOC's where none has, or the location is unknown.

    Args:
        work_location: where the job is (``US-NY-NYC``); '' if unknown.

    Returns:
        StatutoryTest: the test.
    """
    for place in enclosing_locations(work_location):
        if place in TESTS:
            return TESTS[place]
    return _EEOC


def factors_for(work_location: str, judged: JudgedFinding) -> tuple[F, ...]:
    """The factors a reviewer answers for one finding.

    Args:
        work_location: where the job is; '' if unknown.
        judged: the finding the recommendation relies on.

    Returns:
        tuple[AssessmentFactor, ...]: in the order the law lists them; under
        New York's test, a criminal record with a certificate of relief or
        of good conduct also asks how its presumption of rehabilitation
        (Art. 23-A §753(2)) was weighed.
    """
    test = statutory_test(work_location)
    finding = judged.finding
    if not finding.category.startswith(_CRIMINAL_PREFIX):
        return test.other
    factors = test.criminal
    if test.jurisdiction == "US-NY" and finding.fact("relief") in _PRESUMING:
        factors = (*factors, F.PRESUMPTION_OF_REHABILITATION)
    return factors


def all_factors(groups: Iterable[tuple[F, ...]]) -> tuple[F, ...]:
    """Every factor of ``groups``, each once, in the order first met."""
    return tuple(dict.fromkeys(factor for group in groups for factor in group))
