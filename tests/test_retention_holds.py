"""Retention by the law of the work location, counted from the final
decision, and litigation holds that keep a decision from purge until a
person with the role to do so releases them.

Sources: 29 CFR 1602.14 (US: one year from the record or the personnel
action; records relevant to a charge kept until its final disposition),
2 CCR §11013(c) (California: four years), the Los Angeles Fair Chance
ordinance (three years), PIPL Art. 19 (the PRC: the shortest period
necessary). Every step runs through the real command line against a real
store, on SQLite and on PostgreSQL (``store_url``).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import assert_clean_exit, run_cli
from engine.errors import InvalidConfiguration
from engine.record.access import load_policy
from test_signoff import NOTICE_DAY, POLICY, SMALL_BATCH, SMALL_CONSENTS, audit_rows, start

RETENTION = """\
retention:
  default_days: 365
  positions:
    childcare_worker: 1095
  work_locations:
    US: {at_least: 365}
    US-CA: {at_least: 1460}
    US-CA-LA: {at_least: 1095}
    CN: {at_most: 180}
"""

# The signoff tests' policy, with legal staff who may place holds, and the
# retention above.
HOLD_POLICY = POLICY.replace("may: [view, review, decide]", "may: [view, review, decide, hold]", 1) + RETENTION
MATTER = "Arbitration claim filed by the candidate on 2026-11-20, case 2026-117."
CLOSED = "The arbitration award of 2027-03-02 is final and no appeal was lodged."


def policy_file(tmp_path, text):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_retention_period_follows_the_law_of_the_work_location(tmp_path):
    policy = load_policy(policy_file(tmp_path, RETENTION), required=True)
    days = policy.retention_days
    assert days("van_driver", "") == 365  # no work location known: the position's days (the default)
    assert days("van_driver", "DE-BE") == 365  # a place the policy does not name
    assert days("van_driver", "US-NY-NYC") == 365  # inside US
    assert days("van_driver", "US-CA") == 1460
    # Los Angeles asks three years, California four: the longer minimum of
    # the jurisdictions the job lies in applies.
    assert days("van_driver", "US-CA-LA") == 1460
    assert days("childcare_worker", "US-IL") == 1095  # the position keeps longer than the law asks
    # The PRC: the shortest period necessary, a maximum over the position's days.
    assert days("childcare_worker", "CN-SH") == 180
    assert days("van_driver", "CN") == 180
    assert policy.retain_until("van_driver", dt.date(2026, 11, 6), "US-CA") == dt.date(2030, 11, 5)


@pytest.mark.parametrize(("entries", "message"), [
    ("    CN: {at_most: 100}\n    CN-SH: {at_least: 200}\n",
     "policy.yaml:4: work location 'CN' keeps records at most 100 days, but 'CN-SH' asks for at least 200: "
     "no period meets both."),
    ("    US: {at_leats: 365}\n",
     "policy.yaml:4: unknown key 'at_leats' in work location 'US'; allowed keys: 'at_least' or 'at_most'. "
     "Did you mean 'at_least'?"),
    ("    california: {at_least: 1460}\n", "policy.yaml:4: 'california' in 'retention: work_locations' is not a work location"),
    ("    US: {at_least: 0}\n",
     "policy.yaml:4: 'at_least' of work location 'US' must be a whole number of days, at least 1."),
    ("    US: 365\n", "policy.yaml:4: work location 'US' in 'retention' needs at_least: DAYS and/or at_most: DAYS."),
])
def test_a_retention_policy_that_cannot_be_kept_to_is_refused_with_its_line(tmp_path, entries, message):
    path = policy_file(tmp_path, "retention:\n  default_days: 365\n  work_locations:\n" + entries)
    with pytest.raises(InvalidConfiguration) as raised:
        load_policy(path, required=True)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_an_unknown_key_in_retention_is_refused(tmp_path):
    path = policy_file(tmp_path, "retention:\n  default_days: 365\n  default_dais: 30\n")
    with pytest.raises(InvalidConfiguration) as raised:
        load_policy(path, required=True)
    assert "policy.yaml:3: unknown key 'default_dais' in 'retention'" in str(raised.value)



def test_an_evaluation_keeps_each_decision_as_long_as_the_law_of_its_work_location_asks(store_url, store_db, tmp_path):
    start(store_url, tmp_path, rows=SMALL_BATCH[:3], consents=SMALL_CONSENTS, policy=HOLD_POLICY)
    batch = tmp_path / "flow" / "batch.csv"
    applications = tmp_path / "applications.csv"
    applications.write_text(
        "candidate_id,position_id,work_location\nC-ESC,van_driver,US-CA\nC-REV,van_driver,CN-SH\nC-OK,van_driver,\n",
        encoding="utf-8",
    )
    result = run_cli(["evaluate", batch, "--consents", tmp_path / "flow" / "consents.csv",
                      "--applications", applications, "--as-of", "2026-11-01", "--out", tmp_path / "out2",
                      "--db", store_url, "--policy", tmp_path / "flow" / "policy.yaml", "--user", "hr-runner"])
    assert_clean_exit(result)
    rows = store_db.rows(
        "SELECT d.candidate_id, d.retain_until, b.applications_file FROM decisions d JOIN batches b USING (batch_id) "
        "WHERE b.applications_file IS NOT NULL"
    )
    assert {r.candidate_id: r.retain_until for r in rows} == {
        "C-ESC": "2030-10-31",  # California: four years
        "C-REV": "2027-04-30",  # the PRC: at most 180 days
        "C-OK": "2027-11-01",  # no work location: the position's year
    }


def test_the_final_decision_restarts_the_retention_period(store_url, store_db, tmp_path):
    flow = start(store_url, tmp_path, rows=SMALL_BATCH[:3], consents=SMALL_CONSENTS, policy=HOLD_POLICY)
    decision = flow.ids["C-OK"]
    assert store_db.scalar("SELECT retain_until FROM decisions WHERE decision_id = :d", d=decision) == "2027-11-01"
    flow.decide("C-OK", "hire", "Nothing stands in the way of the hire.", today=NOTICE_DAY)
    # Counted again from the decision of 2026-11-06 (29 CFR 1602.14: from the personnel action).
    assert store_db.scalar("SELECT retain_until FROM decisions WHERE decision_id = :d", d=decision) == "2027-11-06"


def test_a_litigation_hold_keeps_a_decision_from_purge_until_a_person_releases_it(store_url, store_db, tmp_path):
    flow = start(store_url, tmp_path, rows=SMALL_BATCH[:3], consents=SMALL_CONSENTS, policy=HOLD_POLICY)
    held, other = flow.ids["C-ESC"], flow.ids["C-OK"]
    policy = ["--policy", flow.policy]

    # Refused: a reason that says nothing, a role that may not hold, an unknown decision.
    flow.refused("hold", held, "--user", "legal-counsel", "--reason", "claim", *policy,
                 message="placing a litigation hold needs a reason of at least a sentence (6 words or more) in "
                         "--reason: the matter, the claim or the decision that closed it.")
    flow.refused("hold", held, "--user", "hr-logistics-officer", "--reason", MATTER, *policy,
                 message="user 'hr-logistics-officer' (roles logistics) may not place or release a litigation hold "
                         "for the position 'van_driver'.")
    assert audit_rows(store_db, held)[-1] == ("hr-logistics-officer", "access denied", {"attempted": "hold"})

    result = flow.run("hold", held, "--user", "legal-counsel", "--reason", MATTER, *policy)
    assert result.stdout == f"{held}: litigation hold placed; purge keeps its data until the hold is released.\n"
    assert audit_rows(store_db, held)[-1] == ("legal-counsel", "litigation hold placed", {"reason": MATTER})
    placed_at = store_db.scalar("SELECT placed_at FROM holds WHERE decision_id = :d", d=held)
    flow.refused("hold", held, "--user", "second-counsel", "--reason", MATTER, *policy,
                 message=f"decision {held} is under a litigation hold already, placed by legal-counsel at "
                         f"{placed_at}: release it first to place another.")

    # Past every retention period: the held decision is kept whole, the others go.
    result = flow.run("purge", "--as-of", "2031-01-01", "--user", "records-officer")
    assert "Destroyed the personal data of 2 decisions" in result.stdout
    assert result.stdout.endswith(f"Kept under a litigation hold, although past retention: 1 decision.\n  {held}\n")
    kept = store_db.rows("SELECT purged_on, canonical_input, candidate_id FROM decisions WHERE decision_id = :d", d=held)[0]
    assert kept.purged_on is None and kept.canonical_input is not None and kept.candidate_id == "C-ESC"
    assert store_db.scalar("SELECT purged_on FROM decisions WHERE decision_id = :d", d=other) is not None
    purged = [json.loads(r.detail) for r in store_db.rows("SELECT detail FROM audit_log WHERE action = 'data purged'")]
    assert purged[-1]["kept_under_hold"] == [held]

    # Released by a person who may: the hold stays in the record, and purge may destroy the data.
    flow.refused("hold", held, "--release", "--user", "legal-counsel", "--reason", "done", *policy,
                 message="releasing a litigation hold needs a reason of at least a sentence (6 words or more) in "
                         "--reason: the matter, the claim or the decision that closed it.")
    result = flow.run("hold", held, "--release", "--user", "second-counsel", "--reason", CLOSED, *policy)
    assert result.stdout == (f"{held}: litigation hold released; purge may destroy its data once its retention "
                             "ends.\n")
    flow.refused("hold", held, "--release", "--user", "legal-counsel", "--reason", CLOSED, *policy,
                 message=f"decision {held} has no litigation hold in force.")
    row = store_db.rows("SELECT placed_by, reason, released_by, release_reason FROM holds WHERE decision_id = :d", d=held)
    assert [tuple(r) for r in row] == [("legal-counsel", MATTER, "second-counsel", CLOSED)]
    assert audit_rows(store_db, held)[-1] == ("second-counsel", "litigation hold released", {"reason": CLOSED})
    result = flow.run("purge", "--as-of", "2031-01-01", "--user", "records-officer")
    assert result.stdout.startswith("Destroyed the personal data of 1 decision ")
    assert store_db.scalar("SELECT purged_on FROM decisions WHERE decision_id = :d", d=held) is not None
    # A purged decision has nothing left to hold.
    flow.refused("hold", held, "--user", "legal-counsel", "--reason", MATTER, *policy,
                 message=f"decision {held} was purged on {dt.date.today().isoformat()}: there is no personal data "
                         "left to hold.")
