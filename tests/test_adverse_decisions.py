"""Adverse outcomes, on SQLite and on PostgreSQL: a hold or a withdraw rests
on findings the engine weighed and a person assessed, names the duty they
bear on and the factor that decided, follows the whole order of the process
(a hold is adverse too, FCRA §603(k)), weighs the candidate's response in a
reassessment, and is told to the candidate in an adverse notice that lists
exactly the findings relied on. Every reason is at least a sentence.

Each refusal is asserted word for word, through the real command line
against a real store (the helpers of test_signoff.py); the record's clock
is set by the flow (its --at marker) or by the ``clock`` fixture.
"""

from __future__ import annotations

import datetime as dt

from conftest import (
    BATCH_COLUMNS,
    FACT_COLUMNS,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    run_cli,
    write_batch,
    write_consents,
)
from test_notices import notice_files
from test_signoff import (
    ANSWERS,
    COLLISION_ANSWERS,
    NOTICE_DAY,
    POLICY,
    SUMMARY,
    VAN_DUTY,
    Flow,
    start,
    write_organisation,
)

# A van driver with a DUI (escalate) and a no-injury 5 mph collision
# (review), both weighed, and a credit record the position does not care
# about (not relevant).
VAN_BATCH = [
    finding("C-VAN", "van_driver", "F-V1", "offense_driving", "serious", "2024-08-12",
            source="Los Angeles County Superior Court", description="Misdemeanour DUI conviction"),
    finding("C-VAN", "van_driver", "F-V2", "traffic_violation", "minor", "2026-04-22",
            source="State DMV", description="5 mph collision in a car park, no injuries"),
    finding("C-VAN", "van_driver", "F-V3", "credit_record", "moderate", "2024-01-10",
            source="Credit bureau", description="One bill in collections"),
]
# A CN payroll accountant whose only finding is a civil case they brought as plaintiff.
SHANGHAI_BATCH = [
    finding("C-SH", "payroll_accountant", "F-S1", "civil_judgment", "serious", "2025-06-01",
            party_role="plaintiff", source="上海市浦东新区人民法院", description="劳动争议，候选人为原告"),
]
SEED_REASON = "Traffic accident shows carelessness unsuitable for quality inspection work"
REASON = "The recent DUI conviction bears directly on driving the van every day."
WEIGHED = {"summary": "The programme certificate is real, but the conviction is recent.",
           "factors": {"F-V1": {"rehabilitation": "The certificate shows the DUI programme was completed."}}}
VAN_DUTIES = ('"Drives a company delivery van on public roads on fixed daily routes, loads and unloads parcels and '
              'obtains delivery signatures. Works alone at customers\' doors and collects occasional '
              'cash-on-delivery payments." / "在公共道路上按固定的每日线路驾驶公司送货车，装卸包裹并取得收货签名。'
              '独自在客户门前工作，偶尔收取货到付款。"')


def assessment() -> dict:
    """C-VAN's assessment: the DUI with a conviction's factors, the collision with the others."""
    return {"summary": SUMMARY, "findings": {"F-V1": dict(ANSWERS), "F-V2": dict(COLLISION_ANSWERS)}}


def decide(flow: Flow, candidate: str, outcome: str, reason: str, at: str, *options: str) -> list:
    """The decide command as given, recorded without asking (--yes), on the day ``at``."""
    return ["decide", flow.ids[candidate], "--approver", "legal-counsel", "--outcome", outcome,
            "--reason", reason, "--at", at, "--yes", *options]


def grounds(*finding_ids: str, duty: str = VAN_DUTY, factor: str = "nature_of_job") -> list:
    return [arg for f in finding_ids for arg in ("--relies-on", f)] + ["--duty", duty, "--deciding-factor", factor]


def final_rows(store_db) -> list[tuple]:
    rows = store_db.rows("SELECT outcome, relies_on, hold_until, reopened_by FROM final_decisions ORDER BY final_id")
    return [(r.outcome, r.relies_on, r.hold_until, r.reopened_by) for r in rows]


def van_flow(store_url, tmp_path) -> Flow:
    """C-VAN assessed (both weighed findings), noticed on Friday 2026-11-06."""
    flow = start(store_url, tmp_path, rows=VAN_BATCH, consents=[consent("C-VAN")])
    flow.review("C-VAN", data=assessment(), at="2026-11-05")
    flow.notice("pre-adverse", "C-VAN")
    return flow


