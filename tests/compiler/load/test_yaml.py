"""Loading (AF1xx): hostile and malformed files each get one diagnostic at the right place.

Most AF1xx codes are also covered by tests/fixtures/cases/load-*; these are the inputs that cannot
carry an `# expect:` comment (binary, mis-encoded, huge, generated or linked files) and the
behaviour around them: a file that fails to load blocks only itself. Every test runs twice, with
libyaml and as on a PyYAML without it, since the diagnostics must not tell the two apart.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from agentflow.compiler.diagnostics.positions import Span
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.compose import MAX_DEPTH, MAX_NODES
from agentflow.compiler.load.scalars import resolve_plain
from agentflow.compiler.load.yaml import load_document
from agentflow.compiler.source.snapshot import MAX_FILE_BYTES, SourceFile
from tests.repos import AGENT, check, found, only

pytestmark = pytest.mark.usefixtures("yaml_parser")

TOOL_HEAD = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: kb-search}
spec:
  version: 1.0.0
  type: http
  endpoint: https://kb.example.com/search
"""


def test_binary_file_points_at_the_first_nul_byte(tmp_path: Path) -> None:
    image = b"apiVersion: agentflow.dev/v1\nkind: Tool\x00\x01\x02"
    diagnostic = only(check(tmp_path, {"tools/logo.yaml": image}))
    assert found([diagnostic]) == [("AF106", "tools/logo.yaml", 2, 11)]
    assert "binary" in diagnostic.message


def test_latin1_file_points_at_the_bad_byte(tmp_path: Path) -> None:
    text = TOOL_HEAD + "  description: Recherche café\n"
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text.encode("latin-1")}))
    assert found([diagnostic]) == [("AF106", "tools/kb-search.yaml", 8, 29)]
    assert "0xe9" in diagnostic.message
    assert diagnostic.hint == "save the file as UTF-8"


def test_utf8_with_a_byte_order_mark_loads_with_unchanged_positions(tmp_path: Path) -> None:
    text = AGENT.replace("type: llm", "type: lm")
    diagnostics = check(tmp_path, {"agents/writer.yaml": b"\xef\xbb\xbf" + text.encode()})
    assert found(diagnostics) == [("AF204", "agents/writer.yaml", 5, 9)]


def test_crlf_line_endings_give_the_same_positions(tmp_path: Path) -> None:
    text = AGENT.replace("type: llm", "type: lm").replace("\n", "\r\n")
    assert found(check(tmp_path, {"agents/writer.yaml": text})) == [
        ("AF204", "agents/writer.yaml", 5, 9)
    ]


def test_non_ascii_text_counts_columns_in_characters(tmp_path: Path) -> None:
    model = '{provider: openai, name: "gpt-4o 😀", tmperature: 0.1}'
    text = AGENT.replace("{provider: openai, name: gpt-4o-mini}", model)
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    # `"gpt-4o 😀"` is ten characters (and fourteen bytes) from column 35.
    assert found([diagnostic]) == [("AF202", "agents/writer.yaml", 6, 47)]


def test_file_over_one_mebibyte_is_refused_unread(tmp_path: Path) -> None:
    padding = "# " + "x" * MAX_FILE_BYTES + "\n"
    diagnostic = only(check(tmp_path, {"tools/huge.yaml": TOOL_HEAD + padding}))
    assert found([diagnostic]) == [("AF107", "tools/huge.yaml", 1, 1)]
    assert "1024 KiB" in diagnostic.message


def test_file_of_exactly_one_mebibyte_is_still_read(tmp_path: Path) -> None:
    text = TOOL_HEAD + "  timeout: 10s\n"
    text += "#" * (MAX_FILE_BYTES - len(text) - 1) + "\n"
    assert len(text.encode()) == MAX_FILE_BYTES
    assert check(tmp_path, {"tools/kb-search.yaml": text}) == []


