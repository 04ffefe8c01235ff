"""Python tools: ``module:function`` run in a child process, under the profile's limits.

Input: a `ToolCall` of a ``python`` tool. Output: the JSON value the function returned (it is
called with the step input as its one argument; a coroutine is awaited), or a `ToolError`:
``timeout`` (over the call's timeout: the child's whole process group is killed with SIGKILL),
``resources`` (memory or CPU time exhausted), ``invalid-output`` (a return value with no JSON
form, or more than `MAX_OUTPUT_BYTES` written), ``unavailable`` (the function raised, or the
entrypoint does not import).

This is the ``process`` sandbox, and only that: gVisor and Docker are not available to this
runtime. A profile that asks for either still runs here, with a warning, and every call
reports the `SandboxUsed` to ``observe`` (for the audit trail) and to the log. What the child
gets and what it does not:
- isolated: its environment holds only ``PATH``, locale, ``HOME`` and the Python variables it
  needs (``PYTHONPATH`` = ``AF_TOOLS_PATH`` dirs, then the parent's ``sys.path``) — no
  ``AF_SECRET_*`` and nothing else of the parent's; ``RLIMIT_AS`` = ``memory_bytes`` (virtual
  memory, which counts more than resident memory); ``RLIMIT_CPU`` = CPU *time* (``cpu_millis``
  × the timeout, at least 1 s; a CPU *rate* needs cgroups); its own session and process group,
  killed whole when the call ends (answered, timed out or cancelled), so nothing it started
  outlives the call; when the profile grants no hosts, a new network
  namespace, so it can open no connection at all (where the kernel allows one: see
  `SandboxUsed.network`).
- its working folder: a fresh temporary folder, removed afterwards, when ``fs.tmp`` is granted
  (also its ``TMPDIR``); else an empty folder with mode 0555 — which root ignores.
- not isolated: the file system (it reads what the worker's user reads, and may write
  ``/tmp``), the network when the profile grants any host (no per-host check is possible for a
  process's own sockets), other processes of the same user, and a grandchild that starts its
  own session.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from agentflow.runtime.tools.base import Json, ToolCall, ToolError
from agentflow.runtime.tools.process import MAX_OUTPUT_BYTES, Ended, run_child
from agentflow.runtime.tools.python_child import EXIT_MEMORY

CHILD_MODULE = "agentflow.runtime.tools.python_child"
TOOLS_PATH_VARIABLE = "AF_TOOLS_PATH"
_ENTRYPOINT = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxUsed:
    """How one python tool call was actually isolated."""

    tool: str
    profile: str
    requested: str
    """The profile's sandbox (``gvisor``, ``docker`` or ``process``)."""
    sandbox: str
    """The one used: always ``process`` here."""
    network: str
    """``isolated`` (a new, empty network namespace) or ``shared (why)``."""
    workdir: str
    """``private-tmp`` (``fs.tmp`` granted) or ``empty-read-only``."""
    memory_bytes: int
    cpu_seconds: int


Observe = Callable[[SandboxUsed], None]


