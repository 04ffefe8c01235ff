"""Secrets from the environment and from files, refused names, and the redactor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentflow.runtime.secrets import (
    EnvSecrets,
    RedactingSecrets,
    Redactor,
    SecretError,
    env_variable,
)


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("kb-token", "AF_SECRET_KB_TOKEN"),
        ("support/kb.token", "AF_SECRET_SUPPORT_KB_TOKEN"),
        ("vllm_key", "AF_SECRET_VLLM_KEY"),
    ],
)
def test_a_secret_name_maps_to_its_variable(name: str, variable: str) -> None:
    assert env_variable(name) == variable


def test_the_variable_comes_before_the_file(tmp_path: Path) -> None:
    (tmp_path / "kb-token").write_text("from-file\n")
    both = EnvSecrets(environ={"AF_SECRET_KB_TOKEN": "from-env"}, secrets_dir=tmp_path)
    assert both.resolve("kb-token") == "from-env"
    assert EnvSecrets(environ={}, secrets_dir=tmp_path).resolve("kb-token") == "from-file"


def test_from_environment_reads_the_secrets_dir(tmp_path: Path) -> None:
    (tmp_path / "support").mkdir()
    (tmp_path / "support" / "kb.token").write_text("nested\r\n")
    secrets = EnvSecrets.from_environment({"AF_SECRETS_DIR": str(tmp_path)})
    assert secrets.resolve("support/kb.token") == "nested"


def test_only_one_trailing_newline_is_stripped(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("  spaced value \n\n")
    assert EnvSecrets(environ={}, secrets_dir=tmp_path).resolve("key") == "  spaced value \n"


def test_a_missing_secret_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as caught:
        EnvSecrets(environ={}, secrets_dir=tmp_path).resolve("kb-token")
    message = str(caught.value)
    assert caught.value.name == "kb-token"
    assert "AF_SECRET_KB_TOKEN" in message and str(tmp_path / "kb-token") in message
    with pytest.raises(SecretError, match="AF_SECRETS_DIR"):
        EnvSecrets(environ={}, secrets_dir=None).resolve("kb-token")


@pytest.mark.parametrize("name", ["../outside", "a/../../outside", "/etc/passwd", "a/../b"])
def test_a_name_that_could_leave_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (tmp_path / "outside").write_text("not yours")
    with pytest.raises(SecretError) as caught:
        EnvSecrets(environ={}, secrets_dir=folder).resolve(name)
    assert "not yours" not in str(caught.value)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (tmp_path / "outside").write_text("not yours")
    os.symlink(tmp_path / "outside", folder / "link")
    with pytest.raises(SecretError, match="outside"):
        EnvSecrets(environ={}, secrets_dir=folder).resolve("link")


def test_a_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    """As in a Kubernetes secret volume: ``name -> ..data/name``."""
    (tmp_path / "..data").mkdir()
    (tmp_path / "..data" / "kb-token").write_text("mounted")
    os.symlink("..data/kb-token", tmp_path / "kb-token")
    assert EnvSecrets(environ={}, secrets_dir=tmp_path).resolve("kb-token") == "mounted"


def test_an_empty_secret_is_an_error_not_an_empty_header(tmp_path: Path) -> None:
    (tmp_path / "kb-token").write_text("\n")
    with pytest.raises(SecretError, match="empty"):
        EnvSecrets(environ={"AF_SECRET_KB_TOKEN": ""}, secrets_dir=tmp_path).resolve("kb-token")


def test_the_redactor_masks_every_value_resolved_through_it() -> None:
    redactor = Redactor()
    secrets = RedactingSecrets(
        EnvSecrets(environ={"AF_SECRET_A": "alpha-123", "AF_SECRET_B": 'q"x/y'}, secrets_dir=None),
        redactor,
    )
    assert redactor.redact("alpha-123") == "alpha-123", "nothing is known before it is resolved"
    secrets.resolve("a")
    secrets.resolve("b")
    text = 'token alpha-123, json "q\\"x/y", url q%22x%2Fy, raw q"x/y'
    assert redactor.redact(text) == 'token ***, json "***", url ***, raw ***'


def test_a_secret_inside_another_is_masked_whole() -> None:
    redactor = Redactor()
    redactor.remember("abc")
    redactor.remember("xxabcxx")
    assert redactor.redact("see xxabcxx and abc") == "see *** and ***"
