"""How findings are judged: the cases the issue names, run end to end
through the command line and the shipped rulebook (durable-rules decides
every handling; nothing here is mocked)."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from conftest import (
    AS_OF,
    CATEGORIES,
    RULES,
    consent,
    finding,
    relevance_row,
    years_before,
)
from engine.rulebook.compiled import Signature, engine_for
from engine.rulebook.model import load_rulebook
from engine.vocabulary import Disposition, Handling, Lookback, Relevance, RiskLevel, Severity

RECENT = "2026-06-15"  # well inside every lookback of the shipped tables


# --- the quality inspector and the van driver -------------------------------------


def test_minor_traffic_accident_is_not_relevant_for_a_quality_inspector(adjudicate):
    description = "Rear-end bump at a car park exit, no injuries, settled by insurers"
    outcome = adjudicate([
        finding("C-QI", "quality_inspector", "F-QI", "traffic_violation", "minor", RECENT,
                disposition="confirmed", source="City traffic police", description=description),
    ])

    row = outcome.findings["F-QI"]
    assert (row["relevance"], row["handling"], row["rule_id"]) == ("none", "not_relevant", "NR-NOT-JOB-RELATED")
    assert outcome.decisions["C-QI"]["recommendation"] == "proceed"
    assert outcome.decisions["C-QI"]["reason"] == ""
    for kind in ("md", "html"):
        memo = outcome.memo("C-QI", kind)
        assert "not held against the candidate" in memo
        assert "No finding weighs on the recommendation" in memo
        # Minimisation: a finding that does not count is counted, not described.
        assert description not in memo
        assert "City traffic police" not in memo


def test_the_same_minor_traffic_accident_is_directly_relevant_for_a_van_driver(adjudicate):
    description = "Rear-end bump at a car park exit, no injuries, settled by insurers"
    outcome = adjudicate([
        finding("C-VD", "van_driver", "F-VD", "traffic_violation", "minor", RECENT,
                disposition="confirmed", description=description),
    ])

    row = outcome.findings["F-VD"]
    # A van driver's position is high risk: a minor direct finding needs review.
    assert (row["relevance"], row["handling"], row["rule_id"]) == ("direct", "review", "REV-DIRECT-MINOR-HIGH-RISK")
    assert outcome.decisions["C-VD"]["recommendation"] == "review"
    for kind in ("md", "html"):
        memo = outcome.memo("C-VD", kind)
        assert description in memo
        assert "REV-DIRECT-MINOR-HIGH-RISK" in memo


def test_a_serious_driving_offence_is_escalated_for_a_van_driver(adjudicate):
    outcome = adjudicate([
        finding("C-VD", "van_driver", "F-DUI", "offense_driving", "serious", "2024-03-02",
                disposition="confirmed", description="DUI conviction"),
    ])

    row = outcome.findings["F-DUI"]
    assert (row["relevance"], row["handling"], row["rule_id"]) == ("direct", "escalate", "ESC-DIRECT-SERIOUS")
    assert outcome.decisions["C-VD"]["recommendation"] == "escalate"


def test_the_same_risk_gets_the_same_handling_for_every_candidate(adjudicate):
    rows = [
        finding(f"C-{n}", "van_driver", f"F-{n}", "traffic_violation", "minor", day,
                description=f"incident number {n}")
        for n, day in enumerate(["2026-01-10", "2025-07-04", "2026-10-31"], start=1)
    ]
    outcome = adjudicate(rows)
    handlings = {(r["handling"], r["rule_id"]) for r in outcome.findings.values()}
    assert handlings == {("review", "REV-DIRECT-MINOR-HIGH-RISK")}


# --- dispositions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "rule_id"),
    [
        ("sealed", "EXCL-SEALED"),
        ("not_convicted", "EXCL-NOT-CONVICTED"),
        ("disputed", "EXCL-DISPUTED"),
    ],
)
def test_records_that_may_not_be_considered_are_excluded(adjudicate, disposition, rule_id):
    # Serious, recent and directly relevant: it would be escalated if confirmed.
    description = "Reckless driving on the motorway"
    outcome = adjudicate([
        finding("C-1", "van_driver", "F-1", "offense_driving", "serious", RECENT,
                disposition=disposition, description=description),
    ])

    row = outcome.findings["F-1"]
    assert (row["disposition"], row["handling"], row["rule_id"]) == (disposition, "excluded", rule_id)
    # Minimisation: only that it was excluded and why.
    assert (row["category"], row["severity"], row["relevance"]) == ("", "", "")
    # A disputed record that would be escalated if confirmed holds the decision.
    expected = "on_hold" if disposition == "disputed" else "proceed"
    assert outcome.decisions["C-1"]["recommendation"] == expected
    for kind in ("md", "html"):
        memo = outcome.memo("C-1", kind)
        assert rule_id in memo  # counted, with its ground...
        assert description not in memo  # ...but never described


def test_a_disputed_record_memo_says_the_dispute_is_open(adjudicate):
    outcome = adjudicate([
        finding("C-1", "financial_controller", "F-1", "credit_record", "moderate", RECENT,
                disposition="disputed", description="Collection account the candidate calls identity theft"),
    ])
    assert outcome.findings["F-1"]["handling"] == "excluded"
    for kind in ("md", "html"):
        memo = outcome.memo("C-1", kind)
        assert "A dispute is open and the record cannot be used until it is resolved" in memo


@pytest.mark.parametrize("severity", ["serious", "severe"])
def test_a_pending_serious_direct_charge_is_reviewed_never_escalated(adjudicate, severity):
    outcome = adjudicate([
        finding("C-1", "van_driver", "F-1", "offense_driving", severity, RECENT, disposition="pending"),
    ])
    row = outcome.findings["F-1"]
    assert (row["relevance"], row["handling"], row["rule_id"]) == ("direct", "review", "PEND-CAP")
    assert outcome.decisions["C-1"]["recommendation"] == "review"


def test_a_blank_disposition_means_confirmed(adjudicate):
    outcome = adjudicate([
        finding("C-1", "van_driver", "F-BLANK", "offense_driving", "serious", RECENT, disposition=""),
        finding("C-2", "van_driver", "F-CONF", "offense_driving", "serious", RECENT, disposition="confirmed"),
    ])
    blank, confirmed = outcome.findings["F-BLANK"], outcome.findings["F-CONF"]
    assert blank["disposition"] == "confirmed"
    assert (blank["handling"], blank["rule_id"]) == (confirmed["handling"], confirmed["rule_id"]) == (
        "escalate", "ESC-DIRECT-SERIOUS",
    )


# --- lookback ----------------------------------------------------------------------


def _lookback_years(position_id, category) -> int:
    return int(relevance_row(position_id, category)["lookback_years"])


def test_a_finding_older_than_the_lookback_is_not_relevant(adjudicate):
    years = _lookback_years("van_driver", "offense_driving")
    old = years_before(AS_OF, years + 2).isoformat()
    outcome = adjudicate([
        finding("C-1", "van_driver", "F-OLD", "offense_driving", "severe", old, description="old DUI"),
    ])
    row = outcome.findings["F-OLD"]
    assert (row["handling"], row["rule_id"]) == ("not_relevant", "NR-OUTSIDE-LOOKBACK")
    assert outcome.decisions["C-1"]["recommendation"] == "proceed"
    memo = outcome.memo("C-1")
    assert f"older than the {years}-year lookback period" in memo
    assert "old DUI" not in memo


def test_lookback_boundary_is_inclusive_to_the_day(adjudicate):
    years = _lookback_years("van_driver", "traffic_violation")
    exactly = years_before(AS_OF, years)  # exactly N years old on the evaluation date
    one_day_more = exactly - dt.timedelta(days=1)
    one_day_less = exactly + dt.timedelta(days=1)
    outcome = adjudicate([
        finding("C-1", "van_driver", "F-EXACT", "traffic_violation", "minor", exactly.isoformat()),
        finding("C-2", "van_driver", "F-OLDER", "traffic_violation", "minor", one_day_more.isoformat()),
        finding("C-3", "van_driver", "F-YOUNGER", "traffic_violation", "minor", one_day_less.isoformat()),
    ])
    assert outcome.findings["F-EXACT"]["handling"] == "review"
    assert outcome.findings["F-EXACT"]["rule_id"] == "REV-DIRECT-MINOR-HIGH-RISK"
    assert outcome.findings["F-YOUNGER"]["handling"] == "review"
    assert (outcome.findings["F-OLDER"]["handling"], outcome.findings["F-OLDER"]["rule_id"]) == (
        "not_relevant", "NR-OUTSIDE-LOOKBACK",
    )


# --- consent -------------------------------------------------------------------------


def test_a_category_outside_the_signed_scope_is_excluded_before_the_rules(adjudicate):
    outside = "Speeding ticket the candidate did not authorise us to check"
    outcome = adjudicate(
        [
            finding("C-1", "van_driver", "F-OUT", "traffic_violation", "minor", RECENT, description=outside),
            finding("C-1", "van_driver", "F-IN", "license_issue", "minor", RECENT, description="licence lapsed"),
        ],
        consents=[consent("C-1", ["license_issue", "offense_driving"])],
    )
    out_row, in_row = outcome.findings["F-OUT"], outcome.findings["F-IN"]
    assert (out_row["handling"], out_row["rule_id"]) == ("excluded", "CONSENT-SCOPE")
    assert (in_row["handling"], in_row["rule_id"]) == ("review", "REV-DIRECT-MINOR-HIGH-RISK")
    assert outcome.decisions["C-1"]["recommendation"] == "review"
    for kind in ("md", "html"):
        memo = outcome.memo("C-1", kind)
        assert "CONSENT-SCOPE" in memo
        assert outside not in memo
        assert "licence lapsed" in memo


def test_a_scope_that_excludes_the_only_serious_finding_gives_proceed(adjudicate):
    outcome = adjudicate(
        [finding("C-1", "van_driver", "F-1", "offense_driving", "severe", RECENT)],
        consents=[consent("C-1", ["traffic_violation"])],
    )
    assert outcome.findings["F-1"]["rule_id"] == "CONSENT-SCOPE"
    assert outcome.decisions["C-1"]["recommendation"] == "proceed"


def test_an_expired_consent_means_not_evaluated_and_no_finding_used(adjudicate):
    description = "Serious DUI that must not be looked at"
    outcome = adjudicate(
        [
            finding("C-1", "van_driver", "F-1", "offense_driving", "serious", RECENT, description=description),
            finding("C-1", "van_driver", "F-2", "traffic_violation", "minor", RECENT),
        ],
        consents=[consent("C-1", signed_on="2025-10-01", expires_on="2026-10-31")],
    )
    decision = outcome.decisions["C-1"]
    assert decision["recommendation"] == "not_evaluated"
    assert "2026-10-31" in decision["reason"]
    assert "expired" in decision["reason"]
    assert {(r["handling"], r["rule_id"]) for r in outcome.findings.values()} == {("excluded", "CONSENT-MISSING")}
    for kind in ("md", "html"):
        memo = outcome.memo("C-1", kind)
        assert description not in memo
        assert "2026-10-31" in memo


def test_no_consent_on_file_means_not_evaluated(adjudicate):
    outcome = adjudicate(
        [
            finding("C-1", "van_driver", "F-1", "offense_driving", "serious", RECENT),
            finding("C-2", "van_driver", "F-2", "offense_driving", "serious", RECENT),
        ],
        consents=[consent("C-2")],
    )
    assert outcome.decisions["C-1"]["recommendation"] == "not_evaluated"
    assert "no consent" in outcome.decisions["C-1"]["reason"]
    assert (outcome.findings["F-1"]["handling"], outcome.findings["F-1"]["rule_id"]) == ("excluded", "CONSENT-MISSING")
    # The other candidate's consent is not borrowed, and does not change.
    assert outcome.decisions["C-2"]["recommendation"] == "escalate"


def test_a_consent_expiring_on_the_evaluation_date_is_still_valid(adjudicate):
    outcome = adjudicate(
        [finding("C-1", "van_driver", "F-1", "offense_driving", "serious", RECENT)],
        consents=[consent("C-1", signed_on="2025-11-01", expires_on=AS_OF.isoformat())],
    )
    assert outcome.decisions["C-1"]["recommendation"] == "escalate"
    assert outcome.decisions["C-1"]["reason"] == ""
    assert outcome.findings["F-1"]["rule_id"] == "ESC-DIRECT-SERIOUS"


def test_a_consent_signed_after_the_evaluation_date_is_not_in_force(adjudicate):
    outcome = adjudicate(
        [finding("C-1", "van_driver", "F-1", "offense_driving", "serious", RECENT)],
        consents=[consent("C-1", signed_on="2026-11-02", expires_on="2027-11-02")],
    )
    assert outcome.decisions["C-1"]["recommendation"] == "not_evaluated"
    assert outcome.findings["F-1"]["rule_id"] == "CONSENT-MISSING"


# --- the whole space of risk signatures -----------------------------------------------

SHIPPED = load_rulebook(RULES)
ALL_SIGNATURES = [
    Signature(*values)
    for values in itertools.product(SHIPPED.categories, Severity, Disposition, Relevance, RiskLevel, Lookback)
]


@pytest.fixture(scope="module")
def judged_space():
    """Every signature of the shipped rulebook judged by durable-rules."""
    judgements = engine_for(SHIPPED).judge(ALL_SIGNATURES)
    assert set(judgements) == set(ALL_SIGNATURES)
    return judgements


def test_the_space_covers_every_category_of_the_default_taxonomy():
    assert tuple(SHIPPED.categories) == CATEGORIES
    assert len(ALL_SIGNATURES) == len(CATEGORIES) * 4 * 7 * 3 * 4 * 2


def test_every_signature_is_covered_by_a_rule(judged_space):
    uncovered = [signature for signature, judgement in judged_space.items() if judgement.rule_id == "NO-RULE"]
    assert uncovered == []


def _raise(signature: Signature, name: str):
    """The signature with ``name`` one step more serious, or None at the top."""
    vocabulary = {"severity": Severity, "relevance": Relevance, "risk_level": RiskLevel}[name]
    members = list(vocabulary)
    position = members.index(getattr(signature, name))
    if position + 1 == len(members):
        return None
    return signature._replace(**{name: members[position + 1]})


@pytest.mark.parametrize("name", ["severity", "relevance", "risk_level"])
def test_handling_never_decreases_when_the_risk_rises(judged_space, name):
    decreases = []
    for signature, judgement in judged_space.items():
        higher = _raise(signature, name)
        if higher is None:
            continue
        if judged_space[higher].handling.weight < judgement.handling.weight:
            decreases.append((signature, judgement.handling, judged_space[higher].handling))
    assert decreases == []


def _expected_by_the_issue(signature: Signature) -> Handling:
    """The default rulebook behaviour, as the issue words it."""
    if signature.disposition in (
        Disposition.SEALED, Disposition.NOT_CONVICTED, Disposition.DISPUTED, Disposition.DIVERSION
    ):
        return Handling.EXCLUDED
    if signature.relevance is Relevance.NONE or signature.lookback is Lookback.OUTSIDE:
        return Handling.NOT_RELEVANT
    serious = signature.severity in (Severity.SERIOUS, Severity.SEVERE)
    if signature.relevance is Relevance.DIRECT:
        if serious:
            handling = Handling.ESCALATE
        elif signature.risk_level in (RiskLevel.HIGH, RiskLevel.CRITICAL):
            handling = Handling.REVIEW
        else:
            handling = Handling.NOTE
    else:
        handling = Handling.REVIEW if serious else Handling.NOTE
    if signature.disposition in (Disposition.PENDING, Disposition.DEFERRED) and handling is Handling.ESCALATE:
        handling = Handling.REVIEW  # pending charges and deferred adjudications: never above review
    return handling


def test_the_default_rulebook_does_what_the_issue_says_for_every_signature(judged_space):
    wrong = [
        (signature, judgement.handling, _expected_by_the_issue(signature))
        for signature, judgement in judged_space.items()
        if judgement.handling is not _expected_by_the_issue(signature)
    ]
    assert wrong == []


def test_pending_charges_are_never_escalated(judged_space):
    assert not [
        s for s, j in judged_space.items()
        if s.disposition is Disposition.PENDING and j.handling is Handling.ESCALATE
    ]


# --- a finding that no rule covers ---------------------------------------------------


def _rulebook_without(tmp_path, rule_id):
    text = (RULES / "rulebook.yaml").read_text(encoding="utf-8")
    pattern = re.compile(r"\n  - id: " + re.escape(rule_id) + r"\n.*?(?=\n  - id: |\Z)", re.DOTALL)
    reduced, count = pattern.subn("\n", text)
    assert count == 1, f"rule {rule_id} not found in the shipped rulebook"
    folder = tmp_path / "reduced-rules"
    folder.mkdir()
    (folder / "rulebook.yaml").write_text(reduced, encoding="utf-8")
    assert rule_id not in load_rulebook(folder).rules_by_id
    return folder


def test_a_finding_no_rule_covers_is_routed_to_review_with_a_warning(adjudicate, tmp_path):
    # A minor, recent education discrepancy is indirectly relevant for a
    # quality inspector: only NOTE-INDIRECT-MINOR covers it.
    rows = [
        finding("C-UNC", "quality_inspector", "F-UNC", "education_discrepancy", "minor", RECENT,
                description="Diploma year differs from the CV"),
        finding("C-OK", "quality_inspector", "F-OK", "traffic_violation", "minor", RECENT),
    ]
    shipped = adjudicate(rows)
    assert (shipped.findings["F-UNC"]["handling"], shipped.findings["F-UNC"]["rule_id"]) == (
        "note", "NOTE-INDIRECT-MINOR",
    )
    assert "no rule covers" not in shipped.result.stderr

    outcome = adjudicate(rows, rules=_rulebook_without(tmp_path, "NOTE-INDIRECT-MINOR"))
    row = outcome.findings["F-UNC"]
    assert (row["relevance"], row["handling"], row["rule_id"]) == ("indirect", "review", "NO-RULE")
    assert outcome.decisions["C-UNC"]["recommendation"] == "review"
    # The reason the issue names, with the finding it applies to.
    assert "no rule covers this finding" in outcome.decisions["C-UNC"]["reason"]
    assert "F-UNC" in outcome.decisions["C-UNC"]["reason"]
    assert outcome.findings["F-OK"]["rule_id"] == "NR-NOT-JOB-RELATED"
    assert outcome.decisions["C-OK"]["reason"] == ""

    warnings = [line for line in outcome.result.stderr.splitlines() if "no rule covers" in line]
    assert len(warnings) == 1
    assert "F-UNC" in warnings[0] and "C-UNC" in warnings[0]
    assert "no rule covers" not in outcome.result.stdout
    for kind in ("md", "html"):
        assert re.search(r"no rule (of the rulebook )?covers this finding", outcome.memo("C-UNC", kind), re.I)


# --- the recommendation of a candidate ---------------------------------------------


def test_the_most_serious_handling_decides_the_recommendation(adjudicate):
    outcome = adjudicate([
        # note + review -> review
        finding("C-NR", "quality_inspector", "F-1", "education_discrepancy", "minor", RECENT),
        finding("C-NR", "quality_inspector", "F-2", "employment_discrepancy", "serious", RECENT),
        # note only -> proceed_with_note
        finding("C-N", "quality_inspector", "F-3", "education_discrepancy", "minor", RECENT),
        finding("C-N", "quality_inspector", "F-4", "traffic_violation", "severe", RECENT),
        # excluded and not relevant only -> proceed
        finding("C-P", "quality_inspector", "F-5", "offense_theft_fraud", "severe", RECENT, disposition="sealed"),
        finding("C-P", "quality_inspector", "F-6", "credit_record", "severe", RECENT),
        # note + review + escalate -> escalate
        finding("C-E", "van_driver", "F-7", "employment_discrepancy", "minor", RECENT),
        finding("C-E", "van_driver", "F-8", "traffic_violation", "minor", RECENT),
        finding("C-E", "van_driver", "F-9", "offense_driving", "severe", RECENT),
    ])
    handlings = {fid: row["handling"] for fid, row in outcome.findings.items()}
    assert handlings == {
        "F-1": "note", "F-2": "review",
        "F-3": "note", "F-4": "not_relevant",
        "F-5": "excluded", "F-6": "not_relevant",
        "F-7": "note", "F-8": "review", "F-9": "escalate",
    }
    recommendations = {cid: row["recommendation"] for cid, row in outcome.decisions.items()}
    assert recommendations == {"C-NR": "review", "C-N": "proceed_with_note", "C-P": "proceed", "C-E": "escalate"}


def test_a_rejected_row_turns_proceed_into_review(adjudicate):
    outcome = adjudicate([
        finding("C-1", "quality_inspector", "F-1", "traffic_violation", "minor", RECENT),
        finding("C-1", "quality_inspector", "F-2", "offense_violence", "hgih", RECENT),
        finding("C-2", "quality_inspector", "F-3", "traffic_violation", "minor", RECENT),
    ])
    assert [row["finding_id"] for row in outcome.rejected] == ["F-2"]
    assert outcome.findings["F-1"]["handling"] == "not_relevant"
    decision = outcome.decisions["C-1"]
    assert decision["recommendation"] == "review"
    assert "rejected.csv" in decision["reason"]
    # A candidate without rejected rows is not affected.
    assert outcome.decisions["C-2"]["recommendation"] == "proceed"
    assert outcome.decisions["C-2"]["reason"] == ""
    for kind in ("md", "html"):
        memo = outcome.memo("C-1", kind)
        assert "Rows that could not be used" in memo
        assert "rejected.csv" in memo


def test_a_candidate_whose_only_row_was_rejected_still_gets_a_decision(adjudicate):
    outcome = adjudicate([
        finding("C-OK", "van_driver", "F-1", "traffic_violation", "minor", RECENT),
        finding("C-ONLY", "van_driver", "F-2", "offense_driving", "hgih", RECENT),
    ])
    assert [row["finding_id"] for row in outcome.rejected] == ["F-2"]
    decision = outcome.decisions["C-ONLY"]
    assert decision["recommendation"] == "review"
    assert "rejected.csv" in decision["reason"]
    assert "C-ONLY" in outcome.result.stderr  # named in a warning too
    assert outcome.decisions["C-OK"]["recommendation"] == "review"


def test_a_candidate_whose_only_row_was_rejected_gets_a_memo(adjudicate):
    outcome = adjudicate([finding("C-ONLY", "van_driver", "F-2", "offense_driving", "hgih", RECENT)])
    assert outcome.decisions["C-ONLY"]["memo"] != ""
    memo = outcome.memo("C-ONLY")
    assert "rejected.csv" in memo
    assert "A person makes the decision" in memo
