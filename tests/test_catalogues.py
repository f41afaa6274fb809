"""The wording catalogues of memos and notices: every language has every
key, keeps every placeholder, and has every key a template or the code uses;
a catalogue is read strictly."""

from __future__ import annotations

import re
import string
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from engine.documents.templating import HTML, MARKDOWN
from engine.documents.wording import LANGUAGES, CatalogueError, catalogue, read_catalogue
from engine.vocabulary import (
    AssessmentFactor, ConsentState, Disposition, Handling, Lookback, NoticeKind, Outcome, PartyRole, Recommendation,
    Relevance, Relief, RiskLevel, Severity, YesNo,
)
from engine.workflow.deadlines import CALENDARS

TEMPLATES = Path(__file__).resolve().parent.parent / "engine" / "documents" / "templates"

# The keys that the Python code reads (engine/documents/memos.py), not a template.
USED_BY_CODE = {f"memo.next_steps.{r.value}" for r in Recommendation} | {
    "memo.human_decision", "memo.rejected_row", "memo.no_finding_id", "memo.outside_lookback", "memo.decided_by_rule",
    "memo.read_as", "memo.consent_timing",
} | {  # the reasons of an adverse notice, composed by engine/documents/notices.py (adverse_reasons)
    f"notice.grounds.{key}" for key in ("findings", "finding", "separator", "duty", "factor", "reason", "joiner")
}

# Groups of keys that a template looks up by a value (``w.calendars[n.calendar]``),
# with every value it can look up: each needs its text in every catalogue.
LOOKED_UP_BY_VALUE = {"notice.calendars": CALENDARS, "notice.enclosure": ("report", "summary_of_rights"),
                      "memo.access_actions": ("viewed", "exported", "view_refused", "export_refused")}
USED_BY_CODE |= {f"{group}.{value}" for group, values in LOOKED_UP_BY_VALUE.items() for value in values}
# The memo's section on the law where the job is, composed by
# engine/documents/memos.py (_law_of_the_place), and the next steps by the
# law of the work location (memos.next_steps), read by location and
# recommendation.
USED_BY_CODE |= {f"memo.law.{key}" for key in (
    "intro", "no_location", "no_pack", "nothing_weighed", "relevance", "relevance_unknown", "rule", "no_rule",
    "answers", "answer", "answer_separator", "conclusion.meets", "conclusion.meets_duties", "conclusion.assessed",
    "conclusion.not_relied_on", "conclusion.not_shown",
)}
USED_BY_CODE |= {key for key in catalogue("en").keys() if key.startswith("memo.next_steps_by_location.")}
USED_BY_CODE |= {key for key in catalogue("en").keys() if key.startswith("memo.human_decision_by_location.")}

# The groups of ``terms`` that hold one word per word of a vocabulary: a
# template or the code looks a value up in them by its word
# (``t.terms.handling[f.handling]``), so each group must have every word.
VOCABULARY_TERMS = {
    "recommendation": Recommendation, "handling": Handling, "severity": Severity, "disposition": Disposition,
    "relevance": Relevance, "lookback": Lookback, "risk_level": RiskLevel, "outcome": Outcome,
    "party_role": PartyRole, "yes_no": YesNo, "relief": Relief, "assessment_factor": AssessmentFactor,
    "notice_kind": NoticeKind,
}
# The groups of ``terms`` that the Python code reads (engine/documents/memos.py):
# the words of the facts, of the timeline, of the grounds and of the consent
# states, and the vocabularies it writes them with.
TERMS_USED_BY_CODE = {
    "severity", "disposition", "party_role", "yes_no", "relief", "notice_kind", "outcome", "language",
    "consent_state", "ground", "fact", "timeline",
}


def term_groups(keys) -> set[str]:
    """The groups of ``terms`` among dotted ``keys``: ``terms.handling``..."""
    return {key.rsplit(".", 1)[0] for key in keys if key.startswith("terms.")}


def catalogues():
    return {lang: catalogue(lang) for lang in LANGUAGES}


