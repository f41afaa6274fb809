"""The benchmark run: for each batch size, adjudicate end to end (without
and with memos), the plain durable-rules baseline, and once per run the
memo rendering on its own.

adjudicate runs as a subprocess, exactly as an operator runs it, with a
fresh SQLite store each time; its wall time includes starting Python. The
figures go to stdout as a table and to ``results/latest.json`` and
``latest.csv`` with a description of the machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.metadata
import io
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from engine.evaluation.judging import evaluate_files
from engine.documents.memos import render_memo

from .baseline import run_baseline
from .generate import AS_OF, ROOT, generate
from .memory import MIB, PeakMemory

PACKAGE = Path(__file__).resolve().parent
DEFAULT_DATA = PACKAGE / "data"
DEFAULT_RESULTS = PACKAGE / "results"
RULES = ROOT / "rules"
TABLES = ROOT / "position_risk_tables"
# Memo rendering is measured on the batch of this size: its memos are as
# varied as a larger batch's, and evaluating it in-process takes seconds.
MEMO_SAMPLE = "10k"

_SIZE = re.compile(r"^(\d+)([km]?)$", re.IGNORECASE)
_MULTIPLIER = {"": 1, "k": 1_000, "m": 1_000_000}

MODE_NO_MEMOS = "adjudicate, no memos"
MODE_ALL_MEMOS = "adjudicate, all memos"
MODE_BASELINE = "baseline, rule engine only"
MODE_RENDERING = "memo rendering, 1 process"


@dataclass(frozen=True)
class Measurement:
    """One line of the results table; None where a figure does not apply."""

    size: str
    findings: int  # rows in the batch
    candidates: int
    mode: str
    seconds: float
    findings_per_s: float | None = None
    candidates_per_s: float | None = None
    memos_per_s: float | None = None
    peak_mib: float | None = None
    ratio_to_baseline: float | None = None
    # adjudicate's seconds per stage (``STAGES``), from ``evaluate --timings``;
    # in latest.json and the stage table, not in latest.csv.
    stages: tuple[tuple[str, float], ...] | None = None


# The stages the results name, from the figures of ``evaluate --timings``
# (``engine.evaluation.timings``): (name, what it is, how it is taken).
# The main process's stages are wall seconds; the workers' are CPU seconds
# summed over every part, since parts run side by side.
STAGES = (
    ("read", "main, wall: the batch and consents read and split into parts", ("run_wall", "read")),
    ("evaluate", "main, wall: waiting for the workers to evaluate every part", ("run_wall", "evaluate")),
    ("place memos", "main, wall: each part's memos moved into the memos folder", ("run_wall", "move memos")),
    ("store", "main, wall: the decisions recorded in the store, and the commit", ("run_wall", "record")),
    ("merge", "side process, wall: the parts' rows merged into the output files", ("write_wall",)),
    ("validate", "workers, CPU: rows read, validated and screened; consents registered", ("parts_cpu", "validate")),
    ("judge", "workers, CPU: risk signatures judged by durable-rules and joined back",
     ("parts_cpu", "judge", "judge row by row")),
    ("hash", "workers, CPU: canonical JSON and SHA-256 of each decision id", ("parts_cpu", "identify")),
    ("seal", "workers, CPU: sealed inputs and store rows", ("parts_cpu", "store rows")),
    ("memos", "workers, CPU: memos rendered and written", ("parts_cpu", "memos")),
    ("write", "workers, CPU: the parts' output rows and records written", ("parts_cpu", "part files")),
)


def stage_seconds(timings: dict) -> tuple[tuple[str, float], ...]:
    """The ``STAGES`` of a run from its ``--timings`` JSON, in seconds;
    a stage the run did not time counts 0."""
    def taken(where: tuple[str, ...]) -> float:
        if len(where) == 1:
            return float(timings.get(where[0], 0.0))
        group = timings.get(where[0], {})
        return sum(float(group.get(name, 0.0)) for name in where[1:])
    return tuple((name, taken(where)) for name, _, where in STAGES)


class Progress:
    """Progress lines on stderr, stamped with the time since the run began."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.start:7.1f} s] {message}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    """'10k' -> 10,000; '1m' -> 1,000,000; '2500' -> 2,500."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a size; write a number of findings such as 2500, 10k or 1m.")
    return int(match.group(1)) * _MULTIPLIER[match.group(2).lower()]


def count_batch(batch: Path) -> tuple[int, int]:
    """(rows, distinct candidates) of a batch CSV."""
    with batch.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        column = next(reader).index("candidate_id")
        candidates = set()
        rows = 0
        for row in reader:
            rows += 1
            candidates.add(row[column])
    return rows, len(candidates)