def test_alias_bomb_is_reported_once_per_anchor_and_never_expanded(tmp_path: Path) -> None:
    # The "billion laughs": nine levels of nine aliases would expand to 9**9 strings.
    lines = ['      a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, anchor in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"      {anchor}: &{anchor} [" + ", ".join([f"*{previous}"] * 9) + "]")
    text = TOOL_HEAD + "  inputSchema:\n    type: object\n    default:\n" + "\n".join(lines)
    text += "\n  timeout: 10s\n"
    started = time.perf_counter()
    diagnostics = check(tmp_path, {"tools/kb-search.yaml": text})
    assert time.perf_counter() - started < 5
    # Lines 12 to 19 hold `b: &b [*a, ...]` to `i: &i [*h, ...]`; the first alias of each
    # anchor is reported, at column 14.
    assert found(diagnostics) == [
        ("AF103", "tools/kb-search.yaml", line, 14) for line in range(12, 20)
    ]
    assert diagnostics[0].message == "alias '*a' is not allowed"


def test_alias_value_is_reported_once_not_again_as_a_wrong_type(tmp_path: Path) -> None:
    text = AGENT.replace("metadata: {name: writer}", "metadata: &meta {name: writer}")
    text += "  description: *meta\n  tools: [*meta]\n"
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF103", "agents/writer.yaml", 7, 16)]


def test_nesting_one_hundred_thousand_deep_stops_at_the_limit(tmp_path: Path) -> None:
    depth = 100_000
    text = TOOL_HEAD + "  inputSchema: " + "[" * depth + "]" * depth + "\n"
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    # The root mapping and spec take two levels, so the 63rd '[' is one too many;
    # the first '[' stands at column 16 of line 8.
    assert MAX_DEPTH == 64
    assert found([diagnostic]) == [("AF105", "tools/kb-search.yaml", 8, 16 + 62)]


def test_document_with_too_many_values_is_reported_once_and_dropped(tmp_path: Path) -> None:
    values = ", ".join(["0"] * (MAX_NODES + 10))
    text = TOOL_HEAD + f"  inputSchema: {{default: [{values}]}}\n  timeot: 1s\n"
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert (diagnostic.code, diagnostic.file, diagnostic.line) == (
        "AF112",
        "tools/kb-search.yaml",
        8,
    )
    # Ten keys and eleven values come before the list's first element (column 27, then one
    # every 3 columns), so its 99,980th element is the document's 100,001st value.
    assert diagnostic.column == 27 + 3 * (MAX_NODES + 1 - 21 - 1)


def test_second_document_is_refused_at_its_separator(tmp_path: Path) -> None:
    text = AGENT + "---\n" + AGENT.replace("writer", "reader")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF108", "agents/writer.yaml", 7, 1)]
    assert diagnostic.hint == "move each document after '---' into a file of its own"


def test_explicit_start_and_end_markers_are_one_document(tmp_path: Path) -> None:
    assert check(tmp_path, {"agents/writer.yaml": "---\n" + AGENT + "...\n"}) == []


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_is_a_warning_at_its_start(tmp_path: Path, text: str) -> None:
    diagnostic = only(check(tmp_path, {"agents/draft.yaml": text}))
    assert found([diagnostic]) == [("AF111", "agents/draft.yaml", 1, 1)]
    assert diagnostic.severity == "warning"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_symlink_out_of_the_repository_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(AGENT.replace("writer", "secret"), encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "agents").mkdir()
    os.symlink(outside / "secret.yaml", repo / "agents" / "secret.yaml")
    os.symlink(outside, repo / "linked-folder")
    diagnostic = only(check(repo, {}))
    assert found([diagnostic]) == [("AF113", "agents/secret.yaml", 1, 1)]
    assert "outside the repository" in diagnostic.message


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_symlink_inside_the_repository_is_read(tmp_path: Path) -> None:
    check(tmp_path, {"shared/writer.yaml": AGENT})
    (tmp_path / "agents").mkdir()
    os.symlink(tmp_path / "shared" / "writer.yaml", tmp_path / "agents" / "writer.yaml")
    # Both paths hold the same agent, so the name is defined twice: proof both were read.
    assert found(check(tmp_path, {})) == [("AF306", "shared/writer.yaml", 3, 18)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_reported_not_read(tmp_path: Path) -> None:
    (tmp_path / "agents").mkdir()
    os.mkfifo(tmp_path / "agents" / "pipe.yaml")  # reading it would block forever
    diagnostic = only(check(tmp_path, {}))
    assert found([diagnostic]) == [("AF113", "agents/pipe.yaml", 1, 1)]
    assert "not a regular file" in diagnostic.message


def test_list_of_resources_in_a_resource_folder_is_not_a_resource(tmp_path: Path) -> None:
    text = "- " + AGENT.replace("\n", "\n  ").rstrip() + "\n"
    diagnostic = only(check(tmp_path, {"agents/all.yaml": text}))
    assert found([diagnostic]) == [("AF110", "agents/all.yaml", 1, 1)]


def test_other_yaml_outside_resource_folders_is_not_ours_to_judge(tmp_path: Path) -> None:
    compose = "services:\n  db: {image: postgres}\n"
    mkdocs = "site_name: Support desk\nnav: [index.md]\n"
    hidden = "on: [push]\njobs: {}\n"
    files = {"docker-compose.yaml": compose, "mkdocs.yml": mkdocs, ".github/ci.yaml": hidden}
    assert check(tmp_path, files) == []


def test_duplicate_key_hint_names_the_first_one(tmp_path: Path) -> None:
    text = AGENT + "  concurrency: 2\n  concurrency: 3\n"
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF102", "agents/writer.yaml", 8, 3)]
    assert diagnostic.hint == "first defined at line 7, column 3"


def test_non_string_key_hint_quotes_it_as_written(tmp_path: Path) -> None:
    text = AGENT.replace("metadata: {name: writer}", "metadata: {name: writer, labels: {TRUE: x}}")
    diagnostic = only(check(tmp_path, {"agents/writer.yaml": text}))
    assert found([diagnostic]) == [("AF109", "agents/writer.yaml", 3, 35)]
    assert diagnostic.message == "mapping key true is not a string"
    assert diagnostic.hint == 'quote it: "TRUE"'


def test_python_tag_is_refused_and_its_value_not_judged_again(tmp_path: Path) -> None:
    text = TOOL_HEAD.replace("type: http", "type: python").replace(
        "endpoint: https://kb.example.com/search", "entrypoint: !!python/name:os.system"
    )
    diagnostic = only(check(tmp_path, {"tools/kb-search.yaml": text}))
    assert found([diagnostic]) == [("AF101", "tools/kb-search.yaml", 7, 15)]
    assert diagnostic.hint == "resources are plain data: remove the tag"


def test_syntax_error_blocks_only_its_own_file(tmp_path: Path) -> None:
    broken = TOOL_HEAD + "  permissions: {network.http: [kb.example.com}\n"
    files = {"tools/kb-search.yaml": broken, "agents/writer.yaml": AGENT}
    assert found(check(tmp_path, files)) == [("AF101", "tools/kb-search.yaml", 8, 46)]


def test_loader_keeps_a_position_for_every_key_and_value() -> None:
    text = "apiVersion: agentflow.dev/v1\nkind: Agent\nspec:\n  tools: [a, b]\n"
    document = load_document(SourceFile("agents/a.yaml", text.encode()), Report())
    assert document is not None
    assert document.data == {
        "apiVersion": "agentflow.dev/v1",
        "kind": "Agent",
        "spec": {"tools": ["a", "b"]},
    }
    assert document.key_span(("spec", "tools")) == Span(4, 3)
    assert document.span(("spec", "tools")) == Span(4, 10)
    assert document.span(("spec", "tools", 1)) == Span(4, 14)
    # An unknown path falls back to its nearest known ancestor.
    assert document.span(("spec", "tools", 7, "x")) == document.span(("spec", "tools"))


@pytest.mark.parametrize(
    ("plain", "value"),
    [
        ("off", "off"),
        ("yes", "yes"),
        ("NO", "NO"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("1.0.0", "1.0.0"),
        ("0755", 755),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
        ("2024-05-01", "2024-05-01"),
    ],
)
def test_plain_scalars_resolve_with_the_yaml_1_2_core_schema(plain: str, value: object) -> None:
    resolved = resolve_plain(plain)
    assert resolved == value
    assert type(resolved) is type(value)
