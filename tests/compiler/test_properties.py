"""Properties (Hypothesis): whatever is in a repository, `af validate` answers with diagnostics.

Random bytes, random YAML and random near-resources never make the pipeline raise, every
diagnostic points at a real place (line and column >= 1), and the real `af` exits 0, 1 or 2
without a traceback.

The three soak runs (random repositories of several resources, mutated copies of examples/repo,
a real `af` per example) take several seconds each and are marked ``slow``: deselected by default,
run by ``pytest -m slow`` and by CI (.ci/run).
"""

from __future__ import annotations

import copy
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow.compiler.diagnostics.report import Diagnostic, Report
from agentflow.compiler.load.yaml import KINDS, load_document
from agentflow.compiler.source.snapshot import SourceFile
from tests.conftest import EXAMPLE_REPO, run_af
from tests.repos import PROJECT, validate, write_repo

IN_PROCESS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHOLE_REPOSITORY = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
"""Each example validates all of examples/repo: fewer of them keep the suite fast."""
SUBPROCESS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Field names from the source format, so random documents reach deep into the schema.
FIELDS = (
    "apiVersion kind metadata name labels spec version afVersion environments residency sandbox "
    "type endpoint mcp server tool entrypoint inputSchema outputSchema permissions network.http "
    "fs.tmp fs.read k8s.get timeout resources memory cpu cost perCall role model provider "
    "temperature maxTokens tools concurrency budget retry maxAttempts backoff planner "
    "initial_state final_states states agent prompt input output schema transitions condition "
    "target on_success on_error root sequence selector parallel children action "
    "conditional_selector when do llm maxSteps allowedDecisions fallback roles allowedTools "
    "limits maxToolTimeout rules match kinds expr message severity template parameters "
    "compatibility assets properties required $schema"
).split()
WORDS = (
    "llm http mcp python fsm bt llm fsm all_success kb-search writer 10s 5m 256Mi 500m 1.0.0 "
    ">=0.1 <1.0 ^1.2 off yes true object string dev prod gvisor process strict"
).split()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)
near_resources = st.fixed_dictionaries(
    {"apiVersion": st.just("agentflow.dev/v1"), "kind": st.sampled_from(KINDS)},
    optional={
        "metadata": st.one_of(
            st.fixed_dictionaries({"name": st.sampled_from(WORDS) | st.text(max_size=10)}),
            values,
        ),
        "spec": st.dictionaries(keys, values, max_size=8),
    },
)
documents = st.one_of(values, near_resources)

EXAMPLE = {
    path.relative_to(EXAMPLE_REPO).as_posix(): yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted(EXAMPLE_REPO.rglob("*.yaml"))
}


@st.composite
def mutated_examples(draw: st.DrawFn) -> dict[str, str | bytes]:
    """examples/repo with a few values replaced, keys dropped or renamed: valid until it isn't."""
    files = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        node: Any = files[draw(st.sampled_from(sorted(files)))]
        parent: Any = None
        key: Any = None
        while isinstance(node, dict | list) and node and (parent is None or draw(st.booleans())):
            parent = node
            key = draw(
                st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node)))
            )
            node = node[key]
        if parent is None:
            continue
        action = draw(st.sampled_from(["replace", "drop", "rename"]))
        if action == "replace":
            parent[key] = draw(values)
        elif action == "drop":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(key)
    return {path: yaml.safe_dump(doc, sort_keys=False) for path, doc in files.items()}


def assert_well_placed(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert d.line >= 1 and d.column >= 1, d
        assert d.code.startswith("AF") and d.message, d


def validate_files(files: dict[str, str | bytes]) -> list[Diagnostic]:
    with tempfile.TemporaryDirectory() as folder:
        return validate(write_repo(Path(folder), files))


@IN_PROCESS
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert_well_placed(validate_files({"agents/random.yaml": data}))


@IN_PROCESS
@given(st.text(alphabet=string.printable + "\u00e9\u2603\ufeff\x00", max_size=400))
def test_random_text_never_raises(text: str) -> None:
    report = Report()
    load_document(SourceFile("tools/random.yaml", text.encode()), report)
    assert_well_placed(report.diagnostics())


@IN_PROCESS
@given(documents)
def test_random_yaml_documents_never_raise(document: Any) -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    assert_well_placed(validate_files({"workflows/random.yaml": text}))


@pytest.mark.slow
@IN_PROCESS
@given(st.lists(near_resources, min_size=1, max_size=6))
def test_random_repositories_never_raise(resources: list[Any]) -> None:
    files: dict[str, str | bytes] = {
        f"res/r{i}.yaml": yaml.safe_dump(r, sort_keys=False) for i, r in enumerate(resources)
    }
    assert_well_placed(validate_files(files))


@pytest.mark.slow
@WHOLE_REPOSITORY
@given(mutated_examples())
def test_mutated_example_repositories_never_raise(files: dict[str, str | bytes]) -> None:
    assert_well_placed(validate_files(files))


@pytest.mark.slow
@SUBPROCESS
@given(
    st.lists(documents, min_size=1, max_size=4),
    st.binary(max_size=200),
    st.sampled_from(["text", "json", "github", "sarif"]),
    st.booleans(),
)
def test_af_exits_0_1_or_2_without_a_traceback(
    resources: list[Any], junk: bytes, output: str, strict: bool
) -> None:
    files: dict[str, str | bytes] = {
        f"agents/r{i}.yaml": yaml.safe_dump(r, sort_keys=False) for i, r in enumerate(resources)
    }
    files["tools/junk.yaml"] = junk
    with tempfile.TemporaryDirectory() as folder:
        repo = write_repo(Path(folder), files, project=PROJECT)
        flags = ["--strict"] if strict else []
        result = run_af("validate", repo, "--format", output, *flags)
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
