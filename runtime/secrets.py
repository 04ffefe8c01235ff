"""Secret values, resolved by name when a call needs them, and kept out of every text.

Input: a secret's name as the bundle holds it (``{secretRef: kb-token}``, SPEC §1).
Output: its value, from the environment variable ``AF_SECRET_<NAME>`` (the name upper-cased,
``-``, ``.`` and ``/`` turned into ``_``: ``support/kb.token`` is ``AF_SECRET_SUPPORT_KB_TOKEN``),
else from the file ``$AF_SECRETS_DIR/<name>`` (one trailing newline stripped, as ``echo`` and
Kubernetes secret volumes leave it).

Guarantees: a `SecretError` names the secret and where it was looked for, never a value; a
name that could leave the secrets folder (``..`` segments, an absolute path, a symlink out) is
refused. A `Redactor` remembers every value resolved through `RedactingSecrets` and replaces it
with ``***`` in any text, so errors and log lines can be written without leaking one. Other
providers (Vault and the like) implement the same `Secrets` protocol.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote, quote_plus

from agentflow.bundle.secrets import SECRET_NAME

ENV_PREFIX = "AF_SECRET_"
SECRETS_DIR_VARIABLE = "AF_SECRETS_DIR"
MAX_SECRET_FILE_BYTES = 64 * 1024
MASK = "***"


class SecretError(Exception):
    """A secret that could not be resolved; the message names it and says where it was sought."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class Secrets(Protocol):
    def resolve(self, name: str) -> str:
        """The value of the secret ``name``; raises `SecretError`."""
        ...


def env_variable(name: str) -> str:
    """``AF_SECRET_<NAME>``: ``kb-token`` → ``AF_SECRET_KB_TOKEN``.

    Names that differ only in ``-``, ``.``, ``/`` or case share a variable; the file under
    ``AF_SECRETS_DIR`` tells them apart.
    """
    return ENV_PREFIX + name.upper().replace("-", "_").replace(".", "_").replace("/", "_")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvSecrets:
    """Secrets from ``AF_SECRET_<NAME>`` variables, then from files under ``AF_SECRETS_DIR``."""

    environ: Mapping[str, str]
    secrets_dir: Path | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> EnvSecrets:
        """Read the variables (and ``AF_SECRETS_DIR``) of ``environ``, by default the process's."""
        env = os.environ if environ is None else environ
        folder = env.get(SECRETS_DIR_VARIABLE)
        return cls(environ=env, secrets_dir=Path(folder) if folder else None)

    def resolve(self, name: str) -> str:
        if not SECRET_NAME.fullmatch(name):
            raise SecretError(name, f"{name!r} is not a secret name (letters, digits, -_./)")
        variable = env_variable(name)
        value = self.environ.get(variable)
        if value:
            return value
        if self.secrets_dir is None:
            raise SecretError(
                name,
                f"secret {name!r} is not set: define {variable}, or set {SECRETS_DIR_VARIABLE} "
                f"to a folder holding a file named {name!r}",
            )
        return _read_secret_file(name, self.secrets_dir, variable)


def _read_secret_file(name: str, folder: Path, variable: str) -> str:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise SecretError(name, f"secret name {name!r} would leave {SECRETS_DIR_VARIABLE}")
    root = folder.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise SecretError(name, f"secret file for {name!r} resolves outside {root}; refused")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SecretError(
            name, f"secret {name!r} is not set: neither {variable} nor the file {root / relative}"
        ) from None
    except OSError as error:
        why = error.strerror or type(error).__name__
        raise SecretError(name, f"secret file {root / relative} is unreadable: {why}") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise SecretError(name, f"secret file {path} is over {MAX_SECRET_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(name, f"secret file {path} is not UTF-8 text") from None
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise SecretError(name, f"secret file {path} is empty")
    return value


class Redactor:
    """Remembers secret values and masks them in text.

    Each value is masked as written, JSON-escaped and percent-encoded (the forms a server most
    often echoes back). Other encodings of a value (base64 and the like) are not recognized, so
    callers also keep values out of messages in the first place. Longer values are masked
    first, so one secret inside another is masked whole. Thread-safe.
    """

    def __init__(self) -> None:
        self._forms: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def remember(self, value: str) -> None:
        if not value:
            return
        forms = {value, json.dumps(value)[1:-1], quote(value, safe=""), quote_plus(value)}
        with self._lock:
            known = set(self._forms) | forms
            self._forms = tuple(sorted(known, key=lambda form: (-len(form), form)))

    def redact(self, text: str) -> str:
        """``text`` with every remembered value replaced by ``***``."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text


@dataclass(frozen=True, slots=True)
class RedactingSecrets:
    """A `Secrets` that tells ``redactor`` every value it hands out."""

    inner: Secrets
    redactor: Redactor

    def resolve(self, name: str) -> str:
        value = self.inner.resolve(name)
        self.redactor.remember(value)
        return value
