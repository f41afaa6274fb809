"""The human decision, on SQLite and on PostgreSQL: business-day deadlines,
the individualized assessment (``review``), the candidate's response
(``respond``), the final decision (``decide``), what is waiting on a person
(``pending``), the audit trail of every step and the memo with its filled
sign-off block.

Every step runs through the real command line against a real store
(``store_url``); what was recorded is read back with raw SQL (``store_db``).
Each refusal is asserted word for word: the messages are what HR and legal
staff read.

The record stamps every step by the system clock: the flow moves the clock
(``conftest.Clock``) to the day of each step: the evaluation and the
review on 2026-11-02, a notice on its day, a response on the day it was
received, a decision on its day (the flow's --at marker sets the clock for
a command). A notice issued on Friday 2026-11-06 gives the candidate until Friday
2026-11-13 (5 business days).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import (
    Clock,
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    make_runner,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)
from engine.cli import cli
from engine.workflow.deadlines import add_business_days
from helpers import business_days_between
from engine.workflow.signoff import FACTORS

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("ADJUDICATE_UPDATE_GOLDEN") == "1"

# The roles of the shipped policy, a second person who may decide, a role
# that may only view, and a shorter response period for New York.
POLICY = """\
roles:
  legal:
    positions: all
    may: [view, review, decide]
  logistics:
    positions: [van_driver, forklift_operator, warehouse_picker]
    may: [view, review]
  finance:
    positions: [payroll_accountant, financial_controller, cashier]
    may: [view, review]
  auditor:
    positions: all
    may: [view]
users:
  legal-counsel: [legal]
  second-counsel: [legal]
  hr-logistics-officer: [logistics]
  hr-finance-officer: [finance]
  internal-auditor: [auditor]
notices:
  response_business_days:
    default: 5
    US-NY: 3
"""

# Four van drivers: a serious driving offence (escalate), a recent minor
# collision (review), a credit record the position does not care about
# (proceed), and a candidate without consent (not_evaluated).
SMALL_BATCH = [
    finding("C-ESC", "van_driver", "F-E1", "offense_driving", "serious", "2023-08-12",
            source="Los Angeles County Superior Court", jurisdiction="US-CA",
            description="Misdemeanour DUI conviction, first offence"),
    finding("C-REV", "van_driver", "F-R1", "traffic_violation", "minor", "2026-04-22",
            source="State DMV", jurisdiction="US-CA", description="Low-speed rear-end collision"),
    finding("C-OK", "van_driver", "F-K1", "credit_record", "moderate", "2024-01-10",
            source="Credit bureau", description="One bill in collections"),
    finding("C-NC", "van_driver", "F-N1", "offense_driving", "serious", "2023-08-12",
            source="Court", description="DUI conviction"),
]
SMALL_CONSENTS = [consent("C-ESC"), consent("C-REV"), consent("C-OK")]
CONSIDERED = {"C-ESC": ["F-E1"], "C-REV": ["F-R1"], "C-OK": [], "C-NC": []}
RECOMMENDED = {"C-ESC": "escalate", "C-REV": "review", "C-OK": "proceed", "C-NC": "not_evaluated"}

# The commands that take --policy (respond, pending, purge and audit do not).
WITH_POLICY = {"evaluate", "review", "decide", "notice", "memo", "respond", "attach", "reopen"}

# The employer and the screening agency of the notices (docs/human-decision.md):
# a US notice names the agency (FCRA §615(a)), every pack but the general one
# the employer. Written beside the policy of each flow.
ORGANISATION = """\
employer:
  name: Example Logistics Ltd.
  address: 100 Harbour Road, Springfield, IL 62701
  contact: hr@example-logistics.example
screening_agency:
  name: Example Screening Services Inc.
  address: 200 Archive Street, Springfield, IL 62702
  phone: 1-800-555-0199
"""
# The documents a pre-adverse notice encloses (FCRA §604(b)(3)), as the
# bytes of two files: their SHA-256 is printed in the notice.
REPORT = b"Background-check report of the candidate (an example).\n"
SUMMARY_OF_RIGHTS = b"A Summary of Your Rights Under the Fair Credit Reporting Act (an example).\n"


def write_organisation(folder: Path, text: str = ORGANISATION) -> None:
    """The organisation file and the two enclosed documents of a flow, in ``folder``."""
    (folder / "organisation.yaml").write_text(text, encoding="utf-8")
    (folder / "report.txt").write_bytes(REPORT)
    (folder / "summary-of-rights.txt").write_bytes(SUMMARY_OF_RIGHTS)

ANSWERS = {
    "nature_and_gravity": "Misdemeanour DUI, first offence, nobody hurt.",
    "time_elapsed": "Three years; probation completed.",
    "nature_of_job": "Driving a delivery van is the core duty.",
    "age_at_the_time": "26",
    "rehabilitation": "DUI programme completed; no later incident.",
    "candidate_account": "Says it was a single lapse after a wedding.",
}
# A collision is not a criminal record: it is not asked about the age at
# the time or rehabilitation (engine.workflow.assessments).
COLLISION_ANSWERS = {
    "nature_and_gravity": "Low-speed collision at a stop light, no injuries; citation paid.",
    "time_elapsed": "Six months.",
    "nature_of_job": "Driving a delivery van is the core duty.",
    "candidate_account": "Braked late in heavy rain.",
}
# The findings of these tests that are not criminal records.
NOT_CRIMINAL = {"F-R1", "F-0002"}
SUMMARY = "The conviction bears directly on driving, but rehabilitation is documented."
LONG_REASON = "The candidate completed the DUI programme and has driven safely since."
REVIEW_DAY = "2026-11-02"  # the day of the evaluation's store run and of the reviews
# What a hold or a withdraw relies on, by candidate: the findings the engine
# weighed (C-1002's DUI alone, not its 5 mph collision), the duty they bear on.
RELIED_ON = {"C-ESC": ("F-E1",), "C-REV": ("F-R1",), "C-1002": ("F-0003",), "C-XSS": ("F-X",)}
VAN_DUTY = "Drives a company delivery van on public roads"
# How a reassessment weighed the candidate's response.
WEIGHED = {"summary": "The response confirms the programme was completed; the conviction still bears on driving.",
           "factors": {}}
NOTICE_DAY = "2026-11-06"  # a Friday
DEADLINE = "2026-11-13"  # 5 business days later, a Friday
FACTOR_LIST = ("'nature_and_gravity', 'time_elapsed', 'nature_of_job', 'age_at_the_time', "
               "'rehabilitation' and 'candidate_account'")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def assessment(*finding_ids: str, summary: str = SUMMARY) -> dict:
    """A complete assessment, with the factors in the reverse of the law's
    order, so that a memo listing them in the law's order did reorder them."""
    return {
        "summary": summary,
        "findings": {
            f: dict(reversed(list((COLLISION_ANSWERS if f in NOT_CRIMINAL else ANSWERS).items()))) for f in finding_ids
        },
    }


