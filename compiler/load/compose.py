"""Composing: one file's YAML text → a `Document`, from parser events, without recursion.   AF1xx

Input: a file's decoded text. Output: a `Document` (plain JSON-like data plus a path → `Span`
map), or ``None`` once the reason is reported (AF101-AF105, AF108, AF109, AF111, AF112). Events
are composed here, iteratively, so hostile input is bounded: no aliases (no alias bombs), a
nesting limit, a node limit, one document per file, string keys only, no duplicate keys.

PyYAML's own, pure-Python parser is the canonical one: every diagnostic comes from its events, so
messages and positions are the same whether or not PyYAML was built with libyaml. libyaml is a
shortcut for the good path only. Its events are composed first, and at the first error, the first
thing to report or anything the two parsers are known to read differently, that attempt is
dropped and the pure parser composes the text again. Both parsers are iterative, so the pure one
is bounded by the same limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.reader import ReaderError

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.codes import Code
from agentflow.compiler.diagnostics.positions import FILE_START, Span, YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.document import JSON, Document
from agentflow.compiler.load.scalars import (
    CORE_TAGS,
    is_yaml11_boolean,
    resolve_plain,
    resolve_tagged,
    yaml_text,
)

MAX_DEPTH = 64
"""Real resources nest a dozen levels; a deeper file is a mistake or an attack."""
MAX_NODES = 100_000

Loader = type[yaml.CSafeLoader] | type[yaml.SafeLoader]

LIBYAML: Loader | None = yaml.CSafeLoader if yaml.__with_libyaml__ else None
"""The shortcut parser: libyaml's, when this PyYAML was built with it. Tests set it to ``None``
to run as on a PyYAML without libyaml."""
CANONICAL: Loader = yaml.SafeLoader
"""The parser whose events every diagnostic comes from."""

# Where libyaml and PyYAML's own parser read the same text differently, as differential fuzzing
# found (tests/compiler/load/test_compose.py keeps looking). Text with a tab, a byte order mark or a
# comment right after a block scalar's ``|`` or ``>`` goes straight to the pure parser: libyaml
# takes a tab as a separator, skips a byte order mark at the start of any line and allows that
# comment. The libyaml attempt stops at an anchor or a tag, at an empty plain scalar (the two place
# it differently) and at a '?' in a plain scalar inside [...] or {...} (PyYAML ends the scalar
# there, libyaml reads on): see `_Composer._open` and `_Composer._scalar`.
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _parsers_disagree(text: str) -> bool:
    return "\t" in text or "\ufeff" in text or _BLOCK_HEADER_COMMENT.search(text) is not None


_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def compose(file: str, text: str, report: Report) -> Document | None:
    """The one document in ``text``, or ``None`` after reporting why there is none."""
    if LIBYAML is not None and not _parsers_disagree(text):
        try:
            return _Composer(file, None).run(LIBYAML, text)
        except (_NotSure, yaml.YAMLError):
            pass  # compose it again, for the diagnostics a PyYAML without libyaml gives
    try:
        return _Composer(file, report).run(CANONICAL, text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        span = Span(mark.line + 1, mark.column + 1) if mark else FILE_START
        problem = error.problem or "invalid YAML"
        if error.context:
            problem = f"{problem} ({error.context})"
        report.add(codes.YAML_SYNTAX, file, span, problem)
    except ReaderError as error:  # a character YAML does not allow, anywhere
        span = _text_span(text, error.position) if isinstance(error.position, int) else FILE_START
        report.add(codes.YAML_SYNTAX, file, span, str(error).splitlines()[0])
    except yaml.YAMLError as error:
        report.add(codes.YAML_SYNTAX, file, FILE_START, str(error).splitlines()[0])
    return None


def _text_span(text: str, index: int) -> Span:
    """Where the character at ``index`` stands, counting line breaks as YAML does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return Span(len(breaks) + 1, index - start + 1)


class _NotSure(Exception):
    """The libyaml attempt met something to report or a place where the parsers may differ."""


_DISCARD = object()
"""Where a composed value goes when its key was rejected (duplicate or not a string)."""


@dataclass(slots=True)
class _Frame:
    path: YamlPath
    container: dict[str, JSON] | list[JSON]
    key: object = None
    """For mappings: the pending key (``None`` when the next scalar is a key)."""
    key_span: Span = FILE_START
    discard: bool = False
    is_key: bool = False
    """A mapping or sequence used as a mapping key: rejected, dropped on close."""
    flow: bool = False
    """Written in flow style (``{...}`` or ``[...]``)."""
    seen: dict[str, Span] = field(default_factory=dict)


