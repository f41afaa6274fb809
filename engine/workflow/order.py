"""The order of the steps of the human decision, in one place: the code
that refuses a step out of order and docs/human-decision.md (whose diagram
a test holds against ``ORDER``) read it from here.

The order is that of FCRA §604(b)(3) and §615(a), and of the fair chance
laws (California Gov. Code §12952, NYC Admin. Code §8-107(11-a)): an
individualized assessment, a pre-adverse notice, the candidate's response
or the end of the response period, a reassessment where the response
speaks to the assessment, the final decision, then the adverse notice.
Every step is stamped by the record's clock (``signoff.clock_stamp``); no
option backdates one.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.vocabulary import Outcome


@dataclass(frozen=True)
class Step:
    """One step of the human decision.

    Attributes:
        name: the step, in the words of the docs' diagram.
        command: the command that records it.
        needs: what must be on file before it, as the docs state it.
    """

    name: str
    command: str
    needs: str


ORDER: tuple[Step, ...] = (
    Step("assessment", "adjudicate review",
         "an evaluated decision with no final decision in force"),
    Step("pre-adverse notice", "adjudicate notice pre-adverse",
         "an assessment; no final decision in force; not issued before in that language"),
    Step("response", "adjudicate respond",
         "a pre-adverse notice; received on or after the notice's date, not after today; "
         "no final decision in force"),
    Step("evidence", "adjudicate attach",
         "no final decision in force"),
    Step("reassessment", "adjudicate review",
         "no final decision in force; kept beside the first assessment"),
    Step("decision", "adjudicate decide",
         # The docs' table links to the section on the decide command.
         "see [the final decision](#3-the-final-decision)"),
    Step("adverse notice", "adjudicate notice adverse",
         "a final decision in force that is adverse (`hold` or `withdraw`)"),
    Step("reopen", "adjudicate reopen",
         "a final decision in force; a reason of a sentence; the `reopen` permission"),
)
"""The steps in the order the law asks for them (evidence goes with the
response; a reopen puts the decision back before its decision step)."""

ADVERSE_OUTCOMES: tuple[Outcome, ...] = (Outcome.HOLD, Outcome.WITHDRAW)
"""Outcomes that adversely affect a prospective employee (FCRA §603(k)):
each is followed by the adverse notice."""
