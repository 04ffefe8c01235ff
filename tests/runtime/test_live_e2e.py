"""No stubs: `af run` against real servers on loopback (an OpenAI-compatible model server, an
HTTP tool, an MCP server), taking the path its conditions dictate; secrets reach the servers
and nothing else."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import run_af
from tests.runtime.fakes.mcp_server import FakeMcpServer, serve_mcp
from tests.runtime.fakes.openai_server import FakeOpenAI, Reply, serve_openai
from tests.runtime.fakes.tool_server import ToolServer

LLM_KEY = "sk-planted-llm-key-5c1d"
KB_TOKEN = "planted-kb-token-9e07"
ARTICLES = {"items": [{"title": "Reset your password"}], "confidence": 0.9}

REPO = {
    "af.yaml": """\
apiVersion: agentflow.dev/v1
kind: Project
metadata: {name: live}
spec:
  version: 0.1.0
  afVersion: ">=0.1 <1.0"
  environments:
    dev:
      sandbox: process
      residency: "off"
      providers:
        local: {baseUrl: "{openai}", apiKey: {secretRef: llm-key}}
""",
    "policies/rbac.yaml": """\
apiVersion: agentflow.dev/v1
kind: Policy
metadata: {name: rbac}
spec:
  roles:
    helpdesk:
      allowedTools: [kb-search, ticket]
      permissions: {network.http: [127.0.0.1]}
  sandbox: {default: gvisor, allowProcessIn: [dev]}
""",
    "tools/kb-search.yaml": """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: kb-search}
spec:
  version: 1.0.0
  type: http
  endpoint: "{kb}"
  headers: {Authorization: {secretRef: kb-token}}
  inputSchema: {type: object, properties: {query: {type: string}}, required: [query]}
  outputSchema:
    type: object
    properties: {items: {type: array}, confidence: {type: number}}
    required: [items]
  permissions: {network.http: [127.0.0.1]}
  timeout: 5s
""",
    "tools/ticket.yaml": """\
apiVersion: agentflow.dev/v1
kind: Tool
metadata: {name: ticket}
spec:
  version: 1.0.0
  type: mcp
  mcp: {server: "{mcp}", tool: echo}
  outputSchema: {type: object}
  timeout: 10s
""",
    "agents/classifier.yaml": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: classifier}
spec: {type: llm, model: {provider: local, name: small, maxTokens: 64}}
""",
    "agents/writer.yaml": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: writer}
spec: {type: llm, model: {provider: local, name: small, maxTokens: 256}}
""",
    "agents/researcher.yaml": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: researcher}
spec: {type: tool, role: helpdesk, tools: [kb-search]}
""",
    "agents/notifier.yaml": """\
apiVersion: agentflow.dev/v1
kind: Agent
metadata: {name: notifier}
spec: {type: tool, role: helpdesk, tools: [ticket]}
""",
    "workflows/triage.yaml": """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: triage}
spec:
  input: {schema: {type: object, properties: {ticket: {type: string}}, required: [ticket]}}
  initial_state: classify
  final_states: [notify, escalate]
  states:
    classify:
      agent: classifier
      prompt: "Classify: {{ input.ticket }}"
      output:
        schema:
          type: object
          properties: {intent: {type: string}, confidence: {type: number}}
          required: [intent, confidence]
      transitions:
        - {condition: "output.intent == 'question' && output.confidence >= 0.8", target: search}
        - target: escalate
    search:
      agent: researcher
      tool: kb-search
      input: {query: "{{ input.ticket }}"}
      on_success: answer
    answer:
      agent: writer
      prompt: "Answer {{ input.ticket }} from {{ output.items }}"
      output: {schema: {type: object, properties: {body: {type: string}}, required: [body]}}
      on_success: notify
    notify:
      agent: notifier
      tool: ticket
      input: {summary: "{{ output.body }}"}
    escalate:
      agent: notifier
      tool: ticket
      input: {summary: "needs a person: {{ input.ticket }}"}
""",
}


@dataclass
class Servers:
    openai: FakeOpenAI
    kb: ToolServer
    mcp: FakeMcpServer


@pytest.fixture
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    replies: tuple[Reply, ...] = request.param
    with serve_openai(*replies) as openai, ToolServer() as kb, serve_mcp() as mcp:
        yield Servers(openai, kb, mcp)


