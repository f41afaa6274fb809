"""The evaluate job, for a batch of any size: where findings are loaded,
judged, written up and recorded.

1. **Split** (``partitions``): both input files are read once, as they
   stream, and every row goes to the part of its candidate.
2. **Evaluate**: each part is validated and evaluated on its own
   (``evaluation.judging.evaluate``: consent first, then durable-rules,
   then the recommendation) by a pool of worker processes: processes,
   never threads, since durable-rules is not thread safe. A worker writes its
   memos into a folder of the part's own, which the main process moves
   into the staging folder as the part is done, and its rows into part files.
3. **Write**: the parts' rows are merged, in candidate order, into
   decisions.csv, findings.csv and rejected.csv.
4. **Record**: the store takes every decision in one transaction.
5. The staging folder replaces the output folder.

Memory is bounded by the size of a part, not of the batch. The outputs do
not depend on the number of workers or of parts: every file is merged in a
fixed order. Interrupted anywhere before step 4 ends (an error, Ctrl-C),
nothing is stored and nothing is written.

Stopping (``stop_on_signals``): the store's commit in step 4 is the point
that decides what a Ctrl-C or a SIGTERM does. Before it, the run stops:
nothing is stored, nothing is written, and ``Interrupted`` is raised. After
it, the batch is recorded, and the run finishes what is left (the output
folder's rename, a moment) instead of stopping, and its report says so.

The parts are written in a work folder beside the output folder, named
after the process that owns it (``.<out>.work.<pid>@<host>.*``). A run that
was killed (SIGKILL, a power cut) cannot remove it; the next run into the
same folder does, once that process is gone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import heapq
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.columns import texts
from engine.errors import EngineError
from engine.record.access import Policy
from engine.inputs.applications import register_applications
from engine.inputs.consents import register_consents
from engine.decisions import BatchInfo
from engine.evaluation.judging import evaluate, load_rules
from engine.inputs.findings import screen_findings
from engine.evaluation.columnar import finding_columns, judge_in_columns, stored_rows
from engine.rulebook.model import NO_RULE
from engine.inputs.tabular import Notice
from engine.record.keys import Sealer
from engine.evaluation.partitions import PART_ROWS, Split, estimated_rows, open_inputs, read_frames, read_part, split_batch, write_frame
from engine.rulebook.tables import PositionTables
from engine.evaluation.processes import STOP_SIGNALS, beside, parallel, pool_map
from engine.evaluation.timings import PART_STAGES, RUN_STAGES, Stopwatch, part_stage, take_part_times
from engine.documents.memos import Retention
from engine.documents.reports import (
    DECISION_COLUMNS,
    FINDING_COLUMNS,
    MANIFEST,
    OUTPUT_FILES,
    REJECTED_COLUMNS,
    CsvLines,
    check_destination,
    csv_lines,
    decision_row,
    finding_rows,
    manifest,
    rejected_row,
    staged,
    write_csv,
    write_memo,
)
from engine.rulebook.model import Rulebook
from engine.record.store import BatchRecord, DecisionRecord, Store, batch_id_of, decision_records
from engine.vocabulary import Recommendation

MEMOS = ("all", "flagged", "none")
# Warnings name at most this many findings or candidates; the count is exact.
NAMED = 10
# Rows per frame of a part's output, so that merging reads a few
# frames at a time, not whole parts.
_FRAME_ROWS = 5_000
# And text per frame: the merge holds one frame of every part at once, and
# a batch of millions has hundreds of parts; 5,000 candidates' blocks of
# findings.csv were 5 MB a frame, a gigabyte for the merge at 5M findings.
_FRAME_BYTES = 256 * 1024
# Memos are made from columns this many decisions at a time.
_MEMO_BATCH = 2_000

# progress(label, total) gives a context whose value is advance(count).
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def no_progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A ``Progress`` that shows nothing.

    Args:
        label: what is being done ("Reading", "Evaluating", "Recording").
        total: how many rows or decisions there are to do.

    Yields:
        ``advance(count)``, which does nothing.
    """
    yield lambda count: None


class _Stops:
    """Whether Ctrl-C or SIGTERM came (``requested``), and whether the run is
    past its commit point (``held``: a stop then lets it finish). Signals
    belong to the process, so this does too: one for the process."""

    def __init__(self) -> None:
        self.requested = False
        self.held = False


_STOPS = _Stops()


