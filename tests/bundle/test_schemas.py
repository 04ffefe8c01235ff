"""Every file of every golden bundle validates against its published schema, as installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.bundle.validation import kind_of, schema, schema_errors
from tests.conftest import ROOT

GOLDEN_BUNDLES = sorted((ROOT / "tests" / "golden").glob("bundle-*/expected"))


def test_the_installed_schemas_are_the_published_ones() -> None:
    for kind in ("bundle", "plan", "profile"):
        published = json.loads((ROOT / "schemas" / f"{kind}.schema.json").read_text())
        assert schema(kind) == published


@pytest.mark.parametrize("expected", GOLDEN_BUNDLES, ids=lambda p: p.parent.name)
def test_every_file_of_a_golden_bundle_matches_its_schema(expected: Path) -> None:
    files = sorted(p for p in expected.rglob("*.json"))
    assert any(p.name == "bundle.json" for p in files)
    for path in files:
        relative = path.relative_to(expected).as_posix()
        kind = kind_of(relative)
        assert kind is not None, relative
        assert schema_errors(kind, json.loads(path.read_text())) == [], relative


def test_a_wrong_shape_is_named_where_it_is() -> None:
    assert schema_errors("profile", {"timeoutMs": "1"})[0].startswith("(top): ")
    expected = GOLDEN_BUNDLES[0]
    profile = json.loads(next((expected / "profiles").glob("*.json")).read_text())
    profile["retry"]["maxAttempts"] = 0
    assert schema_errors("profile", profile) == [
        "retry.maxAttempts: 0 is less than the minimum of 1"
    ]