def _repo(root: Path, servers: Servers) -> Path:
    urls = {
        "{openai}": servers.openai.base_url,
        "{kb}": servers.kb.url("/json?value=" + quote(json.dumps(ARTICLES))),
        "{mcp}": servers.mcp.url,
    }
    for name, text in REPO.items():
        for marker, url in urls.items():
            text = text.replace(marker, url)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _run(tmp_path: Path, servers: Servers) -> tuple[dict[str, object], str]:
    repo = _repo(tmp_path / "repo", servers)
    env = {
        "AF_DATA_DIR": str(tmp_path / "data"),
        "AF_SECRET_LLM_KEY": LLM_KEY,
        "AF_SECRET_KB_TOKEN": KB_TOKEN,
    }
    ticket = json.dumps({"ticket": "How do I reset my password?"})
    ran = run_af(
        "run", "triage", repo, "--env", "dev", "--input", ticket, "--format", "json", env=env
    )
    assert "Traceback" not in ran.stderr
    run = json.loads(ran.stdout)["run"] if ran.stdout.startswith("{") else {}
    assert run, ran.stdout + ran.stderr
    return run, ran.stdout + ran.stderr


CONFIDENT = (
    Reply(content=json.dumps({"intent": "question", "confidence": 0.93})),
    Reply(content=json.dumps({"body": "Open Settings > Security."})),
)
UNSURE = (Reply(content=json.dumps({"intent": "question", "confidence": 0.3})),)


@pytest.mark.loopback
@pytest.mark.parametrize("servers", [CONFIDENT], indirect=True)
def test_a_live_run_takes_the_path_its_conditions_dictate(tmp_path: Path, servers: Servers) -> None:
    run, printed = _run(tmp_path, servers)
    assert run["status"] == "succeeded", printed
    assert [s["state"] for s in run["steps"]] == ["classify", "search", "answer", "notify"]  # type: ignore[index]
    # the model server got the key, the step's schema and the interpolated prompt
    first = servers.openai.requests[0]
    assert first.headers["authorization"] == f"Bearer {LLM_KEY}"
    assert first.body["response_format"]["json_schema"]["schema"]["required"] == [
        "intent",
        "confidence",
    ]
    assert "How do I reset my password?" in json.dumps(first.body["messages"])
    # the HTTP tool: one call, with its secret header and the attempt's idempotency key
    (call,) = servers.kb.requests
    assert call.headers["authorization"] == KB_TOKEN
    run_id = str(run["id"])
    assert dict(servers.kb.calls_by_key) == {f"{run_id}:2:1": 1}
    assert json.loads(call.body) == {"query": "How do I reset my password?"}
    # the MCP tool was called over streamable HTTP with the answer the model wrote
    (mcp_call,) = servers.mcp.calls
    assert mcp_call.arguments == {"summary": "Open Settings > Security."}
    assert mcp_call.headers["idempotency-key"] == f"{run_id}:4:1"
    assert run["output"] == {"echo": {"summary": "Open Settings > Security."}}
    # no secret value in anything the runtime printed or stored
    database = (tmp_path / "data" / "runtime.db").read_bytes()
    wal = tmp_path / "data" / "runtime.db-wal"
    stored = database + (wal.read_bytes() if wal.exists() else b"")
    for secret in (LLM_KEY, KB_TOKEN):
        assert secret not in printed
        assert secret.encode() not in stored
    with sqlite3.connect(tmp_path / "data" / "runtime.db") as db:
        kinds = [
            k for (k,) in db.execute("SELECT kind FROM audit WHERE chain != 'global' ORDER BY seq")
        ]
    assert kinds.count("tool.call") == 2  # the HTTP and the MCP call, each audited


@pytest.mark.loopback
@pytest.mark.parametrize("servers", [UNSURE], indirect=True)
def test_an_unsure_classification_escalates_without_searching(
    tmp_path: Path, servers: Servers
) -> None:
    run, printed = _run(tmp_path, servers)
    assert run["status"] == "succeeded", printed
    assert [s["state"] for s in run["steps"]] == ["classify", "escalate"]  # type: ignore[index]
    assert servers.kb.requests == []
    (mcp_call,) = servers.mcp.calls
    assert mcp_call.arguments == {"summary": "needs a person: How do I reset my password?"}
