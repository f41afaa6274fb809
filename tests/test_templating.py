"""The document environments: ``{% once per ... %}`` reuses a part only
where everything it shows is the same, and the escaping of values for
Markdown and HTML."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jinja2
import markupsafe
import pytest

from engine.documents import once
from engine.documents.templating import HTML, MARKDOWN, html_text, markdown_text
from engine.documents.wording import catalogue


@dataclass(frozen=True)
class Place:
    title: str
    duties: str


@dataclass(frozen=True)
class Applicant:
    name: str
    place: Place


class Writes:
    """Counts how often a once block's text is written: ``{{ writes() }}``."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return ""


LOOP = "{% for a in people %}{% once per a.place %}{{ writes() }}[{{ a.place.title }}: {{ a.place.duties }}]{% endonce %}{% endfor %}"


def test_a_once_block_is_written_once_per_value_and_reused():
    nurse, driver = Place("Nurse", "care"), Place("Driver", "drive")
    people = [Applicant("A", nurse), Applicant("B", driver), Applicant("C", nurse), Applicant("D", nurse)]
    writes = Writes()
    text = MARKDOWN.from_string(LOOP).render(people=people, writes=writes)
    assert text == "[Nurse: care][Driver: drive][Nurse: care][Nurse: care]"
    assert writes.count == 2


@pytest.mark.parametrize("environment", [MARKDOWN, HTML], ids=["markdown", "html"])
def test_an_empty_once_block_is_kept_and_written_as_nothing(environment):
    """A block whose text is empty (a list with nothing in it) is reused like
    any other, not taken for one never written."""
    nurse = Place("Nurse", "")
    people = [Applicant("A", nurse), Applicant("B", nurse), Applicant("C", nurse)]
    source = "{% for a in people %}<{% once per a.place %}{{ writes() }}{{ a.place.duties }}{% endonce %}>{% endfor %}"
    writes = Writes()
    assert environment.from_string(source).render(people=people, writes=writes) == "<><><>"
    assert writes.count == 1


def test_a_value_the_key_leaves_out_still_tells_texts_apart():
    """The block shows the applicant's name, which ``per a.place`` does not
    name: the whole ``a`` is then part of the key, and no name is reused."""
    nurse = Place("Nurse", "care")
    people = [Applicant("A", nurse), Applicant("B", nurse)]
    source = "{% for a in people %}{% once per a.place %}{{ a.name }} {{ a.place.title }};{% endonce %}{% endfor %}"
    assert MARKDOWN.from_string(source).render(people=people) == "A Nurse;B Nurse;"


def test_a_text_is_kept_per_format_and_per_wording():
    people = [Applicant("A", Place("<Nurse>", "care & cure"))]
    assert MARKDOWN.from_string(LOOP).render(people=people, writes=Writes()) == "[\\<Nurse\\>: care &amp; cure]"
    assert HTML.from_string(LOOP).render(people=people, writes=Writes()) == "[&lt;Nurse&gt;: care &amp; cure]"
    source = "{% for a in people %}{% once per a.place %}{{ m.position }} {{ a.place.title }};{% endonce %}{% endfor %}"
    template = MARKDOWN.from_string(source)
    assert template.render(people=people * 2, m=catalogue("en").wording.memo) == "Position \\<Nurse\\>;" * 2
    assert template.render(people=people, m=catalogue("zh").wording.memo) == f"{catalogue('zh').text('memo.position')} \\<Nurse\\>;"


def test_texts_and_dates_count_by_value_other_objects_by_identity():
    source = "{% for v in values %}{% once per v %}{{ writes() }}{{ v }};{% endonce %}{% endfor %}"
    writes = Writes()
    day = dt.date(2026, 11, 1)
    values = ["a", "".join(["a"]), day, dt.date(2026, 11, 1), ("x", day), ("x", dt.date(2026, 11, 1)), None, None]
    text = MARKDOWN.from_string(source).render(values=values, writes=writes)
    assert text == "a;a;2026-11-01;2026-11-01;('x', datetime.date(2026, 11, 1));('x', datetime.date(2026, 11, 1));;;"
    assert writes.count == 4
    # Equal, but not the same object: written for each (a rule or a position
    # is one object for the whole batch).
    writes = Writes()
    MARKDOWN.from_string(source).render(values=[Place("N", "c"), Place("N", "c")], writes=writes)
    assert writes.count == 2