# --- the seed's cases: an adverse outcome on a finding the engine set aside ----------------------------

def test_the_seed_case_hold_on_a_not_relevant_traffic_accident_is_refused(store_url, tmp_path, store_db):
    """The quality inspector's only finding, a minor traffic accident, was
    cleared as not relevant: a hold is refused, with or without naming it,
    and the message names the rule and the position's rationale."""
    flow = start(store_url, tmp_path, example=True)
    decision = flow.ids["C-1001"]
    rule = ("the engine handled it 'not_relevant' by rule NR-NOT-JOB-RELATED (A category of record with no "
            "bearing on the position's duties is not relevant); the position's relevance table says: \"The "
            "inspector works on the factory floor and never drives for work; a traffic incident says nothing "
            "about the ability to inspect parts.\"")
    flow.refused(*decide(flow, "C-1001", "hold", SEED_REASON, "2026-11-20", "--until", "2026-12-20"),
                 message="a hold is an adverse outcome and must rest on findings the engine weighed (handling "
                         f"review or escalate); this decision has none, so a hold cannot be recorded. Finding "
                         f"'F-0001': {rule}.")
    flow.refused(*decide(flow, "C-1001", "hold", SEED_REASON, "2026-11-20", "--until", "2026-12-20",
                         *grounds("F-0001", duty="Inspects finished machined parts")),
                 message=f"a hold cannot rely on finding 'F-0001': {rule}. An adverse outcome rests only on "
                         "findings the engine weighed (handling review or escalate); this decision has none.")
    assert final_rows(store_db) == []
    # Nothing stands in the way of the hire the seed could not record.
    flow.run(*decide(flow, "C-1001", "hire", "The traffic accident has no bearing on inspecting parts.", "2026-11-20"))
    assert final_rows(store_db) == [("hire", None, None, None)]


def shanghai_flow(store_url, tmp_path) -> Flow:
    """C-SH evaluated with its facts (party role) and its application for a job in Shanghai."""
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY, encoding="utf-8")
    write_organisation(folder)
    batch = write_batch(folder / "batch.csv", SHANGHAI_BATCH, BATCH_COLUMNS + FACT_COLUMNS)
    consents = write_consents(folder / "consents.csv", [consent("C-SH")])
    applications = folder / "applications.csv"
    applications.write_text("candidate_id,position_id,work_location\nC-SH,payroll_accountant,CN-SH\n", encoding="utf-8")
    out = folder / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out) + ["--applications", applications,
                                                                      "--db", store_url, "--user", "hr-runner"]))
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    return Flow(store_url, folder / "policy.yaml", folder, out, ids, "CN-SH")


def test_the_shanghai_case_hold_on_a_suit_brought_as_plaintiff_is_refused(store_url, tmp_path, store_db):
    flow = shanghai_flow(store_url, tmp_path)
    flow.refused(*decide(flow, "C-SH", "hold", "背调结果为黄灯，候选人有诉讼记录", "2026-11-20", "--until", "2026-12-20",
                         *grounds("F-S1", duty="负责每月工资发放", factor="job_relevance")),
                 message="a hold cannot rely on finding 'F-S1': the engine handled it 'excluded' by rule "
                         "EXCL-CIVIL-PLAINTIFF (A lawsuit the candidate brought as plaintiff is never considered). "
                         "An adverse outcome rests only on findings the engine weighed (handling review or "
                         "escalate); this decision has none.")
    assert final_rows(store_db) == []


# --- what an adverse outcome names ----------------------------------------------------------------------

