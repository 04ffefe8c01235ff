"""The child side of a python tool: limits first, then the entrypoint, answer on stdout.

Run as ``python -m agentflow.runtime.tools.python_child CONFIG`` by
`agentflow.runtime.tools.python`, never by hand. Input: ``CONFIG`` (JSON: ``entrypoint``,
``memoryBytes``, ``cpuSeconds``, ``isolateNetwork``) as the one argument, the tool's input as
JSON on stdin. Output: one JSON envelope on stdout, ``{"network": ..., "output": VALUE}`` or
``{"network": ..., "error": {"kind", "type", "message"}}``, and exit status 0 or 1; exit status
`EXIT_MEMORY` when memory ran out.

Before any tool code is imported: the network is cut off when asked (a new, empty network
namespace, when the kernel lets this process make one; the envelope says whether it did),
then ``RLIMIT_AS`` is set to ``memoryBytes`` and ``RLIMIT_CPU`` to ``cpuSeconds`` (the kernel
sends SIGXCPU, then SIGKILL a second later). The limits are set here rather than in a
``preexec_fn``, which is unsafe in a parent that runs threads; no tool code runs before them.
What the tool prints goes to stderr, so stdout carries only the envelope.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
from typing import Any

from agentflow.bundle.canonical import NotJsonError, canonical_json

EXIT_MEMORY = 86
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000


def main() -> None:
    config = json.loads(sys.argv[1])
    network = "shared (the profile grants hosts)"
    if config["isolateNetwork"]:
        network = _isolate_network()
    envelope_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        _limit(int(config["memoryBytes"]), int(config["cpuSeconds"]))
        text = canonical_json({"output": _run(str(config["entrypoint"])), "network": network})
        status = 0
    except MemoryError:
        os._exit(EXIT_MEMORY)
    except _Failure as failure:
        text, status = canonical_json({"error": failure.as_json(), "network": network}), 1
    sys.stdout.flush()
    envelope_out.write(text)
    envelope_out.flush()
    os._exit(status)


class _Failure(Exception):
    def __init__(self, kind: str, type_name: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.type_name, self.message = kind, type_name, message

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "type": self.type_name, "message": self.message[:2000]}


def _run(entrypoint: str) -> Any:
    try:
        value = json.loads(sys.stdin.buffer.read())
    except ValueError as error:
        raise _Failure("bad-input", type(error).__name__, str(error)) from None
    module_name, _, attribute = entrypoint.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except MemoryError:
        raise
    except Exception as error:
        raise _Failure("import", type(error).__name__, str(error)) from None
    try:
        result = target(value)
        if hasattr(result, "__await__"):
            import asyncio  # only for a coroutine: importing it costs a python tool ~0.1 s

            result = asyncio.run(_wait(result))
    except MemoryError:
        raise
    except (Exception, SystemExit) as error:
        raise _Failure("raised", type(error).__name__, str(error)) from None
    try:
        canonical_json(result)
    except NotJsonError as error:
        raise _Failure("not-json", type(result).__name__, str(error)) from None
    return result


async def _wait(awaitable: Any) -> Any:
    return await awaitable


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    """Lower the limits (never above a hard limit the worker already runs under)."""
    for which, soft, hard in (
        (resource.RLIMIT_AS, memory_bytes, memory_bytes),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
    ):
        _, ceiling = resource.getrlimit(which)
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(which, (soft, hard))


def _isolate_network() -> str:
    """Enter a new network namespace (no interfaces up: no host is reachable, not even
    loopback); as root with CAP_SYS_ADMIN, else through a new user namespace."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNET) == 0:
        return "isolated"
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0:
        return "isolated"
    return f"shared (no network namespace: {os.strerror(ctypes.get_errno())})"


if __name__ == "__main__":
    main()