class _Composer:
    """Builds plain data and position maps from parser events, iteratively.

    Without a `Report` it composes libyaml's events for `compose`: whatever it would report, and
    any event the two parsers may give differently, raises `_NotSure` instead.
    """

    def __init__(self, file: str, report: Report | None) -> None:
        self.file = file
        self.report = report
        self.value_spans: dict[YamlPath, Span] = {}
        self.key_spans: dict[YamlPath, Span] = {}
        self.yaml11: set[YamlPath] = set()
        self.rejected: set[YamlPath] = set()
        self.reported_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: JSON = _DISCARD
        self.nodes = 0

    def run(self, loader_type: Loader, text: str) -> Document | None:
        loader = loader_type(text)
        try:
            return self._compose(loader)
        finally:
            loader.dispose()

    def _report(self, code: Code, span: Span, message: str, hint: str | None = None) -> None:
        if self.report is None:
            raise _NotSure
        self.report.add(code, self.file, span, message, hint=hint)

    def _in_flow(self) -> bool:
        return bool(self.stack) and self.stack[-1].flow

    def _compose(self, loader: yaml.CSafeLoader | yaml.SafeLoader) -> Document | None:
        documents = 0
        while loader.check_event():
            event: Any = loader.get_event()
            span = Span(event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self._report(
                        codes.MULTI_DOCUMENT,
                        span,
                        "a resource file holds exactly one YAML document",
                        hint="move each document after '---' into a file of its own",
                    )
                    return None
            elif isinstance(event, yaml.ScalarEvent):
                if not self._scalar(event, span):
                    return None
            elif isinstance(event, yaml.AliasEvent):
                if not self._alias(event, span):
                    return None
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if not self._open(event, span):
                    return None
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self._close()
        if documents == 0 or self.root is _DISCARD or self.root is None:  # None: a bare '---'
            self._report(codes.EMPTY_DOCUMENT, FILE_START, "file is empty; it is ignored")
            return None
        return Document(
            file=self.file,
            data=self.root,
            value_spans=self.value_spans,
            key_spans=self.key_spans,
            yaml11_booleans=frozenset(self.yaml11),
            rejected=frozenset(self.rejected),
        )

    def _alias(self, event: yaml.AliasEvent, span: Span) -> bool:
        """Reported once per anchor: an alias bomb repeats a few aliases many times."""
        if not self._count_node(span):
            return False
        if event.anchor not in self.reported_anchors:
            self.reported_anchors.add(str(event.anchor))
            self._report(
                codes.ALIAS_FORBIDDEN,
                span,
                f"alias '*{event.anchor}' is not allowed",
                hint="write the value out; anchors and aliases make resources "
                "hard to review and can expand without bound",
            )
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.container, dict) and parent.key is None:
            parent.key = _DISCARD  # an alias as a key: the whole entry is dropped
            return True
        self._reject(parent)
        self._attach(None, span)
        return True

    def _reject(self, parent: _Frame | None) -> None:
        """The value about to be attached was reported: later stages leave it alone."""
        path = self._value_path(parent)
        if path is not None:
            self.rejected.add(path)

    def _value_path(self, parent: _Frame | None) -> YamlPath | None:
        """Where the next value lands, or ``None`` when it is dropped."""
        if parent is None:
            return ()
        if parent.discard or (
            isinstance(parent.container, dict) and not isinstance(parent.key, str)
        ):
            return None
        return self._child_path(parent)

    def _count_node(self, span: Span) -> bool:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self._report(codes.TOO_MANY_NODES, span, f"document has more than {MAX_NODES} values")
            return False
        return True

    def _open(self, event: yaml.CollectionStartEvent, span: Span) -> bool:
        if self.report is None and (event.anchor or event.tag):
            raise _NotSure  # where the two parsers differ
        if not self._count_node(span):
            return False
        if len(self.stack) >= MAX_DEPTH:
            self._report(codes.TOO_DEEP, span, f"nesting deeper than {MAX_DEPTH} levels")
            return False
        bad_tag = self._check_tag(event, span)
        container: dict[str, JSON] | list[JSON]
        container = {} if isinstance(event, yaml.MappingStartEvent) else []
        flow = bool(event.flow_style)
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.container, dict) and parent.key is None:
            # A mapping or sequence used as a key: reject it and drop its whole subtree.
            self._report(
                codes.NON_STRING_KEY,
                span,
                "mapping keys must be strings, not a mapping or sequence",
            )
            parent.key = _DISCARD
            self.stack.append(_Frame(parent.path, container, discard=True, is_key=True, flow=flow))
            return True
        if bad_tag:
            self._reject(parent)
        path = self._child_path(parent)
        discard = parent is not None and (parent.discard or parent.key is _DISCARD)
        if not discard:
            self.value_spans[path] = span
        self.stack.append(_Frame(path, container, discard=discard, flow=flow))
        return True

    def _close(self) -> None:
        frame = self.stack.pop()
        if frame.is_key:
            return  # the parent's key stays rejected, so the value that follows is dropped too
        value = _DISCARD if frame.discard else frame.container
        if self.stack:
            self._attach(value, None)
        else:
            self.root = value

    def _scalar(self, event: yaml.ScalarEvent, span: Span) -> bool:
        if self.report is None and (
            event.anchor
            or event.tag
            or (not event.style and (not event.value or ("?" in event.value and self._in_flow())))
        ):
            raise _NotSure  # where the two parsers differ
        if not self._count_node(span):
            return False
        lone = _SURROGATE.search(event.value) if event.style == '"' else None
        if lone is not None:  # only an escape such as "\ud800" makes one; libyaml refuses it
            self._report(
                codes.YAML_SYNTAX,
                span,
                f"'\\u{ord(lone.group()):04x}' is half of a UTF-16 surrogate pair, not a character",
                hint="write the character itself, or escape it as \\UXXXXXXXX",
            )
            return False
        bad_tag = self._check_tag(event, span)
        plain = event.implicit[0] and not event.style
        value: JSON = resolve_plain(event.value) if plain else event.value
        if event.tag and event.tag != "!":
            value = resolve_tagged(event.tag, event.value, value)
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.container, dict) and parent.key is None:
            self._key(parent, value, span, event.value)
            return True
        path = self._value_path(parent)
        if plain and isinstance(value, str) and is_yaml11_boolean(value) and path:
            self.yaml11.add(path)
        if bad_tag:
            self._reject(parent)
        self._attach(value, span)
        return True

    def _check_tag(self, event: yaml.NodeEvent, span: Span) -> bool:
        """Report a tag outside the YAML core schema; whether there was one."""
        tag = getattr(event, "tag", None)
        if tag and tag not in CORE_TAGS:
            self._report(
                codes.YAML_SYNTAX,
                span,
                f"YAML tag '{tag}' is not supported",
                hint="resources are plain data: remove the tag",
            )
            return True
        return False

    def _key(self, frame: _Frame, value: JSON, span: Span, text: str) -> None:
        if not isinstance(value, str):
            self._report(
                codes.NON_STRING_KEY,
                span,
                f"mapping key {yaml_text(value)} is not a string",
                hint=f'quote it: "{text}"' if text else None,
            )
            frame.key = _DISCARD
            return
        if value in frame.seen:
            first = frame.seen[value]
            self._report(
                codes.DUPLICATE_KEY,
                span,
                f"duplicate key '{value}'",
                hint=f"first defined at line {first.line}, column {first.column}",
            )
            frame.key = _DISCARD
            return
        frame.seen[value] = span
        frame.key = value
        frame.key_span = span
        if not frame.discard:
            self.key_spans[(*frame.path, value)] = span

    def _child_path(self, parent: _Frame | None) -> YamlPath:
        if parent is None:
            return ()
        if isinstance(parent.container, list):
            return (*parent.path, len(parent.container))
        return (*parent.path, parent.key) if isinstance(parent.key, str) else parent.path

    def _attach(self, value: JSON, span: Span | None) -> None:
        if not self.stack:
            self.root = value
            if span is not None:
                self.value_spans[()] = span
            return
        parent = self.stack[-1]
        if isinstance(parent.container, list):
            if span is not None and not parent.discard:
                self.value_spans[(*parent.path, len(parent.container))] = span
            parent.container.append(value)
            return
        key, parent.key = parent.key, None
        if isinstance(key, str) and value is not _DISCARD and not parent.discard:
            if span is not None:
                self.value_spans[(*parent.path, key)] = span
            parent.container[key] = value