class PythonToolCaller:
    """Calls ``python`` tools (`ToolCaller`), each in a child process of its own."""

    def __init__(
        self,
        *,
        tools_path: tuple[str, ...] = (),
        observe: Observe | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._path = tuple(
            os.path.abspath(p) for p in (*tools_path, *sys.path) if p and os.path.exists(p)
        )
        self._observe = observe
        self._log = logger if logger is not None else logging.getLogger(__name__)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, *, observe: Observe | None = None
    ) -> PythonToolCaller:
        """Tools importable from the folders of ``AF_TOOLS_PATH`` (``:``-separated)."""
        value = (os.environ if environ is None else environ).get(TOOLS_PATH_VARIABLE, "")
        return cls(tools_path=tuple(p for p in value.split(os.pathsep) if p), observe=observe)

    async def call(self, call: ToolCall) -> Json:
        name, profile = call.tool.name, call.profile
        entrypoint = call.tool.entrypoint
        if entrypoint is None or not _ENTRYPOINT.fullmatch(entrypoint):
            raise ToolError(
                "unavailable",
                f"python tool {name!r}: entrypoint {entrypoint!r} is not module:function",
                retryable=False,
            )
        timeout_ms = min(call.timeout_ms, profile.timeout_ms)
        cpu_seconds = max(1, math.ceil(profile.cpu_millis * timeout_ms / 1_000_000))
        private_tmp = profile.permission("fs.tmp") is True
        config = {
            "entrypoint": entrypoint,
            "memoryBytes": profile.memory_bytes,
            "cpuSeconds": cpu_seconds,
            "isolateNetwork": not profile.domains,
        }
        try:
            data = json.dumps(call.input, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as error:
            message = f"the step input has no JSON form: {error}"
            raise ToolError("invalid-input", message, retryable=False) from None
        with tempfile.TemporaryDirectory(prefix="af-tool-", ignore_cleanup_errors=True) as workdir:
            if not private_tmp:
                os.chmod(workdir, 0o555)
            ended = await run_child(
                [sys.executable, "-m", CHILD_MODULE, json.dumps(config)],
                data,
                workdir=workdir,
                env=self._environment(workdir, private_tmp),
                timeout_s=timeout_ms / 1000,
            )
        envelope = _envelope(ended.stdout)
        used = SandboxUsed(
            tool=name,
            profile=profile.id,
            requested=profile.sandbox,
            sandbox="process",
            network=str(envelope.get("network", "unknown (the child gave no answer)")),
            workdir="private-tmp" if private_tmp else "empty-read-only",
            memory_bytes=profile.memory_bytes,
            cpu_seconds=cpu_seconds,
        )
        self._report(used)
        if ended.timed_out:
            raise ToolError("timeout", f"python tool {name!r} ran over {timeout_ms} ms; killed")
        if ended.overflow:
            raise ToolError(
                "invalid-output",
                f"python tool {name!r} wrote more than {MAX_OUTPUT_BYTES} bytes; killed",
                retryable=False,
            )
        return _answer(name, ended, envelope, used)

    def _environment(self, workdir: str, private_tmp: bool) -> dict[str, str]:
        env = {
            "PATH": os.defpath,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": workdir,
            "PYTHONPATH": os.pathsep.join(self._path),
            "PYTHONSAFEPATH": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
        }
        if private_tmp:
            env["TMPDIR"] = workdir
        return env

    def _report(self, used: SandboxUsed) -> None:
        if used.requested != used.sandbox:
            self._log.warning(
                "profile %r asks for the %s sandbox; this runtime has only the process "
                "sandbox, and ran tool %r there",
                used.profile,
                used.requested,
                used.tool,
            )
        self._log.info("python tool call ran in: %s", used)
        if self._observe is not None:
            self._observe(used)


def _answer(name: str, ended: Ended, envelope: dict[str, Json], used: SandboxUsed) -> Json:
    status = ended.status
    if status == 0 and "output" in envelope:
        return envelope["output"]
    error = envelope.get("error")
    if isinstance(error, dict):
        kind, detail = error.get("kind"), f"{error.get('type')}: {error.get('message')}"
        if kind == "not-json":
            raise ToolError(
                "invalid-output",
                f"python tool {name!r} returned a value with no JSON form: {error.get('message')}",
                retryable=False,
            )
        if kind == "import":
            raise ToolError(
                "unavailable",
                f"python tool {name!r}: cannot load its entrypoint ({detail}); is its folder in "
                f"{TOOLS_PATH_VARIABLE}?",
                retryable=False,
            )
        raise ToolError("unavailable", f"python tool {name!r} raised {detail}")
    if status == EXIT_MEMORY:
        raise ToolError(
            "resources", f"python tool {name!r} ran out of memory (cap {used.memory_bytes} bytes)"
        )
    if status == -signal.SIGXCPU:
        raise ToolError(
            "resources",
            f"python tool {name!r} used up its CPU time ({used.cpu_seconds} s: the profile's "
            "CPU share times the timeout) and was stopped with SIGXCPU",
        )
    if status == -signal.SIGKILL:
        raise ToolError(
            "resources",
            f"python tool {name!r} was killed by SIGKILL: over its CPU time ({used.cpu_seconds}"
            " s), or by the kernel for memory",
        )
    tail = " ".join(ended.stderr_tail.split()[-40:]) or "(no stderr)"
    raise ToolError(
        "unavailable", f"python tool {name!r} exited with status {status} without answering: {tail}"
    )


def _envelope(out: bytes) -> dict[str, Json]:
    try:
        value = json.loads(out)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
