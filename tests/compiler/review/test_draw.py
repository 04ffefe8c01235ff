"""Pictures of plans: labels escaped for Mermaid and dot (`af graph` is tested in tests/cli)."""

from __future__ import annotations

import pytest

from agentflow.compiler.review.draw import dot_text, mermaid_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a "b" c', "a #quot;b#quot; c"),
        ("x | y", "x #124; y"),
        ("a < b > c", "a #lt; b #gt; c"),
        ("#1 & #2", "#35;1 #amp; #35;2"),
        ("`md`", "#96;md#96;"),
        ("one\ntwo\r\nthree", "one<br>two<br>three"),
    ],
)
def test_mermaid_escaping(text: str, expected: str) -> None:
    assert mermaid_text(text) == expected


def test_dot_escaping() -> None:
    assert dot_text('say "hi" \\ \nnext') == 'say \\"hi\\" \\\\ \\nnext'
