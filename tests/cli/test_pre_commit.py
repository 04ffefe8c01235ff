"""The pre-commit hook, proved the way a user meets it: `pre-commit try-repo` on a real git repo.

pre-commit clones this repository, installs it with pip into a fresh virtualenv
(`language: python`) and runs the `af-validate` hook of .pre-commit-hooks.yaml against a user's
repository: a good commit passes, a broken one fails with `path:line:col` diagnostics.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_REPO, ROOT

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "support-desk"
    shutil.copytree(EXAMPLE_REPO, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "a support desk")
    return repo


def _try_repo(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not (ROOT / ".git").exists():
        if os.environ.get("CI"):
            pytest.fail("CI runs from a git clone: try-repo must run here")
        pytest.skip("try-repo needs this repository as a git checkout (not an unpacked sdist)")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [*PRE_COMMIT, "try-repo", str(ROOT), "af-validate", "--verbose", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's cache, shared so that the hook's environment is installed once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def test_the_hook_passes_a_good_commit_and_fails_a_broken_one(user_repo: Path, home: Path) -> None:
    good = _try_repo(user_repo, home, "--all-files")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "af validate" in good.stdout and "Passed" in good.stdout

    tool = user_repo / "tools" / "kb-search.yaml"
    tool.write_text(tool.read_text().replace("timeout: 10s", "timeout: 10 seconds"))
    _git(user_repo, "add", "tools/kb-search.yaml")
    broken = _try_repo(user_repo, home)  # staged files only, as in a real commit
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout
    assert "tools/kb-search.yaml:35:12: error[AF208]" in broken.stdout
    assert "AF302" not in broken.stdout  # a broken tool is broken, not unknown
    assert "Traceback" not in broken.stdout + broken.stderr


def test_the_hook_skips_commits_that_touch_no_yaml(user_repo: Path, home: Path) -> None:
    (user_repo / "NOTES.txt").write_text("not a resource\n")
    _git(user_repo, "add", "NOTES.txt")
    result = _try_repo(user_repo, home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)Skipped" in result.stdout
