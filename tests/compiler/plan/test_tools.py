"""What a run needs from the compiler beyond plans: how to call each reached tool
(``tools/<name>.json``) and, with ``--env``, where each agent's model provider is reached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from agentflow.bundle.secrets import SecretRef
from agentflow.bundle.tool import tool_from_json
from agentflow.compiler.pipeline import Validation, validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from tests.conftest import EXAMPLE_REPO


def _compiled(root: Path, environment: str | None = None) -> Validation:
    validation = validate_snapshot(read_folder(root), environment=environment)
    assert validation.report.diagnostics() == [], validation.report.diagnostics()
    return validation


def test_every_reached_tool_and_only_those_is_described(tmp_path: Path) -> None:
    example = _compiled(EXAMPLE_REPO)
    reached = {tool for pairs in example.pairs.values() for _, tool in pairs if tool is not None}
    assert set(example.tools) == reached == set(example.index.named("Tool"))
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    for name in ("refund-request.yaml",):
        (tmp_path / "repo" / "workflows" / name).unlink()
    shutil.rmtree(tmp_path / "repo" / "scenarios")
    fewer = _compiled(tmp_path / "repo")
    assert set(fewer.tools) == reached - {"refund-issue"}  # defined, but no plan reaches it


def test_a_tool_says_how_it_is_called_with_secrets_by_reference() -> None:
    tools = _compiled(EXAMPLE_REPO).tools
    refund = tools["refund-issue"]
    assert (refund.type, refund.endpoint, refund.mcp, refund.entrypoint) == (
        "http",
        "https://payments.internal.example.com/v1/refunds",
        None,
        None,
    )
    assert refund.headers == (
        ("Authorization", SecretRef("payments-token")),
        ("X-Desk", "support"),
    )
    document = refund.to_json()
    assert document["headers"] == {
        "Authorization": {"secretRef": "payments-token"},
        "X-Desk": "support",
    }
    assert tool_from_json(json.loads(json.dumps(document))) == refund
    lookup = tools["customer-lookup"]
    assert lookup.mcp is not None and lookup.mcp.server == "https://mcp.internal.example.com"
    assert (lookup.mcp.tool, lookup.endpoint, lookup.headers) == ("lookup", None, ())
    sentiment = tools["sentiment"]
    assert (sentiment.entrypoint, sentiment.headers) == ("supportdesk.tools:sentiment", ())
    assert json.loads(sentiment.output_schema or "null")["required"] == ["label", "score"]


def test_profiles_say_where_the_provider_is_in_the_environment_built_for() -> None:
    without = _compiled(EXAMPLE_REPO).profiles["classifier"].model
    assert without is not None and (without.base_url, without.api_key) == (None, None)
    prod = _compiled(EXAMPLE_REPO, "prod").profiles["classifier"]
    assert prod.model is not None
    assert prod.model.base_url == "https://vllm.eu.internal.example.com/v1"
    assert prod.model.api_key == SecretRef("vllm-key")
    origins = dict(prod.provenance)["model"]
    assert [o.field for o in origins] == ["spec.model", "spec.environments.prod.providers.vllm"]
    dev = _compiled(EXAMPLE_REPO, "dev").profiles["planner"].model
    assert dev is not None and (dev.base_url, dev.api_key) == ("http://127.0.0.1:8089/v1", None)
    assert _compiled(EXAMPLE_REPO, "dev").profiles["notifier.send-email"].model is None


def test_a_provider_no_environment_names_leaves_the_model_without_an_endpoint(
    tmp_path: Path,
) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / "repo")
    agent = tmp_path / "repo" / "agents" / "writer.yaml"
    agent.write_text(agent.read_text().replace("provider: vllm", "provider: tgi"))
    model = _compiled(tmp_path / "repo", "prod").profiles["writer"].model
    assert model is not None and (model.provider, model.base_url, model.api_key) == (
        "tgi",
        None,
        None,
    )