def run_evaluate(
    batch: Path, consents: Path, scratch: Path, *, memos: str, workers: int
) -> tuple[float, int, dict]:
    """Run ``adjudicate evaluate`` on a fresh store in ``scratch``; returns
    (wall seconds, peak resident bytes of its process tree, its ``--timings``
    figures as read from the JSON)."""
    command = [
        sys.executable, "-m", "engine", "evaluate", str(batch),
        "--consents", str(consents),
        "--rules", str(RULES),
        "--tables", str(TABLES),
        "--as-of", AS_OF.isoformat(),
        "--out", str(scratch / "out"),
        "--db", f"sqlite:///{scratch / 'store.db'}",
        "--memos", memos,
        "--workers", str(workers),
        "--quiet",
        "--timings", str(scratch / "timings.json"),
    ]
    env = {**os.environ, "ADJUDICATE_KEY_FILE": str(scratch / "store.key")}
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    with PeakMemory(process.pid) as memory:
        _, errors = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"adjudicate evaluate failed (exit {process.returncode}):\n{errors}")
    return seconds, memory.peak, json.loads((scratch / "timings.json").read_text(encoding="utf-8"))


def measure_memo_rendering(batch: Path, consents: Path) -> tuple[int, float]:
    """(memos rendered, seconds): every decision of ``batch`` rendered to
    Markdown and HTML in this process, without evaluating or writing."""
    result = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=AS_OF)
    decisions = result.decisions
    # The first render loads and compiles the templates; that is a one-off
    # cost per process, not part of the throughput.
    render_memo(result, decisions[0])
    start = time.perf_counter()
    for decision in decisions:
        render_memo(result, decision)
    return len(decisions), time.perf_counter() - start