def test_a_loop_inside_a_once_block_is_part_of_its_text():
    source = (
        "{% for a in people %}{% once per a.place, steps %}{{ writes() }}"
        "{% for step in steps %}{{ loop.index }}.{{ step }} {% endfor %}{% endonce %}{% endfor %}"
    )
    writes = Writes()
    place = Place("Nurse", "care")
    text = MARKDOWN.from_string(source).render(people=[Applicant("A", place)] * 3, steps=("check", "sign"), writes=writes)
    assert text == "1.check 2.sign " * 3
    assert writes.count == 1


def test_a_text_that_shows_a_list_or_a_dict_is_written_every_time():
    """Lists and dicts may change between two documents: never a key."""
    source = "{% for a in people %}{% once per a.place %}{{ writes() }}{{ a.place.title }} {{ notes | join(',') }};{% endonce %}{% endfor %}"
    place = Place("Nurse", "care")
    notes = ["x"]
    writes = Writes()
    template = MARKDOWN.from_string(source)
    assert template.render(people=[Applicant("A", place)] * 2, notes=notes, writes=writes) == "Nurse x;Nurse x;"
    notes.append("y")
    assert template.render(people=[Applicant("A", place)], notes=notes, writes=writes) == "Nurse x,y;"
    assert writes.count == 3


def test_a_once_block_may_name_a_step_of_the_loop_around_it():
    source = "{% for a in people %}{% once per loop.index, a.place %}{{ loop.index }}.{{ a.place.title }} {% endonce %}{% endfor %}"
    place = Place("Nurse", "care")
    assert MARKDOWN.from_string(source).render(people=[Applicant("A", place)] * 3) == "1.Nurse 2.Nurse 3.Nurse "


def test_kept_texts_are_bounded(monkeypatch):
    monkeypatch.setattr(once, "KEPT_TEXTS", 2)
    places = [Place(str(n), "") for n in range(3)]
    writes = Writes()
    text = MARKDOWN.from_string(LOOP).render(people=[Applicant("A", p) for p in places * 2], writes=writes)
    assert text == "".join(f"[{n}: ]" for n in range(3)) * 2
    assert writes.count == 6  # the two kept were dropped when the third came


@pytest.mark.parametrize("source, message", [
    ("{% once per a.place %}{% set x = 1 %}{% endonce %}", "no set, include"),
    ("{% once per a.place %}{% include 'memo.md.j2' %}{% endonce %}", "no set, include"),
    ("{% once per a.place | upper %}x{% endonce %}", "names and their attributes"),
    ("{% once per a['place'] %}x{% endonce %}", "names and their attributes"),
    ("{% for a in people %}{% once per a.place %}{{ loop.index }}{% endonce %}{% endfor %}", "the loop around it"),
    ("{% for a in people %}{% once per loop %}{{ loop.index }}{% endonce %}{% endfor %}", "the loop around it"),
])
def test_a_once_block_that_could_hide_what_it_depends_on_is_refused(source, message):
    with pytest.raises(jinja2.TemplateSyntaxError, match=message):
        MARKDOWN.from_string(source)


@pytest.mark.parametrize("value, escaped", [
    ("plain words, 2026-11-01", "plain words, 2026-11-01"),
    ("see www.example.com", "see www\\.example.com"),
    ("see WWW.example.com", "see WWW\\.example.com"),
    ("see Www.example.com", "see Www\\.example.com"),
    ("https://example.com", "https\\://example.com"),
    ("a_b *c* [d] <e> | # ~ `f` \\", "a\\_b \\*c\\* \\[d\\] \\<e\\> \\| \\# \\~ \\`f\\` \\\\"),
    ("A & B", "A &amp; B"),
    ("two\r\nlines\rand\nmore", "two lines and more"),
    (markupsafe.Markup("**wording**"), "**wording**"),
    (None, ""),
    (7, "7"),
])
def test_markdown_text_escapes_what_markdown_would_read_as_markup(value, escaped):
    assert markdown_text(value) == escaped


@pytest.mark.parametrize("value", [
    "plain", "<b>bold</b>", "Tom & Jerry", "it's \"quoted\"", markupsafe.Markup("<i>wording</i>"), 7, None,
    dt.date(2026, 11, 1), "",
])
def test_html_text_escapes_as_autoescaping_does(value):
    assert str(html_text(value)) == str(markupsafe.escape(value))
