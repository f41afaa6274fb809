"""The jinja2 environments for every document adjudicate writes.

HTML is autoescaped. Markdown output passes every value through
``markdown_text`` (the Markdown twin of autoescaping), so that text in a
finding or a rule can neither inject markup nor break a table. Both use
``StrictUndefined``: a misspelt name in a template, or a key that the
wording catalogue lacks, is an error, not an empty string in a memo.

Wording from a catalogue (``engine.documents.wording``) reaches a template as
``markupsafe.Markup``: in both formats it is written as it stands, like the
template's own text. Its placeholders are filled with the ``fill`` filter,
which escapes each value for the format. This module is the one place that
registers filters.

The templates: ``memo.{md,html}.j2`` and ``notice.{md,html}.j2`` in every
language, made of the partials ``_*.j2``, which the loader writes into the
template that includes them (``_DocumentLoader``); the HTML documents extend
``base.html.j2``. A part that many memos share is written once per value it
shows, in ``{% once per ... %}`` (``engine.documents.once``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import jinja2
import markupsafe

from engine.documents.once import OncePer

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]<>|#])")
# Renderers turn bare addresses into links; breaking the pattern keeps the text.
_AUTOLINK = re.compile(r"(://|www\.)", re.IGNORECASE)
# Anything markdown_text changes: a value without any of these characters,
# "://" or "www." is written as it is. The three are looked for apart: one
# pattern with both the characters and the addresses scans a long text (a
# rule's rationale, a position's duties) ten times slower than a set of
# characters alone, and a memo writes dozens of such texts.
_SPECIAL = re.compile(r"[\\`*_~\[\]<>|#&\r\n]")


def markdown_text(value) -> str:
    """Escape a value for Markdown: no markup, no links, no broken tables.

    Args:
        value (object): any value a template writes; ``None`` writes nothing.
            A ``markupsafe.Markup`` is wording from a catalogue (or filled
            from it) and is written as it stands.

    Returns:
        str: the text, on one line, with every Markdown special character,
        ``&`` and address pattern escaped.
    """
    if value is None:
        return ""
    if isinstance(value, markupsafe.Markup):
        return str(value)
    text = str(value)
    if not (_SPECIAL.search(text) or "://" in text or "www." in text.lower()):
        return text  # most values: words, ids, dates, plain sentences
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")
    return _AUTOLINK.sub(lambda match: match.group(0).replace(":", "\\:").replace(".", "\\."), text)


# Markup(text) for a plain str, without Markup's look for an ``__html__``
# that a str never has: fill makes one for every placeholder sentence.
_as_markup = functools.partial(str.__new__, markupsafe.Markup)
_HTML_SPECIAL = re.compile(r"[&<>'\"]")


def html_text(value) -> str:
    """Escape a value for HTML, as autoescaping does.

    Args:
        value (object): any value a template writes; a ``markupsafe.Markup``
            is written as it stands.

    Returns:
        str: the text with ``&``, ``<``, ``>``, ``'`` and ``"`` escaped (a
        plain text without any of them is returned as it is).
    """
    if type(value) is str and not _HTML_SPECIAL.search(value):
        return value  # most values: words, ids, dates, plain sentences
    return markupsafe.escape(value)


def _filler(escape: Callable[[object], str]) -> Callable[..., markupsafe.Markup]:
    """The ``fill`` filter of one format: ``escape`` turns a value into text
    of that format."""

    def fill(wording: markupsafe.Markup, **values) -> markupsafe.Markup:
        """``{{ t.memo.title | fill(candidate=d.candidate_id) }}``: the wording
        with each ``{placeholder}`` replaced by its value, escaped."""
        if not isinstance(wording, markupsafe.Markup):
            # Formatting a value (not wording) would run its braces as placeholders.
            raise TypeError(f"fill takes wording from a catalogue, not the value {wording!r}.")
        for name, value in values.items():
            values[name] = escape(value)
        try:
            # str's own format: Markup's would escape the values a second time.
            return _as_markup(str.format_map(wording, values))
        except (KeyError, IndexError) as exc:
            raise TypeError(f"the wording {str(wording)!r} has the placeholder {exc} that the template does not fill.") from None

    return fill


# A partial included on a line of its own: ``{% include "_considered.md.j2" %}``.
_INCLUDE = re.compile(r'^\{% include "(_[A-Za-z0-9_.]+)" %\}\n', re.MULTILINE)


class _DocumentLoader(jinja2.PackageLoader):
    """The templates of the package, with each partial written into the
    template that includes it.

    An ``{% include %}`` makes a new context from every variable of the
    including one, and passes each piece of the partial's output through a
    loop of its own: a dozen times per memo, hundreds of thousands of memos
    per batch. A partial written in its place renders the same text (it
    sees the same variables; the include's own line, ``trim_blocks`` would
    drop), at the cost of its line numbers in error messages, which then
    count from the including template.
    """

    def get_source(self, environment: jinja2.Environment, template: str):
        """The template's source, each partial included on a line of its
        own replaced by the partial's source."""
        source, filename, uptodate = super().get_source(environment, template)
        return _INCLUDE.sub(lambda match: self.get_source(environment, match.group(1))[0], source), filename, uptodate


class _DocumentEnvironment(jinja2.Environment):
    """A jinja2 environment whose templates see the globals in one plain dict."""

    def make_globals(self, d):
        # jinja2 chains a template's globals to the environment's, so that
        # later changes to the latter show through; the documents' globals
        # never change, and every include reads the chain anew to make its
        # context (a dozen times per memo).
        return {**self.globals, **(d or {})}


def local(value, name: str, wording) -> str:
    """``{{ d.position | local("title", t) }}``: a text of the rulebook or
    the tables in the language of the wording ``t``.

    Args:
        value (engine.rulebook.model.Translated): a position, relevance
            entry, category, rule or the rulebook.
        name (str): the English text's attribute, such as ``"title"``.
        wording (TemplateWording): the catalogue the document is written in.

    Returns:
        str: the text in that language, or the English one where it has none.
    """
    return value.in_lang(name, wording._lang)


def _environment(markdown: bool) -> jinja2.Environment:
    environment = _DocumentEnvironment(
        loader=_DocumentLoader("engine.documents", "templates"),
        autoescape=not markdown,
        finalize=markdown_text if markdown else None,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package and do not change while a
        # process runs: no check of their files on every include (a memo
        # includes a dozen partials).
        auto_reload=False,
        # Every template is kept, in a plain dict: no least-recently-used
        # bookkeeping, under a lock, on every include.
        cache_size=-1,
        # {% once per ... %}: a part that many documents share is written once.
        extensions=[OncePer],
    )
    environment.filters["fill"] = _filler(markdown_text if markdown else html_text)
    environment.filters["local"] = local
    return environment


MARKDOWN = _environment(markdown=True)
"""The environment of Markdown documents (``*.md.j2``)."""

HTML = _environment(markdown=False)
"""The environment of HTML documents (``*.html.j2``), autoescaped."""


def template(name: str) -> jinja2.Template:
    """A document template, from the environment of its format.

    Args:
        name (str): the template's file name, ending in ``.md.j2`` or ``.html.j2``.

    Returns:
        jinja2.Template: ready to render with its documented context.

    Raises:
        jinja2.TemplateNotFound: when no template has that name.
    """
    return (MARKDOWN if name.endswith(".md.j2") else HTML).get_template(name)


__all__ = ["HTML", "MARKDOWN", "html_text", "markdown_text", "template"]
