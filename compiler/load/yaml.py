"""Loading: source files → YAML documents with a position for every key and value.   AF1xx

Input: a `Snapshot`. Output: one `Document` per resource file (plain JSON-like data plus a
path → `Span` map). The YAML is read as a stream of parser events and composed here, without
recursion, so that hostile input is bounded: no aliases (no alias bombs), a nesting limit, a node
limit, one document per file, string keys only, no duplicate keys. Plain scalars are resolved with
the YAML 1.2 core schema, so an unquoted ``off`` stays the string "off" (with a warning, since
YAML 1.1 tools read it as false).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import FILE_START, Span, YamlPath
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.document import JSON, Document
from agentflow.compiler.source.snapshot import MAX_FILE_BYTES, SourceFile

MAX_DEPTH = 64
"""Real resources nest a dozen levels; a deeper file is a mistake or an attack."""
MAX_NODES = 100_000
API_GROUP = "agentflow.dev/"
KINDS = ("Project", "Agent", "Tool", "Workflow", "Policy", "Template", "TemplateInstance")


def load_documents(files: tuple[SourceFile, ...], report: Report) -> tuple[Document, ...]:
    """Compose every resource file; files that fail to load report and are left out."""
    documents = []
    for source in files:
        document = load_document(source, report)
        if document is None:
            continue
        if is_resource(document.data):
            documents.append(document)
        elif _in_resource_place(source.path):
            report.add(
                codes.NOT_A_RESOURCE,
                source.path,
                document.span(()),
                "this file is where resources live, but it is not an AgentFlow resource",
                hint=f"start it with 'apiVersion: {API_GROUP}v1' and a 'kind:' "
                f"({', '.join(KINDS)})",
            )
    return tuple(documents)


RESOURCE_FOLDERS = ("agents/", "tools/", "workflows/", "policies/")


def _in_resource_place(path: str) -> bool:
    """The conventional places of SPEC §1: YAML there must be a resource."""
    return (
        path == "af.yaml"
        or path.startswith(RESOURCE_FOLDERS)
        or (path.startswith("templates/") and path.endswith("/template.yaml"))
    )


def is_resource(data: JSON) -> bool:
    """AgentFlow resources are mappings with our apiVersion or one of our kinds.

    Other YAML in the repository (a docker-compose file, mkdocs.yml) is not ours to judge.
    """
    if not isinstance(data, dict):
        return False
    api_version = data.get("apiVersion")
    if isinstance(api_version, str) and api_version.startswith(API_GROUP):
        return True
    return data.get("kind") in KINDS


def load_document(source: SourceFile, report: Report) -> Document | None:
    if source.problem is not None:
        report.add(codes.UNREADABLE_FILE, source.path, FILE_START, f"file {source.problem}")
        return None
    if len(source.data) > MAX_FILE_BYTES:
        report.add(
            codes.FILE_TOO_LARGE,
            source.path,
            FILE_START,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            hint="split it into several resources, one per file",
        )
        return None
    text = decode_text(source, report)
    if text is None:
        return None
    return _Composer(source.path, text, report).compose()


def load_text(file: str, text: str, report: Report) -> Document | None:
    """A resource written as text rather than read from disk (a rendered asset, an edited
    instance), composed exactly as the file ``file`` holding it would be."""
    return load_document(SourceFile(file, text.encode("utf-8")), report)


def decode_text(source: SourceFile, report: Report) -> str | None:
    """UTF-8 (a BOM is allowed); binary or mis-encoded files report where the bad byte is."""
    data = source.data
    if b"\x00" in data:
        report.add(
            codes.NOT_UTF8,
            source.path,
            _byte_span(data, data.index(b"\x00")),
            "file is binary (it contains a NUL byte)",
        )
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        report.add(
            codes.NOT_UTF8,
            source.path,
            _byte_span(data, error.start),
            f"file is not valid UTF-8 (byte 0x{data[error.start]:02x})",
            hint="save the file as UTF-8",
        )
        return None


def _yaml_text(value: JSON) -> str:
    """A scalar as YAML writes it: ``null``, ``true``, ``1.5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _byte_span(data: bytes, offset: int) -> Span:
    before = data[:offset]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Span(before.count(b"\n") + 1, column)


# YAML 1.2 core schema, https://yaml.org/spec/1.2.2/#1032-tag-resolution
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_YAML11_BOOL = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF")
_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "!",
}


def resolve_plain(text: str) -> JSON:
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    try:
        if _INT.fullmatch(text):
            return int(text)
        if _OCT.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
    except ValueError:  # more digits than Python converts: keep the text
        return text
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


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
    seen: dict[str, Span] = field(default_factory=dict)