def test_a_withdraw_names_weighed_findings_a_duty_and_a_factor(store_url, tmp_path, store_db):
    flow = van_flow(store_url, tmp_path)
    after = "2026-11-16"  # after the response period
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, after),
                 message="a withdraw is an adverse outcome: name the findings it relies on with --relies-on "
                         "FINDING_ID; findings the engine weighed: 'F-V1' and 'F-V2'.")
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, after, *grounds("F-V3")),
                 message="a withdraw cannot rely on finding 'F-V3': the engine handled it 'not_relevant' by rule "
                         "NR-NOT-JOB-RELATED (A category of record with no bearing on the position's duties is not "
                         "relevant); the position's relevance table says: \"The only money the driver handles is "
                         "small cash-on-delivery sums reconciled at the end of each route, and personal debts do not "
                         "predict safe driving or honest delivery.\". An adverse outcome rests only on findings the "
                         "engine weighed (handling review or escalate); this decision's: 'F-V1' and 'F-V2'.")
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, after, *grounds("FV1")),
                 message="finding 'FV1' is not a finding of this decision; findings the engine weighed: 'F-V1' and "
                         "'F-V2'. Did you mean 'F-V1'?")
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, after, *grounds("F-V1", duty="Drives")),
                 message="an adverse outcome names the job duty its findings bear on, with --duty: a phrase of at "
                         f"least 2 words quoted from the position's duties: {VAN_DUTIES}.")
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, after, *grounds("F-V1", duty="Handles cash all day")),
                 message="an adverse outcome names the job duty its findings bear on, with --duty: a phrase of at "
                         f"least 2 words quoted from the position's duties: {VAN_DUTIES}.")
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, after, *grounds("F-V1", factor="public_policy")),
                 message="an adverse outcome names the factor that decided it, with --deciding-factor: one answered "
                         "in the latest assessment for a finding relied on: 'nature_and_gravity', 'time_elapsed', "
                         "'nature_of_job', 'age_at_the_time', 'rehabilitation' and 'candidate_account'.")
    assert final_rows(store_db) == []
    # The duty may be quoted in Chinese, in any case of letters in English.
    flow.run(*decide(flow, "C-VAN", "withdraw", REASON, after, *grounds("F-V1", duty="驾驶公司送货车")))
    assert final_rows(store_db) == [("withdraw", '["F-V1"]', None, None)]


def test_a_hire_relies_on_no_finding(store_url, tmp_path, store_db):
    flow = van_flow(store_url, tmp_path)
    flow.refused(*decide(flow, "C-VAN", "hire", "The DUI programme was completed and the record is clean since.",
                         "2026-11-16", *grounds("F-V1")),
                 message="a hire is not adverse: it relies on no finding; leave out --relies-on, --duty and "
                         "--deciding-factor.")
    assert final_rows(store_db) == []


def test_a_one_character_reason_is_refused_even_as_recommended(store_url, tmp_path, store_db):
    flow = van_flow(store_url, tmp_path)
    flow.refused(*decide(flow, "C-VAN", "withdraw", "x", "2026-11-16", *grounds("F-V1")),
                 message="the reason for 'withdraw' must be at least a sentence (6 words or more, or 12 Chinese "
                         "characters) in --reason: it is the employer's record of why.")
    assert final_rows(store_db) == []


# --- a hold is adverse, and ends ------------------------------------------------------------------------

def test_a_hold_follows_the_order_of_a_withdraw_and_needs_an_end_date(store_url, tmp_path, store_db):
    flow = start(store_url, tmp_path, rows=VAN_BATCH, consents=[consent("C-VAN")])
    decision = flow.ids["C-VAN"]
    hold = decide(flow, "C-VAN", "hold", REASON, NOTICE_DAY, "--until", "2026-12-06", *grounds("F-V1"))
    flow.refused(*hold, message=f"a hold needs an individualized assessment first: adjudicate review {decision}.")
    flow.review("C-VAN", data=assessment(), at="2026-11-05")
    flow.refused(*hold, message="a hold needs a pre-adverse notice first, so that the candidate can respond: "
                                f"adjudicate notice pre-adverse {decision}.")
    flow.notice("pre-adverse", "C-VAN")
    flow.refused(*hold, message="the candidate may respond until 2026-11-13; a hold is possible after that day, "
                                "or once the response is recorded (adjudicate respond).")
    day = "2026-11-16"
    flow.refused(*decide(flow, "C-VAN", "hold", REASON, day, *grounds("F-V1")),
                 message="a hold needs its end date with --until YYYY-MM-DD (after today, 2026-11-16, and at most "
                         "180 days on, 2027-05-15): after it the decision is to make again.")
    for until in ("2026-11-16", "2027-05-16"):
        flow.refused(*decide(flow, "C-VAN", "hold", REASON, day, "--until", until, *grounds("F-V1")),
                     message=f"the hold cannot end on {until}: its end date is after today (2026-11-16) and at "
                             "most 180 days on (2027-05-15).")
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, day, "--until", "2026-12-16", *grounds("F-V1")),
                 message="--until is the end of a hold; a withdraw has none: leave it out.")
    assert final_rows(store_db) == []
    flow.run(*decide(flow, "C-VAN", "hold", REASON, day, "--until", "2027-05-15", *grounds("F-V1")))
    assert final_rows(store_db) == [("hold", '["F-V1"]', "2027-05-15", None)]


