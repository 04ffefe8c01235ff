"""Every file of every golden bundle validates against its published schema (schemas/)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT

GOLDEN_BUNDLES = sorted((ROOT / "tests" / "golden").glob("bundle-*/expected"))
SCHEMAS = {
    kind: jsonschema.Draft7Validator(
        json.loads((ROOT / "schemas" / f"{kind}.schema.json").read_text())
    )
    for kind in ("bundle", "plan", "profile")
}


def _kind(relative: str) -> str:
    return "bundle" if relative == "bundle.json" else relative.split("/")[0].rstrip("s")


@pytest.mark.parametrize("expected", GOLDEN_BUNDLES, ids=lambda p: p.parent.name)
def test_every_file_of_a_golden_bundle_matches_its_schema(expected: Path) -> None:
    files = sorted(p for p in expected.rglob("*.json"))
    assert any(p.name == "bundle.json" for p in files)
    for path in files:
        relative = path.relative_to(expected).as_posix()
        errors = [
            e.message for e in SCHEMAS[_kind(relative)].iter_errors(json.loads(path.read_text()))
        ]
        assert errors == [], relative