def placeholders(text) -> frozenset[str]:
    texts = text if isinstance(text, tuple) else (text,)
    return frozenset(name for t in texts for _, name, _, _ in string.Formatter().parse(t) if name is not None)


def _chain(node) -> tuple[str, tuple[str, ...]] | None:
    """``t.memo.title`` as ("t", ("memo", "title")); None for other expressions."""
    parts = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
        else:
            break
        node = node.node
    if not isinstance(node, nodes.Name):
        return None
    return node.name, tuple(reversed(parts))


def keys_used(sources: dict[str, str]) -> dict[str, set[str]]:
    """The catalogue keys that templates use, each with the templates using it.

    A template reaches the catalogue as ``t``, or through a name set from it
    (``{% set m = t.memo %}``), which partials share with the memo.
    """
    trees = {name: MARKDOWN.parse(source) for name, source in sources.items()}
    aliases = {"t": ()}
    for tree in trees.values():
        for assign in tree.find_all(nodes.Assign):
            chain = _chain(assign.node)
            if isinstance(assign.target, nodes.Name) and chain and chain[0] == "t":
                known = aliases.setdefault(assign.target.name, chain[1])
                assert known == chain[1], f"'{assign.target.name}' names two parts of the catalogue"
    used: dict[str, set[str]] = {}
    for name, tree in trees.items():
        chains = {_chain(node) for node in tree.find_all((nodes.Getattr, nodes.Getitem))}
        paths = {aliases[c[0]] + c[1] for c in chains if c and c[0] in aliases and c[1]}
        # Only the whole path is a key: t.memo in t.memo.title is not one.
        for path in paths:
            if not any(other[: len(path)] == path and other != path for other in paths):
                used.setdefault(".".join(path), set()).add(name)
    return used


def template_sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.glob("*.j2"))}


def test_there_are_catalogues_for_english_and_chinese():
    assert {"en", "zh"} <= set(LANGUAGES)


def test_every_catalogue_has_every_key_of_the_others():
    keys = {lang: c.keys() for lang, c in catalogues().items()}
    every = frozenset().union(*keys.values())
    missing = [
        f"{lang}.yaml lacks '{key}' (" + ", ".join(f"{o}.yaml" for o in sorted(keys) if key in keys[o]) + " has it)"
        for lang in sorted(keys) for key in sorted(every - keys[lang])
    ]
    assert missing == [], "\n".join(missing)


def test_every_catalogue_keeps_the_placeholders_of_each_text():
    texts = {lang: {key: c.text(key) for key in c.keys()} for lang, c in catalogues().items()}
    english = texts["en"]
    different = [
        f"{lang}.yaml '{key}' has {sorted(placeholders(text))}, en.yaml has {sorted(placeholders(english[key]))}"
        for lang, by_key in texts.items() for key, text in sorted(by_key.items())
        if key in english and placeholders(text) != placeholders(english[key])
    ]
    assert different == [], "\n".join(different)


def test_every_key_a_template_uses_is_in_the_catalogues():
    used = keys_used(template_sources())
    assert "memo.title" in used and "notice.pre_intro" in used and "colon" in used  # the walk finds them
    every = frozenset().union(*(c.keys() for c in catalogues().values()))
    every |= term_groups(every)  # looked up by a value's word: t.terms.handling[f.handling]
    unknown = [f"{key} (used in {', '.join(sorted(names))})" for key, names in sorted(used.items())
               if key not in every and key not in LOOKED_UP_BY_VALUE]
    assert unknown == [], "keys no catalogue has:\n" + "\n".join(unknown)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_calendar_a_deadline_is_counted_on_is_named_in_every_language(lang):
    assert "notice.calendars" in keys_used(template_sources())
    keys = catalogue(lang).keys()
    assert [name for name in CALENDARS if f"notice.calendars.{name}" not in keys] == []


