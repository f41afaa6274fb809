"""``{% once per ... %}``: a part of a document written once for each
distinct value it shows, and kept for every later document that shows the
same.

A batch writes a memo for each of hundreds of thousands of candidates, and
much of a memo is the same from one candidate to the next: the position's
section, a rule's explanation, the sign-off. In a template::

    {% once per d.position %}
    ## {{ m.position }}
    {{ m.duties | fill(duties=d.position.duties) }}
    {% endonce %}

the section is written for the first candidate of each position, and its
text is reused for the others.

The text is kept under a key made of the values after ``per`` (names and
their attributes, separated by commas) and, found when the template is
compiled, every other variable the text uses, whole: here the wording ``m``,
so that each language and each format has its own text. A text is therefore
never reused where anything it shows differs; a name the list leaves out
only makes the text kept per value of that whole variable (per decision,
say: correct, only slower). Strings, dates, None and tuples of them count
by value; any other value (a position, a rule, a number, the wording of a
language) by being the very same object. The documents' inputs are never
changed once read, and a kept text holds on to the objects of its key, so
that no other object can take their place. Objects that do change (a
list, a dict, a set, the ``loop`` around a block) are never part of a key:
a text that uses one is written every time, and the ``loop`` around a block
may not be used whole at all (``loop.index`` may).

A once block holds text, expressions, conditions and loops; not ``set``,
``include``, blocks or macros, whose effects the key could not see.
"""

from __future__ import annotations

import datetime
import itertools

import jinja2
import jinja2.ext
import jinja2.runtime
import jinja2.utils
import markupsafe
from jinja2 import nodes
from jinja2.parser import Parser

KEPT_TEXTS = 8192
"""How many texts an environment keeps; past this, all are dropped and kept anew."""

# Compared by value; a tuple by its items; anything else by identity.
_BY_VALUE = frozenset({str, datetime.date, type(None)})
# Objects that change while documents are written: a text is never kept
# for them (it is written every time).
_CHANGING = frozenset({list, dict, set, bytearray, jinja2.runtime.LoopContext, jinja2.utils.Namespace})
# The filters the generated code calls; no template can name them (a name
# in a template cannot hold a space).
_LOOK_UP = "once look-up"
_KEEP = "once keep"

# What a once block may not hold: its text would then depend on more than
# the values its expressions read.
_NOT_IN_ONCE = (
    nodes.Assign, nodes.AssignBlock, nodes.Block, nodes.CallBlock, nodes.Extends, nodes.FilterBlock,
    nodes.FromImport, nodes.Import, nodes.Include, nodes.Macro, nodes.ScopedEvalContextModifier, nodes.With,
)


class OncePer(jinja2.ext.Extension):
    """The ``once per`` tag; each environment has its own kept texts."""

    tags = {"once"}

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        self._kept: dict = {}
        self._sites = itertools.count()
        # Filters, not methods: a template calls a filter directly, a method
        # through its context's checks (twice per block, for every document).
        environment.filters[_LOOK_UP] = self._look_up
        environment.filters[_KEEP] = self._keep

    def parse(self, parser: Parser) -> list[nodes.Node]:
        """Read ``once per <name.attr>, ... %} ... {% endonce``.

        Raises:
            jinja2.TemplateSyntaxError: a key is not a name or attribute, or
                the block holds a statement it may not (see the module).
        """
        lineno = next(parser.stream).lineno
        parser.stream.expect("name:per")
        keys = [parser.parse_expression(with_condexpr=False)]
        while parser.stream.skip_if("comma"):
            keys.append(parser.parse_expression(with_condexpr=False))
        paths = [_path(key) for key in keys]
        if None in paths:
            parser.fail("once per takes names and their attributes, such as d.position", lineno, jinja2.TemplateSyntaxError)
        body = parser.parse_statements(("name:endonce",), drop_needle=True)
        others = [nodes.Name(name, "load") for name in sorted(_other_names(body, paths, parser))]
        # A name per once block compiled: the texts of two blocks never mix.
        number = next(self._sites)
        site = f"{parser.name}:{lineno}:{number}"
        text = f"_once_{number}"
        # The generated code: look the text up; on a miss (a false value),
        # write the body into a variable and keep it; then write the text.
        return [
            nodes.Assign(
                nodes.Name(text, "store"),
                _filter(_LOOK_UP, nodes.Const(site), nodes.Tuple([*keys, *others], "load")),
            ),
            nodes.If(
                nodes.Not(nodes.Name(text, "load")),
                [
                    nodes.AssignBlock(nodes.Name(f"{text}_new", "store"), None, body),
                    nodes.Assign(
                        nodes.Name(text, "store"),
                        _filter(_KEEP, nodes.Name(text, "load"), nodes.Name(f"{text}_new", "load")),
                    ),
                ],
                [],
                [],
            ),
            # Markup (see _keep): written as it stands in either format.
            nodes.Output([nodes.Name(text, "load")]),
        ]

    def _look_up(self, site: str, values: tuple):
        # _key_part's work, with the common kinds tested here: a document
        # looks up a dozen blocks of half a dozen values, and a call of
        # _key_part per value cost more than the look-up itself.
        key = [site]
        for value in values:
            kind = type(value)
            if kind in _BY_VALUE:
                key.append(value)
            elif kind in _CHANGING:
                return _Miss(None, values)
            elif kind is tuple:
                try:
                    key.append(_key_part(value))
                except _Changing:
                    return _Miss(None, values)
            else:
                key.append(id(value))
        key = tuple(key)
        kept = self._kept.get(key)
        return kept[0] if kept is not None else _Miss(key, values)

    def _keep(self, miss: "_Miss", text: str) -> markupsafe.Markup:
        # Markup: its values were escaped when it was made, and it is
        # written as it stands (in Markdown too, see templating.markdown_text).
        text = markupsafe.Markup(text)
        if miss.key is None:
            return text
        if len(self._kept) >= KEPT_TEXTS:
            self._kept.clear()
        # The values stay with the text: no other object can take their ids.
        # An empty text is kept as one that is true: a false one is a miss.
        self._kept[miss.key] = (text or _EMPTY, miss.values)
        return text

    def forget(self) -> None:
        """Drop every kept text (the next documents write them anew)."""
        self._kept.clear()