def c1002_assessment() -> dict:
    """The assessment of C-1002 of the example batch: the collision (F-0002)
    and the DUI conviction (F-0003), each in its own words."""
    data = assessment("F-0003")
    data["findings"] = {"F-0002": dict(reversed(list(COLLISION_ANSWERS.items())))} | data["findings"]
    return data


@dataclass
class Flow:
    """A batch evaluated into a store, and the commands of the human decision on it."""

    url: str
    policy: Path
    folder: Path
    out: Path  # the batch's output folder, with memos/
    ids: dict  # candidate id -> decision id
    location: str = ""  # the work location of every application, '' for none
    clock: Clock = field(default_factory=Clock)  # the record's clock, moved to the day of each step
    assessed: dict = field(default_factory=dict)  # candidate -> the latest assessment the flow recorded

    def run(self, *args, code: int = 0):
        args = [str(arg) for arg in args] + ["--db", self.url]
        if args[0] in WITH_POLICY and "--policy" not in args:
            args += ["--policy", str(self.policy)]
        if args[0] == "notice" and "--organisation" not in args:
            args += ["--organisation", str(self.folder / "organisation.yaml")]
        # A pre-adverse notice encloses the report and the FCRA's summary of
        # rights unless the test names them itself, or says --no-enclosures
        # (the flow's own marker, which the command never sees).
        if args[:2] == ["notice", "pre-adverse"] and "--no-enclosures" in args:
            args.remove("--no-enclosures")
        elif args[:2] == ["notice", "pre-adverse"] and "--report" not in args:
            # The FCRA's summary of rights goes with a notice for a US job only.
            args += ["--report", str(self.folder / "report.txt")] + (
                [] if self.location.startswith("CN") else
                ["--summary-of-rights", str(self.folder / "summary-of-rights.txt")])
        # The record's clock for this one command: the flow's own marker
        # --at WHEN (an ISO day, 09:00 UTC, or a timestamp), which the
        # command never sees. A decision is dated by the clock, not by an option.
        given = None
        if "--input" in args:  # what the user types at the prompts (the flow's marker too)
            at = args.index("--input")
            given = args[at + 1]
            del args[at:at + 2]
        if "--at" in args:
            # The clock stays where the command left it, as for every step.
            at = args.index("--at")
            self.clock.set(args[at + 1])
            del args[at:at + 2]
        result = run_cli(args) if given is None else make_runner().invoke(
            cli, [str(arg) for arg in args], input=given, catch_exceptions=True, prog_name="adjudicate")
        assert_clean_exit(result, code)
        return result

    def refused(self, *args, message: str) -> None:
        """The command exits 1 with exactly ``message``, and prints nothing else."""
        result = self.run(*args, code=1)
        assert result.stderr == f"Error: {message}\n"
        assert result.stdout == ""

    def answers(self, data, name: str = "answers.yaml") -> Path:
        path = self.folder / name
        if name.endswith(".json"):
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    # The steps, each expected to succeed.

    def review(self, candidate: str, reviewer: str = "hr-logistics-officer", data=None, at: str | None = None):
        if data is None:
            data = c1002_assessment() if candidate == "C-1002" else assessment(*CONSIDERED[candidate])
        result = self.run("review", self.ids[candidate], "--reviewer", reviewer, "--answers", self.answers(data),
                          *(("--at", at) if at else ()))
        self.assessed[candidate] = data
        assert result.stdout == f"Recorded the assessment of {self.ids[candidate]} by {reviewer}.\n"
        return result

    def notice(self, kind: str, candidate: str, issued_on: str = NOTICE_DAY, *options, user: str = "hr-logistics-officer"):
        self.clock.set(issued_on)  # a notice is dated today by the record's clock
        return self.run("notice", kind, self.ids[candidate], "--user", user,
                        "-o", self.folder / "notices", *options)

    def respond(self, candidate: str, received_on: str, text: str = "I completed the programme; see the court letter.",
                *, reassess: bool = True):
        """Record the response, recorded on the day received (08:00 UTC), and
        (unless ``reassess`` is false) a reassessment that weighs it, at
        08:30 that day, before a decision that day (09:00)."""
        path = self.folder / "response.txt"
        path.write_text(text, encoding="utf-8")
        result = self.run("respond", self.ids[candidate], "--file", path, "--received-on", received_on,
                          "--user", "hr-logistics-officer", "--at", f"{received_on}T08:00:00+00:00")
        assert result.stdout == f"Recorded the response to {self.ids[candidate]}, received on {received_on}.\n"
        if reassess:
            data = self.assessed.get(candidate) or assessment(*CONSIDERED[candidate])
            self.review(candidate, data=data | {"response_weighed": WEIGHED}, at=f"{received_on}T08:30:00+00:00")
        return result

    def decide_args(self, candidate, outcome, reason, today, approver="legal-counsel", *, grounds=True) -> list:
        """The decide command on the day ``today`` (the record's clock), recorded
        without asking (--yes); a hold or a withdraw names the findings it
        relies on, the duty and the deciding factor (unless ``grounds`` is
        false), and a hold ends 30 days on."""
        args = ["decide", self.ids[candidate], "--approver", approver, "--outcome", outcome,
                "--reason", reason, "--at", today, "--yes"]
        if outcome in ("hold", "withdraw") and grounds:
            for finding_id in RELIED_ON.get(candidate, ()):
                args += ["--relies-on", finding_id]
            if RELIED_ON.get(candidate):
                # The nature of the job where the law of the work location
                # asks it, else the first factor the assessment answered.
                answered = list(self.assessed.get(candidate, {}).get("findings", {}).get(RELIED_ON[candidate][0], {}))
                factor = "nature_of_job" if "nature_of_job" in answered or not answered else answered[0]
                args += ["--duty", VAN_DUTY, "--deciding-factor", factor]
        if outcome == "hold" and grounds:
            args += ["--until", (day(today) + dt.timedelta(days=30)).isoformat()]
        return args

    def decide(self, candidate, outcome, reason, today=NOTICE_DAY, approver="legal-counsel", *, override=False):
        self.clock.set(today)
        result = self.run(*self.decide_args(candidate, outcome, reason, today, approver))
        flag = " (an override of the recommendation)." if override else "."
        assert result.stdout == f"Recorded: {outcome} for {self.ids[candidate]} by {approver}{flag}\n"
        return result

    def pending(self) -> list[str]:
        return self.run("pending").stdout.splitlines()


