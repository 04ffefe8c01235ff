"""The built-in policy packs: each version loads, validates and compiles without a diagnostic."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.compiler.cel.conditions import check_conditions
from agentflow.compiler.diagnostics.report import Report
from agentflow.compiler.load.index import build_index
from agentflow.compiler.policy.packs import available_packs, load_pack
from tests.conftest import ROOT
from tests.repos import PROJECT, found, validate, write_repo

PACK_VERSIONS = [(name, v) for name, versions in available_packs().items() for v in versions]


def test_the_packs_installed_are_the_packs_in_the_repository() -> None:
    on_disk = sorted(
        p.parent.relative_to(ROOT / "policies").parts
        for p in (ROOT / "policies").glob("*/*/policy.yaml")
    )
    assert sorted(PACK_VERSIONS) == [tuple(p) for p in on_disk]
    assert ("baseline", "1.0.0") in PACK_VERSIONS


@pytest.mark.parametrize(("name", "version"), PACK_VERSIONS)
def test_every_rule_of_every_pack_compiles(name: str, version: str) -> None:
    pack = load_pack(name, version)
    assert pack.policy.name == f"{name}@{version}"
    assert pack.policy.spec.rules, "a pack without rules"
    report = Report()
    compiled = check_conditions(build_index((), Report()), report, None, [pack.policy])
    assert report.diagnostics() == []
    assert len(compiled) == len(pack.policy.spec.rules)


def test_a_range_picks_the_newest_version_that_fits(tmp_path: Path) -> None:
    project = PROJECT.replace(
        "  environments:\n", '  policyPacks: [baseline@1.x, "baseline@>=2"]\n  environments:\n'
    )
    diagnostics = validate(write_repo(tmp_path, {}, project=project))
    assert found(diagnostics) == [("AF309", "af.yaml", 7, 31)]
    assert "versions: 1.0.0" in (diagnostics[0].hint or "")
