"""A bundle's tools read back typed (`BundleView.tools`), checked against the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from agentflow.bundle.canonical import canonical_json, sha256_digest
from agentflow.bundle.manifest import BundleReadError
from agentflow.bundle.read import folder_files, view_of
from agentflow.bundle.validation import kind_of, schema, schema_errors
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "bundle-example" / "expected"


def _golden_files() -> dict[str, bytes]:
    """The golden bundle as built: its pretty-printed files made canonical again."""
    return {path: canonical_json(json.loads(data)) for path, data in folder_files(GOLDEN).items()}


def _resealed(files: dict[str, bytes], manifest: dict[str, Any]) -> dict[str, bytes]:
    """``files`` under a manifest whose file hashes and digest are made right again."""
    manifest["files"] = {
        p: sha256_digest(d) for p, d in sorted(files.items()) if p != "bundle.json"
    }
    body = {k: v for k, v in manifest.items() if k != "digest"}
    manifest["digest"] = sha256_digest(canonical_json(body))
    return {**files, "bundle.json": canonical_json(manifest)}


def test_the_tools_a_bundle_lists_read_back_typed() -> None:
    view = view_of(_golden_files(), "golden")
    assert sorted(view.tools) == [t["name"] for t in view.manifest["tools"]]
    refund = view.tools["refund-issue"]
    assert refund.endpoint == "https://payments.internal.example.com/v1/refunds"
    assert dict(refund.headers)["X-Desk"] == "support"


def test_the_tool_schema_ships_with_the_bundle_package() -> None:
    published = json.loads((ROOT / "schemas" / "bundle-tool.schema.json").read_text())
    assert schema("tool") == published
    assert kind_of("tools/kb-search.json") == "tool"
    tool = json.loads((GOLDEN / "tools" / "kb-search.json").read_text())
    assert schema_errors("tool", tool) == []
    tool["headers"] = {"Authorization": {"secretRef": "kb", "value": "s3cret"}}
    assert schema_errors("tool", tool)[0].startswith("headers.Authorization: ")


def _wrong_name(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    manifest["tools"][0]["name"] = "someone-else"


def _wrong_shape(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    path = manifest["tools"][0]["path"]
    tool = json.loads(files[path])
    tool["headers"] = {"Authorization": 7}
    files[path] = canonical_json(tool)


def _no_tools(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    for entry in manifest.pop("tools"):
        del files[entry["path"]]


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_wrong_name, "does not hold tool 'someone-else'"),
        (_wrong_shape, "is malformed"),
        (_no_tools, "lists no tools"),
    ],
    ids=["wrong-name", "wrong-shape", "no-tools"],
)
def test_a_tool_of_the_wrong_shape_is_refused_in_one_line(
    damage: Callable[[dict[str, bytes], dict[str, Any]], None], said: str
) -> None:
    files = _golden_files()
    manifest = json.loads(files["bundle.json"])
    damage(files, manifest)
    with pytest.raises(BundleReadError) as raised:
        view_of(_resealed(files, manifest), "golden")
    assert said in str(raised.value) and "\n" not in str(raised.value)