def start(url, tmp_path, rows=SMALL_BATCH, consents=SMALL_CONSENTS, policy=POLICY, *, example=False) -> Flow:
    folder = tmp_path / "flow"
    folder.mkdir()
    policy_path = folder / "policy.yaml"
    policy_path.write_text(policy, encoding="utf-8")
    write_organisation(folder)
    if example:
        batch, consents_path = EXAMPLE_BATCH, EXAMPLE_CONSENTS
    else:
        batch = write_batch(folder / "batch.csv", rows)
        consents_path = write_consents(folder / "consents.csv", consents)
    out = folder / "out"
    clock = Clock()
    clock.set(REVIEW_DAY)
    result = run_cli(evaluate_args(batch, consents_path, out) + ["--db", url, "--user", "hr-runner"])
    assert_clean_exit(result)
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    return Flow(url, policy_path, folder, out, ids, clock=clock)


@pytest.fixture
def flow(store_url, tmp_path) -> Flow:
    """The small batch evaluated into the store under test."""
    flow = start(store_url, tmp_path)
    recommended = {row["candidate_id"]: row["recommendation"] for row in read_csv(flow.out / "decisions.csv")}
    assert recommended == RECOMMENDED
    return flow


def audit_rows(store_db, decision_id=None) -> list[tuple]:
    """(actor, action, detail) of the audit entries, oldest first."""
    rows = store_db.rows("SELECT actor, action, decision_id, detail FROM audit_log ORDER BY seq")
    return [(r.actor, r.action, json.loads(r.detail)) for r in rows if decision_id is None or r.decision_id == decision_id]


def final_decisions(store_db) -> dict:
    rows = store_db.rows("SELECT decision_id, outcome, approver, decided_at, override FROM final_decisions")
    return {r.decision_id: (r.outcome, r.approver, r.decided_at[:10], bool(r.override)) for r in rows}


def check_golden(name: str, actual: str) -> None:
    """``actual`` equals tests/golden/``name`` word for word (regenerated
    with ADJUDICATE_UPDATE_GOLDEN=1, like tests/test_memos.py)."""
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"tests/golden/{name}", tofile="rendered now",
        ))
        pytest.fail(
            f"{name} differs from tests/golden/{name}:\n{diff}\n"
            "If the change is intended, regenerate the golden files with\n"
            "    ADJUDICATE_UPDATE_GOLDEN=1 pytest tests/test_signoff.py tests/test_notices.py -k golden\n"
            "and review the diff with git before committing.",
            pytrace=False,
        )


# --- business days --------------------------------------------------------------------------

@pytest.mark.parametrize("start_day, days, expected", [
    ("2026-11-06", 0, "2026-11-06"),  # Friday + 0: the day itself
    ("2026-11-06", 1, "2026-11-09"),  # Friday + 1 = Monday
    ("2026-11-06", 5, "2026-11-13"),  # Friday + 5 = the next Friday
    ("2026-11-06", 6, "2026-11-16"),  # Friday + 6 = the Monday after
    ("2026-11-06", 10, "2026-11-20"),  # across two weekends
    ("2026-11-07", 1, "2026-11-09"),  # Saturday + 1 = Monday
    ("2026-11-07", 5, "2026-11-13"),  # Saturday + 5 = Friday
    ("2026-11-08", 1, "2026-11-09"),  # Sunday + 1 = Monday
    ("2026-11-02", 4, "2026-11-06"),  # Monday + 4 = Friday, no weekend
    ("2026-11-02", 5, "2026-11-09"),  # Monday + 5 = the next Monday
    ("2026-11-04", 3, "2026-11-09"),  # Wednesday + 3 = Monday
    ("2026-12-31", 2, "2027-01-04"),  # across the year end; the default calendar knows no holidays
])
def test_add_business_days_skips_weekends(start_day, days, expected):
    assert add_business_days(day(start_day), days) == day(expected)
    assert business_days_between(day(start_day), day(expected)) == days


@pytest.mark.parametrize("start_day, end_day, expected", [
    ("2026-11-06", "2026-11-06", 0),  # the same day
    ("2026-11-06", "2026-11-07", 0),  # Friday to Saturday
    ("2026-11-06", "2026-11-08", 0),  # Friday to Sunday
    ("2026-11-06", "2026-11-09", 1),  # Friday to Monday
    ("2026-11-07", "2026-11-08", 0),  # Saturday to Sunday
    ("2026-11-02", "2026-11-13", 9),  # Monday to the next Friday
    ("2026-11-13", "2026-11-06", 0),  # the end before the start
])
def test_business_days_between(start_day, end_day, expected):
    assert business_days_between(day(start_day), day(end_day)) == expected


def test_a_negative_number_of_business_days_is_refused():
    with pytest.raises(ValueError, match="^days must not be negative$"):
        add_business_days(day(NOTICE_DAY), -1)


# --- review -----------------------------------------------------------------------------------

def test_review_records_the_assessment(flow, store_db):
    flow.review("C-ESC")
    decision = flow.ids["C-ESC"]
    (row,) = store_db.rows("SELECT decision_id, reviewer, reviewed_at, assessment FROM reviews")
    assert (row.decision_id, row.reviewer) == (decision, "hr-logistics-officer")
    assert dt.datetime.fromisoformat(row.reviewed_at).tzinfo is not None
    # Sealed at rest: the reviewer's words are not stored in plain text.
    stored = bytes(row.assessment) if not isinstance(row.assessment, str) else row.assessment.encode()
    assert SUMMARY.encode() not in stored and ANSWERS["candidate_account"].encode() not in stored
    assert audit_rows(store_db, decision) == [
        ("hr-logistics-officer", "decision reviewed", {"findings_assessed": 1}),
    ]
    # The batch's memo shows it at once.
    memo = (flow.out / "memos" / "C-ESC.md").read_text(encoding="utf-8")
    assert "Reviewed by hr-logistics-officer on " in memo
    assert f"Conclusion: {SUMMARY}" in memo


