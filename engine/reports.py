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
from .errors import OutputError
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
OUTPUT_FILES = ("decisions.csv", "findings.csv", "rejected.csv", MANIFEST)

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
    """Write every output of ``result`` into the folder ``out``; return it.

    An existing ``out`` is replaced only if it holds nothing but the output
    of an earlier run: nobody's files are ever deleted.
    """
    out = Path(out)
    _check_destination(out, (result.batch.path, result.consents.path))
    staging = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        _write_all(result, staging, progress)
        _replace(staging, out)
    except OSError as exc:
        raise OutputError(f"cannot write the output folder: {exc.strerror or exc}.", file=str(out)) from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def planned_files(result: BatchResult, out: Path) -> dict:
    """The files ``write_reports`` writes into ``out``: per decision id, its
    memos; under None, the batch's own files."""
    files: dict = {None: [out / name for name in OUTPUT_FILES]}
    for decision in result.decisions:
        stem = memo_stem(decision.candidate_id)
        files[decision.decision_id] = [out / "memos" / f"{stem}.md", out / "memos" / f"{stem}.html"]
    return files


def check_destination(result: BatchResult, out: Path) -> None:
    """Raise OutputError if ``write_reports`` would refuse ``out``."""
    _check_destination(Path(out), (result.batch.path, result.consents.path))


def _check_destination(out: Path, inputs) -> None:
    if out.name in ("", ".", ".."):
        raise OutputError("choose an output folder with a name of its own (--out).", file=str(out))
    if not out.exists():
        return
    refuse = "the output folder {}; it is left untouched. Choose another folder with --out."
    if not out.is_dir():
        raise OutputError(refuse.format("is a file"), file=str(out))
    resolved = out.resolve()
    for path in inputs:
        if resolved in Path(path).resolve().parents:
            raise OutputError(refuse.format(f"holds the input file {Path(path).name}"), file=str(out))
    if not any(out.iterdir()):
        return
    if _manifest_format(out / MANIFEST) != MANIFEST_FORMAT:
        raise OutputError(refuse.format("was not written by adjudicate"), file=str(out))
    foreign = sorted(
        str(path.relative_to(out))
        for path in out.rglob("*")
        if not _is_output(path.relative_to(out))
    )
    if foreign:
        raise OutputError(
            refuse.format(f"holds files adjudicate did not write ({', '.join(foreign[:3])})"),
            file=str(out),
        )


def _manifest_format(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None


def _is_output(relative: Path) -> bool:
    parts = relative.parts
    if len(parts) == 1:
        return parts[0] in OUTPUT_FILES or parts[0] == "memos"
    return len(parts) == 2 and parts[0] == "memos" and relative.suffix in (".md", ".html")


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
                decision.position.position_id if decision.position else "",
                decision.recommendation.value,
                decision.reason,
                decision.decision_id,
                result.rulebook.version + ("" if result.rulebook.approved else " DRAFT"),
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
            "status": result.rulebook.status,
            "approved_by": result.rulebook.approved_by,
            "approved_on": result.rulebook.approved_on.isoformat() if result.rulebook.approved_on else None,
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