def machine_info() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": _total_memory_mib(),
        "python": platform.python_version(),
        "durable_rules": importlib.metadata.version("durable-rules"),
        "adjudicate_commit": _commit(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _total_memory_mib() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("/proc/meminfo has no MemTotal line")


def _commit() -> str | None:
    """The checked-out commit, marked when the working tree has changes:
    figures are only comparable for the same code."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            # No optional locks: a plain status may rewrite the index, and
            # measuring must leave the checkout untouched.
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if changes else "")


@dataclass(frozen=True)
class Settings:
    sizes: tuple[str, ...]
    seed: int
    workers: int
    data: Path
    results: Path
    skip_baseline: bool


def run(settings: Settings) -> list[Measurement]:
    """The whole benchmark; prints the table and writes the results files."""
    progress = Progress()
    measurements: list[Measurement] = []
    for size in settings.sizes:
        measurements += _measure_size(size, settings, progress)
    measurements.append(_measure_rendering(settings, progress))

    machine = machine_info()
    context = {"seed": settings.seed, "workers": settings.workers}
    print(format_table(measurements))
    print()
    print(format_stages(measurements))
    write_results(settings.results, machine, context, measurements)
    progress.say(f"results written to {settings.results}/latest.json and latest.csv")
    return measurements


def _measure_size(size: str, settings: Settings, progress: Progress) -> list[Measurement]:
    findings = parse_size(size)
    progress.say(f"{size}: generating {findings:,} findings (seed {settings.seed}, cached in {settings.data})")
    batch, consents = generate(findings, settings.seed, settings.data)
    rows, candidates = count_batch(batch)
    base = Measurement(size, rows, candidates, "", 0.0)
    without, with_memos = (
        _measure_evaluate(base, batch, consents, settings.data, memos, settings.workers, progress)
        for memos in ("none", "all")
    )
    # The memo rate is the rate at which memos add to a run: candidates
    # over the seconds the run with memos takes beyond the run without.
    extra = with_memos.seconds - without.seconds
    runs = [without, replace(with_memos, memos_per_s=base.candidates / extra if extra > 0 else None)]
    if settings.skip_baseline:
        return runs
    baseline = _measure_baseline(base, batch, progress)
    # The ratio is taken on the run without memos: the baseline writes none.
    return [
        replace(measured, ratio_to_baseline=measured.findings_per_s / baseline.findings_per_s)
        if measured.mode != MODE_ALL_MEMOS
        else measured
        for measured in runs
    ] + [baseline]


def _measure_evaluate(
    base: Measurement,
    batch: Path,
    consents: Path,
    data: Path,
    memos: str,
    workers: int,
    progress: Progress,
) -> Measurement:
    mode = {"none": MODE_NO_MEMOS, "all": MODE_ALL_MEMOS}[memos]
    progress.say(f"{base.size}: {mode} ({workers} workers)")
    # Scratch beside the data, not in /tmp: a million-finding run writes
    # gigabytes of memos, and /tmp may be held in memory.
    with tempfile.TemporaryDirectory(dir=data, prefix="run-") as scratch:
        seconds, peak, timings = run_evaluate(batch, consents, Path(scratch), memos=memos, workers=workers)
    stages = stage_seconds(timings)
    progress.say(
        f"{base.size}: {mode}: {seconds:.1f} s, peak {peak / MIB:,.0f} MiB; "
        + ", ".join(f"{name} {value:.1f}" for name, value in stages)
    )
    return replace(
        base,
        mode=mode,
        seconds=seconds,
        findings_per_s=base.findings / seconds,
        candidates_per_s=base.candidates / seconds,
        peak_mib=peak / MIB,
        stages=stages,
    )


def _measure_baseline(base: Measurement, batch: Path, progress: Progress) -> Measurement:
    progress.say(f"{base.size}: {MODE_BASELINE}")
    baseline = run_baseline(batch, rules=RULES, tables=TABLES)
    progress.say(f"{base.size}: {MODE_BASELINE}: {baseline.seconds:.2f} s driving durable-rules")
    return replace(
        base,
        mode=MODE_BASELINE,
        seconds=baseline.seconds,
        findings_per_s=baseline.findings_per_second,
        candidates_per_s=baseline.candidates / baseline.seconds,
    )


def _measure_rendering(settings: Settings, progress: Progress) -> Measurement:
    progress.say(f"{MODE_RENDERING}: evaluating the {MEMO_SAMPLE} batch in-process")
    batch, consents = generate(parse_size(MEMO_SAMPLE), settings.seed, settings.data)
    memos, seconds = measure_memo_rendering(batch, consents)
    progress.say(f"{MODE_RENDERING}: {memos:,} memos in {seconds:.1f} s")
    rows, candidates = count_batch(batch)
    return Measurement(MEMO_SAMPLE, rows, candidates, MODE_RENDERING, seconds, memos_per_s=memos / seconds)


COLUMNS = (
    ("size", "size", "{}"),
    ("candidates", "candidates", "{:,}"),
    ("mode", "mode", "{}"),
    ("seconds", "seconds", "{:.1f}"),
    ("findings_per_s", "findings/s", "{:,.0f}"),
    ("candidates_per_s", "candidates/s", "{:,.0f}"),
    ("memos_per_s", "memos/s", "{:,.0f}"),
    ("peak_mib", "peak MiB", "{:,.0f}"),
    ("ratio_to_baseline", "× baseline", "{:.2f}"),
)


def format_table(measurements: Sequence[Measurement]) -> str:
    header = [title for _, title, _ in COLUMNS]
    body = [
        [
            "—" if getattr(m, name) is None else form.format(getattr(m, name))
            for name, _, form in COLUMNS
        ]
        for m in measurements
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    # Text columns to the left, figures to the right.
    align = ["<" if name in ("size", "mode") else ">" for name, _, _ in COLUMNS]
    lines = [
        "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths))
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_stages(measurements: Sequence[Measurement]) -> str:
    """The seconds per stage of each adjudicate run, one line per run, and
    what each stage is."""
    timed = [m for m in measurements if m.stages is not None]
    header = ["size", "mode", *(name for name, _, _ in STAGES)]
    body = [[m.size, m.mode, *(f"{seconds:.2f}" for _, seconds in m.stages)] for m in timed]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(f"{cell:{'<' if i < 2 else '>'}{w}}" for i, (cell, w) in enumerate(zip(row, widths)))
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(
        ["Seconds per stage of adjudicate:", *lines, ""]
        + [f"  {name}: {meaning}" for name, meaning, _ in STAGES]
    )


# Measurement fields that latest.csv leaves out (one cell cannot hold them).
_NOT_IN_CSV = ("stages",)


def write_results(folder: Path, machine: dict, context: dict, measurements: Sequence[Measurement]) -> None:
    """latest.json (everything, with the seconds per stage of each
    adjudicate run) and latest.csv (one line per measurement, with the
    machine on every line so that the file stands alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine, **context,
        "measurements": [
            {**asdict(m), "stages": dict(m.stages) if m.stages is not None else None} for m in measurements
        ],
    }
    _replace(folder / "latest.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    names = [f.name for f in fields(Measurement) if f.name not in _NOT_IN_CSV]
    writer.writerow(names + list(machine))
    for m in measurements:
        writer.writerow([_cell(getattr(m, name)) for name in names] + [_cell(v) for v in machine.values()])
    _replace(folder / "latest.csv", table.getvalue())


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so that a reader
    never sees a half-written result."""
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)
