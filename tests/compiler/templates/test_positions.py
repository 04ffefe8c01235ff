"""Positions in rendered output → asset positions, and where template syntax errors point.

Literal text (and ``{% raw %}`` content) maps to its own line and column in the asset, whatever
the tags before it rendered to; a computed value maps to where its ``{{`` starts. An unclosed
block is reported at its opening tag, not at the end of the file where Jinja notices it.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.compiler.diagnostics import codes
from agentflow.compiler.diagnostics.positions import Span
from agentflow.compiler.templates.positions import TextLines
from agentflow.compiler.templates.render import Rendered, RenderFailure, render_asset

FOLDER = "templates/t/1.0.0"
ASSET = f"{FOLDER}/a.j2"


def _render(text: str, files: dict[str, str] | None = None, **values: object) -> Rendered:
    result = render_asset(FOLDER, {ASSET: text, **(files or {})}, ASSET, values)
    assert isinstance(result, Rendered), result
    return result


def _fail(text: str, **values: object) -> RenderFailure:
    result = render_asset(FOLDER, {ASSET: text}, ASSET, values)
    assert isinstance(result, RenderFailure), result
    return result


def _source_of(rendered: Rendered, needle: str, occurrence: int = 0) -> Span:
    """Where in the asset the ``occurrence``-th ``needle`` of the rendered text comes from."""
    offsets = [m.start() for m in re.finditer(re.escape(needle), rendered.text)]
    return rendered.positions.to_asset(TextLines(rendered.text).span(offsets[occurrence]))


# What the independent fixture's bad-graph template does: on one line, raw blocks shrink the
# text, values grow it, and an {% if %} body ends in a raw block; the next lines are literal.
SHIFTING = (
    'prompt: "Confirm the {{ period }} loan of {% raw %}{{ input.isbn }}{% endraw %} at the '
    "{{ desk }} desk{% if notify %} and notify {% raw %}{{ input.patron }}{% endraw %}"
    '{% endif %}."\n'
    "orphan_review:\n"
    "  agent: clerk\n"
)


def test_literal_text_after_shrinking_and_growing_tags_keeps_its_line_and_column() -> None:
    rendered = _render(SHIFTING, period="standard", desk="a-very-long-desk-name", notify=True)
    assert _source_of(rendered, "orphan_review") == Span(2, 1)
    assert _source_of(rendered, "agent: clerk") == Span(3, 3)
    # Literal text on the shifting line itself: " desk" comes right after "{{ desk }}",
    # "notify" inside the if body, the closing quote after {% endif %}.
    line = SHIFTING.splitlines()[0]
    assert _source_of(rendered, " desk") == Span(1, line.index(" desk{%") + 1)
    assert _source_of(rendered, "notify") == Span(1, line.index("notify {%") + 1)
    assert _source_of(rendered, '."') == Span(1, line.index('."') + 1)
    assert _source_of(rendered, "{{ input.patron }}") == Span(1, line.index("{{ input.patron") + 1)


def test_a_computed_value_maps_to_where_its_expression_starts() -> None:
    text = "a: x{{ desk }}y\nb: {{ n * 2 }}\n"
    rendered = _render(text, desk="long-value", n=21)
    for character in range(len("long-value")):
        assert _source_of(rendered, "long-value"[character:]) == Span(1, 5)
    assert _source_of(rendered, "y") == Span(1, 15)
    assert _source_of(rendered, "42") == Span(2, 4)


def test_a_value_with_line_breaks_does_not_move_the_lines_after_it() -> None:
    rendered = _render("a: |\n  {{ v }}\nb: end\n", v="one\ntwo\nthree")
    assert _source_of(rendered, "three") == Span(2, 3)
    assert _source_of(rendered, "b: end") == Span(3, 1)


def test_literal_text_in_a_loop_maps_to_its_own_place_every_time() -> None:
    text = "items:\n{% for i in range(3) %}  - {{ i }}: item\n{% endfor %}tail: 1\n"
    rendered = _render(text)
    for occurrence in range(3):
        assert _source_of(rendered, ": item", occurrence) == Span(2, 35)
        assert _source_of(rendered, "  - ", occurrence) == Span(2, 24)
    assert _source_of(rendered, "tail") == Span(3, 13)


def test_whitespace_control_and_comments_do_not_shift_literal_text() -> None:
    text = "a: 1   {#- note -#}   \n  {%- if true -%}  \n b: 2{# c #}c: 3\n{%- endif %}\nd: 4\n"
    rendered = _render(text)
    assert rendered.text == "a: 1b: 2c: 3\nd: 4\n"
    assert _source_of(rendered, "b: 2") == Span(3, 2)
    assert _source_of(rendered, "c: 3") == Span(3, 13)
    assert _source_of(rendered, "d: 4") == Span(5, 1)


def test_crlf_and_cr_line_breaks_keep_exact_columns() -> None:
    text = "a: {{ v }}\r\nb: {% raw %}{{ x }}{% endraw %} c\rd: 1\r\n"
    rendered = _render(text, v="value")
    assert _source_of(rendered, "{{ x }}") == Span(2, 13)
    assert _source_of(rendered, " c") == Span(2, 32)
    assert _source_of(rendered, "d: 1") == Span(3, 1)


def test_text_an_include_renders_maps_to_the_include_tag() -> None:
    rendered = _render("a: 1\n  {% include 'b.j2' %}\nc: 3\n", files={f"{FOLDER}/b.j2": "b: 2\n"})
    assert _source_of(rendered, "b: 2") == Span(2, 3)
    assert _source_of(rendered, "c: 3") == Span(3, 1)


def test_an_unclosed_block_is_reported_where_it_opens() -> None:
    text = "a: 1\n{% for i in x %}{% if i %}\nb: 2\n{% endfor %}\n"
    # Jinja reads {% endfor %} as closing nothing it knows: that error names its own line.
    assert _fail(text).span.line == 4
    text = "a: 1\n  {% if x %}\n{% for i in x %}b{% endfor %}\n{% set y %}z{% endset %}\nc: 3\n"
    failure = _fail(text)
    assert (failure.code, failure.span) == (codes.TEMPLATE_SYNTAX, Span(2, 3))
    assert "'if'" in failure.message
    assert failure.hint is not None and "line 5" in failure.hint and "{% endif %}" in failure.hint


def test_the_innermost_unclosed_block_is_the_one_reported() -> None:
    text = "{% if a %}\n{% for i in b %}\n  {% set c %}\nx\n{% endif %}\n"
    assert _fail(text).span.line == 5  # endif while the for is open: Jinja names that line
    failure = _fail("{% if a %}\n{% set c = {'k': 1} %}\n{%- for i in b -%}\n  {% set d %}\nx\n")
    assert failure.span == Span(4, 3)
    assert "'set'" in failure.message
    failure = _fail("{% if a %}\n{% set e | trim(chars='=') %}x{% endset %}\n")
    assert failure.span == Span(1, 1)


# Properties: assets built from random lines, each literal piece holding a unique marker
# <Ln> and each expression printing a value made of its own marker ~n~, repeated.

_LINES = st.sampled_from(
    [
        "plain <L{i}>: text",
        "{{% raw %}}<L{i}>{{{{ input.x }}}}{{% endraw %}} after <R{i}>",
        "{{{{ e{i} }}}} <L{i}> {{{{ e{i} }}}}",
        "k: {{% raw %}}{{{{ r }}}}{{% endraw %}}{{{{ e{i} }}}} <L{i}>",
        "{{% if c{i} %}}<L{i}> yes{{% else %}}<R{i}> no{{% endif %}} tail",
        "{{% for j in range(n{i}) %}}<L{i}>{{{{ e{i} }}}} {{% endfor %}}<R{i}>",
        "  {{%- if c{i} -%}}  <L{i}> {{#- note -#}} <R{i}>{{% endif %}}",
        "{{% if c{i} %}}\n<L{i}>: {{% raw %}}{{{{ y }}}}{{% endraw %}}\n{{% endif %}}<R{i}>",
    ]
)


@st.composite
def _assets(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    kinds = draw(st.lists(_LINES, min_size=1, max_size=12))
    breaks = draw(
        st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(kinds), max_size=len(kinds))
    )
    values: dict[str, object] = {}
    text = ""
    for i, (kind, newline) in enumerate(zip(kinds, breaks, strict=True)):
        text += kind.format(i=i).replace("\n", newline) + newline
        length = draw(st.integers(min_value=0, max_value=12))
        values[f"e{i}"] = f"~{i}~" * length + draw(st.sampled_from(["", "\n", "\nx\n"]))
        values[f"c{i}"] = draw(st.booleans())
        values[f"n{i}"] = draw(st.integers(min_value=0, max_value=3))
    return text, values


def _asset_span(text: str, offset: int) -> Span:
    return TextLines(text).span(offset)


@settings(max_examples=150, deadline=None)
@given(_assets())
def test_every_literal_piece_maps_to_where_it_is_written(
    asset: tuple[str, dict[str, object]],
) -> None:
    text, values = asset
    rendered = _render(text, **values)
    lines = TextLines(rendered.text)
    for marker in set(re.findall(r"<[LR]\d+>", text)):
        written = _asset_span(text, text.index(marker))
        for match in re.finditer(re.escape(marker), rendered.text):
            assert rendered.positions.to_asset(lines.span(match.start())) == written, marker
            last = match.end() - 1  # and so does every character of it
            assert rendered.positions.to_asset(lines.span(last)) == Span(
                written.line, written.column + len(marker) - 1
            )


@settings(max_examples=150, deadline=None)
@given(_assets())
def test_every_computed_value_maps_to_its_expression(asset: tuple[str, dict[str, object]]) -> None:
    text, values = asset
    rendered = _render(text, **values)
    lines = TextLines(rendered.text)
    for match in re.finditer(r"~(\d+)~", rendered.text):
        expressions = [
            _asset_span(text, m.start())
            for m in re.finditer(re.escape("{{ e" + match[1] + " }}"), text)
        ]
        assert rendered.positions.to_asset(lines.span(match.start())) in expressions
