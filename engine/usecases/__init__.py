"""Use cases: every action a person or a job takes, as one function.

Each takes the acting person as an ``Actor`` and typed arguments, checks
what the access policy allows, does its work in one store transaction with
its audit entry (the files it writes are written inside that transaction:
a failed write records nothing), and returns a typed result. Every front
end (the command line today) calls these and nothing below them.

Before calling them a front end opens the store (``open_store``), loads the
access policy (``access_policy``) and identifies the person (``identify``).
"""

from engine.usecases.actor import Actor, Identification, identify
from engine.usecases.batches import (
    DEFAULT_OUT,
    MEMOS,
    PART_ROWS,
    BatchCheck,
    BatchVoided,
    RunReport,
    check_batch,
    check_inputs,
    evaluate_batch,
    no_progress,
    stop_on_signals,
    void_batch,
)
from engine.usecases.documents import ReplayDiffers, VerifiedDecision, render_stored, verified_decision
from engine.usecases.human import (
    DEFAULT_NOTICES_FOLDER,
    DecisionMade,
    EvidenceAttached,
    NoticeIssued,
    Pending,
    ResponseRecorded,
    StepRecorded,
    answers_from_file,
    attach_evidence,
    issue_notice,
    make_decision,
    organisation_file,
    pending_decisions,
    read_response,
    record_response,
    reopen_decision,
    review_decision,
)
from engine.usecases.imports import ImportReport, import_reports
from engine.usecases.memos import Memo, PurposeMissing, export_memo, show_memo
from engine.usecases.outputs import OutputFile, write_files
from engine.usecases.record import (
    ConsistencyReport,
    Verified,
    consistency_report,
    place_hold,
    purge_data,
    read_audit_log,
    release_hold,
    verify_audit_trail,
    verify_decisions,
)
from engine.usecases.rulebook import (
    NoRuleTests,
    RulebookCheck,
    RulebookDiff,
    RuleTests,
    check_rulebook,
    check_tables,
    diff_rulebooks,
    explain_rulebook,
    test_rulebook,
)
from engine.usecases.setting import DEFAULT_DB, access_policy, open_store

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_NOTICES_FOLDER",
    "DEFAULT_OUT",
    "MEMOS",
    "PART_ROWS",
    "Actor",
    "BatchCheck",
    "BatchVoided",
    "ConsistencyReport",
    "DecisionMade",
    "EvidenceAttached",
    "Identification",
    "ImportReport",
    "Memo",
    "NoRuleTests",
    "NoticeIssued",
    "OutputFile",
    "Pending",
    "PurposeMissing",
    "ReplayDiffers",
    "ResponseRecorded",
    "RuleTests",
    "RulebookCheck",
    "RulebookDiff",
    "RunReport",
    "StepRecorded",
    "Verified",
    "VerifiedDecision",
    "access_policy",
    "answers_from_file",
    "attach_evidence",
    "check_batch",
    "check_inputs",
    "check_rulebook",
    "check_tables",
    "consistency_report",
    "diff_rulebooks",
    "evaluate_batch",
    "explain_rulebook",
    "export_memo",
    "identify",
    "import_reports",
    "issue_notice",
    "make_decision",
    "organisation_file",
    "no_progress",
    "open_store",
    "pending_decisions",
    "purge_data",
    "place_hold",
    "release_hold",
    "read_audit_log",
    "read_response",
    "record_response",
    "render_stored",
    "reopen_decision",
    "review_decision",
    "show_memo",
    "stop_on_signals",
    "test_rulebook",
    "verified_decision",
    "verify_audit_trail",
    "verify_decisions",
    "void_batch",
    "write_files",
]
