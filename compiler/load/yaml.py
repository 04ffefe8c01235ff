"""Loading: source files → YAML documents with a position for every key and value.   AF1xx

Input: a `Snapshot`'s files. Output: one `Document` per resource file (plain JSON-like data plus
a path → `Span` map). Here each file is checked for size and decoded (AF106, AF107, AF113), its
text is composed by `compose`, and a file in a resource folder that is not an AgentFlow resource
is reported (AF110); other YAML in the repository is left alone.
"""

from __future__ import annotations

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import FILE_START, Span
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.compose import compose
from agentflow.compiler.load.document import JSON, Document
from agentflow.compiler.source.snapshot import MAX_FILE_BYTES, SourceFile

API_GROUP = "agentflow.dev/"
KINDS = (
    "Project",
    "Agent",
    "Tool",
    "Workflow",
    "Policy",
    "Template",
    "TemplateInstance",
    "Scenario",
)


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


RESOURCE_FOLDERS = ("agents/", "tools/", "workflows/", "policies/", "scenarios/")


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
    return compose(source.path, text, report)


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


def _byte_span(data: bytes, offset: int) -> Span:
    before = data[:offset]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Span(before.count(b"\n") + 1, column)
