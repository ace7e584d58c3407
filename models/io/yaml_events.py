"""YAML text to data straight from libyaml's events, refusing what no platform file needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from models.io.problems import MAX_DEPTH, MAX_INT_DIGITS, PlatformFileError, _syntax

#: Longest key PyYAML reads as a plain key; longer ones are syntax errors (see ``_yaml_problem``).
_YAML_MAX_KEY = 1024

try:
    from yaml.cyaml import CParser as _EventParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _EventParser = yaml.SafeLoader  # type: ignore[misc,assignment]

_PLAIN_KEYS = frozenset((str, int, float, bool, type(None)))
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "binary")
)
_NO_KEY = object()


class _Refused(yaml.constructor.ConstructorError):
    """A YAML construct a platform or plan file never needs."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(None, None, message, mark)


class _EventBuilder:
    """Builds the data of a YAML text straight from libyaml's events, refusing on the way what
    no platform file needs and what could exhaust memory or the stack: anchors and aliases (an
    alias lets 3 KB expand to gigabytes, "billion laughs", or refer to itself), nesting over
    MAX_DEPTH, keys given twice, list or mapping keys, integers over MAX_INT_DIGITS digits and
    tags other than YAML's plain ones.

    No node graph is composed (PyYAML's costs about 80 bytes of memory per byte of file), and
    scalars are resolved and constructed as PyYAML's safe loader does.
    """

    def __init__(self) -> None:
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        # (tag, text, implicit) -> value: a platform file repeats its keys and host ids tens of
        # thousands of times, and resolving a scalar costs more than parsing it. The values
        # (str, int, float, bool, None, dates, bytes) are immutable, so they may be shared.
        self.known: dict[tuple[Any, str, Any], Any] = {}

    def scalar(self, event: Any) -> Any:
        key = (event.tag, event.value, event.implicit)
        try:
            return self.known[key]
        except KeyError:
            pass
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise _Refused(f"the tag {tag} is not allowed", event.start_mark)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        if tag.endswith(":int"):
            digits = sum(c.isdigit() for c in event.value)
            if digits > MAX_INT_DIGITS:
                message = f"an integer of {digits} digits (at most {MAX_INT_DIGITS})"
                raise _Refused(message, event.start_mark)
        value = self.constructor.yaml_constructors[tag](self.constructor, node)
        self.known[key] = value
        return value

    def build(self, text: str) -> Any:
        parser = _EventParser(text)
        # The open collection values go into, whether it is a list, and in a mapping the key
        # waiting for its value (_NO_KEY: none); ``stack`` holds the same three of each
        # collection that holds it.
        container: Any = None
        is_list = False
        key: Any = _NO_KEY
        stack: list[tuple[Any, bool, Any]] = []
        root: Any = None
        documents = 0
        known = self.known
        # text -> value of the plain scalars without a tag (most of a file): resolving them
        # depends on the text alone.
        plain: dict[str, Any] = {}
        get_event: Callable[[], Any] = parser.get_event
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        try:
            # libyaml's parser returns None after the end of the stream.
            while (event := get_event()) is not None:
                kind = type(event)
                if kind is scalar_event:
                    if event.anchor is not None:
                        raise _Refused(self._anchor(event), event.start_mark)
                    if event.tag is not None:
                        value = known.get((event.tag, event.value, event.implicit), _NO_KEY)
                        if value is _NO_KEY:
                            value = self.scalar(event)
                    elif event.implicit[0]:
                        value = plain.get(event.value, _NO_KEY)
                        if value is _NO_KEY:
                            value = plain[event.value] = self.scalar(event)
                    else:  # quoted, without a tag: the text itself
                        value = event.value
                elif kind is mapping_start or kind is sequence_start:
                    if event.anchor is not None:
                        raise _Refused(self._anchor(event), event.start_mark)
                    if event.tag not in _COLLECTION_TAGS:
                        raise _Refused(f"the tag {event.tag} is not allowed", event.start_mark)
                    if len(stack) >= MAX_DEPTH:
                        raise _Refused(
                            f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                        )
                    value = {} if kind is mapping_start else []
                elif kind is mapping_end or kind is sequence_end:
                    container, is_list, key = stack.pop()
                    continue
                elif kind is alias_event:
                    message = f"aliases (*{event.anchor}) are not allowed (write the value out)"
                    raise _Refused(message, event.start_mark)
                elif kind is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise _Refused("more than one document in the file", event.start_mark)
                    continue
                else:
                    continue
                if container is None:
                    root = value
                elif is_list:
                    container.append(value)
                elif key is _NO_KEY:
                    if type(value) not in _PLAIN_KEYS:
                        message = "a key must be a plain value, not a list or mapping"
                        raise _Refused(message, event.start_mark)
                    if value in container:
                        raise _Refused(f"key {value!r} is given twice", event.start_mark)
                    key = value
                else:
                    container[key] = value
                    key = _NO_KEY
                if kind is not scalar_event:
                    stack.append((container, is_list, key))
                    container, is_list, key = value, kind is sequence_start, _NO_KEY
        finally:
            parser.dispose()
        return root

    @staticmethod
    def _anchor(event: Any) -> str:
        return f"anchors (&{event.anchor}) are not allowed (write the value out)"


def _yaml_problem(error: yaml.YAMLError, text: str, source: str) -> PlatformFileError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None and not isinstance(error, yaml.constructor.ConstructorError):
        # PyYAML reads at most 1,024 characters as a plain key: a longer id used as a key (in
        # ``placement`` or ``backups``) is a syntax error there; say what it really is.
        for line in text.splitlines()[max(mark.line - 1, 0) : mark.line + 1]:
            key = line.split(":", 1)[0].strip(" -'\"")
            if len(key) > _YAML_MAX_KEY:
                return _syntax(
                    where,
                    f"a key of {len(key)} characters: keys and ids are at most "
                    f"{_YAML_MAX_KEY} characters",
                )
    if "maximum nesting depth" in str(problem):  # libyaml's own bound, above ours
        return _syntax(where, f"nested more than {MAX_DEPTH} levels deep")
    return _syntax(where, f"YAML syntax error: {problem}")
