"""A child process run to completion in a session of its own, with bounded output.

Input: a command, the bytes for its stdin, its folder and environment, a timeout. Output: an
`Ended`: exit status, stdout (at most `MAX_OUTPUT_BYTES`: past that the child is killed),
the tail of stderr, and whether the timeout ended it. Guarantees: the child's whole process
group gets SIGKILL when the call ends — answered, overflowing, timed out or cancelled — so
nothing it started outlives the call (short of a grandchild that starts its own session), and
the child is reaped before `run_child` returns. No ``preexec_fn``: limits belong to the child
itself (`python_child`), since a ``preexec_fn`` is unsafe in a parent that runs threads.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass

MAX_OUTPUT_BYTES = 10 * 1024 * 1024
STDERR_TAIL_BYTES = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class Ended:
    status: int
    """The exit status; negative: the signal that ended it."""
    stdout: bytes
    overflow: bool
    """Whether stdout passed `MAX_OUTPUT_BYTES` (and the child was killed for it)."""
    stderr_tail: str
    timed_out: bool


async def run_child(
    command: list[str], data: bytes, *, workdir: str, env: dict[str, str], timeout_s: float
) -> Ended:
    """Run ``command`` in a session of its own, feed it ``data``, read its output; kill its
    whole process group when it ends, overflows, times out, or the call is cancelled."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workdir,
        env=env,
        start_new_session=True,
    )
    assert process.stdin and process.stdout and process.stderr
    out, overflow, err, killed = bytearray(), False, b"", False

    async def feed() -> None:
        assert process.stdin
        try:
            process.stdin.write(data)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            process.stdin.close()

    async def read_out() -> None:
        nonlocal overflow
        assert process.stdout
        while chunk := await process.stdout.read(65536):
            out.extend(chunk)
            if len(out) > MAX_OUTPUT_BYTES:
                overflow = True
                kill_group(process.pid)
                return

    async def read_err() -> None:
        nonlocal err
        assert process.stderr
        while chunk := await process.stderr.read(65536):
            err = (err + chunk)[-STDERR_TAIL_BYTES:]

    try:
        async with asyncio.timeout(timeout_s):
            async with asyncio.TaskGroup() as group:
                group.create_task(feed())
                group.create_task(read_out())
                group.create_task(read_err())
                await process.wait()
                kill_group(process.pid)  # what it left in its group, so the pipes close
    except TimeoutError:
        killed = True
    finally:
        if process.returncode is None:
            kill_group(process.pid)
            await process.wait()
    assert process.returncode is not None
    return Ended(
        status=process.returncode,
        stdout=bytes(out),
        overflow=overflow,
        stderr_tail=err.decode("utf-8", "replace"),
        timed_out=killed,
    )


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
