"""Loading with and without libyaml (AF1xx): one text, one `Document`, the same diagnostics.

`load.compose` composes libyaml's events when PyYAML has it, and hands the text to PyYAML's own
parser at the first diagnostic, error or known difference between the two. So every file in this
repository, every input the two parsers were seen to read differently and random YAML-ish text
load here both ways and must come out the same. The pure parser is also held to the bounds.
"""

from __future__ import annotations

import string
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow.compiler.diagnostics.report import Diagnostic, Report
from agentflow.compiler.load import compose
from agentflow.compiler.load.document import Document
from agentflow.compiler.load.yaml import load_document
from agentflow.compiler.source.snapshot import SourceFile
from tests.conftest import EXAMPLE_REPO, ROOT
from tests.repos import found

needs_libyaml = pytest.mark.skipif(compose.LIBYAML is None, reason="PyYAML built without libyaml")

YAML_FILES = sorted(
    path.relative_to(ROOT).as_posix()
    for folder in ("examples", "policies", "tests/fixtures", "tests/golden")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".yaml", ".yml") and path.is_file()
)

Outcome = tuple[Document | None, list[Diagnostic]]


@contextmanager
def _libyaml(enabled: bool) -> Iterator[None]:
    saved = compose.LIBYAML
    compose.LIBYAML = saved if enabled else None
    try:
        yield
    finally:
        compose.LIBYAML = saved


def load(data: str | bytes, *, libyaml: bool, path: str = "agents/a.yaml") -> Outcome:
    raw = data.encode() if isinstance(data, str) else data
    report = Report()
    with _libyaml(libyaml):
        document = load_document(SourceFile(path, raw), report)
    return document, report.diagnostics()


def assert_same_both_ways(data: str | bytes, path: str = "agents/a.yaml") -> Outcome:
    pure = load(data, libyaml=False, path=path)
    assert load(data, libyaml=True, path=path) == pure
    return pure


@needs_libyaml
@pytest.mark.parametrize("path", YAML_FILES)
def test_every_yaml_file_here_loads_the_same_with_and_without_libyaml(path: str) -> None:
    assert_same_both_ways((ROOT / path).read_bytes(), path)


class _Refused(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        raise AssertionError("the pure parser was needed for a file libyaml reads as well")


@needs_libyaml
def test_the_example_repository_loads_on_libyaml_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The good path keeps libyaml's speed: no example file is composed a second time."""
    monkeypatch.setattr(compose, "CANONICAL", _Refused)
    for path in sorted(EXAMPLE_REPO.rglob("*.yaml")):
        report = Report()
        document = load_document(SourceFile(path.name, path.read_bytes()), report)
        assert document is not None and report.diagnostics() == [], path


def _events(text: str, loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]) -> list[object]:
    """What a parser makes of ``text``: its node events and where they start, or its error."""
    events: list[object] = []
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.NodeEvent | yaml.CollectionEndEvent):
                mark = event.start_mark
                events.append((type(event), getattr(event, "value", None), mark.line, mark.column))
    except yaml.YAMLError as error:
        events.append((type(error), str(error)))
    return events


@needs_libyaml
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # libyaml takes a tab for a space between tokens; PyYAML does not.
        pytest.param("a:\tb\n", [("AF101", 1, 3)], id="tab"),
        # In [...] or {...} PyYAML ends a plain scalar at '?'; libyaml reads "ok?" on.
        pytest.param("tools: [ok?]\n", [("AF101", 1, 11)], id="question-mark-in-flow"),
        pytest.param("- ok?\n- {a? b: c}\n", [("AF101", 2, 5)], id="question-mark-in-flow-key"),
        # libyaml skips a byte order mark at the start of any line; PyYAML only at the file's.
        pytest.param("a: 1\n\ufeff\n", [("AF101", 3, 1)], id="byte-order-mark"),
        # libyaml allows a comment right after a block scalar's indicators; PyYAML does not.
        pytest.param("a: |#\n  x\n", [("AF101", 1, 5)], id="block-header-comment"),
        pytest.param("a: >-1#\n  x\n", [("AF101", 1, 7)], id="block-header-indicators-comment"),
        # libyaml refuses version 1.3 and nesting past 1000; PyYAML reads both.
        pytest.param("%YAML 1.3\n---\na: 1\n", [], id="yaml-1.3"),
        pytest.param("a: " + "[" * 1001 + "]" * 1001, [("AF105", 1, 67)], id="libyaml-depth"),
        # libyaml refuses a lone surrogate escape; PyYAML makes a string no encoder can write.
        pytest.param('a: "\\ud83d\\ude00"\n', [("AF101", 1, 4)], id="surrogate-escapes"),
        # A character YAML does not allow: reported where it stands.
        pytest.param("a: 1\nb: [x, y\x7f]\n", [("AF101", 2, 9)], id="control-character"),
    ],
)
def test_where_the_parsers_differ_pure_pyyaml_decides(
    text: str, expected: list[tuple[str, int, int]]
) -> None:
    assert _events(text, yaml.CSafeLoader) != _events(text, yaml.SafeLoader)
    _, diagnostics = assert_same_both_ways(text)
    assert [(code, line, column) for code, _, line, column in found(diagnostics)] == expected