def test_a_hold_past_its_end_date_is_pending_again_and_decided_anew(store_url, tmp_path, store_db, clock):
    flow = van_flow(store_url, tmp_path)
    decision = flow.ids["C-VAN"]
    flow.run(*decide(flow, "C-VAN", "hold", REASON, "2026-11-16", "--until", "2026-12-16", *grounds("F-V1")))
    waiting = f"{decision}  C-VAN  van_driver  escalate: waiting for decision"
    clock.set("2026-12-16")  # its last day: the hold is still in force
    assert waiting not in flow.pending()
    flow.refused(*decide(flow, "C-VAN", "withdraw", REASON, "2026-12-16", *grounds("F-V1")),
                 message=f"decision {decision} is final already (hold until 2026-12-16, by legal-counsel).")
    clock.set("2026-12-17")
    assert waiting in flow.pending()
    flow.run(*decide(flow, "C-VAN", "withdraw", REASON, "2026-12-17", *grounds("F-V1")))
    # The hold stays in the record, reopened by its end; the withdraw is in force.
    assert final_rows(store_db) == [("hold", '["F-V1"]', "2026-12-16", "system: hold ended"),
                                    ("withdraw", '["F-V1"]', None, None)]
    assert waiting not in flow.pending()


def test_the_adverse_notice_of_a_hold_states_its_end_date(store_url, tmp_path):
    flow = van_flow(store_url, tmp_path)
    flow.run(*decide(flow, "C-VAN", "hold", REASON, "2026-11-16", "--until", "2026-12-16", *grounds("F-V1")))
    flow.notice("adverse", "C-VAN", "2026-11-17", user="legal-counsel")
    flow.notice("adverse", "C-VAN", "2026-11-17", "--lang", "zh", user="legal-counsel")
    english, _ = notice_files(flow, "C-VAN", "adverse", "en")
    assert ("we have decided to hold your application until 2026-12-16. After that day we will decide on it "
            "again.") in english
    chinese, _ = notice_files(flow, "C-VAN", "adverse", "zh")
    assert "我们决定将您的申请暂缓至2026-12-16。该日之后我们将重新作出决定。" in chinese
    # The duty typed in English, quoted in Chinese from the position's table.
    assert "这些记录涉及该职位的以下职责：“在公共道路上按固定的每日线路驾驶公司送货车，装卸包裹并取得收货签名”。" in chinese
    memo = (flow.out / "memos" / "C-VAN.md").read_text(encoding="utf-8")
    assert ("- Findings this decision relies on: F-V1\n"
            "- On hold until 2026-12-16; after that day the decision is to make again.\n") in memo


# --- the notice lists exactly what the outcome relies on ------------------------------------------------

def test_the_adverse_notice_lists_only_the_findings_relied_on(store_url, tmp_path):
    """The withdraw relies on the DUI alone: the notice does not add the 5
    mph collision as a ground, although the engine weighed it too."""
    flow = van_flow(store_url, tmp_path)
    flow.run(*decide(flow, "C-VAN", "withdraw", REASON, "2026-11-16", *grounds("F-V1")))
    flow.notice("adverse", "C-VAN", "2026-11-17", user="legal-counsel")
    markdown, html = notice_files(flow, "C-VAN", "adverse", "en")
    assert ("## Reasons\n\nThis decision relies on: Driving offence (2024-08-12). It bears on this duty of the "
            f'position: "{VAN_DUTY}". The factor that decided it: nature of job. In the words of the person who '
            f"decided: {REASON}\n\n- Driving offence, 2024-08-12, Los Angeles County Superior Court\n\n") in markdown
    assert "Traffic violation" not in markdown and "State DMV" not in markdown
    assert "Traffic violation" not in html and "2026-04-22" not in html
    memo = (flow.out / "memos" / "C-VAN.md").read_text(encoding="utf-8")
    assert "- Findings this decision relies on: F-V1\n" in memo


# --- the hearing weighed --------------------------------------------------------------------------------

