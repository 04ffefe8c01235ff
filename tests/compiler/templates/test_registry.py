"""Templates (AF7xx): resolution, parameters, the sandbox and positions in rendered output.

tests/fixtures/cases/templates-* pin each code's position; these tests cover what a marker
cannot: which version was chosen, what a secret renders as, files that cannot live in git
fixtures (symbolic links, bad bytes), and properties of rendering.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.compiler.diagnostics.positions import Span
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.snapshot import read_folder
from agentflow.compiler.templates.render import Rendered, render_asset
from tests.conftest import EXAMPLE_REPO, FIXTURES, run_af
from tests.repos import AGENT, found, validate, write_repo

CASES = FIXTURES / "cases"
TEMPLATE = """\
apiVersion: agentflow.dev/v1
kind: Template
metadata: {name: flow}
spec:
  version: 1.0.0
  parameters: [{name: name, type: string, required: true}]
  assets: ["*.yaml.j2"]
"""
ASSET = """\
apiVersion: agentflow.dev/v1
kind: Workflow
metadata: {name: {{ name }}}
spec:
  timeout: 1m
  initial_state: only
  final_states: [only]
  states:
    only: {agent: writer}
"""
INSTANCE = """\
apiVersion: agentflow.dev/v1
kind: TemplateInstance
metadata: {name: use}
spec:
  template: flow
  version: "^1"
  parameters: {name: used}