@needs_libyaml
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{a: , b: 1}\n", id="empty-value-in-flow"),  # placed differently
        pytest.param("? a\n", id="empty-value-of-explicit-key"),
        pytest.param("a: !!str\nb: 1\n", id="tagged-empty-value"),
        pytest.param("a: &x 1\nb: 2\n", id="anchor"),
        pytest.param("a: ''\nb: \"\"\n", id="quoted-empty-strings"),
    ],
)
def test_what_the_shortcut_leaves_to_pure_pyyaml_loads_the_same(text: str) -> None:
    document, diagnostics = assert_same_both_ways(text)
    assert document is not None and diagnostics == []


def test_a_lone_surrogate_escape_is_a_syntax_error_at_its_scalar() -> None:
    _, diagnostics = load('a: ["x", "\\udfff"]\n', libyaml=False)
    assert [(d.code, d.line, d.column, d.message) for d in diagnostics] == [
        ("AF101", 1, 10, "'\\udfff' is half of a UTF-16 surrogate pair, not a character")
    ]


def _frames() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
    return depth


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "{a: " * 100_000 + "}" * 100_000,
        "- " * 100_000 + "x",
        "".join(" " * i + "- \n" for i in range(200)),
    ],
    ids=["flow-sequences", "flow-mappings", "block-sequences-on-one-line", "block-sequences"],
)
def test_the_pure_parser_is_iterative_and_quick_on_deep_nesting(text: str) -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + 100)
    try:
        with pytest.raises(RecursionError):  # proof the limit bites: PyYAML's composer recurses
            yaml.compose(text, Loader=yaml.SafeLoader)
        started = time.perf_counter()
        _, diagnostics = load(text, libyaml=False)
        elapsed = time.perf_counter() - started
    finally:
        sys.setrecursionlimit(limit)
    assert [d.code for d in diagnostics] == ["AF105"]
    assert elapsed < 2


# Random text: YAML's indicators and spaces, and lines shaped like resources, so that both
# parsers get far and reach the corners where they were seen to differ.
SOUP = " \n\r\t-:?[]{},#&*!|>'\"%@`\\ab1.é😀\x85\u2028\ufeff"
WORDS = ["a", "key", "on", "1", "0x1F", "1.5", "~", "null", "-", "?", ":", "a:b", "ok?", "é", "#x"]
WORDS += ["a #c", "[", "]", "{", "}", ",", "!", "&a", "*a", "!!str", "%", "@", "|", ">", " ", "\t"]
plain = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map("".join)
escapes = ["a", " ", "\\t", "\\n", '\\"', "\\x41", "\\u00e9", "\\U0001F600", "\\/", "\\ud800", "\n"]
quoted = st.one_of(
    st.lists(st.sampled_from(escapes), max_size=4).map(lambda parts: '"' + "".join(parts) + '"'),
    st.lists(st.sampled_from(["a", " ", "''", "\n ", '"', "#"]), max_size=4).map(
        lambda parts: "'" + "".join(parts) + "'"
    ),
)
scalar = st.one_of(plain, quoted, st.just(""))
flow = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(scalar, inner), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
    ),
    max_leaves=6,
)
indent = st.sampled_from(["", " ", "  ", "    "])
lines = st.one_of(
    st.tuples(indent, scalar, flow).map(lambda t: f"{t[0]}{t[1]}: {t[2]}"),
    st.tuples(indent, scalar).map(lambda t: f"{t[0]}{t[1]}:"),
    st.tuples(indent, flow).map(lambda t: f"{t[0]}- {t[1]}"),
    st.tuples(indent, scalar, st.sampled_from(["|", ">-", "|2", "| # c", "|#"])).map(
        lambda t: f"{t[0]}{t[1]}: {t[2]}"
    ),
    st.sampled_from(["---", "...", "# comment", "", "%YAML 1.1", "? a", ": b", "- - a"]),
)
documents = st.tuples(st.lists(lines, max_size=8), st.sampled_from(["\n", "\r\n"])).map(
    lambda t: t[1].join(t[0]) + t[1]
)
EXAMPLES = [path.read_text(encoding="utf-8") for path in sorted(EXAMPLE_REPO.rglob("*.yaml"))]


@st.composite
def edited_examples(draw: st.DrawFn) -> str:
    """An example file with a few characters put in or taken out: mostly still YAML."""
    text = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from([*SOUP, ": ", "- ", "? ", "\n  "])) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(min_value=1, max_value=3)) :]
    return text


@needs_libyaml
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(alphabet=SOUP, max_size=40), documents, edited_examples()))
def test_random_yaml_loads_the_same_with_and_without_libyaml(text: str) -> None:
    assert_same_both_ways(text)


@needs_libyaml
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=string.printable, max_size=200))
def test_random_printable_text_loads_the_same_with_and_without_libyaml(text: str) -> None:
    assert_same_both_ways(text)