def test_a_withdraw_after_a_response_needs_a_reassessment_that_weighs_it(store_url, tmp_path, store_db):
    flow = van_flow(store_url, tmp_path)
    decision = flow.ids["C-VAN"]
    flow.respond("C-VAN", "2026-11-09", "I completed the DUI programme; the certificate is attached.", reassess=False)
    withdraw = decide(flow, "C-VAN", "withdraw", REASON, "2026-11-10", *grounds("F-V1"))
    flow.refused(*withdraw, message="the candidate's response was recorded on 2026-11-09; a withdraw needs a "
                                    "reassessment after it that states how the response was weighed "
                                    f"('response_weighed'): adjudicate review {decision}.")
    # An assessment after a response must weigh it.
    flow.refused("review", decision, "--reviewer", "hr-logistics-officer",
                 "--answers", flow.answers(assessment()), "--at", "2026-11-09T10:00:00+00:00",
                 message="the candidate's response is on file: the assessment must state how it was weighed, with "
                         "'response_weighed' (a 'summary', and under 'factors', finding id -> factor -> how the "
                         "response bears on it); see docs/human-decision.md.")
    flow.refused("review", decision, "--reviewer", "hr-logistics-officer",
                 "--answers", flow.answers(assessment() | {"response_weighed": {
                     "summary": "Weighed.", "factors": {"F-V1": {"remorse": "Shown."}}}}),
                 "--at", "2026-11-09T10:00:00+00:00",
                 message="'response_weighed': finding 'F-V1' has no factor 'remorse'; factors: "
                         "'nature_and_gravity', 'time_elapsed', 'nature_of_job', 'age_at_the_time', "
                         "'rehabilitation' and 'candidate_account'.")
    assert final_rows(store_db) == []
    flow.review("C-VAN", data=assessment() | {"response_weighed": WEIGHED},
                at="2026-11-09T10:00:00+00:00")
    flow.run(*withdraw)
    assert final_rows(store_db) == [("withdraw", '["F-V1"]', None, None)]
    memo = (flow.out / "memos" / "C-VAN.md").read_text(encoding="utf-8")
    assert (f"How the candidate's response was weighed: {WEIGHED['summary']}\n\n"
            "- rehabilitation (F-V1): The certificate shows the DUI programme was completed.\n") in memo


def test_the_approver_sees_the_response_and_the_notice_reasons_before_confirming(store_url, tmp_path, store_db):
    flow = van_flow(store_url, tmp_path)
    flow.respond("C-VAN", "2026-11-09", "I completed the DUI programme.\nThe certificate is attached.")
    asked = [arg for arg in decide(flow, "C-VAN", "withdraw", REASON, "2026-11-10", *grounds("F-V1")) if arg != "--yes"]
    declined = flow.run(*asked, "--input", "n\n", code=1)
    assert final_rows(store_db) == []
    assert declined.stderr.endswith("Error: the decision was not confirmed; nothing is recorded.\n")
    confirmed = flow.run(*asked, "--input", "y\n")
    assert confirmed.stderr == (
        "The candidate's latest response:\n"
        "  I completed the DUI programme.\n"
        "  The certificate is attached.\n"
        "How the reassessment weighed it: The response confirms the programme was completed; the conviction still "
        "bears on driving.\n"
        "Outcome: withdraw. The adverse notice (en) will state as its reasons:\n"
        "  This decision relies on: Driving offence (2024-08-12). It bears on this duty of the position: "
        f"\"{VAN_DUTY}\". The factor that decided it: nature of job. In the words of the person who decided: "
        f"{REASON}\n"
        "Record this decision? [y/N]: y\n"  # (the runner echoes what was typed)
    )
    assert confirmed.stdout == f"Recorded: withdraw for {flow.ids['C-VAN']} by legal-counsel.\n"
    assert final_rows(store_db) == [("withdraw", '["F-V1"]', None, None)]


def test_the_decision_is_dated_by_the_record_clock(store_url, tmp_path, store_db):
    flow = van_flow(store_url, tmp_path)
    flow.run(*decide(flow, "C-VAN", "withdraw", REASON, "2026-11-16T14:05:09+00:00", *grounds("F-V1")))
    assert store_db.scalar("SELECT decided_at FROM final_decisions") == "2026-11-16T14:05:09+00:00"
    result = flow.run(*decide(flow, "C-VAN", "withdraw", REASON, "2026-11-16", "--today", "2026-11-01"), code=2)
    assert "No such option '--today'" in result.stderr
    assert dt.date.fromisoformat(store_db.scalar("SELECT decided_at FROM final_decisions")[:10]) == dt.date(2026, 11, 16)