"""


def _repo(root: Path, **assets: str | bytes) -> Path:
    files: dict[str, str | bytes] = {
        "agents/writer.yaml": AGENT,
        "templates/flow/1.0.0/template.yaml": TEMPLATE,
        "workflows/use.yaml": INSTANCE,
    }
    files.update({f"templates/flow/1.0.0/{name}": text for name, text in assets.items()})
    return write_repo(root, files)


def test_example_renders_two_majors_side_by_side() -> None:
    validation = validate_snapshot(read_folder(EXAMPLE_REPO))
    assert validation.report.diagnostics() == []
    uses = {(u.instance, u.template, u.version, u.resources) for u in validation.templates}
    assert uses == {
        ("eu-support", "support-flow", "1.2.3", (("Workflow", "eu-support"),)),
        ("us-support", "support-flow", "2.0.0", (("Workflow", "us-support"),)),
    }
    us = validation.index.get("Workflow", "us-support")
    assert us is not None and us.doc.origin == "workflows/us-support.yaml"
    # 2.x added the lookup_customer state; 1.x has none.
    assert "lookup_customer" in us.doc.data["spec"]["states"]
    eu = validation.index.get("Workflow", "eu-support")
    assert eu is not None and "lookup_customer" not in eu.doc.data["spec"]["states"]


def test_highest_compatible_version_wins_and_prereleases_need_asking() -> None:
    validation = validate_snapshot(read_folder(CASES / "templates-parameters"))
    chosen = {u.instance: u.version for u in validation.templates}
    assert chosen == {"good": "1.0.0", "beta": "2.0.0-beta.1"}


def test_a_secret_renders_as_a_reference_and_a_literal_is_never_echoed() -> None:
    validation = validate_snapshot(read_folder(CASES / "templates-parameters"))
    good = validation.index.get("Workflow", "good-flow")
    assert good is not None
    assert good.doc.data["spec"]["states"]["only"]["input"] == {
        "threshold": 1,
        "token": {"secretRef": "flow/token"},
    }
    result = run_af("validate", CASES / "templates-parameters", "--format", "json")
    assert result.returncode == 1
    assert "hunter2" not in result.stdout + result.stderr


def test_diagnostics_in_rendered_output_name_the_instance() -> None:
    result = run_af("validate", CASES / "templates-rendering", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    by_code = {d["code"]: d for d in result.json()["diagnostics"]}
    assert by_code["AF301"]["file"] == "templates/checked/1.0.0/flow.yaml.j2"
    assert by_code["AF301"]["origin"] == "workflows/use-checked.yaml"
    text = run_af("validate", CASES / "templates-rendering").stdout
    assert (
        "templates/checked/1.0.0/flow.yaml.j2:10:14 (rendered for workflows/use-checked.yaml): "
        "error[AF301] agent 'checked-flow-agent' is not defined"
    ) in text


def test_two_instances_of_one_template_report_once_each(tmp_path: Path) -> None:
    repo = _repo(tmp_path, **{"flow.yaml.j2": ASSET.replace("writer}", "nobody}")})
    (repo / "workflows" / "other.yaml").write_text(
        INSTANCE.replace("name: use}", "name: other}").replace("name: used", "name: other")
    )
    diagnostics = validate(repo)
    assert [(d.code, d.file, d.line, d.origin) for d in diagnostics] == [
        ("AF301", "templates/flow/1.0.0/flow.yaml.j2", 9, "workflows/other.yaml"),
        ("AF301", "templates/flow/1.0.0/flow.yaml.j2", 9, "workflows/use.yaml"),
    ]


def test_symbolic_link_out_of_the_template_folder_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "shared.yaml.j2").write_text(ASSET)
    os.symlink(repo / "shared.yaml.j2", repo / "templates/flow/1.0.0/flow.yaml.j2")
    assert found(validate(repo)) == [("AF710", "templates/flow/1.0.0/flow.yaml.j2", 1, 1)]


def test_symbolic_link_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml.j2"
    outside.write_text(ASSET)
    (tmp_path / "repo").mkdir()
    repo = _repo(tmp_path / "repo")
    os.symlink(outside, repo / "templates/flow/1.0.0/flow.yaml.j2")
    assert found(validate(repo)) == [("AF710", "templates/flow/1.0.0/flow.yaml.j2", 1, 1)]


def test_symbolic_link_inside_the_folder_is_fine(tmp_path: Path) -> None:
    repo = _repo(tmp_path, **{"base.j2": ASSET})
    os.symlink("base.j2", repo / "templates/flow/1.0.0/flow.yaml.j2")
    assert validate(repo) == []


def test_non_utf8_asset_is_reported_at_its_bad_byte(tmp_path: Path) -> None:
    repo = _repo(tmp_path, **{"flow.yaml.j2": ASSET.encode().replace(b"1m", b"1\xffm")})
    assert found(validate(repo)) == [("AF106", "templates/flow/1.0.0/flow.yaml.j2", 5, 13)]


def test_include_of_a_file_in_the_folder_works(tmp_path: Path) -> None:
    head, _, tail = ASSET.partition("  states:\n")
    repo = _repo(
        tmp_path,
        **{"flow.yaml.j2": head + "{% include 'states.j2' %}", "states.j2": "  states:\n" + tail},
    )
    assert validate(repo) == []


def test_an_asset_may_render_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path, **{"flow.yaml.j2": "{% if false %}" + ASSET + "{% endif %}"})
    validation = validate_snapshot(read_folder(repo))
    assert validation.report.diagnostics() == []
    assert [u.resources for u in validation.templates] == [()]


def _render(text: str, **values: object) -> Rendered:
    folder = "templates/t/1.0.0"
    result = render_asset(folder, {f"{folder}/a.j2": text}, f"{folder}/a.j2", values)
    assert isinstance(result, Rendered), result
    return result


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_rendering_is_deterministic(value: str) -> None:
    text = EXAMPLE_REPO.joinpath("templates/support-flow/2.0.0/workflow.yaml.j2").read_text()
    values = {"desk": value, "kb_domain": value, "confidence_threshold": 0.5, "tier": "basic"}
    assert _render(text, **values).text == _render(text, **values).text


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["plain: text", "x: {{ v }}", "{% raw %}{{ r }}{% endraw %}"]),
        min_size=1,
        max_size=12,
    ),
    st.text(alphabet="abc\n", max_size=5),
)
def test_literal_text_maps_to_its_own_line(lines: list[str], value: str) -> None:
    """Every rendered line that starts with literal text maps to the asset line it came from."""
    text = "\n".join(lines) + "\n"
    rendered = _render(text, v=value.replace("\n", " "))
    for number, line in enumerate(rendered.text.splitlines(), start=1):
        source = rendered.positions.to_asset(Span(number, 1))
        assert text.splitlines()[source.line - 1][:2] == line[:2] or line.startswith("{{")
