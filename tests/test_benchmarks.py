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
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import AS_OF, CATEGORIES, ROOT, read_csv

# benchmarks/ runs from the checkout and is not an installed package.
sys.path.insert(0, str(ROOT))

from benchmarks.baseline import run_baseline  # noqa: E402
from benchmarks.generate import (  # noqa: E402
    BATCH_COLUMNS,
    CONSENT_COLUMNS,
    FACT_COLUMNS,
    file_names,
    generate,
    kind_of,
    read_source_words,
    spell,
)
from benchmarks.memory import tree_rss  # noqa: E402
from benchmarks.runner import (  # noqa: E402
    MODE_ALL_MEMOS,
    MODE_BASELINE,
    MODE_NO_MEMOS,
    MODE_RENDERING,
    STAGES,
    Settings,
    parse_size,
    run,
    run_evaluate,
)
from engine.dates import parse_iso_date  # noqa: E402
from engine.inputs import findings as engine_findings  # noqa: E402
from engine.inputs.findings import load_findings  # noqa: E402
from engine.inputs.terms import vocabulary_key  # noqa: E402
from engine.rulebook.model import load_rulebook  # noqa: E402
from engine.vocabulary import Disposition, Severity  # noqa: E402

SMALL = 2_000
# Large enough for the rare words and facts to appear, small enough to read whole.
MEDIUM = 10_000
LARGE = 50_000
RULEBOOK = load_rulebook(ROOT / "rules")
TERMS = RULEBOOK.vocabulary
SPELLINGS = ("listed", "title", "upper", "full_width")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Generated batches shared by the tests of this module (generation is cached)."""
    return tmp_path_factory.mktemp("benchmark-data")


@pytest.fixture(scope="module")
def evaluated(data, tmp_path_factory) -> Path:
    """The output folder of ``adjudicate evaluate`` on the 10k batch."""
    scratch = tmp_path_factory.mktemp("evaluated")
    batch, consents = generate(MEDIUM, 7, data)
    seconds, peak, timings = run_evaluate(batch, consents, scratch, memos="none", workers=2)
    assert seconds > 0 and peak > 0
    # As many workers as the batch has parts, up to the two asked for.
    assert timings["workers"] in (1, 2) and timings["run_wall"]["evaluate"] > 0
    return scratch / "out"


def lines(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def read_as(column: str, word: str) -> str | None:
    """The value adjudicate reads ``word`` as in ``column`` (category,
    severity, disposition), whatever its spelling; None for an unknown word."""
    own = {"category": CATEGORIES, "severity": Severity.words(), "disposition": Disposition.words()}[column]
    key = vocabulary_key(word)
    for value in own:
        if vocabulary_key(value) == key:
            return value
    return TERMS.read_as(column, word)


def is_bad(row: dict) -> bool:
    """Whether adjudicate must reject the row (the generator's deliberate errors)."""
    if read_as("category", row["category"]) is None:
        return True
    try:
        return parse_iso_date(row["occurred_on"]) > AS_OF
    except ValueError:
        return True


def share(rows: list[dict], test) -> float:
    return sum(1 for row in rows if test(row)) / len(rows)


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


def test_a_batch_cached_by_the_older_generator_is_not_reused(tmp_path):
    # The names the generator used before the fact columns existed.
    old = tmp_path / f"batch-{SMALL}-s7.csv", tmp_path / f"consents-{SMALL}-s7.csv"
    for path in old:
        path.write_text("candidate_id,position_id\n", encoding="utf-8")
    assert tuple(path.name for path in old) != file_names(SMALL, 7)
    batch, consents = generate(SMALL, 7, tmp_path)
    assert (batch, consents) != old
    assert tuple(lines(batch)[0]) == BATCH_COLUMNS


def test_files_have_the_input_format(data):
    batch, consents = generate(SMALL, 7, data)
    assert tuple(lines(batch)[0]) == BATCH_COLUMNS
    assert tuple(lines(consents)[0]) == CONSENT_COLUMNS
    assert len(lines(batch)) - 1 == SMALL
    rows = read_csv(batch)
    assert any(not row["description"].isascii() for row in rows)
    assert any("," in row["description"] for row in rows)
    dates = [parse_iso_date(row["occurred_on"]) for row in rows if not is_bad(row)]
    assert min(dates) >= AS_OF.replace(year=AS_OF.year - 15)


def test_the_batch_has_every_column_the_engine_reads():
    assert FACT_COLUMNS == engine_findings.FACT_COLUMNS
    assert set(BATCH_COLUMNS) == set(engine_findings.COLUMNS)


def test_about_five_findings_per_candidate_for_one_position_each(data):
    rows = read_csv(generate(MEDIUM, 7, data)[0])
    per_candidate = Counter(row["candidate_id"] for row in rows)
    assert 4.5 < len(rows) / len(per_candidate) < 5.5
    assert max(per_candidate.values()) <= 9
    positions = {(row["candidate_id"], row["position_id"]) for row in rows}
    assert len(positions) == len(per_candidate)


def test_a_few_rows_are_deliberately_bad(data):
    rows = read_csv(generate(MEDIUM, 7, data)[0])
    bad = [row for row in rows if is_bad(row)]
    assert 0 < len(bad) < 0.005 * len(rows)


def test_consents_include_narrow_missing_and_expired_ones(data):
    batch, consents = generate(MEDIUM, 7, data)
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
    rows = read_csv(generate(LARGE, 7, data)[0])
    candidates = [row["candidate_id"] for row in rows]
    neighbours = sum(a == b for a, b in zip(candidates, candidates[1:]))
    assert neighbours < 0.01 * len(rows)
    assert candidates != sorted(candidates)


def test_facts_are_mostly_empty_and_where_a_court_record_has_them(data):
    rows = [row for row in read_csv(generate(LARGE, 7, data)[0]) if not is_bad(row)]
    kinds = {row["finding_id"]: kind_of(read_as("category", row["category"])) for row in rows}
    filled = {column: share(rows, lambda row, c=column: row[c] != "") for column in FACT_COLUMNS}
    # Most cells empty, the common facts common and the rare ones rare.
    assert all(rate < 0.4 for rate in filled.values())
    assert 0.25 < filled["report_obtained_on"] < 0.4
    assert 0.08 < filled["disposition_date"] < 0.2
    assert 0.08 < filled["case_number"] < 0.2
    assert 0.02 < filled["party_role"] < 0.06
    assert 0.01 < filled["sentence_completed_on"] < 0.05
    assert 0.01 < filled["juvenile"] < 0.05
    assert 0.002 < filled["conduct_established"] < 0.02
    assert 0 < filled["relief"] == filled["relief_on"] < 0.005
    # Each fact on the records it belongs to.
    court = {"criminal", "civil"}
    for column in ("disposition_date", "case_number"):
        assert {kinds[row["finding_id"]] for row in rows if row[column]} == court
    assert {kinds[row["finding_id"]] for row in rows if row["party_role"]} == {"civil"}
    for column in ("sentence_completed_on", "juvenile", "relief", "conduct_established"):
        assert {kinds[row["finding_id"]] for row in rows if row[column]} == {"criminal"}
    # Words of the fact columns, in the engine's closed lists whatever their spelling.
    for column, words in engine_findings.FACT_WORDS.items():
        written = {row[column] for row in rows if row[column]}
        assert {vocabulary_key(word) for word in written} <= set(words)
        assert any(word not in words for word in written) or column == "relief"


def test_dates_of_the_facts_are_consistent(data):
    rows = [row for row in read_csv(generate(LARGE, 7, data)[0]) if not is_bad(row)]

    def day(row, column):
        return dt.date.fromisoformat(row[column]) if row[column] else None

    for row in rows:
        occurred, decided = day(row, "occurred_on"), day(row, "disposition_date")
        completed = day(row, "sentence_completed_on")
        relief_on, obtained = day(row, "relief_on"), day(row, "report_obtained_on")
        for date in (decided, completed, relief_on, obtained):
            assert date is None or occurred <= date <= AS_OF
        assert completed is None or (decided is not None and decided <= completed)
        assert relief_on is None or (completed is not None and completed <= relief_on)
        assert bool(row["relief"]) == bool(relief_on)
        assert not (decided and read_as("disposition", row["disposition"]) == "pending")


def test_reports_are_obtained_around_the_signing_and_a_few_before_it(data):
    batch, consents = generate(LARGE, 7, data)
    signed = {row["candidate_id"]: dt.date.fromisoformat(row["signed_on"]) for row in read_csv(consents)}
    rows = [row for row in read_csv(batch) if row["report_obtained_on"] and row["candidate_id"] in signed]
    delays = [(dt.date.fromisoformat(row["report_obtained_on"]) - signed[row["candidate_id"]]).days for row in rows]
    before = [delay for delay in delays if delay < 0]
    assert 0.01 < len(before) / len(delays) < 0.05
    # Up to 20 days after the signing, or on the day of a record made later.
    assert all(delay <= 20 or row["report_obtained_on"] == row["occurred_on"] for delay, row in zip(delays, rows))
    assert min(before) >= -60


def test_words_are_written_as_screening_sources_write_them(data):
    """Every word rules/vocabulary.yaml lists appears, in capitalised,
    upper-case and full-width spellings too, and Chinese courts write
    Chinese words; the product's own words are still the most common."""
    rows = [row for row in read_csv(generate(MEDIUM, 7, data)[0]) if not is_bad(row)]
    listed = read_source_words()
    assert set(listed) == {"disposition", "severity", "category"}
    for column, values in listed.items():
        written = Counter(row[column] for row in rows)
        keys = {vocabulary_key(word) for word in written}
        for value, words in values.items():
            assert {vocabulary_key(word) for word in words} <= keys, (column, value)
        own = {"category": CATEGORIES, "severity": Severity.words(), "disposition": Disposition.words()}[column]
        in_own_words = sum(n for word, n in written.items() if word in own)
        in_source_words = sum(n for word, n in written.items() if vocabulary_key(word) not in own)
        assert 0.02 < in_source_words / len(rows) < 0.25, column
        assert in_own_words / len(rows) > 0.7, column
    dispositions = [row["disposition"] for row in rows]
    assert any(word != word.lower() and word.title() == word for word in dispositions)  # "Nolle Prosequi"
    assert any(word.isupper() for word in dispositions)
    assert any(any("\uff01" <= char <= "\uff5e" for char in word) for word in dispositions)  # full-width
    chinese = [row for row in rows if any("\u4e00" <= char <= "\u9fff" for char in row["disposition"])]
    assert chinese and all(row["jurisdiction"].startswith("CN") for row in chinese)


def test_the_engine_reads_every_word_in_every_spelling(tmp_path):
    """A batch with each word of the vocabulary file, in each spelling the
    generator writes, is read by the engine without a rejection, each word
    as the value the file lists it under."""
    rows, expected = [], {}
    listed = read_source_words()
    for column, values in listed.items():
        for value, words in values.items():
            for word in words:
                for spelling in SPELLINGS:
                    finding_id = f"F-{len(rows):05d}"
                    row = {"category": "offense_other", "severity": "minor", "disposition": "confirmed"}
                    row[column] = spell(word, spelling)
                    rows.append({
                        "candidate_id": f"C-{len(rows):05d}", "position_id": "cashier", "finding_id": finding_id,
                        "occurred_on": "2020-01-01", **row,
                    })
                    expected[finding_id] = (column, value)
    batch = tmp_path / "words.csv"
    with batch.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=BATCH_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    loaded = load_findings(batch, categories=RULEBOOK.categories, positions=["cashier"], as_of=AS_OF, terms=TERMS)
    assert loaded.rejected == ()
    assert len(loaded.findings) == len(rows)
    for finding in loaded.findings:
        column, value = expected[finding.finding_id]
        assert getattr(finding, column) == value


def test_some_cases_are_reported_twice_and_some_rows_sent_twice(data):
    rows = read_csv(generate(LARGE, 7, data)[0])
    by_id = defaultdict(list)
    for row in rows:
        by_id[row["finding_id"]].append(row)
    repeated = [same for same in by_id.values() if len(same) > 1]
    # Rows that share an id are identical: the engine reads them once.
    assert all(len(same) == 2 and same[0] == same[1] for same in repeated)
    assert 0.0005 < len(repeated) / len(rows) < 0.005
    cases = defaultdict(list)
    for same in by_id.values():
        row = same[0]
        if row["case_number"]:
            cases[row["candidate_id"], row["case_number"]].append(row)
    twice = [reports for reports in cases.values() if len(reports) > 1]
    assert 0.002 < len(twice) / len(rows) < 0.02
    for first, second in twice:
        assert first["source"] != second["source"]
        assert first["occurred_on"] == second["occurred_on"]
        for column in ("category", "severity", "disposition"):
            assert read_as(column, first[column]) == read_as(column, second[column])


def test_the_engine_accepts_the_batch_and_rejects_exactly_the_bad_rows(data, evaluated):
    batch, _ = generate(MEDIUM, 7, data)
    bad = {row["finding_id"] for row in read_csv(batch) if is_bad(row)}
    assert bad
    assert {row["finding_id"] for row in read_csv(evaluated / "rejected.csv")} == bad
    judged = read_csv(evaluated / "findings.csv")
    rules = Counter(row["rule_id"] for row in judged)
    # Reports obtained before the consent was signed are set aside.
    assert rules["CONSENT-TIMING"] > 0
    for column in ("category", "severity", "disposition"):
        assert any(row[f"{column}_reported"] for row in judged)


def test_the_baseline_judges_every_finding_the_engine_judges(data, evaluated):
    batch, _ = generate(MEDIUM, 7, data)
    rows = read_csv(batch)
    judged = read_csv(evaluated / "findings.csv")
    rejected = read_csv(evaluated / "rejected.csv")
    result = run_baseline(batch)
    # One posted finding per finding of findings.csv: words read, bad rows
    # skipped, identical rows and reports of one case folded, as adjudicate does.
    assert result.findings == result.hits == len(judged)
    assert result.skipped == len(rejected)
    assert result.folded == len(rows) - len(judged) - len(rejected) > 0
    assert result.candidates == len({row["candidate_id"] for row in judged})


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
    # Each adjudicate run names its seconds per stage, in the JSON and not in the CSV.
    stages = {m["mode"]: m["stages"] for m in document["measurements"]}
    assert list(stages[MODE_NO_MEMOS]) == [name for name, _, _ in STAGES]
    assert stages[MODE_NO_MEMOS]["judge"] > 0 and stages[MODE_ALL_MEMOS]["memos"] > 0
    assert stages[MODE_BASELINE] is None and "stages" not in read_csv(tmp_path / "latest.csv")[0]


@pytest.mark.parametrize("text, findings", [("2500", 2_500), ("10k", 10_000), ("1M", 1_000_000)])
def test_sizes(text, findings):
    assert parse_size(text) == findings


def test_memory_of_a_process_tree():
    assert tree_rss(os.getpid()) > 10 * 1024 * 1024