class _Composer:
    """Builds plain data and position maps from parser events, iteratively."""

    def __init__(self, file: str, text: str, report: Report) -> None:
        self.file = file
        self.text = text
        self.report = report
        self.value_spans: dict[YamlPath, Span] = {}
        self.key_spans: dict[YamlPath, Span] = {}
        self.yaml11: set[YamlPath] = set()
        self.rejected: set[YamlPath] = set()
        self.reported_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: JSON = _DISCARD
        self.nodes = 0

    def compose(self) -> Document | None:
        loader = (
            yaml.CSafeLoader(self.text) if yaml.__with_libyaml__ else yaml.SafeLoader(self.text)
        )
        try:
            return self._compose(loader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            span = Span(mark.line + 1, mark.column + 1) if mark else FILE_START
            problem = error.problem or "invalid YAML"
            if error.context:
                problem = f"{problem} ({error.context})"
            self.report.add(codes.YAML_SYNTAX, self.file, span, problem)
        except yaml.YAMLError as error:
            self.report.add(codes.YAML_SYNTAX, self.file, FILE_START, str(error).splitlines()[0])
        finally:
            loader.dispose()
        return None

    def _compose(self, loader: yaml.CSafeLoader | yaml.SafeLoader) -> Document | None:
        documents = 0
        while loader.check_event():
            event: Any = loader.get_event()
            span = Span(event.start_mark.line + 1, event.start_mark.column + 1)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.report.add(
                        codes.MULTI_DOCUMENT,
                        self.file,
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
            self.report.add(
                codes.EMPTY_DOCUMENT, self.file, FILE_START, "file is empty; it is ignored"
            )
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
            self.report.add(
                codes.ALIAS_FORBIDDEN,
                self.file,
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
            self.report.add(
                codes.TOO_MANY_NODES, self.file, span, f"document has more than {MAX_NODES} values"
            )
            return False
        return True

    def _open(self, event: yaml.NodeEvent, span: Span) -> bool:
        if not self._count_node(span):
            return False
        if len(self.stack) >= MAX_DEPTH:
            self.report.add(
                codes.TOO_DEEP, self.file, span, f"nesting deeper than {MAX_DEPTH} levels"
            )
            return False
        bad_tag = self._check_tag(event, span)
        container: dict[str, JSON] | list[JSON]
        container = {} if isinstance(event, yaml.MappingStartEvent) else []
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.container, dict) and parent.key is None:
            # A mapping or sequence used as a key: reject it and drop its whole subtree.
            self.report.add(
                codes.NON_STRING_KEY,
                self.file,
                span,
                "mapping keys must be strings, not a mapping or sequence",
            )
            parent.key = _DISCARD
            self.stack.append(_Frame(parent.path, container, discard=True, is_key=True))
            return True
        if bad_tag:
            self._reject(parent)
        path = self._child_path(parent)
        discard = parent is not None and (parent.discard or parent.key is _DISCARD)
        if not discard:
            self.value_spans[path] = span
        self.stack.append(_Frame(path, container, discard=discard))
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
        if not self._count_node(span):
            return False
        bad_tag = self._check_tag(event, span)
        plain = event.implicit[0] and not event.style
        value: JSON = resolve_plain(event.value) if plain else event.value
        if event.tag and event.tag != "!":
            value = self._explicit(event.tag, event.value, value)
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.container, dict) and parent.key is None:
            self._key(parent, value, span, event.value)
            return True
        path = self._value_path(parent)
        if plain and isinstance(value, str) and _YAML11_BOOL.fullmatch(value) and path:
            self.yaml11.add(path)
        if bad_tag:
            self._reject(parent)
        self._attach(value, span)
        return True

    def _explicit(self, tag: str, text: str, default: JSON) -> JSON:
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            resolved = resolve_plain(text)
            return resolved if isinstance(resolved, int | float) else default
        return default

    def _check_tag(self, event: yaml.NodeEvent, span: Span) -> bool:
        """Report a tag outside the YAML core schema; whether there was one."""
        tag = getattr(event, "tag", None)
        if tag and tag not in _CORE_TAGS:
            self.report.add(
                codes.YAML_SYNTAX,
                self.file,
                span,
                f"YAML tag '{tag}' is not supported",
                hint="resources are plain data: remove the tag",
            )
            return True
        return False

    def _key(self, frame: _Frame, value: JSON, span: Span, text: str) -> None:
        if not isinstance(value, str):
            self.report.add(
                codes.NON_STRING_KEY,
                self.file,
                span,
                f"mapping key {_yaml_text(value)} is not a string",
                hint=f'quote it: "{text}"' if text else None,
            )
            frame.key = _DISCARD
            return
        if value in frame.seen:
            first = frame.seen[value]
            self.report.add(
                codes.DUPLICATE_KEY,
                self.file,
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
