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
language, made of the partials ``_*.j2``; the HTML documents extend
``base.html.j2``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jinja2
import markupsafe

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]<>|#])")
# Renderers turn bare addresses into links; breaking the pattern keeps the text.
_AUTOLINK = re.compile(r"(://|www\.)", re.IGNORECASE)
# Anything markdown_text changes: a value without any of these is written as it is.
_NEEDS_ESCAPING = re.compile(r"[\\`*_~\[\]<>|#&\r\n]|://|www\.", re.IGNORECASE)


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
    if not _NEEDS_ESCAPING.search(text):
        return text  # most values: words, ids, dates, plain sentences
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")
    return _AUTOLINK.sub(lambda match: match.group(0).replace(":", "\\:").replace(".", "\\."), text)


def _filler(escape: Callable[[object], str]) -> Callable[..., markupsafe.Markup]:
    """The ``fill`` filter of one format: ``escape`` turns a value into text
    of that format."""

    def fill(wording: markupsafe.Markup, **values) -> markupsafe.Markup:
        """``{{ t.memo.title | fill(candidate=d.candidate_id) }}``: the wording
        with each ``{placeholder}`` replaced by its value, escaped."""
        if not isinstance(wording, markupsafe.Markup):
            # Formatting a value (not wording) would run its braces as placeholders.
            raise TypeError(f"fill takes wording from a catalogue, not the value {wording!r}.")
        try:
            return markupsafe.Markup(str.format(wording, **{name: escape(value) for name, value in values.items()}))
        except (KeyError, IndexError) as exc:
            raise TypeError(f"the wording {str(wording)!r} has the placeholder {exc} that the template does not fill.") from None

    return fill


def _environment(markdown: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("engine.documents", "templates"),
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
    )
    environment.filters["fill"] = _filler(markdown_text if markdown else markupsafe.escape)
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


__all__ = ["HTML", "MARKDOWN", "markdown_text", "template"]