def test_a_misspelt_key_in_a_template_is_found():
    used = keys_used({"x.md.j2": "{% set m = t.memo %}{{ m.titel | fill(candidate=1) }} {{ t['colon'] }}"})
    assert set(used) == {"memo.titel", "colon"}
    assert "memo.titel" not in catalogue("en").keys()


def test_a_misspelt_key_fails_the_rendering():
    with pytest.raises(jinja2.UndefinedError, match="titel"):
        HTML.from_string("{{ t.memo.titel }}").render(t=catalogue("en").wording)


def test_every_key_is_used_by_a_template_or_the_code():
    used = set(keys_used(template_sources())) | USED_BY_CODE
    groups = {key for key in used if key.startswith("terms.")} | {f"terms.{group}" for group in TERMS_USED_BY_CODE}
    unused = sorted(key for key in catalogue("en").keys() - used if key.rsplit(".", 1)[0] not in groups)
    assert unused == [], f"keys nothing uses (remove them from every catalogue): {unused}"


def test_every_recommendation_has_next_steps_in_every_language():
    for lang, c in catalogues().items():
        for recommendation in Recommendation:
            steps = c.text(f"memo.next_steps.{recommendation.value}")
            assert steps and all(isinstance(step, str) and step for step in steps), (lang, recommendation)


@pytest.mark.parametrize("group", sorted(VOCABULARY_TERMS))
def test_every_word_of_a_vocabulary_has_its_term_in_every_language(group):
    words = set(VOCABULARY_TERMS[group].words())
    for lang, c in catalogues().items():
        assert set(c.text(f"terms.{group}")) == words, (lang, group)
        assert all(c.term(group, word) for word in words)


def test_every_consent_state_and_language_has_its_words():
    for lang, c in catalogues().items():
        assert set(ConsentState.words()) <= set(c.text("terms.consent_state")), lang
        assert set(c.text("terms.language")) == set(LANGUAGES), lang


def test_a_template_looks_a_value_up_by_its_word():
    wording = catalogue("zh").wording
    source = "{{ t.terms.handling[h] }} {{ t.terms.yes_no[y] }}"
    assert MARKDOWN.from_string(source).render(t=wording, h=Handling.ESCALATE, y="no") == "提交法务评估 否"
    with pytest.raises(jinja2.UndefinedError):
        MARKDOWN.from_string("{{ t.terms.handling[h] }}").render(t=wording, h="escalated")


def test_a_catalogue_is_read_once_per_process():
    assert catalogue("zh") is catalogue("zh")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("memo:\n  title: A\n  title: B\n", r"de\.yaml:3: the key 'title' is written twice \(first on line 2\)"),
        ("memo:\n  title: 3\n", r"de\.yaml:2: the key 'title' holds neither a text"),
        ("memo:\n  title: [A, {b: c}]\n", r"de\.yaml:2: the key 'title' holds neither a text"),
        ("- a\n- b\n", r"de\.yaml: a wording catalogue is a mapping"),
        ("memo: [\n", r"de\.yaml:\d+: "),
    ],
)
def test_a_broken_catalogue_is_refused_with_its_file_and_line(tmp_path, text, message):
    path = tmp_path / "de.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as raised:
        read_catalogue(path)
    assert re.search(message, str(raised.value)), str(raised.value)


def test_a_language_without_a_catalogue_is_refused():
    with pytest.raises(CatalogueError, match="no wording catalogue for the language 'fr'; allowed: 'en' or 'zh'"):
        catalogue("fr")


def test_wording_is_written_as_it_stands_and_values_are_escaped():
    wording = catalogue("en").wording
    source = "{{ t.memo.title | fill(candidate=cid) }}"
    assert HTML.from_string(source).render(t=wording, cid="<C's>") == "Decision memo: candidate &lt;C&#39;s&gt;"
    assert MARKDOWN.from_string(source).render(t=wording, cid="C|*1*") == "Decision memo: candidate C\\|\\*1\\*"
    with pytest.raises(TypeError, match="wording from a catalogue"):
        HTML.from_string("{{ cid | fill(x=1) }}").render(cid="{x}")