def _on_stop_signal(signum: int, frame) -> None:
    _STOPS.requested = True
    if not _STOPS.held:
        raise KeyboardInterrupt


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM stop a ``run_batch`` called in the block,
    with an outcome decided by the store's commit (see the module docstring):
    before it, ``run_batch`` raises ``Interrupted`` and nothing is stored or
    written; after it, the run finishes and its report has a warning that
    says the stop came too late.

    A command line wraps its call to ``run_batch`` in this. Python runs
    signal handlers in the main thread only: called from another thread,
    the block runs without them. The previous handlers are put back at the
    end.

    Yields:
        Nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _on_stop_signal) for number in STOP_SIGNALS}
    _STOPS.requested = _STOPS.held = False
    try:
        yield
    finally:
        for number, handler in previous.items():
            # None: a handler set outside Python, which cannot be put back.
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        _STOPS.requested = _STOPS.held = False


def _raise_if_stopped() -> None:
    """Stop here if Ctrl-C or SIGTERM came. Its handler raised already, but
    Python drops what a handler raises while it runs a finaliser or a fork
    hook: the stop is still a stop."""
    if _STOPS.requested and not _STOPS.held:
        raise KeyboardInterrupt


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, and one
    collection after it. The block makes millions of rows, findings and
    records, freed by reference counting as it goes; the collector would
    scan them again and again for cycles they do not form, which costs a
    third of the time of evaluating a part. Everything the block made is in
    the youngest generation, so collecting that one alone finds its cycles
    without scanning the rest of the process."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect(0)


@dataclass(frozen=True)
class PartSummary:
    """What a worker reports of its part; the rows themselves go to files.
    The fields are those of ``RunReport``, for one part; ``index`` is the
    part and ``rows`` its batch rows, usable or not."""

    index: int
    rows: int  # batch rows of the part, usable or not
    candidates: int  # distinct candidates decided
    findings: int
    rejected: int
    recommendations: Counter
    uncovered: tuple[tuple[str, str], ...]  # (finding id, candidate id), the first NAMED
    uncovered_count: int
    orphans: tuple[str, ...]  # candidates with no usable row, the first NAMED
    orphan_count: int
    # Warnings by kind, each capped on its own in the run's report: cases
    # reported several times, applications read once, ids that differ from
    # a consent's by leading zeros.
    notices: tuple[tuple[str, tuple[Notice, ...]], ...] = ()
    decisions: int = 0  # one per candidate, or per application
    # Seconds per stage of the part (``timings.PART_STAGES``): wall, then CPU.
    wall: tuple[tuple[str, float], ...] = ()
    cpu: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class RunReport:
    """What a run did, for the person who ran it.

    Attributes:
        info: the batch as evaluated: inputs, their hashes, rulebook, tables.
        out: the output folder written.
        record: the batch id and how many decisions were stored now or before.
        candidates: candidates decided.
        decisions: decisions made: one per candidate, or one per
            application with an applications file.
        findings: usable finding rows.
        rejected: rows of either input that could not be used.
        recommendations: recommendation value -> how many decisions.
        uncovered: (finding id, candidate id) of findings no rule covers,
            the first ``NAMED``; ``uncovered_count`` is the number of all.
        orphans: candidates with no usable row, the first ``NAMED``;
            ``orphan_count`` is the number of all.
        memos: memo files written, Markdown and HTML counted as one.
        notices: how the input files were read, what was set aside or hinted
            at, and a stop that came after the batch was recorded.
        timings: how long each stage took (``Timings``); never part of an
            output file or the store.
    """

    info: BatchInfo
    out: Path
    record: BatchRecord
    candidates: int
    findings: int
    rejected: int
    recommendations: Counter
    uncovered: tuple[tuple[str, str], ...]
    uncovered_count: int
    orphans: tuple[str, ...]
    orphan_count: int
    memos: int
    decisions: int = 0
    # How the input files were read and what was set aside or hinted at.
    notices: tuple[Notice, ...] = ()
    timings: Timings | None = None


