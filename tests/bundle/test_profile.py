"""ExecProfiles read back typed: the bundle's profile files round-trip, and edits are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.bundle.canonical import canonical_json
from agentflow.bundle.profile import ProfileFormatError, profile_from_json
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO, FIXTURES

REPOS = [EXAMPLE_REPO, FIXTURES / "independent-safety" / "clean"]


@pytest.mark.parametrize("root", REPOS, ids=lambda p: p.name)
@pytest.mark.parametrize("environment", [None, "prod"])
def test_every_profile_reads_back_as_it_was_written(root: Path, environment: str | None) -> None:
    validation = validate_snapshot(read_folder(root), environment=environment)
    assert validation.profiles
    for profile in validation.profiles.values():
        written = json.loads(canonical_json(profile.to_json()))
        read = profile_from_json(written)
        assert read == profile
        assert read.provenance == profile.provenance
        assert canonical_json(read.to_json()) == canonical_json(written)


def _written() -> dict[str, object]:
    validation = validate_snapshot(read_folder(EXAMPLE_REPO))
    profile = next(p for p in validation.profiles.values() if p.tool is not None)
    document: dict[str, object] = json.loads(canonical_json(profile.to_json()))
    return document


def test_an_edited_profile_no_longer_matches_its_hash() -> None:
    document = _written()
    document["timeoutMs"] = 10**9
    with pytest.raises(ProfileFormatError, match="does not match its hash"):
        profile_from_json(document)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeoutMs", "30000"),
        ("timeoutMs", True),
        ("sandbox", "none"),
        ("permissions", "x"),
        ("retry", {"maxAttempts": 1}),
        ("residency", None),
        ("agent", 7),
    ],
)
def test_a_profile_of_the_wrong_shape_is_refused_in_one_line(field: str, value: object) -> None:
    document = _written()
    document[field] = value
    with pytest.raises(ProfileFormatError) as raised:
        profile_from_json(document)
    assert "\n" not in str(raised.value)


def test_a_missing_field_is_refused() -> None:
    document = _written()
    del document["memoryBytes"]
    with pytest.raises(ProfileFormatError, match="malformed"):
        profile_from_json(document)
