"""`--rev`: a commit read straight from git's object store, in real repositories made by `git`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from agentflow.compiler.diagnostics.report import UsageError
from agentflow.compiler.pipeline import validate_snapshot
from agentflow.compiler.source.git import read_revision
from agentflow.compiler.source.provenance import NOT_IN_GIT, folder_provenance
from agentflow.compiler.source.read import read_source
from agentflow.compiler.source.snapshot import MAX_FILE_BYTES, read_folder
from tests.conftest import EXAMPLE_REPO, run_af
from tests.repos import AGENT, found, write_repo

COMMIT_TIME = 1_700_000_000
BROKEN_AGENT = AGENT.replace("type: llm", "type: robot")


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with no user or system configuration and fixed identities."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_AUTHOR_DATE": f"@{COMMIT_TIME} +0000",
        "GIT_COMMITTER_DATE": f"@{COMMIT_TIME} +0000",
    }
    completed = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def commit_all(repo: Path, message: str = "change") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_repo(root: Path, files: dict[str, str | bytes] | None = None, *, folder: str = "") -> Path:
    """A git repository at ``root`` whose first commit holds a mini repo in ``folder``."""
    (root / folder).mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_repo(root / folder, files or {"agents/writer.yaml": AGENT})
    commit_all(root, "first")
    return root


def test_a_revision_reads_the_same_files_as_its_checkout(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, repo)
    (repo / "notes.txt").write_text("not a source file\n")
    make_repo(repo, {})
    snapshot, _ = read_revision(repo, "HEAD")
    assert snapshot.files == read_folder(repo).files
    assert len(snapshot.files) > 10


def test_a_past_commit_validates_clean_while_the_work_tree_is_broken(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "agents" / "writer.yaml").write_text(BROKEN_AGENT)  # uncommitted
    (repo / "agents" / "new.yaml").write_text("kind: Agent\n: [\n")  # untracked
    assert run_af("validate", repo, "--rev", "HEAD").returncode == 0
    folder = run_af("validate", repo)
    assert folder.returncode == 1
    assert "agents/writer.yaml" in folder.stdout and "agents/new.yaml" in folder.stdout
    commit_all(repo)
    assert run_af("validate", repo, "--rev", "HEAD").returncode == 1
    assert run_af("validate", repo, "--rev", "HEAD~1").returncode == 0
    assert run_af("validate", repo, "--rev", "main~1", "--format", "json").json()["summary"] == {
        "errors": 0,
        "warnings": 0,
        "files": 2,
    }


@pytest.mark.parametrize("rev", ["no-such-branch", "HEAD~5", "--output=/tmp/x", "0" * 40, ""])
def test_a_revision_that_does_not_exist_exits_2(tmp_path: Path, rev: str) -> None:
    repo = make_repo(tmp_path / "repo")
    result = run_af("validate", repo, f"--rev={rev}")
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"af: error: {rev}: not a commit in the repository")


def test_a_revision_outside_a_repository_exits_2(tmp_path: Path) -> None:
    write_repo(tmp_path, {"agents/writer.yaml": AGENT})
    result = run_af("validate", tmp_path, "--rev", "HEAD")
    assert result.returncode == 2
    expected = f"{tmp_path}: not in a git repository (--rev HEAD reads a commit from git)"
    assert result.stderr == f"af: error: {expected}\n"


def test_a_symbolic_link_in_a_commit_is_not_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write_repo(repo, {"shared/writer.yaml": AGENT})
    (repo / "agents").mkdir()
    (repo / "agents" / "writer.yaml").symlink_to("../shared/writer.yaml")
    commit_all(repo)
    assert git(repo, "ls-files", "-s", "agents/writer.yaml").startswith("120000 ")
    snapshot, _ = read_revision(repo, "HEAD")
    link = snapshot.get("agents/writer.yaml")
    assert link is not None and link.data == b""
    assert link.problem == "is a symbolic link, which a revision build does not follow"
    diagnostics = validate_snapshot(snapshot).report.diagnostics()
    assert found(diagnostics) == [("AF113", "agents/writer.yaml", 1, 1)]
    assert validate_snapshot(read_folder(repo)).report.diagnostics() != diagnostics


def test_a_submodule_is_skipped_with_a_problem(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor/flows")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},.hidden/sub")
    git(repo, "commit", "-q", "-m", "submodule")
    snapshot, _ = read_revision(repo, "HEAD")
    diagnostics = validate_snapshot(snapshot).report.diagnostics()
    assert found(diagnostics) == [("AF113", "vendor/flows", 1, 1)]
    assert "git submodule" in diagnostics[0].message


def test_the_size_cap_and_hidden_folders_match_a_folder_read(tmp_path: Path) -> None:
    big = "# " + "x" * MAX_FILE_BYTES + "\n"
    repo = make_repo(
        tmp_path / "repo",
        {"agents/writer.yaml": AGENT, "agents/big.yaml": big, ".github/ci.yaml": "a: ["},
    )
    snapshot, _ = read_revision(repo, "HEAD")
    assert snapshot.files == read_folder(repo).files
    big_file = snapshot.get("agents/big.yaml")
    assert big_file is not None and len(big_file.data) == MAX_FILE_BYTES + 1
    assert snapshot.get(".github/ci.yaml") is None
    assert found(validate_snapshot(snapshot).report.diagnostics()) == [
        ("AF107", "agents/big.yaml", 1, 1)
    ]
    # the object reader stays in step after a partial read: the next file reads whole
    writer = snapshot.get("agents/writer.yaml")
    assert writer is not None and writer.data == AGENT.encode()


def test_provenance_of_a_revision(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    _, provenance = read_revision(repo, "HEAD")
    assert provenance.commit == git(repo, "rev-parse", "HEAD")
    assert provenance.tree == git(repo, "rev-parse", "HEAD^{tree}")
    assert provenance.committed_at == COMMIT_TIME
    assert provenance.dirty is False and provenance.path == ""


def test_a_folder_below_the_top_and_one_gone_from_the_work_tree(tmp_path: Path) -> None:
    top = make_repo(tmp_path / "top", folder="config")
    (top / "README.yaml").write_text("not: [valid")  # outside the compiled folder
    commit_all(top)
    snapshot, provenance = read_revision(top / "config", "HEAD")
    assert provenance.path == "config"
    assert provenance.tree == git(top, "rev-parse", "HEAD:config")
    assert [f.path for f in snapshot.files] == ["af.yaml", "agents/writer.yaml"]
    shutil.rmtree(top / "config")
    git(top, "commit", "-q", "-am", "remove config")
    assert run_af("validate", top / "config", "--rev", "HEAD~1").returncode == 0
    gone = run_af("validate", top / "config", "--rev", "HEAD")
    assert (gone.returncode, gone.stderr) == (2, "af: error: config: no such folder in HEAD\n")


def test_objects_missing_from_a_shallow_clone_exit_2(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin")
    (origin / "agents" / "writer.yaml").write_text(AGENT + "  concurrency: 2\n")
    commit_all(origin)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    assert run_af("validate", clone, "--rev", "HEAD").returncode == 0
    shallow = run_af("validate", clone, "--rev", "HEAD~1")
    assert shallow.returncode == 2 and "not a commit" in shallow.stderr


def test_a_missing_blob_exits_2_with_one_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    blob = git(repo, "rev-parse", "HEAD:agents/writer.yaml")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(UsageError, match=r"^HEAD: the repository is missing objects"):
        read_revision(repo, "HEAD")
    result = run_af("validate", repo, "--rev", "HEAD")
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_folder_provenance_and_dirty(tmp_path: Path) -> None:
    assert folder_provenance(tmp_path) == NOT_IN_GIT
    repo = make_repo(tmp_path / "repo")
    clean = folder_provenance(repo)
    assert clean.dirty is False
    assert clean.commit == git(repo, "rev-parse", "HEAD")
    assert clean.committed_at == COMMIT_TIME
    agent = repo / "agents" / "writer.yaml"
    os.utime(agent, (COMMIT_TIME + 99, COMMIT_TIME + 99))  # a new mtime is not a change
    assert folder_provenance(repo).dirty is False
    (repo / "agents" / "new.yaml").write_text(AGENT)
    assert folder_provenance(repo).dirty is True  # untracked files count
    (repo / "agents" / "new.yaml").unlink()
    agent.write_text(BROKEN_AGENT)
    assert folder_provenance(repo).dirty is True
    git(repo, "add", "-A")
    assert folder_provenance(repo).dirty is True  # staged, not committed


def test_dirty_looks_only_at_the_compiled_folder(tmp_path: Path) -> None:
    top = make_repo(tmp_path / "top", folder="config")
    (top / "elsewhere.txt").write_text("unrelated\n")
    assert folder_provenance(top / "config").dirty is False
    assert folder_provenance(top).dirty is True


def test_read_source_is_the_folder_with_its_provenance_or_the_revision(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "agents" / "writer.yaml").write_text(BROKEN_AGENT)
    snapshot, provenance = read_source(repo)
    assert snapshot == read_folder(repo) and provenance == folder_provenance(repo)
    assert provenance.dirty is True
    assert read_source(repo, "HEAD") == read_revision(repo, "HEAD")
    with pytest.raises(UsageError, match="not a directory"):
        read_source(tmp_path / "missing")