@dataclass(frozen=True)
class Timings:
    """How long each stage of a run took, in seconds (``engine.evaluation.timings``).

    Attributes:
        run: stage of the run (``RUN_STAGES``) -> wall seconds the main
            process spent in it; ``record`` includes waiting for ``write``.
        write: wall seconds the output files took to merge, done beside
            ``record`` in a process of its own when there are several workers.
        parts_wall: stage of a part (``PART_STAGES``) -> wall seconds, summed
            over every part (the workers' parts overlap).
        parts_cpu: the same in CPU seconds.
        workers: worker processes used.
    """

    run: dict[str, float]
    write: float
    parts_wall: dict[str, float]
    parts_cpu: dict[str, float]
    workers: int

    def as_json(self) -> dict:
        """The figures as a JSON object, seconds rounded to milliseconds."""
        def rounded(seconds: dict[str, float]) -> dict[str, float]:
            return {name: round(value, 3) for name, value in seconds.items()}
        return {
            "workers": self.workers,
            # In the order the stages come (an inner stage ends first).
            "run_wall": rounded({
                name: self.run[name] for name in sorted(self.run, key=_stage_order(RUN_STAGES))
            }),
            "write_wall": round(self.write, 3),
            "parts_wall": rounded({
                name: self.parts_wall[name] for name in sorted(self.parts_wall, key=_stage_order(PART_STAGES))
            }),
            "parts_cpu": rounded({
                name: self.parts_cpu[name] for name in sorted(self.parts_cpu, key=_stage_order(PART_STAGES))
            }),
        }