class _Miss:
    """No text kept yet for ``key``: false, so the template writes it."""

    __slots__ = ("key", "values")

    def __init__(self, key: tuple, values: tuple) -> None:
        self.key = key
        self.values = values

    def __bool__(self) -> bool:
        return False


class _Empty(markupsafe.Markup):
    """A kept text that is empty: written as nothing, but true, so that the
    template takes it for a text found, not for a miss."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return True


_EMPTY = _Empty("")


class _Changing(Exception):
    """A value that may change: its text is not kept."""


def _key_part(value):
    kind = type(value)
    if kind in _BY_VALUE:
        return value
    if kind is tuple:
        # Most tuples hold texts only (rule ids, the next steps, category labels).
        return value if _BY_VALUE.issuperset(map(type, value)) else tuple(map(_key_part, value))
    if kind in _CHANGING:
        raise _Changing
    return id(value)


def _filter(name: str, value: nodes.Expr, argument: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(value, name, [argument], [], None, None)


def _path(node: nodes.Node) -> str | None:
    """``d.position.title`` for a name and its attributes, None for any other expression."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = _path(node.node)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _other_names(body: list[nodes.Node], paths: list[str], parser: Parser) -> set[str]:
    """The variables ``body`` reads other than through ``paths`` or as its
    own loop variables."""
    names: set[str] = set()

    def visit(node: nodes.Node, bound: frozenset) -> None:
        path = _path(node)
        if path is not None:
            root = path.split(".", 1)[0]
            if root not in bound and not any(path == p or path.startswith(p + ".") for p in paths):
                names.add(root)
            return
        if isinstance(node, _NOT_IN_ONCE):
            parser.fail(
                "a once block holds text, expressions, conditions and loops: no set, include, block or macro",
                node.lineno, jinja2.TemplateSyntaxError,
            )
        if isinstance(node, nodes.For):
            visit(node.iter, bound)
            targets = (node.target, *node.target.find_all(nodes.Name))
            inner = bound | {name.name for name in targets if isinstance(name, nodes.Name)} | {"loop"}
            for child in (*node.body, *((node.test,) if node.test else ())):
                visit(child, inner)
            for child in node.else_:
                visit(child, bound)
            return
        for child in node.iter_child_nodes():
            visit(child, bound)

    for node in body:
        visit(node, frozenset())
    if "loop" in names or "loop" in paths:
        # The loop around the block is one object that changes at each
        # step: a key holding it would find the text of an earlier step.
        parser.fail(
            "a once block cannot use the loop around it whole; name what it shows, such as loop.index",
            body[0].lineno if body else None, jinja2.TemplateSyntaxError,
        )
    return names


__all__ = ["KEPT_TEXTS", "OncePer"]