def test_a_memo_exported_into_a_folder_named_memos_is_never_refreshed(flow):
    """Only the memos the batch wrote into its own output folder follow a
    human step; an exported memo keeps its language, its text and its
    owner-only mode, even in a folder named ``memos``."""
    exported = flow.folder / "memos" / "C-ESC.html"
    exported.parent.mkdir()
    flow.run("memo", "export", flow.ids["C-ESC"], "--user", "legal-counsel", "--purpose", "arbitration file",
             "--lang", "zh", "-o", exported)
    before = exported.read_bytes()
    assert exported.stat().st_mode & 0o777 == 0o600
    flow.review("C-ESC")
    assert "Reviewed by hr-logistics-officer on " in (flow.out / "memos" / "C-ESC.md").read_text(encoding="utf-8")
    assert exported.read_bytes() == before
    assert exported.stat().st_mode & 0o777 == 0o600


def test_review_reads_an_assessment_in_json(flow, store_db):
    path = flow.answers(assessment("F-E1"), "answers.json")
    result = flow.run("review", flow.ids["C-ESC"], "--reviewer", "legal-counsel", "--answers", path)
    assert result.stdout == f"Recorded the assessment of {flow.ids['C-ESC']} by legal-counsel.\n"
    assert store_db.scalar("SELECT reviewer FROM reviews") == "legal-counsel"


REVIEW_REFUSALS = [
    ("hr-finance-officer", "user 'hr-finance-officer' (roles finance) may not review decisions for the position 'van_driver'."),
    ("internal-auditor", "user 'internal-auditor' (roles auditor) may not review decisions for the position 'van_driver'."),
    # A near miss gets no "did you mean": it would tell a stranger who may see what.
    ("hr-logistic-officer", "user 'hr-logistic-officer' is not in the access policy {policy}; ask for a role there."),
]


def test_a_stranger_learns_nothing_of_a_decision_id_from_review(flow, store_db):
    """The permission is checked before the decision is looked up: a made-up
    id gets the same refusal as a real one, and both are audited."""
    for decision in (flow.ids["C-ESC"], "D-000000000000000000ff"):
        flow.refused("review", decision, "--reviewer", "stranger", "--answers", flow.answers(assessment("F-E1")),
                     message=f"user 'stranger' is not in the access policy {flow.policy}; ask for a role there.")
        assert audit_rows(store_db)[-1] == ("stranger", "access denied", {"attempted": "review"})
    assert store_db.count("reviews") == 0


def test_review_needs_a_role_that_may_review_the_position(flow, store_db):
    decision = flow.ids["C-ESC"]
    for reviewer, message in REVIEW_REFUSALS:
        flow.refused("review", decision, "--reviewer", reviewer, "--answers", flow.answers(assessment("F-E1")),
                     message=message.format(policy=flow.policy))
        assert audit_rows(store_db)[-1] == (reviewer, "access denied", {"attempted": "review"})
        assert store_db.scalar("SELECT decision_id FROM audit_log ORDER BY seq DESC LIMIT 1") == decision
    assert store_db.count("reviews") == 0


def _without(factor):
    data = assessment("F-E1")
    del data["findings"]["F-E1"][factor]
    return data


def _with(factor, value):
    data = assessment("F-E1")
    data["findings"]["F-E1"][factor] = value
    return data


BAD_ASSESSMENTS = {
    "missing factor": (
        _without("rehabilitation"),
        f"finding 'F-E1': the factor 'rehabilitation' is missing or empty; an individualized assessment addresses {FACTOR_LIST}.",
    ),
    "empty factor": (
        _with("candidate_account", "   "),
        f"finding 'F-E1': the factor 'candidate_account' is missing or empty; an individualized assessment addresses {FACTOR_LIST}.",
    ),
    "yes/no is not an answer": (
        _with("time_elapsed", True),
        f"finding 'F-E1': the factor 'time_elapsed' is missing or empty; an individualized assessment addresses {FACTOR_LIST}.",
    ),
    "unknown factor": (
        _with("rehabilitaton", "Completed the programme."),
        f"finding 'F-E1': unknown factor 'rehabilitaton'; factors: {FACTOR_LIST}. Did you mean 'rehabilitation'?",
    ),
    "a finding not relied on": (
        assessment("F-E1") | {"findings": {"F-E1": dict(ANSWERS), "F-R1": dict(ANSWERS)}},
        "the assessment names finding 'F-R1', which this decision does not rely on; assess 'F-E1'.",
    ),
    "a finding not assessed": (
        assessment(),
        f"the assessment has no factors for finding 'F-E1'; it needs {FACTOR_LIST}.",
    ),
    "no summary": (
        {"findings": assessment("F-E1")["findings"]},
        "the assessment needs a 'summary' that states the reviewer's conclusion.",
    ),
    "blank summary": (
        assessment("F-E1", summary=" "),
        "the assessment needs a 'summary' that states the reviewer's conclusion.",
    ),
    "no findings mapping": (
        {"summary": SUMMARY, "F-E1": dict(ANSWERS)},
        "the assessment is a mapping with 'findings' (finding id -> factors) and 'summary'; see docs/human-decision.md.",
    ),
}


def test_an_incomplete_assessment_is_refused_with_what_is_missing(flow, store_db):
    """One store per backend, every broken answer file in turn: each is
    refused with its own message, and nothing is recorded."""
    decision = flow.ids["C-ESC"]
    for name, (data, message) in BAD_ASSESSMENTS.items():
        path = flow.answers(data, f"{name.replace(' ', '-').replace('/', '-')}.yaml")
        result = flow.run("review", decision, "--reviewer", "hr-logistics-officer", "--answers", path, code=1)
        assert result.stderr == f"Error: {message}\n", name
    assert store_db.count("reviews") == 0
    assert [action for _, action, _ in audit_rows(store_db)] == ["batch evaluated"]


def test_numbers_are_answers_too(flow):
    """YAML reads 'age_at_the_time: 26' as a number; it is an answer all the same."""
    path = flow.folder / "numbers.yaml"
    text = yaml.safe_dump(assessment("F-E1"), sort_keys=False)
    text = text.replace("age_at_the_time: '26'", "age_at_the_time: 26")
    text = text.replace("time_elapsed: Three years; probation completed.", "time_elapsed: 3.2")
    assert "age_at_the_time: 26\n" in text and "time_elapsed: 3.2\n" in text
    path.write_text(text, encoding="utf-8")
    flow.run("review", flow.ids["C-ESC"], "--reviewer", "hr-logistics-officer", "--answers", path)
    memo = flow.run("memo", "show", flow.ids["C-ESC"], "--user", "legal-counsel", "--purpose", "check").stdout
    assert "- age at the time: 26\n" in memo
    assert "- time elapsed: 3.2\n" in memo


def test_a_decision_without_consent_cannot_be_reviewed(flow, store_db):
    decision = flow.ids["C-NC"]
    flow.refused("review", decision, "--reviewer", "legal-counsel", "--answers", flow.answers(assessment()),
                 message=f"decision {decision} was not evaluated (no valid consent); there is nothing to assess.")
    assert store_db.count("reviews") == 0


