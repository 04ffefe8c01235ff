"""ExecProfiles: derived per reachable (agent, tool) pair, clamped, traced and hashed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.bundle.profile import Budget, CircuitBreaker, ExecProfile, profile_id
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests import repos
from tests.conftest import EXAMPLE_REPO
from tests.repos import found, write_repo

PROJECT = repos.PROJECT.replace(
    "prod: {sandbox: gvisor, residency: strict, region: eu-west-1}",
    'prod: {residency: strict, region: eu-west-1, egress: ["*.example.com"]}',
)
assert PROJECT != repos.PROJECT

POLICY = """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: rbac}
spec:
  roles:
    worker:
      allowedTools: [search, notes]
      permissions:
        network.http: ["*.example.com", mcp.example.com]
        fs.tmp: true
  limits: {maxToolTimeout: 20s, maxMemory: 512Mi, maxRetries: 2}
  sandbox: {default: docker, allowProcessIn: [dev]}
"""

SEARCH = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: search}
spec:
  version: 1.0.0
  type: http
  endpoint: https://kb.example.com/search
  permissions:
    network.http: [kb.example.com, api.example.com]
    fs.tmp: true
  timeout: 90s
  resources: {memory: 2Gi, cpu: 250m}
  circuitBreaker: {failureThreshold: 3, resetAfter: 1m}
  cost: {perCall: 0.002}
"""

NOTES = """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: notes}
spec:
  version: 1.0.0
  type: mcp
  mcp: {server: "https://mcp.example.com/sse", tool: notes}
  timeout: 5s
"""

AGENT = """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: researcher}
spec:
  type: llm
  role: worker
  model: {provider: vllm, name: small, temperature: 0.1, maxTokens: 256}
  tools: [search, notes]
  concurrency: 3
  budget: {tokens: 1000, dollars: 2.5, period: day}
  retry: {maxAttempts: 6, backoff: linear, initialDelay: 1s}
"""

WORKFLOW = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: flow}
spec:
  initial_state: think
  final_states: [look]
  states:
    think: {agent: researcher, on_success: look}
    look: {agent: researcher, tool: search}
