"""Version ranges, npm style (``>=0.1 <1.0``, ``^1.2``, ``1.x``), through node-semver.

The same library decides which compilers a Project admits, which template version an instance
gets and which policy-pack version a Project selects.
"""

from __future__ import annotations


def parse_range(text: str) -> object | None:
    """The node-semver range for ``text``, or ``None`` when it is not a valid range."""
    import nodesemver

    try:
        range_: object = nodesemver.make_range(text, loose=False)
        return range_
    except (ValueError, TypeError):
        return None


def admits(range_text: str, version: str) -> bool:
    import nodesemver

    return bool(nodesemver.satisfies(version, range_text, loose=False))