@dataclass(frozen=True)
class _Settings:
    """Everything a worker needs; handed to each worker process once."""

    rulebook: Rulebook
    tables: PositionTables
    as_of: dt.date
    policy: Policy
    sealer: Sealer
    batch_id: str
    memos: str
    staging: Path
    out: Path  # absolute: the store records where the memos will be
    split: Split


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped the run before its end.

    Attributes:
        recorded: the store had already taken the batch, and only the output
            folder was not put in place (evaluating the batch again writes
            it and stores nothing twice). False: nothing was stored or written.
    """

    def __init__(self, recorded: bool) -> None:
        super().__init__()
        self.recorded = recorded


def run_batch(
    batch: Path,
    consents: Path,
    *,
    rules: Path,
    tables: Path,
    out: Path,
    as_of: dt.date,
    store: Store,
    user: str,
    policy: Policy,
    encoding: str = "utf-8",
    allow_draft: bool = False,
    memos: str = "all",
    workers: int = 1,
    part_rows: int = PART_ROWS,
    progress: Progress = no_progress,
    announce: Callable[[str], None] | None = None,
    applications: Path | None = None,
) -> RunReport:
    """Evaluate a batch into an output folder and record it in the store,
    in one transaction with its audit entry; see the module docstring.

    Args:
        batch: the findings file (CSV, XLSX or JSON).
        consents: the consents file (CSV).
        rules: the rulebook folder or file.
        tables: the position risk tables folder.
        out: the output folder, replaced whole at the end of the run.
        as_of: the evaluation date, for ages of findings and consent expiry.
        store: the decision store.
        user: who runs the batch, for the audit trail.
        policy: the retention policy.
        encoding: the text encoding of CSV and JSON inputs.
        allow_draft: evaluate with a rulebook that is not approved.
        memos: which candidates get a memo file: one of ``MEMOS``.
        workers: worker processes (1: everything in this process).
        part_rows: rows per part of the batch, about; memory, not output,
            depends on it.
        progress: ``progress(label, total)`` gives a context whose value is
            ``advance(count)``, for progress bars.
        announce: called with a message for the person running the batch
            (a killed run's work folder removed); None: written to stderr.
        applications: the applications file (CSV, XLSX or JSON), or None:
            with it, every application gets a decision, findings or not
            (``engine.inputs.applications``).

    Returns:
        The ``RunReport``: counts, warnings to show, the stored batch id.

    Raises:
        ValueError: ``memos`` is not one of ``MEMOS``.
        AdjudicateError: an input, the rulebook, the tables, the output
            folder or the store cannot be used; nothing is stored or written.
        EngineError: a worker process ended abruptly; nothing is stored or written.
        Interrupted: Ctrl-C or SIGTERM stopped the run (``recorded`` says
            whether the store had taken the batch).
    """
    if memos not in MEMOS:
        raise ValueError(f"memos must be one of {MEMOS}")
    batch, consents, out = Path(batch), Path(consents), Path(out)
    if announce is None:
        announce = _to_stderr
    # Past a commit point until the end of ``stop_on_signals``' block, or of the next run.
    _STOPS.held = False
    clock = Stopwatch()
    with clock.stage("load"):
        rulebook, position_tables = load_rules(rules, tables, allow_draft=allow_draft)
        applications = Path(applications) if applications is not None else None
        inputs = open_inputs(batch, consents, encoding=encoding, applications=applications)
    record: BatchRecord | None = None
    wrote: list[float] = []
    try:
        check_destination(out, (batch, consents) + ((applications,) if applications is not None else ()))
        _remove_abandoned_work(out, announce)
        # "finish": what the block does outside the stages timed inside it
        # (each second counts once): the folders made, put in place, removed.
        with (
            clock.stage("finish"),
            staged(out, prefix=_owned_prefix(out, "staging")) as staging,
            tempfile.TemporaryDirectory(
                prefix=_owned_prefix(out, "work"), dir=out.parent, ignore_cleanup_errors=True
            ) as work,
            _without_cycle_collection(),
        ):
            with clock.stage("read"), progress("Reading", estimated_rows(batch)) as advance:
                split = split_batch(
                    *inputs, folder=Path(work), part_rows=part_rows, workers=workers, progress=advance
                )
            _raise_if_stopped()
            info = BatchInfo(
                name=batch.stem,
                as_of=as_of,
                rulebook=rulebook,
                tables=position_tables,
                batch_file=batch,
                batch_sha256=split.batch_sha256,
                consents_file=consents,
                consents_sha256=split.consents_sha256,
                applications_file=applications,
                applications_sha256=split.applications_sha256,
            )
            settings = _Settings(
                rulebook=rulebook, tables=position_tables, as_of=as_of, policy=policy, sealer=store.sealer,
                batch_id=batch_id_of(info), memos=memos, staging=staging, out=out.resolve(), split=split,
            )
            (staging / "memos").mkdir()
            summaries: list[PartSummary] = []
            moved = 0
            with clock.stage("evaluate"), progress("Evaluating", split.rows) as advance:
                for summary in _evaluate_parts(settings, workers):
                    _raise_if_stopped()
                    summaries.append(summary)
                    # While the workers go on with the next parts.
                    with clock.stage("move memos"):
                        moved += _move_memos(_part_memos(split, summary.index), staging / "memos")
                    advance(summary.rows)
            with clock.stage("move memos"):
                _check_memos_moved(staging / "memos", moved)
            summaries.sort(key=lambda summary: summary.index)
            counts = {
                "candidates": sum(s.candidates for s in summaries),
                "decisions": sum(s.decisions for s in summaries),
                "findings": sum(s.findings for s in summaries),
                "rejected_rows": sum(s.rejected for s in summaries),
                "recommendations": sum((s.recommendations for s in summaries), Counter()),
            }
            # The files are merged by another process while this one records;
            # the store commits only once they are written.
            with (
                clock.stage("record"),
                beside(_write_outputs, split, staging, info, counts, enabled=workers > 1) as written,
                progress("Recording", counts["decisions"]) as advance,
            ):
                record = store.record_run(
                    info,
                    (_load_records(split.part_file("records", index)) for index in range(split.parts)),
                    user=user,
                    output_folder=out,
                    own_files=[str(settings.out / name) for name in OUTPUT_FILES],
                    progress=advance,
                    before_commit=lambda: wrote.append(_commit_point(written)),
                )
    except KeyboardInterrupt:
        raise Interrupted(recorded=record is not None) from None
    finally:
        for stream in inputs:
            stream.close()
    by_kind: dict[str, list[Notice]] = {}
    for summary in summaries:
        for kind, found in summary.notices:
            by_kind.setdefault(kind, []).extend(found)
    notices = (
        *(notice for stream in inputs for notice in stream.notices),
        *(notice for kind in NOTICE_KINDS for notice in _capped(by_kind.get(kind, []), NOTICE_KINDS[kind])),
    )
    if _STOPS.requested:  # and not raised: it came after the commit point
        notices += (Notice(
            "the run was asked to stop (Ctrl-C or SIGTERM) after the batch was recorded in the store, "
            "so it was finished instead: the output folder is complete."
        ),)
    uncovered = sorted(item for s in summaries for item in s.uncovered)
    orphans = sorted(item for s in summaries for item in s.orphans)
    return RunReport(
        info=info,
        out=out,
        record=record,
        candidates=counts["candidates"],
        decisions=counts["decisions"],
        findings=counts["findings"],
        rejected=counts["rejected_rows"],
        recommendations=counts["recommendations"],
        uncovered=tuple(uncovered[:NAMED]),
        uncovered_count=sum(s.uncovered_count for s in summaries),
        orphans=tuple(orphans[:NAMED]),
        orphan_count=sum(s.orphan_count for s in summaries),
        memos=sum(_memo_wanted(memos, r) * n for r, n in counts["recommendations"].items()),
        notices=notices,
        timings=_timings(clock, wrote, summaries, workers),
    )


def _stage_order(stages: tuple[str, ...]) -> Callable[[str], int]:
    return lambda name: stages.index(name) if name in stages else len(stages)


def _timings(clock: Stopwatch, wrote: list[float], summaries: list[PartSummary], workers: int) -> Timings:
    parts = Stopwatch()
    for summary in summaries:
        parts.add(dict(summary.wall), dict(summary.cpu))
    return Timings(
        run=dict(clock.wall), write=sum(wrote), parts_wall=parts.wall, parts_cpu=parts.cpu,
        workers=min(workers, len(summaries)) if parallel() else 1,
    )


def _commit_point(written: Callable[[], float]) -> float:
    """Called by the store just before it commits: wait for the output files
    (``written``, which gives the seconds they took), stop if Ctrl-C or
    SIGTERM came so far, and from here on let a stop wait until the run is
    finished, up to the end of the block of ``stop_on_signals`` (its report
    says so). Returns what ``written`` gave."""
    seconds = written()
    _raise_if_stopped()
    _STOPS.held = True
    return seconds


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


# The folders a run makes beside its output folder: its work files (input
# rows in parts) and the new output folder it fills before moving it into place.
_OWNED_KINDS = ("work", "staging")


def _owned_prefix(out: Path, kind: str) -> str:
    """The start of the name of this process's ``kind`` folder for ``out``
    (one of ``_OWNED_KINDS``): it names the process, so that a later run can
    tell whether it is gone."""
    return f".{out.name}.{kind}.{os.getpid()}@{_host()}."


def _host() -> str:
    # Only what is safe in a file name; a host name has nothing else anyway.
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"


def _remove_abandoned_work(out: Path, announce: Callable[[str], None]) -> None:
    """Remove the work and staging folders beside ``out`` whose run was
    killed: made on this host by a process that no longer runs. A folder of
    a live run, of a run on another host (a shared folder), or without an
    owner in its name, is left alone."""
    if not out.parent.is_dir():
        return
    kinds = "|".join(_OWNED_KINDS)
    owned = re.compile(rf"\.{re.escape(out.name)}\.({kinds})\.(\d+)@(.+)\.[a-z0-9_]+")
    for path in sorted(out.parent.iterdir()):
        match = owned.fullmatch(path.name)
        if match is None or match[3] != _host() or not path.is_dir() or _running(int(match[2])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            what = "work folder" if match[1] == "work" else "unfinished output folder"
            announce(f"Removed {path}: the {what} of an earlier run that was killed (process {match[2]}).")


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a process that is not
    ours, or a zombie, counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_workers() -> int:
    """How many worker processes to use by default.

    Returns:
        One per core this process may use (at least 1).
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def evaluate_part(settings: _Settings, index: int) -> PartSummary:
    """Validate and evaluate one part; write its memos into the staging
    folder and its rows into part files. Runs in a worker process, or in the
    main one with one worker.

    Args:
        settings: the run's settings (rulebook, tables, date, split, folders).
        index: the part, 0 to ``settings.split.parts`` - 1.

    Returns:
        The ``PartSummary`` of the part.

    Raises:
        OSError: a memo or part file cannot be written.
    """
    take_part_times()  # from zero
    with _without_cycle_collection():
        summary = _evaluate_part(settings, index)
    wall, cpu = take_part_times()
    return dataclasses.replace(summary, wall=tuple(wall.items()), cpu=tuple(cpu.items()))


def _evaluate_part(settings: _Settings, index: int) -> PartSummary:
    split = settings.split
    with part_stage("validate"):
        findings_table, consents_table, applications_table = read_part(split, index)
        applications = (
            register_applications(
                applications_table, positions=settings.tables.positions, sha256=split.applications_sha256
            )
            if applications_table is not None else None
        )
        screened = screen_findings(
            findings_table,
            categories=settings.rulebook.categories,
            positions=settings.tables.positions,
            as_of=settings.as_of,
            sha256=split.batch_sha256,
            duplicates=split.duplicates,
            terms=settings.rulebook.vocabulary,
            applied=applications.applied if applications is not None else None,
        )
        consents = register_consents(
            consents_table, categories=settings.rulebook.categories, sha256=split.consents_sha256
        )
    with part_stage("judge"):
        part = judge_in_columns(screened, consents, settings.tables, settings.rulebook, settings.as_of, applications)
    # The few candidates judged row by row, as ``evaluate`` judges them.
    result = part.reference
    cases = part.cases

    with part_stage("memos"):
        stems = _write_memos(settings, index, part)
    # A stem is a plain file name (``memo_stem``): the paths are made as
    # text, not as a Path each, twice per decision.
    memo_out = f"{settings.out / 'memos'}{os.sep}"
    files = {
        decision_id: [f"{memo_out}{stem}.md", f"{memo_out}{stem}.html"] for decision_id, stem in stems.items()
    }
    with part_stage("store rows"):
        records = decision_records(
            result, result.decisions, sealer=settings.sealer, policy=settings.policy,
            batch_id=settings.batch_id, files=files,
        )
        records += stored_rows(
            part, as_of=settings.as_of, sealer=settings.sealer, policy=settings.policy,
            batch_id=settings.batch_id, files=files,
        )
        # In key order: the store's B-trees take sorted rows a quarter faster.
        records.sort(key=itemgetter(0))
    with part_stage("part files"):
        _dump_records(split.part_file("records", index), records)
        _write_part_rows(settings, index, part, stems)
    return _part_summary(index, screened, consents, applications, part)


def _part_memos(split: Split, index: int) -> Path:
    """The work folder where part ``index`` writes its memos, for
    ``_move_memos``."""
    return split.folder / f"memos-{index:03d}"


def _move_memos(source: Path, target: Path) -> int:
    """Move every file of a part's memo folder ``source`` into ``target``
    (the output's memos folder, on the same file system) and remove it;
    return how many files were moved.

    Why: two processes creating files in one folder contend for it in the
    kernel; on ext4 two workers writing memos into one folder created 2,500
    files a second between them, into a folder each 11,000. So each part
    writes into its own folder, and the main process, idle while the
    workers evaluate, renames the files into place: about 50,000 a second,
    with nothing copied.
    """
    try:
        names = os.listdir(source)
    except FileNotFoundError:
        return 0
    source_fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    try:
        target_fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in names:
                os.rename(name, name, src_dir_fd=source_fd, dst_dir_fd=target_fd)
        finally:
            os.close(target_fd)
    finally:
        os.close(source_fd)
    source.rmdir()
    return len(names)


def _check_memos_moved(folder: Path, moved: int) -> None:
    """Raise EngineError unless ``folder`` holds the ``moved`` files moved
    into it: a rename replaces a file of the same name without a word, and
    two parts never write one memo, so a missing file is a defect, never
    to pass unseen (one memo silently lost)."""
    held = len(os.listdir(folder))
    if held != moved:
        raise EngineError(
            f"{moved} memo files were moved into the output, but it holds {held}: two decisions "
            "wrote memos of the same name. Nothing was stored or written; this is a defect in "
            "adjudicate, please report it."
        )


def _write_memos(settings: _Settings, index: int, part) -> dict[str, str]:
    """Write the memos of part ``index`` that ``settings.memos`` asks for,
    into the part's own folder (``_part_memos``); return decision id -> the
    memo's file stem."""
    result, cases = part.reference, part.cases
    memo_folder = _part_memos(settings.split, index)
    memo_folder.mkdir(exist_ok=True)
    retention = _Retentions(settings.policy, settings.as_of)
    stems = {
        decision.decision_id: write_memo(result, decision, memo_folder, retention.of(decision))
        for decision in result.decisions
        if _memo_wanted(settings.memos, decision.recommendation.value)
    }
    wanted = [at for at, value in enumerate(cases["recommendation"]) if _memo_wanted(settings.memos, value)]
    for start in range(0, len(wanted), _MEMO_BATCH):
        for decision in part.decisions(wanted[start:start + _MEMO_BATCH]):
            stems[decision.decision_id] = write_memo(part.result, decision, memo_folder, retention.of(decision))
    return stems


def _write_part_rows(settings: _Settings, index: int, part, stems: dict[str, str]) -> None:
    """Write a part's rows of decisions.csv, findings.csv and rejected.csv
    into its part files, one block per candidate."""
    split, result, cases = settings.split, part.reference, part.cases
    # The records of decisions.csv and findings.csv go to the merge in one
    # block per candidate: a candidate is in one part only, and the files
    # are in the order of candidate, then position (then finding id).
    line = CsvLines()
    version = settings.rulebook.version + ("" if settings.rulebook.approved else " DRAFT")
    memo_paths = [f"memos/{stems[i]}.md" if i in stems else "" for i in cases["decision_id"]]
    decision_blocks = _blocks(
        [
            ((d.candidate_id, d.position.position_id if d.position else ""), line(decision_row(result, d, stems.get(d.decision_id))))
            for d in result.decisions
        ],
        [cases["candidate_id"], cases["position_id"]],
        csv_lines([
            cases["candidate_id"].to_numpy(dtype=object), cases["position_id"].to_numpy(dtype=object),
            cases["recommendation"].to_numpy(dtype=object), cases["reason"].to_numpy(dtype=object),
            cases["decision_id"].to_numpy(dtype=object), [version] * len(cases), memo_paths,
        ]),
    )
    _dump_frames(split.part_file("decisions-out", index), decision_blocks)
    columns = finding_columns(part)
    finding_blocks = _blocks(
        [((row[1], row[2], row[0]), line(row)) for d in result.decisions for row in finding_rows(d)],
        [columns[1], columns[2], columns[0]],
        csv_lines(columns),
    )
    _dump_frames(split.part_file("findings-out", index), finding_blocks)
    _dump_frames(
        split.part_file("rejected-out", index), (((r.file, r.line), line(rejected_row(r))) for r in result.rejected)
    )


def _part_summary(index: int, screened, consents, applications, part) -> PartSummary:
    result, cases, rows = part.reference, part.cases, part.rows
    uncovered = [(f.finding.finding_id, f.finding.candidate_id) for f in result.uncovered]
    lost = rows["rule_id"].to_numpy() == NO_RULE
    uncovered += list(zip(rows["finding_id"][lost], rows["candidate_id"][lost]))
    orphans = result.candidates_without_findings
    recommendations = Counter(d.recommendation.value for d in result.decisions)
    recommendations.update(cases["recommendation"].tolist())
    without_consent = [d.candidate_id for d in result.decisions if d.consent is None]
    without_consent += cases.loc[cases["consent"].isna(), "candidate_id"].tolist()
    return PartSummary(
        index=index,
        rows=len(screened.good) + len(screened.rejected),
        candidates=len({d.candidate_id for d in result.decisions} | set(cases["candidate_id"])),
        decisions=part.decision_count,
        findings=len(result.batch.findings) + part.fast_findings,
        rejected=len(result.rejected),
        recommendations=recommendations,
        uncovered=tuple(sorted(uncovered)[:NAMED]),
        uncovered_count=len(uncovered),
        orphans=tuple(sorted(orphans)[:NAMED]),
        orphan_count=len(orphans),
        notices=(
            ("identical rows", screened.notices),
            ("cases", result.batch.cases),
            ("applications", applications.notices if applications is not None else ()),
            ("leading zeros", tuple(dict.fromkeys(
                notice for candidate in without_consent
                if (notice := consents.leading_zeros_notice(candidate)) is not None
            ))),
        ),
    )


# The kinds of warnings a run collects, in the order they are reported, and
# what the line after the first NAMED of a kind says of the rest.
NOTICE_KINDS = {
    "identical rows": "more findings on identical rows, each read once",
    "cases": "more cases reported several times, each read as one finding",
    "applications": "more applications given twice, each read once",
    "leading zeros": "more candidates whose ids differ from a consent's by leading zeros",
}


def _capped(notices: list[Notice], rest: str) -> list[Notice]:
    """The first ``NAMED`` notices of one kind, in the order of their text,
    and one line for the rest: a large batch has thousands of them."""
    notices = sorted(notices, key=lambda notice: notice.text)
    if len(notices) <= NAMED:
        return notices
    return notices[:NAMED] + [Notice(f"... and {len(notices) - NAMED} {rest}.")]


def _memo_wanted(memos: str, recommendation: str) -> bool:
    """``flagged``: every candidate whose recommendation asks more than proceeding."""
    return memos == "all" or (memos == "flagged" and recommendation != Recommendation.PROCEED.value)


def _evaluate_parts(settings: _Settings, workers: int) -> Iterator[PartSummary]:
    parts = settings.split.parts
    if workers <= 1 or parts == 1 or not parallel():
        for index in range(parts):
            yield evaluate_part(settings, index)
        return
    yield from pool_map(
        _evaluate_in_worker, range(parts), workers=min(workers, parts),
        initializer=_start_worker, initargs=(settings,),
    )


_WORKER_SETTINGS: _Settings | None = None


def _start_worker(settings: _Settings) -> None:
    global _WORKER_SETTINGS
    _WORKER_SETTINGS = settings


def _evaluate_in_worker(index: int) -> PartSummary:
    assert _WORKER_SETTINGS is not None
    return evaluate_part(_WORKER_SETTINGS, index)


def _write_outputs(split: Split, folder: Path, info: BatchInfo, counts: dict) -> float:
    """The batch's own files, merged from the parts in a fixed order; returns
    the wall seconds it took."""
    start = time.perf_counter()
    for name, kind, columns in (
        ("decisions.csv", "decisions-out", DECISION_COLUMNS),
        ("findings.csv", "findings-out", FINDING_COLUMNS),
        ("rejected.csv", "rejected-out", REJECTED_COLUMNS),
    ):
        parts = (_frames(split.part_file(kind, index)) for index in range(split.parts))
        write_csv(folder / name, columns, (text for _, text in heapq.merge(*parts, key=itemgetter(0))))
    (folder / MANIFEST).write_text(
        json.dumps(manifest(info, counts), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return time.perf_counter() - start


class _Retentions:
    """How long each decision's data is kept, as its memo states it: the
    same as the store records (``Policy.retain_until`` from the evaluation
    date), found once per position and work location."""

    def __init__(self, policy: Policy, as_of: dt.date) -> None:
        self._policy, self._as_of = policy, as_of
        self._known: dict[tuple, Retention] = {}

    def of(self, decision) -> Retention:
        place = (decision.position.position_id if decision.position else None, decision.work_location)
        if place not in self._known:
            days = self._policy.retention_days(*place)
            self._known[place] = Retention(days, self._as_of + dt.timedelta(days=days))
        return self._known[place]


def _blocks(keyed: list[tuple[tuple, str]], keys: list, lines: pa.Array) -> list[tuple[str, str]]:
    """(candidate, the candidate's records in one text) for each candidate of
    a part, by candidate.

    Args:
        keyed: (key, record) of the decisions judged row by row; a key is
            (candidate, position) or (candidate, position, finding id).
        keys: the key columns of the records judged in columns (candidate
            first), one text per record.
        lines: those records, one per row of ``keys``.

    Returns:
        One block per candidate: its records in the order of their keys.
    """
    blocks: list[tuple[str, str]] = []
    if len(lines):
        table = pa.table({f"k{i}": texts(column) for i, column in enumerate(keys)})
        order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in table.column_names])
        candidates = table.column("k0").combine_chunks().take(order).to_numpy(zero_copy_only=False)
        lines = lines.take(order)
        starts = np.flatnonzero(np.r_[True, candidates[1:] != candidates[:-1]])
        offsets = pa.array(np.r_[starts, len(candidates)].astype(np.int32))
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, lines), "")
        blocks = list(zip(candidates[starts].tolist(), joined.to_pylist()))
    keyed.sort(key=itemgetter(0))
    for candidate, group in itertools.groupby(keyed, key=lambda item: item[0][0]):
        blocks.append((candidate, "".join(text for _, text in group)))
    blocks.sort(key=itemgetter(0))
    return blocks


def _dump_records(path: Path, records: list[DecisionRecord]) -> None:
    with path.open("wb") as handle:
        # marshal takes plain tuples, not NamedTuples.
        write_frame(handle, [tuple(record) for record in records])


def _load_records(path: Path) -> list[DecisionRecord]:
    return [DecisionRecord(*record) for frame in read_frames(path) for record in frame]


def _dump_frames(path: Path, rows: Iterable[tuple]) -> None:
    """Write (key, text) rows to a part file in frames of at most
    ``_FRAME_ROWS`` rows and about ``_FRAME_BYTES`` characters of text (a
    frame ends with the row that reaches it)."""
    with path.open("wb") as handle:
        frame: list[tuple] = []
        size = 0
        for row in rows:
            frame.append(row)
            size += len(row[-1])
            if len(frame) == _FRAME_ROWS or size >= _FRAME_BYTES:
                write_frame(handle, frame)
                frame, size = [], 0
        if frame:
            write_frame(handle, frame)


def _frames(path: Path) -> Iterator[tuple]:
    for frame in read_frames(path):
        yield from frame
