"""The store behind one boundary: the record functions that the workflow and
replay call return typed records (frozen dataclasses, named tuples and the
vocabulary's enums), on a real store, and the words stored stay the words
people read."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from conftest import ROOT, EXAMPLE_BATCH, EXAMPLE_CONSENTS, assert_clean_exit, evaluate_args, read_csv, run_cli
from engine.errors import StoreError
from engine.record import history, human, stored
from engine.record.access import ACTIONS
from engine.record.store import Store, StoredDecision
from engine.vocabulary import AuditAction, NoticeKind, Outcome, Permission, Recommendation, WaitingFor
from engine.workflow import signoff

ASSESSMENT = {"summary": "Recent and directly relevant.", "findings": {"F-1": {"time_elapsed": "two years"}}}


@pytest.fixture
def evaluated(store_url, tmp_path):
    """The shipped example evaluated into the store under test: (store, decision ids by candidate)."""
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out) + ["--db", store_url]))
    ids = {row["candidate_id"]: row["decision_id"] for row in read_csv(out / "decisions.csv")}
    return Store(store_url, announce=lambda message: None, create=False), ids


def _frozen(record) -> None:
    assert dataclasses.is_dataclass(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.decision_id = "changed"


def test_a_stored_decision_is_a_frozen_record_with_its_recommendation_as_a_word(evaluated):
    store, ids = evaluated
    with store.reading() as connection:
        row = store.decision(connection, ids["C-1002"])
    assert isinstance(row, StoredDecision)
    _frozen(row)
    assert row.recommendation is Recommendation.ESCALATE
    assert (row.candidate_id, row.position_id, row.as_of, row.purged_on) == ("C-1002", "van_driver", "2026-11-01", None)
    assert isinstance(row.canonical_input, bytes)


def test_the_steps_of_the_human_decision_round_trip_as_typed_records(evaluated):
    store, ids = evaluated
    decision_id = ids["C-1002"]
    issued, deadline = dt.date(2026, 11, 2), dt.date(2026, 11, 9)
    with store.transaction() as connection:
        assert human.steps_of(connection, decision_id) == human.Steps(None, None, None, None)
        human.record_review(store, connection, decision_id, reviewer="hr-logistics-officer",
                            reviewed_at="2026-11-02T09:00:00+00:00", assessment=ASSESSMENT)
        human.record_notice(connection, human.Notice(decision_id, NoticeKind.PRE_ADVERSE, issued, deadline, "en",
                                                     "hr-logistics-officer"), issued_at="2026-11-02T10:00:00+00:00")
        human.record_response(store, connection, decision_id, recorded_by="hr-logistics-officer",
                              received_on=dt.date(2026, 11, 5), content="The record is not mine.",
                              recorded_at="2026-11-05T09:00:00+00:00")
        human.record_final_decision(
            store, connection, human.FinalDecision(decision_id, Outcome.HOLD, "legal-counsel", "2026-11-10", False),
            "Awaiting the court's letter.",
        )
    with store.reading() as connection:
        steps = human.steps_of(connection, decision_id)
        assert steps.review == human.Review(decision_id, "hr-logistics-officer", "2026-11-02T09:00:00+00:00")
        assert steps.pre_adverse == human.Notice(decision_id, NoticeKind.PRE_ADVERSE, issued, deadline, "en",
                                                 "hr-logistics-officer")
        assert steps.response == human.Response(decision_id, dt.date(2026, 11, 5), "hr-logistics-officer",
                                                "2026-11-05T09:00:00+00:00")
        assert human.response_text(store, connection, steps.response) == "The record is not mine."
        assert steps.final == human.FinalDecision(decision_id, Outcome.HOLD, "legal-counsel", "2026-11-10", False)
        for record in (steps, steps.review, steps.pre_adverse, steps.response, steps.final):
            _frozen(record)
        assert steps.pre_adverse.kind is NoticeKind.PRE_ADVERSE and steps.final.outcome is Outcome.HOLD
        assert human.assessment_of(store, connection, decision_id) == ("hr-logistics-officer", ASSESSMENT)
        assert human.final_reason(store, connection, decision_id) == "Awaiting the court's letter."
        assert human.notices_of(connection, decision_id) == (steps.pre_adverse,)
        assert human.notice_of(connection, decision_id, NoticeKind.ADVERSE) is None
        assert decision_id not in human.undecided(connection)
        state = signoff.state(connection, store, decision_id)
        assert (state.outcome, state.deadline, state.waiting_for) == (Outcome.HOLD, deadline, None)
        # The store keeps the words, as before the vocabulary had members.
        kind, outcome = connection.exec_driver_sql(
            "SELECT n.kind, f.outcome FROM notices n JOIN final_decisions f ON f.decision_id = n.decision_id"
        ).one()
    assert (type(kind), kind, type(outcome), outcome) == (str, "pre_adverse", str, "hold")


def test_pending_names_the_step_each_decision_waits_on(evaluated):
    store, ids = evaluated
    with store.reading() as connection:
        undecided = human.undecided(connection)
        waiting = {s.candidate_id: s.waiting_for for s in signoff.pending(connection, store)}
    assert set(ids.values()) >= set(undecided) and len(undecided) == len(ids)
    assert waiting["C-1002"] is WaitingFor.REVIEW
    assert all(isinstance(w, WaitingFor) for w in waiting.values())
    assert f"waiting for {WaitingFor.RESPONSE}" == "waiting for response"


def test_what_replay_needs_comes_as_typed_records(evaluated):
    store, ids = evaluated
    with store.reading() as connection:
        row = store.decision(connection, ids["C-1002"])
        batch = stored.batch_of(connection, row.batch_id)
        tables = stored.tables_text(connection, row.tables_sha256)
        findings = stored.findings_of(connection, row.decision_id)
        members = stored.decisions_of_batch(connection, row.batch_id)
        rulebook = stored.rulebook_text(connection, row.rulebook_sha256)
        unknown = stored.decisions_of_batch(connection, "B-none")
    assert isinstance(batch, stored.StoredBatch) and batch.batch_id == row.batch_id
    assert (batch.input_file, batch.consents_file, batch.as_of) == ("batch.csv", "consents.csv", "2026-11-01")
    assert isinstance(tables, stored.StoredTables) and tables.positions.startswith("position_id")
    assert rulebook == (ROOT / "rules" / "rulebook.yaml").read_text(encoding="utf-8")
    assert findings and all(isinstance(f, stored.StoredFinding) for f in findings)
    assert {f.decision_id for f in findings} == {row.decision_id}
    assert all(isinstance(f.handling, str) for f in findings)  # the words as stored, for replay to compare
    assert [m.decision_id for m in members] == sorted(ids.values())
    assert all(isinstance(m, stored.BatchMember) and m.purged_on is None for m in members)
    assert unknown == []


def test_the_history_behind_the_consistency_report_is_typed(evaluated):
    store, ids = evaluated
    with store.reading() as connection:
        past = history.past_decisions(connection)
        later = history.past_decisions(connection, since=dt.date(2026, 11, 2))
    assert later == []
    assert sorted(p.decision_id for p in past) == sorted(ids.values())
    assert all(isinstance(p, history.PastDecision) for p in past)
    assert all(isinstance(p.recommendation, Recommendation) and p.outcome is None and not p.override for p in past)
    assert {p.rulebook_version for p in past} == {"1.5.0"}


def test_a_word_the_vocabulary_does_not_know_is_a_store_error_not_a_traceback(evaluated, store_db):
    store, ids = evaluated
    store_db.execute("UPDATE decisions SET recommendation = 'maybe' WHERE decision_id = :d", d=ids["C-1002"])
    with store.reading() as connection, pytest.raises(StoreError, match="'maybe' in the store"):
        store.decision(connection, ids["C-1002"])


def test_the_vocabulary_keeps_the_words_people_read_and_the_policy_lists():
    assert Outcome.words() == signoff.OUTCOMES == ("hire", "hold", "withdraw")
    assert NoticeKind.words() == ("pre_adverse", "adverse")
    assert Permission.words() == ACTIONS == ("view", "review", "decide", "hold", "void", "reopen")
    assert [o.rank for o in Outcome] == [1, 2, 3]  # from the least to the most adverse
    assert AuditAction.notice_issued(NoticeKind.PRE_ADVERSE) == "pre-adverse notice issued"
    assert AuditAction.notice_issued("adverse") is AuditAction.ADVERSE_NOTICE_ISSUED
    assert signoff.is_override(Recommendation.ESCALATE, Outcome.HIRE)
    assert not signoff.is_override("review", "hold")  # words from the command line count alike
