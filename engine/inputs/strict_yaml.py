"""Strict YAML for files that legal staff edit.

PyYAML's safe loader, with three changes that matter for reviewable rules:
a key written twice is an error (PyYAML silently keeps the last one), dates
stay strings (the loader's timestamps would turn ``2026-01-01`` into a
``date`` in one place and leave ``2026-1-1`` a string in another), and every
mapping remembers the line of each key so that errors can point at it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from engine.errors import AdjudicateError, allowed, did_you_mean


class YamlMap(dict):
    """A mapping read from YAML that remembers where it and its keys were."""

    line: int
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


# No rule file needs more; PyYAML recurses once per level and would give up,
# with a RecursionError, some hundreds of levels further.
YAML_DEPTH_LIMIT = 100


class _StrictLoader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > YAML_DEPTH_LIMIT:
                raise yaml.MarkedYAMLError(
                    problem=f"lists or mappings nest more than {YAML_DEPTH_LIMIT} levels deep here; "
                    f"adjudicate reads at most {YAML_DEPTH_LIMIT}",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _RepeatedKey(yaml.MarkedYAMLError):
    """A key written twice; ``owner_id`` is the ``id`` of the mapping, if known."""

    owner_id: str | None = None


# Keep dates as the strings the author wrote; the rulebook parses them itself.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    mapping = YamlMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise yaml.MarkedYAMLError(
                problem="a key must be plain text", problem_mark=key_node.start_mark
            )
        if key in mapping:
            error = _RepeatedKey(
                problem=(
                    f"the key '{key}' is written twice (first on line "
                    f"{mapping.key_lines[key]}); keep one"
                ),
                problem_mark=key_node.start_mark,
            )
            # In a rule, the message names it (when its id came first).
            error.owner_id = mapping["id"] if isinstance(mapping.get("id"), str) else None
            raise error
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def key_problems(mapping: YamlMap, known, where: str, required=()):
    """(message, line) for each unknown key (with a "did you mean") and each
    missing required key of ``mapping``; ``where`` names it in messages."""
    for key in mapping:
        if key not in known:
            yield (
                f"unknown key '{key}' in {where}; allowed keys: {allowed(known)}." + did_you_mean(str(key), known),
                mapping.line_of(key),
            )
    for key in required:
        if key not in mapping:
            yield f"{where} lacks the required key '{key}'.", mapping.line


def load_yaml(path: Path, error: type[AdjudicateError] = AdjudicateError):
    """Parse ``path`` strictly; raise ``error`` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error("file not found.", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise error(
            f"the file is not valid UTF-8 (byte {exc.start}); save it as UTF-8.", file=str(path)
        ) from None
    except OSError as exc:
        raise error(f"cannot read the file: {exc.strerror}.", file=str(path)) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        owner = getattr(exc, "owner_id", None)
        raise error(f"{problem}{context}.", file=str(path), line=line, rule_id=owner) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}.", file=str(path)) from None
