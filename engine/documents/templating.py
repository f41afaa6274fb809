"""The jinja2 environments for every document adjudicate writes.

HTML is autoescaped. Markdown output passes every value through
``markdown_text`` (the Markdown twin of autoescaping), so that text in a
finding or a rule can neither inject markup nor break a table. Both use
``StrictUndefined``: a misspelt name in a template is an error, not an empty
string in a memo.
"""

from __future__ import annotations

import re

import jinja2

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]<>|#])")
# Renderers turn bare addresses into links; breaking the pattern keeps the text.
_AUTOLINK = re.compile(r"(://|www\.)", re.IGNORECASE)


def markdown_text(value) -> str:
    """Escape a value for Markdown: no markup, no links, no broken tables."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")
    return _AUTOLINK.sub(lambda match: match.group(0).replace(":", "\\:").replace(".", "\\."), text)


def _environment(markdown: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("engine.documents", "templates"),
        autoescape=not markdown,
        finalize=markdown_text if markdown else None,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


MARKDOWN = _environment(markdown=True)
HTML = _environment(markdown=False)