def test_a_final_decision_cannot_be_reviewed_again(flow, store_db):
    flow.review("C-ESC")
    flow.decide("C-ESC", "hire", LONG_REASON, override=True)
    decision = flow.ids["C-ESC"]
    flow.refused("review", decision, "--reviewer", "legal-counsel", "--answers", flow.answers(assessment("F-E1")),
                 message=f"decision {decision} is final already; its review can no longer change "
                         f"(a person whose role may reopen it can: adjudicate reopen {decision}).")
    assert store_db.scalar("SELECT reviewer FROM reviews") == "hr-logistics-officer"


# --- respond ----------------------------------------------------------------------------------

def test_respond_records_the_response_sealed(flow, store_db):
    text = "The conviction is spent; letter from my probation officer attached."
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC")
    flow.respond("C-ESC", "2026-11-09", text, reassess=False)
    (row,) = store_db.rows("SELECT decision_id, received_on, recorded_by, content FROM responses")
    assert (row.decision_id, row.received_on, row.recorded_by) == (flow.ids["C-ESC"], "2026-11-09", "hr-logistics-officer")
    content = bytes(row.content) if not isinstance(row.content, str) else row.content.encode()
    assert text.encode() not in content
    assert audit_rows(store_db, flow.ids["C-ESC"])[-1] == (
        "hr-logistics-officer", "response recorded", {"received_on": "2026-11-09"},
    )


def test_an_empty_response_is_refused(flow, store_db):
    path = flow.folder / "empty.txt"
    path.write_text(" \n", encoding="utf-8")
    flow.refused("respond", flow.ids["C-ESC"], "--user", "hr-logistics-officer", "--file", path, "--received-on", "2026-11-09",
                 message="the response file is empty; record what the candidate sent.")
    assert store_db.count("responses") == 0


# --- decide: who, and what cannot be decided ------------------------------------------------------

def test_deciding_needs_a_role_that_may_decide(flow, store_db):
    decision = flow.ids["C-ESC"]
    for approver, roles in (("hr-logistics-officer", "logistics"), ("internal-auditor", "auditor")):
        flow.refused(*flow.decide_args("C-ESC", "hold", "Awaiting the court's final judgment on the appeal.", NOTICE_DAY, approver),
                     message=f"user '{approver}' (roles {roles}) may not decide for the position 'van_driver'.")
        assert audit_rows(store_db)[-1] == (approver, "access denied", {"attempted": "decide"})
        assert store_db.scalar("SELECT decision_id FROM audit_log ORDER BY seq DESC LIMIT 1") == decision
    assert final_decisions(store_db) == {}


def test_a_decision_without_consent_cannot_be_decided(flow, store_db):
    decision = flow.ids["C-NC"]
    flow.refused(*flow.decide_args("C-NC", "hire", "No consent, nothing found.", NOTICE_DAY),
                 message=f"decision {decision} was not evaluated (no valid consent); obtain consent and evaluate again.")
    assert final_decisions(store_db) == {}


