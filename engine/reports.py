"""Writing a batch's results: the CSV files, the memos and a manifest.

Everything is written into a fresh folder beside the destination and moved
into place at the end, so that an interrupted run never leaves a mix of old
and new files, and memos of an earlier run never linger.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from . import __version__
from .decisions import BatchResult
from .errors import InputFileError
from .memos import memo_stem, render_memo

MANIFEST = "batch.json"
MANIFEST_FORMAT = "adjudicate-batch/1"
DECISION_COLUMNS = (
    "candidate_id", "position_id", "recommendation", "reason", "decision_id", "rulebook_version", "memo",
)
FINDING_COLUMNS = (
    "finding_id", "candidate_id", "position_id", "category", "severity", "disposition",
    "relevance", "handling", "rule_id",
)
REJECTED_COLUMNS = ("file", "line", "finding_id", "column", "error")

# A cell starting with one of these is run as a formula by spreadsheet
# programs (CSV injection); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(columns: Iterable[str], rows: Iterable[Iterable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue()


def write_reports(
    result: BatchResult,
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write every output of ``result`` into the folder ``out``; return it."""
    out = Path(out)
    _check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_all(result, staging, progress)
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _check_destination(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise InputFileError(
            "the output folder exists and was not written by adjudicate; it is left untouched. "
            "Choose another folder with --out, or empty this one.",
            file=str(out),
        )


def _replace(staging: Path, out: Path) -> None:
    if out.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, retired / out.name)
        os.replace(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")


def _write_all(result: BatchResult, folder: Path, progress) -> None:
    memos = folder / "memos"
    memos.mkdir()
    decision_rows = []
    for decision in result.decisions:
        stem = memo_stem(decision.candidate_id)
        markdown, html = render_memo(result, decision)
        _write(memos / f"{stem}.md", markdown)
        _write(memos / f"{stem}.html", html)
        decision_rows.append(
            (
                decision.candidate_id,
                decision.position.position_id,
                decision.recommendation.value,
                decision.reason,
                decision.decision_id,
                result.rulebook.version,
                f"memos/{stem}.md",
            )
        )
        if progress is not None:
            progress(1)
    _write(folder / "decisions.csv", csv_text(DECISION_COLUMNS, decision_rows))
    _write(
        folder / "findings.csv",
        csv_text(
            FINDING_COLUMNS,
            (
                (
                    f.finding.finding_id,
                    f.finding.candidate_id,
                    f.finding.position_id,
                    f.finding.category,
                    f.finding.severity.value,
                    f.finding.disposition.value,
                    f.entry.relevance.value if f.entry else "",
                    f.handling.value,
                    f.rule_id,
                )
                for decision in result.decisions
                for f in sorted(decision.findings, key=lambda f: f.finding.finding_id)
            ),
        ),
    )
    _write(
        folder / "rejected.csv",
        csv_text(
            REJECTED_COLUMNS,
            ((Path(r.file).name, r.line, r.finding_id, r.column, r.error) for r in result.rejected),
        ),
    )
    _write(folder / MANIFEST, json.dumps(manifest(result), indent=2, ensure_ascii=False) + "\n")


def manifest(result: BatchResult) -> dict:
    """What the batch was evaluated with; no clock time, so reruns compare equal."""
    counts = Counter(decision.recommendation.value for decision in result.decisions)
    return {
        "format": MANIFEST_FORMAT,
        "adjudicate_version": __version__,
        "as_of": result.as_of.isoformat(),
        "batch": {"file": result.batch.path.name, "sha256": result.batch.sha256},
        "consents": {"file": result.consents.path.name, "sha256": result.consents.sha256},
        "rulebook": {
            "name": result.rulebook.name,
            "version": result.rulebook.version,
            "effective_date": result.rulebook.effective_date.isoformat(),
            "sha256": result.rulebook.sha256,
        },
        "tables_sha256": result.tables.sha256,
        "counts": {
            "candidates": len(result.decisions),
            "findings": len(result.batch.findings),
            "rejected_rows": len(result.rejected),
            "recommendations": dict(sorted(counts.items())),
        },
    }
