"""The benchmark package: the seeded generator, the baseline and the runner.

Nothing here measures speed; these tests check that the benchmark measures
the right thing: a realistic, reproducible batch that the real engine
accepts, a baseline that judges every valid finding, and a runner that
writes its results.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import AS_OF, CATEGORIES, ROOT, read_csv

# benchmarks/ runs from the checkout and is not an installed package.
sys.path.insert(0, str(ROOT))

from benchmarks.baseline import run_baseline  # noqa: E402
from benchmarks.generate import BATCH_COLUMNS, CONSENT_COLUMNS, generate  # noqa: E402
from benchmarks.memory import tree_rss  # noqa: E402
from benchmarks.runner import (  # noqa: E402
    MODE_ALL_MEMOS,
    MODE_BASELINE,
    MODE_NO_MEMOS,
    MODE_RENDERING,
    Settings,
    parse_size,
    run,
    run_evaluate,
)
from engine.dates import parse_iso_date  # noqa: E402

SMALL = 2_000


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Generated batches shared by the tests of this module (generation is cached)."""
    return tmp_path_factory.mktemp("benchmark-data")


def lines(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def is_bad(row: dict) -> bool:
    """Whether adjudicate must reject the row (the generator's deliberate errors)."""
    if row["category"] not in CATEGORIES:
        return True
    try:
        return parse_iso_date(row["occurred_on"]) > AS_OF
    except ValueError:
        return True


def test_same_seed_gives_identical_files(tmp_path):
    first = generate(SMALL, 7, tmp_path / "a")
    again = generate(SMALL, 7, tmp_path / "b")
    other = generate(SMALL, 8, tmp_path / "c")
    for mine, same, different in zip(first, again, other):
        assert mine.read_bytes() == same.read_bytes()
        assert mine.read_bytes() != different.read_bytes()


def test_generated_files_are_reused(data):
    batch, consents = generate(SMALL, 7, data)
    written = batch.stat().st_mtime_ns, consents.stat().st_mtime_ns
    assert generate(SMALL, 7, data) == (batch, consents)
    assert (batch.stat().st_mtime_ns, consents.stat().st_mtime_ns) == written


def test_files_have_the_input_format(data):
    batch, consents = generate(SMALL, 7, data)
    assert tuple(lines(batch)[0]) == BATCH_COLUMNS
    assert tuple(lines(consents)[0]) == CONSENT_COLUMNS
    assert len(lines(batch)) - 1 == SMALL
    rows = read_csv(batch)
    assert len({row["finding_id"] for row in rows}) == SMALL
    assert any(not row["description"].isascii() for row in rows)
    assert any("," in row["description"] for row in rows)
    dates = [parse_iso_date(row["occurred_on"]) for row in rows if not is_bad(row)]
    assert min(dates) >= AS_OF.replace(year=AS_OF.year - 15)


def test_about_five_findings_per_candidate_for_one_position_each(data):
    rows = read_csv(generate(10_000, 7, data)[0])
    per_candidate = Counter(row["candidate_id"] for row in rows)
    assert 4.5 < len(rows) / len(per_candidate) < 5.5
    assert max(per_candidate.values()) <= 9
    positions = {(row["candidate_id"], row["position_id"]) for row in rows}
    assert len(positions) == len(per_candidate)


def test_a_few_rows_are_deliberately_bad(data):
    rows = read_csv(generate(10_000, 7, data)[0])
    bad = [row for row in rows if is_bad(row)]
    assert 0 < len(bad) < 0.005 * len(rows)


def test_consents_include_narrow_missing_and_expired_ones(data):
    batch, consents = generate(10_000, 7, data)
    candidates = {row["candidate_id"] for row in read_csv(batch)}
    rows = read_csv(consents)
    narrow = [row for row in rows if len(row["scope"].split(";")) < len(CATEGORIES)]
    expired = [row for row in rows if dt.date.fromisoformat(row["expires_on"]) < AS_OF]
    missing = candidates - {row["candidate_id"] for row in rows}
    assert 0.05 < len(narrow) / len(candidates) < 0.15
    assert expired and missing
    assert all(set(row["scope"].split(";")) <= set(CATEGORIES) for row in rows)


def test_rows_are_not_grouped_by_candidate(data):
    # Larger than the shuffle window, so that its streaming path is used.
    rows = read_csv(generate(50_000, 7, data)[0])
    candidates = [row["candidate_id"] for row in rows]
    neighbours = sum(a == b for a, b in zip(candidates, candidates[1:]))
    assert neighbours < 0.01 * len(rows)
    assert candidates != sorted(candidates)


def test_the_engine_accepts_the_batch_and_rejects_exactly_the_bad_rows(data, tmp_path):
    batch, consents = generate(SMALL, 7, data)
    seconds, peak = run_evaluate(batch, consents, tmp_path, memos="flagged", workers=2)
    assert seconds > 0 and peak > 0
    bad = {row["finding_id"] for row in read_csv(batch) if is_bad(row)}
    assert bad
    assert {row["finding_id"] for row in read_csv(tmp_path / "out" / "rejected.csv")} == bad


def test_the_baseline_judges_every_valid_finding(data):
    batch, _ = generate(SMALL, 7, data)
    rows = read_csv(batch)
    valid = [row for row in rows if not is_bad(row)]
    result = run_baseline(batch)
    assert result.findings == result.hits == len(valid)
    assert result.skipped == len(rows) - len(valid)
    assert result.candidates == len({row["candidate_id"] for row in valid})


def test_the_runner_writes_its_results(data, tmp_path):
    measurements = run(Settings(("2k",), 7, 1, data, tmp_path, skip_baseline=False))
    document = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert {"cpu", "cores", "memory_mib", "python", "durable_rules", "date"} <= set(document["machine"])
    assert len(document["measurements"]) == len(measurements) == len(read_csv(tmp_path / "latest.csv"))
    modes = {m.mode: m for m in measurements}
    assert MODE_BASELINE in modes and MODE_RENDERING in modes
    assert modes[MODE_NO_MEMOS].ratio_to_baseline > 0
    assert modes[MODE_ALL_MEMOS].seconds > 0 and modes[MODE_NO_MEMOS].memos_per_s is None
    assert not list(data.glob("run-*")), "scratch folders of the runs were left behind"


@pytest.mark.parametrize("text, findings", [("2500", 2_500), ("10k", 10_000), ("1M", 1_000_000)])
def test_sizes(text, findings):
    assert parse_size(text) == findings


def test_memory_of_a_process_tree():
    assert tree_rss(os.getpid()) > 10 * 1024 * 1024
