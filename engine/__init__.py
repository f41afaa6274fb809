"""adjudicate: background-check findings weighed against position risk
tables by declarative rules, with a recommendation and a decision memo for
every candidate. A person makes every decision; the engine recommends.

The public API is ``__all__`` below: the use cases, which every front end
calls (each takes the acting person as an ``Actor``), the error hierarchy,
the decision's types, and the loaders and in-memory evaluation for scripts
and tests. A name is imported on first use, so that ``import engine`` and
the import of any one module (a worker process, the command's ``--help``)
do not load the rule engine, the store and the templates.

The subpackages, from the highest layer to the lowest (``.importlinter``
holds the contract; ``tests/test_architecture.py`` checks it). A layer
imports only the layers below it, and only ``record`` speaks SQL:

``cli``
    The ``adjudicate`` command: parses options, calls one use case, prints.
``usecases``
    One function per action (evaluate a batch, show or export a memo,
    review, notice, respond, decide, purge, verify, consistency, pending):
    checks permission, works in one transaction with its audit entry,
    returns a typed result. ``actor`` holds the ``Actor``.
``workflow``
    The human decision: sign-off steps, notices, deadlines in business
    days, the consistency report.
``evaluation``
    A batch judged in memory (``judging``), the evaluate job of any size
    (``pipeline``, ``partitions``, ``processes``), replay of a stored
    decision, the impact of a rulebook change.
``record``
    The decision store (SQLAlchemy), its schema and migrations, encryption
    keys, the audit chain, the access and retention policy, purge.
``documents``
    Memos, notices, the rulebook document and the output folder: jinja2
    templates in ``documents/templates``, wording per language in
    ``documents/catalogues/{en,zh}.yaml``.
``decisions``
    The decision's types: ``JudgedFinding``, ``Decision``, ``BatchInfo``,
    ``BatchResult``.
``rulebook``
    The rule language (``model``), position risk tables, compilation into
    durable-rules, static analysis, rule tests, lookback periods.
``inputs``
    Reading and validating files: tables (CSV, XLSX, JSON), findings,
    consents, strict YAML, vendors' reports.
base
    ``errors``, ``vocabulary`` (the enums), ``canonical`` (JSON behind
    decision ids), ``dates``, ``version``: importable from every layer.
"""

from __future__ import annotations

import importlib

from engine.version import __version__

# Each public name and the module it lives in, grouped by what it is for.
_PUBLIC: dict[str, tuple[str, ...]] = {
    # Who acts, and what a front end opens before it calls a use case.
    "engine.usecases": (
        "Actor",
        "Identification",
        "identify",
        "open_store",
        "access_policy",
        # Use cases: one per action.
        "evaluate_batch",
        "check_batch",
        "void_batch",
        "show_memo",
        "export_memo",
        "review_decision",
        "issue_notice",
        "record_response",
        "make_decision",
        "pending_decisions",
        "purge_data",
        "verify_decisions",
        "verify_audit_trail",
        "read_audit_log",
        "consistency_report",
        "check_rulebook",
        "check_tables",
        "explain_rulebook",
        "test_rulebook",
        "diff_rulebooks",
        "import_reports",
        # What front ends use around them.
        "verified_decision",
        "render_stored",
        "read_response",
        "answers_from_file",
        "write_files",
        "no_progress",
        "stop_on_signals",
        # Their results.
        "RunReport",
        "BatchCheck",
        "BatchVoided",
        "Memo",
        "StepRecorded",
        "ResponseRecorded",
        "DecisionMade",
        "NoticeIssued",
        "Pending",
        "Verified",
        "VerifiedDecision",
        "ConsistencyReport",
        "RulebookCheck",
        "RuleTests",
        "RulebookDiff",
        "ImportReport",
        "OutputFile",
        # Their errors.
        "PurposeMissing",
        "ReplayDiffers",
        "NoRuleTests",
    ),
    # The error hierarchy: every error adjudicate raises on purpose is an
    # AdjudicateError, and names its file, line, column or rule.
    "engine.errors": (
        "AdjudicateError",
        "InputFileError",
        "TablesError",
        "RulebookError",
        "OutputError",
        "StoreError",
        "AccessDenied",
        "EngineError",
        "InvalidConfiguration",
    ),
    "engine.record.access": ("PolicyError",),
    "engine.workflow.signoff": ("SignoffError",),
    "engine.workflow.voids": ("BatchVoidError",),
    "engine.documents.wording": ("CatalogueError",),
    # The decision's types and the words it is made of.
    "engine.decisions": ("JudgedFinding", "Decision", "BatchInfo", "BatchResult"),
    "engine.vocabulary": ("Handling", "Recommendation"),
    # Loading the rules and evaluating in memory (scripts, tests, rule changes).
    "engine.rulebook.model": ("Rulebook", "load_rulebook"),
    "engine.rulebook.tables": ("PositionTables", "load_tables"),
    "engine.evaluation.judging": ("evaluate", "evaluate_files"),
}
_HOMES = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = ["__version__", *_HOMES]


def __getattr__(name: str):
    """Import a public name from its module on first use (PEP 562).

    Raises:
        AttributeError: ``name`` is not part of the public API (nor a
            submodule already imported).
    """
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
