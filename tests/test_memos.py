"""Decision memos and the CSV files: escaping, text in any language, safe
file names, formula neutralisation, and a golden memo."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from pathlib import Path

import markupsafe
import pytest
import yaml

from conftest import (
    EXAMPLE_BATCH,
    EXAMPLE_CONSENTS,
    RULES,
    TABLES,
    assert_clean_exit,
    consent,
    evaluate_args,
    finding,
    read_csv,
    relevance_row,
    run_cli,
    write_batch,
    write_consents,
)
from engine.evaluation.judging import evaluate_files
from engine.documents.memos import render_memo
from engine.documents.once import OncePer
from engine.documents.reports import write_memo
from engine.documents.templating import HTML, MARKDOWN

RECENT = "2026-06-15"
GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("ADJUDICATE_UPDATE_GOLDEN") == "1"


# --- escaping ------------------------------------------------------------------------


def test_html_in_a_finding_is_escaped_in_both_memos(adjudicate):
    outcome = adjudicate([
        finding("C-X", "van_driver", "F-X", "traffic_violation", "minor", RECENT,
                description="<script>alert(1)</script> rear-end collision",
                source='<img src=x onerror="alert(2)">',
                jurisdiction="<b>US-CA</b>"),
    ])
    assert outcome.findings["F-X"]["handling"] == "review"  # considered: the memo shows its details
    html = outcome.memo("C-X", "html")
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; rear-end collision" in html
    assert "&lt;img src=x onerror=" in html

    markdown = outcome.memo("C-X", "md")
    assert "<script>" not in markdown
    assert "</script>" not in markdown
    # Every '<' that reaches the Markdown is escaped, so none opens a tag.
    assert re.findall(r"(?<!\\)<", markdown) == []
    assert "alert(1)" in markdown and "rear-end collision" in markdown


def test_the_html_memo_heading_is_its_title(adjudicate):
    # memo.html.j2 writes the title block's text a second time as the
    # heading: the two must not drift apart, escaping included.
    outcome = adjudicate([
        finding("C-O'Brien&Co", "van_driver", "F-1", "traffic_violation", "minor", RECENT),
        finding("C-2", "van_driver", "F-2", "traffic_violation", "minor", RECENT),
    ])
    for candidate in ("C-O'Brien&Co", "C-2"):
        page = outcome.memo(candidate, "html")
        title = re.search(r"<title>(.*)</title>", page).group(1)
        assert re.search(r"<h1>(.*)</h1>", page).group(1) == title
        assert title.endswith(markupsafe.escape(candidate))


def test_markdown_special_characters_cannot_break_the_memo_table(adjudicate):
    outcome = adjudicate([
        finding("C|1", "van_driver", "F-1", "traffic_violation", "minor", RECENT,
                description="*bold* [link](http://example.com) | pipe\nnew line # heading"),
    ])
    markdown = outcome.memo("C|1", "md")
    row = next(line for line in markdown.splitlines() if line.startswith("| Candidate reference"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 3  # two cells, the id's pipe is escaped
    description = next(line for line in markdown.splitlines() if line.startswith("- Description:"))
    assert "](http" not in description.replace("\\]", "")  # no live link
    assert "heading" in description  # the new line did not start a heading


def test_chinese_text_round_trips_into_the_memos(adjudicate):
    description = "轻微交通事故，无人员受伤"
    source = "上海市公安局交通管理局"
    outcome = adjudicate([
        finding("C-CN", "van_driver", "F-CN", "traffic_violation", "minor", RECENT,
                source=source, jurisdiction="CN-SH", description=description),
    ])
    assert outcome.findings["F-CN"]["handling"] == "review"
    for kind in ("md", "html"):
        memo = outcome.memo("C-CN", kind)
        assert f"Description: {description}" in memo
        assert source in memo


def test_a_batch_in_another_encoding_is_read_with_encoding(tmp_path):
    description = "轻微交通事故，无人员受伤"
    rows = [finding("C-CN", "van_driver", "F-CN", "traffic_violation", "minor", RECENT, description=description)]
    utf8 = write_batch(tmp_path / "utf8" / "batch.csv", rows)
    gb = tmp_path / "gb" / "batch.csv"
    gb.parent.mkdir()
    gb.write_bytes(utf8.read_text(encoding="utf-8").encode("gb18030"))
    consents = write_consents(tmp_path / "consents.csv", [consent("C-CN")])

    assert_clean_exit(run_cli(evaluate_args(utf8, consents, tmp_path / "out-utf8")))
    refused = run_cli(evaluate_args(gb, consents, tmp_path / "out-refused"))
    assert_clean_exit(refused, 2)
    assert "--encoding" in refused.stderr
    assert_clean_exit(run_cli(evaluate_args(gb, consents, tmp_path / "out-gb") + ["--encoding", "gb18030"]))

    for name in ("memos/C-CN.md", "memos/C-CN.html", "decisions.csv", "findings.csv"):
        assert (tmp_path / "out-gb" / name).read_bytes() == (tmp_path / "out-utf8" / name).read_bytes()
    assert description in (tmp_path / "out-gb/memos/C-CN.md").read_text(encoding="utf-8")


# --- memo file names ---------------------------------------------------------------------


def test_a_candidate_id_never_places_a_file_outside_memos(tmp_path):
    outside = tmp_path / "abs"
    ids = ["../evil", "a/b", "..", "../../../escape", "..\\win", ".hidden", str(outside), "C-OK"]
    rows = [
        finding(cid, "van_driver", f"F-{n}", "traffic_violation", "minor", RECENT, description=f"case {n}")
        for n, cid in enumerate(ids)
    ]
    batch = write_batch(tmp_path / "in" / "batch.csv", rows)
    consents = write_consents(tmp_path / "in" / "consents.csv", [consent(cid) for cid in ids])
    out = tmp_path / "deep" / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out)))

    files = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    outside_out = [path for path in files if out not in path.parents and path.parent != tmp_path / "in"]
    assert outside_out == []
    for path in files:
        if out in path.parents:
            relative = path.relative_to(out)
            assert len(relative.parts) == 1 or (len(relative.parts) == 2 and relative.parts[0] == "memos"), relative
            assert not relative.name.startswith("."), relative
    assert not Path(str(outside) + ".md").exists()

    decisions = read_csv(out / "decisions.csv")
    assert sorted(row["candidate_id"] for row in decisions) == sorted(ids)
    memos = set()
    for row in decisions:
        memo = out / row["memo"]
        assert memo.is_file()
        assert memo.parent == out / "memos"
        memos.add(memo)
        html = memo.with_suffix(".html").read_text(encoding="utf-8")
        assert f"<tr><th>Candidate reference</th><td>{markupsafe.escape(row['candidate_id'])}</td></tr>" in html
    assert len(memos) == len(ids)  # no candidate's memo overwrote another's
    assert (out / "memos" / "C-OK.md").is_file()  # a plain id keeps its own name


def test_two_candidates_never_share_a_memo_file(tmp_path):
    ids = ["a/b", "candidate-c14cddc033f64b9d"]
    rows = [finding(cid, "van_driver", f"F-{n}", "traffic_violation", "minor", RECENT) for n, cid in enumerate(ids)]
    batch = write_batch(tmp_path / "batch.csv", rows)
    consents = write_consents(tmp_path / "consents.csv", [consent(cid) for cid in ids])
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out)))
    decisions = read_csv(out / "decisions.csv")
    assert len({row["memo"] for row in decisions}) == 2
    for row in decisions:
        html = (out / row["memo"]).with_suffix(".html").read_text(encoding="utf-8")
        assert f"<tr><th>Candidate reference</th><td>{markupsafe.escape(row['candidate_id'])}</td></tr>" in html


# --- spreadsheet formulas -------------------------------------------------------------------

FORMULA_IDS = ['=HYPERLINK("http://evil.example","click")', "+C-2", "-C-3", "@SUM(A1)"]


def test_text_that_looks_like_a_formula_is_neutralised_in_every_csv(tmp_path):
    rows = [
        finding(cid, "van_driver", fid, "traffic_violation", "minor", RECENT)
        for cid, fid in zip(FORMULA_IDS, ["=1+1", "+F-2", "-F-3", "@F-4"])
    ]
    rows.append(finding("C-BAD", "van_driver", "=F-BAD", "traffic_violation", "hgih", RECENT))
    batch = write_batch(tmp_path / "batch.csv", rows)
    consents = write_consents(tmp_path / "consents.csv", [consent(cid) for cid in FORMULA_IDS + ["C-BAD"]])
    out = tmp_path / "out"
    assert_clean_exit(run_cli(evaluate_args(batch, consents, out)))

    decisions = read_csv(out / "decisions.csv")
    assert sorted(row["candidate_id"] for row in decisions) == sorted(["C-BAD"] + ["'" + cid for cid in FORMULA_IDS])
    findings = read_csv(out / "findings.csv")
    assert sorted((row["finding_id"], row["candidate_id"]) for row in findings) == sorted(
        ("'" + row["finding_id"], "'" + row["candidate_id"]) for row in rows[:4]
    )
    rejected = read_csv(out / "rejected.csv")
    assert [row["finding_id"] for row in rejected] == ["'=F-BAD"]
    for name in ("decisions.csv", "findings.csv", "rejected.csv"):
        for row in read_csv(out / name):
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@")), (name, value)
    for row in decisions:
        if row["candidate_id"] != "C-BAD":  # no usable row, no position, no memo
            assert (out / row["memo"]).is_file()


# --- what a memo states ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "out"
    assert_clean_exit(run_cli(evaluate_args(EXAMPLE_BATCH, EXAMPLE_CONSENTS, out)))
    return out


def section_of(memo: str, heading: str) -> str:
    """The text of a Markdown section, from its heading to the next one."""
    start = memo.index(heading + "\n")
    end = memo.find("\n## ", start + 1)
    return memo[start:end if end != -1 else None]


def _bases_for(legal_basis, work_location: str) -> list[str]:
    """The legal bases a memo for a job at ``work_location`` cites, from a
    rule's ``legal_basis`` as the YAML writes it (a list, or lists grouped
    by the work location whose law they are)."""
    if not isinstance(legal_basis, dict):
        return list(legal_basis)
    return [
        basis for place, bases in legal_basis.items()
        if place == "everywhere" or work_location == place or work_location.startswith(place + "-")
        for basis in bases
    ]


def test_a_memo_states_what_the_issue_lists(example_out):
    """C-1002 (van driver): two findings considered, one row rejected.
    Every expected value below comes from the inputs, not from the engine."""
    batch = {row["finding_id"]: row for row in read_csv(EXAMPLE_BATCH)}
    signed = next(row for row in read_csv(EXAMPLE_CONSENTS) if row["candidate_id"] == "C-1002")
    position = next(row for row in read_csv(RULES.parent / "position_risk_tables/positions.csv")
                    if row["position_id"] == "van_driver")
    rulebook = yaml.safe_load((RULES / "rulebook.yaml").read_text(encoding="utf-8"))
    rules = {rule["id"]: rule for rule in rulebook["rules"]}
    decision = next(row for row in read_csv(example_out / "decisions.csv") if row["candidate_id"] == "C-1002")
    memo = (example_out / decision["memo"]).read_text(encoding="utf-8")
    plain = memo.replace("\\", "")  # the Markdown escapes, removed for comparison

    for expected in (
        "C-1002", position["title"], position["duties"], f"risk level {position['risk_level']}",
        signed["signed_on"], signed["expires_on"], signed["purpose"],
        f"version {rulebook['rulebook']['version']}", decision["decision_id"],
        "A person makes the decision", "Reviewed by: ______", "Decided by: ______",
    ):
        assert expected in plain, expected
    for finding_id, rule_id in (("F-0002", "REV-DIRECT-MINOR-HIGH-RISK"), ("F-0003", "ESC-DIRECT-SERIOUS")):
        row = batch[finding_id]
        rule = rules[rule_id]
        for expected in (
            finding_id, row["description"], row["occurred_on"], row["severity"], row["source"],
            relevance_row("van_driver", row["category"])["rationale"],
            rule_id, " ".join(rule["rationale"].split()), *_bases_for(rule["legal_basis"], "US-CA"),
        ):
            assert expected in plain, (finding_id, expected)
    assert "Recommendation: escalate" in plain
    # The next steps of an escalation; without an applications file the
    # work location is not known, so they are the general ones, which cite
    # no particular place's law (tests/test_memo_law.py holds those of each place).
    assert "the candidate is told in writing which findings it would rest on" in plain
    assert "FCRA" not in section_of(plain, "## Recommendation: escalate")
    # The unreadable row is named without its content.
    assert "F-0051 (column category)" in plain
    assert batch["F-0051"]["description"] not in plain


def test_memos_never_reject_a_candidate(example_out):
    for memo in (example_out / "memos").glob("*.md"):
        text = memo.read_text(encoding="utf-8")
        assert "A person makes the decision" in text
        assert "never rejects a candidate" in text


# --- parts kept from earlier memos ----------------------------------------------------------


def _forget_kept_texts() -> None:
    for environment in (MARKDOWN, HTML):
        next(e for e in environment.extensions.values() if isinstance(e, OncePer)).forget()


def test_a_memo_is_the_same_whichever_memos_were_written_before():
    """Parts that memos share are written once and kept ({% once per %});
    no memo may depend on which memos came before it, in any language."""
    result = evaluate_files(EXAMPLE_BATCH, EXAMPLE_CONSENTS, rules=RULES, tables=TABLES, as_of=dt.date(2026, 11, 1))
    languages = ("en", "zh")
    _forget_kept_texts()
    first = {(d.decision_id, lang): render_memo(result, d, lang=lang) for d in result.decisions for lang in languages}
    _forget_kept_texts()
    again = {
        (d.decision_id, lang): render_memo(result, d, lang=lang)
        for lang in reversed(languages) for d in reversed(result.decisions)
    }
    assert again == first
    assert len({markdown for markdown, _ in first.values()}) == len(first)


def test_a_memo_file_holds_the_rendered_text_byte_for_byte(tmp_path):
    """Carriage returns in a value reach the HTML as they are; UTF-8, no line end translated."""
    batch = write_batch(tmp_path / "batch.csv", [
        finding("C-R", "van_driver", "F-R", "traffic_violation", "minor", RECENT,
                description="first line\r\nsecond line ✓ 轻微"),
    ])
    consents = write_consents(tmp_path / "consents.csv", [consent("C-R")])
    result = evaluate_files(batch, consents, rules=RULES, tables=TABLES, as_of=dt.date(2026, 11, 1))
    (decision,) = result.decisions
    folder = tmp_path / "memos"
    folder.mkdir()
    stem = write_memo(result, decision, folder)
    markdown, html = render_memo(result, decision)
    assert "first line\r\nsecond line" in html
    assert (folder / f"{stem}.md").read_bytes() == markdown.encode("utf-8")
    assert (folder / f"{stem}.html").read_bytes() == html.encode("utf-8")


# --- golden memo --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_golden_memo(example_out, suffix):
    """The memo of C-1002 of the example batch, word for word.

    After a deliberate change to the templates, the rulebook or the tables,
    regenerate with ADJUDICATE_UPDATE_GOLDEN=1 and read the diff in git.
    """
    actual = (example_out / "memos" / f"C-1002{suffix}").read_text(encoding="utf-8")
    golden = GOLDEN / f"C-1002{suffix}"
    if UPDATE_GOLDEN:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"tests/golden/C-1002{suffix}", tofile="rendered now",
        ))
        pytest.fail(
            f"The C-1002{suffix} memo differs from tests/golden/C-1002{suffix}:\n{diff}\n"
            "If the change is intended, regenerate the golden files with\n"
            "    ADJUDICATE_UPDATE_GOLDEN=1 pytest tests/test_memos.py -k golden\n"
            "and review the diff with git before committing.",
            pytrace=False,
        )


@pytest.mark.parametrize("kind", ["md", "html"])
def test_golden_memo_in_chinese(kind):
    """The same memo in Simplified Chinese (memo show/export --lang zh), word for word."""
    result = evaluate_files(EXAMPLE_BATCH, EXAMPLE_CONSENTS, rules=RULES, tables=TABLES,
                            as_of=dt.date(2026, 11, 1))
    decision = next(d for d in result.decisions if d.candidate_id == "C-1002")
    markdown, html = render_memo(result, decision, lang="zh")
    actual = markdown if kind == "md" else html
    golden = GOLDEN / f"C-1002.zh.{kind}"
    if UPDATE_GOLDEN:
        golden.write_text(actual, encoding="utf-8", newline="")
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected, (
        f"the Chinese memo differs from {golden}; if intended, regenerate with ADJUDICATE_UPDATE_GOLDEN=1"
    )
    assert "决定由本公司工作人员（人工）作出" in actual  # the sign-off says a person decides, in Chinese
    assert "Decision memo" not in actual and "背景调查处理建议备忘录：候选人 C-1002" in actual
