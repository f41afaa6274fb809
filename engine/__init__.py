"""adjudicate: background-check findings weighed against position risk
tables by declarative rules, with a recommendation and a decision memo for
every candidate.

Where things happen: ``pipeline`` runs the evaluate job. A finding is
loaded in ``findings`` (after ``partitions`` has split a large batch by
candidate), judged in ``evaluation`` (durable-rules) and ``decisions``,
written up in ``memos`` and ``reports``, and recorded in ``store``. The
command line in ``cli`` is a thin layer over these.
"""

from engine.version import __version__  # noqa: E402

from engine.decisions import BatchResult, Decision, JudgedFinding  # noqa: E402
from engine.evaluation.judging import evaluate, evaluate_files  # noqa: E402
from engine.errors import (  # noqa: E402
    AdjudicateError,
    EngineError,
    InputFileError,
    InvalidConfiguration,
    OutputError,
    RulebookError,
    TablesError,
)
from engine.rulebook.tables import PositionTables, load_tables  # noqa: E402
from engine.evaluation.pipeline import run_batch  # noqa: E402
from engine.rulebook.model import Rulebook, load_rulebook  # noqa: E402

__all__ = [
    "AdjudicateError",
    "BatchResult",
    "Decision",
    "EngineError",
    "InputFileError",
    "InvalidConfiguration",
    "OutputError",
    "JudgedFinding",
    "PositionTables",
    "Rulebook",
    "RulebookError",
    "TablesError",
    "evaluate",
    "evaluate_files",
    "load_rulebook",
    "load_tables",
    "run_batch",
]