"""

FILES = {
    "policies/rbac.yaml": POLICY,
    "tools/search.yaml": SEARCH,
    "tools/notes.yaml": NOTES,
    "agents/researcher.yaml": AGENT,
    "workflows/flow.yaml": WORKFLOW,
}


def compile_repo(
    root: Path, files: dict[str, str] | None = None, environment: str | None = None
) -> Validation:
    root.mkdir(parents=True, exist_ok=True)
    write_repo(root, files if files is not None else FILES, project=PROJECT)
    return validate_snapshot(read_folder(root), environment=environment)


@pytest.fixture
def validation(tmp_path: Path) -> Validation:
    result = compile_repo(tmp_path)
    assert found(result.report.diagnostics()) == [
        ("AF612", "agents/researcher.yaml", 10, 20),  # 6 attempts of 256 tokens: cost.py
        ("AF606", "agents/researcher.yaml", 11, 24),
        ("AF604", "tools/search.yaml", 11, 12),
        ("AF605", "tools/search.yaml", 12, 23),
    ]
    return result


def test_ids_name_the_pair() -> None:
    assert profile_id("researcher", "kb-search") == "researcher.kb-search"
    assert profile_id("researcher", None) == "researcher"


def test_an_llm_step_without_a_tool_reaches_every_tool_its_agent_lists(
    validation: Validation,
) -> None:
    assert sorted(validation.profiles) == ["researcher", "researcher.notes", "researcher.search"]


def test_values_are_clamped_to_the_strictest_limits(validation: Validation) -> None:
    search = validation.profiles["researcher.search"]
    assert search.timeout_ms == 20_000  # 90s declared, maxToolTimeout 20s
    assert search.memory_bytes == 512 * 2**20  # 2Gi declared, maxMemory 512Mi
    assert search.cpu_millis == 250
    assert search.retry.max_attempts == 3  # 6 declared, maxRetries 2
    assert search.circuit_breaker == CircuitBreaker(failure_threshold=3, reset_after_ms=60_000)
    assert search.cost_per_call == 0.002
    assert search.budget == Budget(tokens=1000, dollars=2.5, period="day")
    assert search.concurrency == 3


def test_permissions_are_the_granted_needs_and_mcp_tools_reach_their_server(
    validation: Validation,
) -> None:
    search = validation.profiles["researcher.search"]
    assert dict(search.permissions) == {
        "fs.tmp": True,
        "network.http": ("api.example.com", "kb.example.com"),
    }
    assert search.domains == ("api.example.com", "kb.example.com")
    notes = validation.profiles["researcher.notes"]
    assert dict(notes.permissions) == {"network.http": ("mcp.example.com",)}
    own = validation.profiles["researcher"]
    assert own.permissions == () and own.domains == ()


def test_every_field_names_where_it_came_from(validation: Validation) -> None:
    document = validation.profiles["researcher.search"].to_json()
    provenance = document["provenance"]
    timeout = provenance["timeoutMs"]
    assert timeout[0] == {
        "from": "tool",
        "field": "spec.timeout",
        "resource": "Tool/search",
        "file": "tools/search.yaml",
        "line": 11,
    }
    assert timeout[1]["from"] == "policy" and timeout[1]["note"] == "clamped to 20s"
    assert timeout[1]["file"] == "policies/rbac.yaml" and timeout[1]["line"] == 11
    assert [o["from"] for o in provenance["permissions.network.http"]] == ["tool", "role"]
    assert provenance["sandbox"] == [
        {
            "from": "policy",
            "field": "spec.sandbox.default",
            "resource": "Policy/rbac",
            "file": "policies/rbac.yaml",
            "line": 12,
        }
    ]
    own = validation.profiles["researcher"].to_json()
    assert own["timeoutMs"] == 20_000  # the 30s default, clamped too
    assert own["provenance"]["timeoutMs"][0] == {"from": "default", "field": "timeout 30s"}
    assert own["provenance"]["timeoutMs"][1]["from"] == "policy"


def test_sandbox_follows_the_environment_then_the_policy(tmp_path: Path) -> None:
    assert _profile(compile_repo(tmp_path / "none")).sandbox == "docker"
    assert _profile(compile_repo(tmp_path / "dev", environment="dev")).sandbox == "process"
    prod = compile_repo(tmp_path / "prod", environment="prod")
    assert _profile(prod).sandbox == "docker"  # prod names no sandbox: the policy default
    assert _profile(prod).residency.mode == "strict"
    assert _profile(prod).residency.egress_allow_list == ("*.example.com",)


def test_the_hash_ignores_provenance_but_not_meaning(tmp_path: Path) -> None:
    base = _profile(compile_repo(tmp_path / "base"))
    cosmetic = dict(FILES)
    cosmetic["tools/search.yaml"] = "# moved lines about\n\n" + SEARCH.replace(
        "  version: 1.0.0\n", "  description: searches\n  version: 1.0.0\n"
    )
    moved = _profile(compile_repo(tmp_path / "cosmetic", cosmetic))
    assert moved.to_json()["provenance"] != base.to_json()["provenance"]
    assert moved.hash == base.hash
    semantic = dict(FILES)
    semantic["tools/search.yaml"] = SEARCH.replace("failureThreshold: 3", "failureThreshold: 4")
    assert _profile(compile_repo(tmp_path / "semantic", semantic)).hash != base.hash


def test_profiles_are_canonical_json(validation: Validation) -> None:
    for profile in validation.profiles.values():
        document = profile.to_json()
        assert json.loads(json.dumps(document)) == document
        assert document["hash"].startswith("sha256:") and len(document["hash"]) == 71
        assert document["id"] == profile.id


def test_the_example_repository_profiles(tmp_path: Path) -> None:
    validation = validate_snapshot(read_folder(EXAMPLE_REPO), environment="prod")
    assert not validation.report.diagnostics()
    for profile in validation.profiles.values():
        assert profile.sandbox == "gvisor"
        assert profile.timeout_ms <= 60_000
        assert profile.residency.mode == "strict"
    kb = validation.profiles["researcher.kb-search"]
    assert kb.domains == ("kb.internal.example.com",)


def _profile(validation: Validation) -> ExecProfile:
    return validation.profiles["researcher.search"]