def test_a_decision_is_made_once(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.decide("C-ESC", "hire", LONG_REASON, override=True)
    flow.refused(*flow.decide_args("C-ESC", "withdraw", LONG_REASON, "2026-11-20", "second-counsel"),
                 message=f"decision {decision} is final already (hire, by legal-counsel).")
    assert final_decisions(store_db) == {decision: ("hire", "legal-counsel", NOTICE_DAY, True)}


# --- decide: a withdraw -------------------------------------------------------------------------------

def test_a_withdraw_needs_an_assessment(flow, store_db):
    decision = flow.ids["C-ESC"]
    # No pre-adverse notice can go out before the assessment either (test_human_record.py).
    flow.refused(*flow.decide_args("C-ESC", "withdraw", LONG_REASON, "2026-11-20"),
                 message=f"a withdraw needs an individualized assessment first: adjudicate review {decision}.")
    assert final_decisions(store_db) == {}


def test_the_reviewer_cannot_approve_a_withdraw(flow, store_db):
    """legal-counsel may review and decide, but not both for one withdraw."""
    flow.review("C-ESC", reviewer="legal-counsel")
    flow.notice("pre-adverse", "C-ESC")
    flow.refused(*flow.decide_args("C-ESC", "withdraw", LONG_REASON, "2026-11-20", "legal-counsel"),
                 message="'legal-counsel' reviewed this decision; the approver of a withdraw must be another person.")
    assert final_decisions(store_db) == {}
    # A hold is adverse too (FCRA §603(k)); the same person may decide a hire.
    flow.refused(*flow.decide_args("C-ESC", "hold", LONG_REASON, "2026-11-20", "legal-counsel"),
                 message="'legal-counsel' reviewed this decision; the approver of a hold must be another person.")
    flow.decide("C-ESC", "hire", LONG_REASON, "2026-11-20", "legal-counsel", override=True)


def test_another_person_may_approve_the_withdraw(flow, store_db):
    flow.review("C-ESC", reviewer="legal-counsel")
    flow.notice("pre-adverse", "C-ESC")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-16", "second-counsel")
    assert final_decisions(store_db) == {flow.ids["C-ESC"]: ("withdraw", "second-counsel", "2026-11-16", False)}


def test_a_withdraw_needs_a_pre_adverse_notice(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.refused(*flow.decide_args("C-ESC", "withdraw", LONG_REASON, "2026-11-20"),
                 message="a withdraw needs a pre-adverse notice first, so that the candidate can respond: "
                         f"adjudicate notice pre-adverse {decision}.")
    assert final_decisions(store_db) == {}


def test_a_withdraw_waits_for_the_end_of_the_response_period(flow, store_db):
    """Notice on Friday 2026-11-06: refused up to and including Friday
    2026-11-13, allowed on Monday 2026-11-16, the next business day."""
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC")
    for today in (NOTICE_DAY, "2026-11-09", "2026-11-12", DEADLINE):
        flow.refused(*flow.decide_args("C-ESC", "withdraw", "The offence bears directly on driving the van.", today),
                     message=f"the candidate may respond until {DEADLINE}; a withdraw is possible after that day, "
                             "or once the response is recorded (adjudicate respond).")
    assert final_decisions(store_db) == {}
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-16")
    assert final_decisions(store_db) == {flow.ids["C-ESC"]: ("withdraw", "legal-counsel", "2026-11-16", False)}


def test_a_recorded_response_ends_the_wait(flow, store_db):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC")
    flow.respond("C-ESC", "2026-11-09")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-09")
    assert final_decisions(store_db) == {flow.ids["C-ESC"]: ("withdraw", "legal-counsel", "2026-11-09", False)}


# --- decide: overrides ------------------------------------------------------------------------------------

FIVE_WORDS = "Too risky for this job."
CREDIT_RATIONALE = ("The only money the driver handles is small cash-on-delivery sums reconciled at the end of each "
                    "route, and personal debts do not predict safe driving or honest delivery.")
SIX_WORDS = "Too risky for this particular job."


@pytest.mark.parametrize("candidate, outcome", [
    ("C-ESC", "hire"),  # less adverse than escalate
    ("C-REV", "withdraw"),  # more adverse than review
    ("C-OK", "hold"),  # more adverse than proceed
])
def test_an_override_needs_a_reason_of_a_sentence(flow, store_db, candidate, outcome):
    decision = flow.ids[candidate]
    if outcome == "withdraw":  # everything else a withdraw needs, so that only the reason is missing
        flow.review(candidate)
        flow.notice("pre-adverse", candidate)
        flow.respond(candidate, "2026-11-09")
    for reason in ("", "Too", FIVE_WORDS):
        flow.refused(*flow.decide_args(candidate, outcome, reason, "2026-11-09"),
                     message=f"'{outcome}' departs from the recommendation '{RECOMMENDED[candidate]}': an override "
                             "needs a reason of at least a sentence (6 words or more) in --reason.")
    assert final_decisions(store_db) == {}

    if outcome == "hold":
        # A proceed rests on no weighed finding: nothing can support a hold.
        flow.refused(*flow.decide_args(candidate, outcome, SIX_WORDS, "2026-11-09"),
                     message="a hold is an adverse outcome and must rest on findings the engine weighed (handling "
                             "review or escalate); this decision has none, so a hold cannot be recorded. Finding "
                             "'F-K1': the engine handled it 'not_relevant' by rule NR-NOT-JOB-RELATED (A category of "
                             "record with no bearing on the position's duties is not relevant); the position's "
                             f'relevance table says: "{CREDIT_RATIONALE}".')
        assert final_decisions(store_db) == {}
        return
    flow.decide(candidate, outcome, SIX_WORDS, "2026-11-09", override=True)
    assert final_decisions(store_db) == {decision: (outcome, "legal-counsel", "2026-11-09", True)}
    grounds = ({"relies_on": list(RELIED_ON[candidate]), "duty": VAN_DUTY, "deciding_factor": "nature_of_job"}
               if outcome == "withdraw" else {})
    assert audit_rows(store_db, decision)[-1] == (
        "legal-counsel", "decision made",
        {"outcome": outcome, "override": True, "recommendation": RECOMMENDED[candidate]} | grounds,
    )
    memo = (flow.out / "memos" / f"{candidate}.md").read_text(encoding="utf-8")
    assert f"- Decision (hire / withdraw / hold): {outcome} (overrides the recommendation)\n" in memo
    assert f"- Reasons: {SIX_WORDS}\n" in memo


@pytest.mark.parametrize("candidate", ["C-REV", "C-OK"])
def test_an_outcome_the_recommendation_allows_needs_a_sentence_too(flow, store_db, candidate):
    """Whatever the outcome, the reason is the employer's record of why."""
    decision = flow.ids[candidate]
    flow.refused(*flow.decide_args(candidate, "hire", "Agreed.", NOTICE_DAY),
                 message="the reason for 'hire' must be at least a sentence (6 words or more, or 12 Chinese "
                         "characters) in --reason: it is the employer's record of why.")
    assert final_decisions(store_db) == {}
    flow.decide(candidate, "hire", SIX_WORDS)
    assert final_decisions(store_db)[decision] == ("hire", "legal-counsel", NOTICE_DAY, False)
    assert audit_rows(store_db, decision)[-1] == (
        "legal-counsel", "decision made",
        {"outcome": "hire", "override": False, "recommendation": RECOMMENDED[candidate]},
    )
    memo = (flow.out / "memos" / f"{candidate}.md").read_text(encoding="utf-8")
    assert "- Decision (hire / withdraw / hold): hire\n" in memo
    assert f"- Reasons: {SIX_WORDS}\n" in memo


def test_a_withdraw_on_proceed_is_impossible(flow, store_db):
    """Nothing in the report can support it: no notice can be given, so no withdraw."""
    decision = flow.ids["C-OK"]
    flow.review("C-OK", reviewer="hr-logistics-officer")
    flow.refused("notice", "pre-adverse", decision, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=f"decision {decision} (proceed) relies on no finding that could support an adverse "
                         "decision; there is nothing to give notice of.")
    flow.refused(*flow.decide_args("C-OK", "withdraw", LONG_REASON, "2026-11-20"),
                 message="a withdraw is an adverse outcome and must rest on findings the engine weighed (handling "
                         "review or escalate); this decision has none, so a withdraw cannot be recorded. Finding "
                         "'F-K1': the engine handled it 'not_relevant' by rule NR-NOT-JOB-RELATED (A category of "
                         "record with no bearing on the position's duties is not relevant); the position's "
                         f'relevance table says: "{CREDIT_RATIONALE}".')
    assert final_decisions(store_db) == {}


# --- purged decisions -------------------------------------------------------------------------------------

def test_a_purged_decision_can_no_longer_change(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    result = flow.run("purge", "--as-of", "2030-01-01", "--user", "records-officer")
    assert result.stdout.startswith("Destroyed the personal data of 4 decisions and ")
    today = dt.date.today().isoformat()
    tombstone = (f"decision {decision} was purged on {today} at the end of its retention period; "
                 "only its tombstone (id, dates, hashes) remains.")
    frozen = f"decision {decision} was purged on {today}; it can no longer change."
    flow.refused("review", decision, "--reviewer", "hr-logistics-officer", "--answers",
                 flow.answers(assessment("F-E1")), message=tombstone)
    response = flow.folder / "late.txt"
    response.write_text("A late response.", encoding="utf-8")
    flow.refused("respond", decision, "--user", "hr-logistics-officer", "--file", response, "--received-on", "2026-11-20", message=frozen)
    flow.refused(*flow.decide_args("C-ESC", "hold", "Awaiting the court's final judgment on the appeal.", "2026-11-20"), message=frozen)
    flow.refused("notice", "pre-adverse", decision, "--user", "hr-logistics-officer", "-o", flow.folder / "notices",
                 message=tombstone)
    assert final_decisions(store_db) == {}
    assert store_db.count("responses") == 0 and store_db.count("notices") == 0
    assert store_db.scalar("SELECT assessment FROM reviews") is None  # the assessment went with the data


# --- pending ----------------------------------------------------------------------------------------------

def test_pending_lists_what_waits_on_a_person_until_it_is_decided(store_url, tmp_path, store_db):
    flow = start(store_url, tmp_path, rows=SMALL_BATCH[:3])
    ids = flow.ids

    def line(candidate, waiting):
        return f"{ids[candidate]}  {candidate}  van_driver  {RECOMMENDED[candidate]}: waiting for {waiting}"

    def expect(**waiting):
        assert flow.pending() == sorted((line(c.replace("_", "-"), w) for c, w in waiting.items()),
                                        key=lambda text: text.split()[0])

    expect(C_ESC="review", C_REV="review", C_OK="decision")
    flow.review("C-ESC")
    expect(C_ESC="decision", C_REV="review", C_OK="decision")
    flow.notice("pre-adverse", "C-ESC")
    expect(C_ESC=f"response, respond by {DEADLINE}", C_REV="review", C_OK="decision")
    flow.respond("C-ESC", "2026-11-09")
    expect(C_ESC="decision", C_REV="review", C_OK="decision")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-09", "second-counsel")
    expect(C_REV="review", C_OK="decision")
    flow.decide("C-OK", "hire", "Nothing in the report stands in the way.")
    expect(C_REV="review")
    flow.review("C-REV")
    expect(C_REV="decision")
    flow.decide("C-REV", "hire", "The collision was minor and isolated.")
    assert flow.pending() == ["No decision is waiting on a person."]


def test_pending_leaves_out_purged_decisions(flow):
    assert len(flow.pending()) == 3  # the not_evaluated decision waits on consent, not on a person
    flow.run("purge", "--as-of", "2030-01-01", "--user", "records-officer")
    assert flow.pending() == ["No decision is waiting on a person."]


def test_pending_never_asks_for_a_decision_that_decide_refuses(flow):
    decision = flow.ids["C-NC"]
    flow.refused(*flow.decide_args("C-NC", "hire", "No consent, nothing found.", NOTICE_DAY),
                 message=f"decision {decision} was not evaluated (no valid consent); obtain consent and evaluate again.")
    assert f"{decision}  C-NC  van_driver  not_evaluated: waiting for decision" not in flow.pending()


# --- the audit trail of the whole process -----------------------------------------------------------------

def notice_sha256(flow, candidate: str, kind: str, lang: str = "en") -> str:
    """The SHA-256 of a notice's Markdown file as written."""
    return hashlib.sha256((flow.folder / "notices" / f"{candidate}.{kind}.{lang}.md").read_bytes()).hexdigest()


def test_every_step_is_audited_in_order_and_the_chain_holds(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC")
    flow.respond("C-ESC", "2026-11-09")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-10")
    flow.notice("adverse", "C-ESC", "2026-11-11", user="legal-counsel")

    assert audit_rows(store_db, decision) == [
        ("hr-logistics-officer", "decision reviewed", {"findings_assessed": 1}),
        # The notice pack of the work location (none known: the general one) and
        # the SHA-256 of each document enclosed (FCRA §604(b)(3)).
        ("hr-logistics-officer", "pre-adverse notice issued",
         {"deadline": DEADLINE, "lang": "en", "calendar": "weekdays", "holidays": None, "pack": "general",
          "enclosures": {"report": {"file": "report.txt", "sha256": hashlib.sha256(REPORT).hexdigest()},
                         "summary_of_rights": {"file": "summary-of-rights.txt",
                                               "sha256": hashlib.sha256(SUMMARY_OF_RIGHTS).hexdigest()}},
          # The notice as written: its Markdown document's SHA-256.
          "document_sha256": notice_sha256(flow, "C-ESC", "pre-adverse")}),
        ("hr-logistics-officer", "response recorded", {"received_on": "2026-11-09"}),
        # The reassessment that weighs the response.
        ("hr-logistics-officer", "decision reviewed", {"findings_assessed": 1}),
        ("legal-counsel", "decision made", {"outcome": "withdraw", "override": False, "recommendation": "escalate",
                                            "relies_on": ["F-E1"], "duty": VAN_DUTY,
                                            "deciding_factor": "nature_of_job"}),
        ("legal-counsel", "adverse notice issued", {"deadline": None, "lang": "en", "pack": "general",
                                                     "document_sha256": notice_sha256(flow, "C-ESC", "adverse")}),
    ]
    rows = store_db.rows("SELECT seq, prev_hash, entry_hash FROM audit_log ORDER BY seq")
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in zip(rows, rows[1:]))
    result = flow.run("audit", "verify")
    assert result.stdout == f"The audit trail is intact: 7 entries, head {rows[-1].entry_hash}.\n"


# --- the memo with its sign-off -------------------------------------------------------------------------

GOLDEN_REASON = "The DUI conviction bears directly on driving a delivery van every day."
REVIEWED_AT = "2026-11-02T09:30:00+00:00"


def test_golden_memo_carries_the_assessment_the_timeline_and_the_sign_off(store_url, tmp_path, store_db, clock):
    """C-1002 of the example batch through every step; the memo from the
    store and the batch's memo files show all of it, and match the golden
    files word for word."""
    flow = start(store_url, tmp_path, example=True)
    decision = flow.ids["C-1002"]
    assert decision == "D-125b08928ccd9d593097"
    memo_file = flow.out / "memos" / "C-1002.md"
    assert "## Individualized assessment" not in memo_file.read_text(encoding="utf-8")

    flow.review("C-1002")
    # review takes its date from the clock (the other steps take theirs from
    # options); fixed here so that the memo is the same on every day.
    assert store_db.execute("UPDATE reviews SET reviewed_at = :at", at=REVIEWED_AT) == 1
    flow.notice("pre-adverse", "C-1002", "2026-11-03")
    assert "- 2026-11-03: pre-adverse notice issued (en), response due by 2026-11-10\n" in memo_file.read_text(encoding="utf-8")
    flow.respond("C-1002", "2026-11-09")
    flow.decide("C-1002", "withdraw", GOLDEN_REASON, "2026-11-10")
    flow.notice("adverse", "C-1002", "2026-11-11", user="legal-counsel")

    # The memo's access log shows when each view was recorded: on a set clock.
    clock.set("2026-11-11T15:00:00+00:00")
    shown = flow.run("memo", "show", decision, "--user", "legal-counsel", "--purpose", "arbitration file 2026-114")
    memo = shown.stdout
    def factors(answers):
        return "".join(f"- {factor.replace('_', ' ')}: {answers[factor]}\n" for factor in FACTORS if factor in answers)

    assert list(c1002_assessment()["findings"]["F-0003"]) != list(FACTORS)  # the file had another order
    # The memo shows every assessment, oldest first: the first, and the
    # reassessment after the response, with how it weighed the response.
    assert (
        "## Individualized assessment\n\n"
        "### Assessment 1\n\n"
        "Reviewed by hr-logistics-officer on 2026-11-02.\n\n"
        f"Finding F-0002:\n\n{factors(COLLISION_ANSWERS)}\n"
        f"Finding F-0003:\n\n{factors(ANSWERS)}\n"
        f"Conclusion: {SUMMARY}\n\n"
        "### Assessment 2\n\n"
        "Reviewed by hr-logistics-officer on 2026-11-09.\n\n"
        f"Finding F-0002:\n\n{factors(COLLISION_ANSWERS)}\n"
        f"Finding F-0003:\n\n{factors(ANSWERS)}\n"
        f"Conclusion: {SUMMARY}\n\n"
        f"How the candidate's response was weighed: {WEIGHED['summary']}\n"
    ) in memo
    assert (
        "## Timeline\n\n"
        "- 2026-11-02: individualized assessment by hr-logistics-officer\n"
        "- 2026-11-03: pre-adverse notice issued (en), response due by 2026-11-10\n"
        "- 2026-11-09: response from the candidate received\n"
        "- 2026-11-09: individualized assessment by hr-logistics-officer\n"
        "- 2026-11-10: final decision: withdraw by legal-counsel\n"
        "- 2026-11-11: adverse notice issued (en)\n"
    ) in memo
    assert "- Reviewed by: hr-logistics-officer  Date: 2026-11-09\n" in memo
    assert "- Decided by: legal-counsel  Date: 2026-11-10\n" in memo
    assert "- Decision (hire / withdraw / hold): withdraw\n" in memo
    assert f"- Reasons: {GOLDEN_REASON}\n" in memo
    # The DUI alone, not the 5 mph collision: what the withdraw relies on.
    assert "- Findings this decision relies on: F-0003\n" in memo
    assert "______" not in memo

    html = flow.run("memo", "show", decision, "--user", "legal-counsel", "--purpose", "arbitration file 2026-114",
                    "--format", "html").stdout
    assert "<tr><th>Decided by</th><td>legal-counsel</td><th>Date</th><td>2026-11-10</td></tr>" in html
    assert "<li>2026-11-09: response from the candidate received</li>" in html

    # The batch's memo files were rendered again with all of it; the HTML
    # view came after the Markdown one, which its access log lists.
    assert memo_file.read_text(encoding="utf-8") == memo
    assert memo_file.with_suffix(".html").read_text(encoding="utf-8") == html.replace(
        "<table>\n<tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Purpose</th></tr>\n"
        "<tr><td>2026-11-11 15:00:00</td><td>legal-counsel</td><td>viewed</td><td>arbitration file 2026-114</td></tr>\n"
        "</table>\n", ""
    ).replace(
        "<p>Who viewed or exported this decision's memo, or was refused, as the audit trail recorded it when this "
        "memo was rendered. The view or export that produces this copy is recorded after it, and appears in the "
        "next one.</p>\n", "<p>Not viewed or exported yet.</p>\n"
    )
    # Other candidates' memos are untouched.
    assert "## Timeline" not in (flow.out / "memos" / "C-1003.md").read_text(encoding="utf-8")

    check_golden("C-1002.signoff.md", memo)
    check_golden("C-1002.signoff.html", html)


def test_the_timeline_keeps_the_order_of_steps_on_the_same_day(flow):
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC")
    flow.respond("C-ESC", "2026-11-09")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-09")
    memo = (flow.out / "memos" / "C-ESC.md").read_text(encoding="utf-8").splitlines()
    response = memo.index("- 2026-11-09: response from the candidate received")
    decision = memo.index("- 2026-11-09: final decision: withdraw by legal-counsel")
    assert response < decision


def test_a_chinese_memo_words_the_timeline_and_the_sign_off_in_chinese(flow):
    """The steps the store recorded, exported in Chinese: no English word of the steps is left."""
    flow.review("C-ESC")
    flow.notice("pre-adverse", "C-ESC", NOTICE_DAY, "--lang", "zh")
    flow.respond("C-ESC", "2026-11-09")
    flow.decide("C-ESC", "withdraw", "The offence bears directly on driving the van.", "2026-11-09")
    exported = flow.folder / "C-ESC.zh.md"
    flow.run("memo", "export", flow.ids["C-ESC"], "--user", "legal-counsel", "--purpose", "arbitration file",
             "--lang", "zh", "--format", "md", "-o", exported)
    memo = exported.read_text(encoding="utf-8")
    timeline = memo[memo.index("## 时间线"):memo.index("## 签字")]
    assert "由 hr-logistics-officer 进行个别化评估" in timeline
    assert "发出拟作出不利决定的预先通知（中文），回复截止日期为 " in timeline
    assert ("- 2026-11-09：收到候选人的回复\n- 2026-11-09：由 hr-logistics-officer 进行个别化评估\n"
            "- 2026-11-09：最终决定：撤回录用（决定人：legal-counsel）") in timeline
    assert "notice issued" not in timeline and "final decision" not in timeline
    assert "- 决定（录用 / 撤回录用 / 暂缓）：撤回录用" in memo
    assert "- 行为的性质和严重程度：" in memo and "- nature and gravity:" not in memo


def test_an_override_reason_may_be_a_chinese_sentence(flow, store_db):
    decision = flow.ids["C-ESC"]
    flow.refused(*flow.decide_args("C-ESC", "hire", "同意录用", NOTICE_DAY),
                 message="'hire' departs from the recommendation 'escalate': an override needs a reason of at least "
                         "a sentence (6 words or more) in --reason.")
    flow.decide("C-ESC", "hire", "候选人已完成戒酒课程，三年来驾驶记录良好，风险可以接受。", NOTICE_DAY, override=True)
    assert final_decisions(store_db) == {decision: ("hire", "legal-counsel", NOTICE_DAY, True)}


def test_a_response_is_recorded_only_by_a_role_that_may_review(flow, store_db):
    path = flow.folder / "response.txt"
    path.write_text("My account.", encoding="utf-8")
    flow.refused("respond", flow.ids["C-ESC"], "--user", "stranger", "--file", path, "--received-on", "2026-11-09",
                 message=f"user 'stranger' is not in the access policy {flow.policy}; ask for a role there.")
    assert store_db.count("responses") == 0
