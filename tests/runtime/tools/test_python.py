"""Python tools in a child process: the answer, the limits, the kill, the environment."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from agentflow.bundle.profile import ExecProfile
from agentflow.runtime.tools.base import ToolError
from agentflow.runtime.tools.python import PythonToolCaller, SandboxUsed
from tests.runtime.fakes.tool_server import CountingListener
from tests.runtime.fakes.tools import call, profile, tool

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MiB = 1024 * 1024


def run(
    function: str,
    value: Any = None,
    *,
    under: ExecProfile | None = None,
    timeout_ms: int | None = None,
    seen: list[SandboxUsed] | None = None,
) -> Any:
    caller = PythonToolCaller.from_environment(
        {"AF_TOOLS_PATH": str(FIXTURES)}, observe=None if seen is None else seen.append
    )
    spec = tool(type="python", entrypoint=f"af_sample_tools:{function}")
    the_call = call(spec, under or profile(), {} if value is None else value, timeout_ms=timeout_ms)
    return asyncio.run(caller.call(the_call))


def failure(function: str, value: Any = None, **options: Any) -> ToolError:
    with pytest.raises(ToolError) as caught:
        run(function, value, **options)
    return caught.value


def test_the_function_gets_the_input_and_its_return_value_is_the_output() -> None:
    assert run("echo", {"query": "refund", "n": [1, 2.5, None]}) == {
        "echo": {"query": "refund", "n": [1, 2.5, None]}
    }


def test_a_coroutine_function_is_awaited() -> None:
    assert run("echo_later", {"a": 1}) == {"echo": {"a": 1}}


def test_what_the_tool_prints_is_not_its_answer() -> None:
    assert run("noisy") == {"quiet": True}


def test_stderr_is_drained_so_a_chatty_tool_does_not_block() -> None:
    assert run("shout", {"bytes": 4 * MiB}, timeout_ms=5000) == {"shouted": True}


def test_a_value_with_no_json_form_is_invalid_output() -> None:
    error = failure("not_json")
    assert error.kind == "invalid-output" and not error.retryable
    assert "$.items[0]" in str(error) and "object" in str(error)


def test_an_exception_in_the_tool_is_unavailable_with_its_message() -> None:
    error = failure("raises")
    assert error.kind == "unavailable" and error.retryable
    assert "ValueError: the knowledge base is down" in str(error)


def test_an_entrypoint_that_does_not_import_says_where_to_look() -> None:
    error = failure("no_such_function")
    assert error.kind == "unavailable" and not error.retryable
    assert "AF_TOOLS_PATH" in str(error) and "no_such_function" in str(error)


def test_the_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    started = time.monotonic()
    error = failure("slow", {"pidfile": str(pidfile)}, timeout_ms=3000)
    elapsed = time.monotonic() - started
    assert error.kind == "timeout" and "3000 ms" in str(error)
    assert elapsed < 8, f"took {elapsed:.2f}s"
    child, grandchild = map(int, pidfile.read_text().split())
    assert not _alive(child), "the child is reaped before the call returns"
    deadline = time.monotonic() + 5  # SIGKILL is sent; the grandchild is not ours to wait for
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(grandchild), f"grandchild {grandchild} survived the timeout"


def test_memory_over_the_cap_is_a_resources_error() -> None:
    error = failure("hog", {"blocks": 16}, under=profile(memory_bytes=256 * MiB))
    assert error.kind == "resources" and "memory" in str(error)


def test_cpu_time_over_the_cap_is_a_resources_error() -> None:
    """100 millicores × 10 s of timeout is one CPU second (RLIMIT_CPU), then SIGXCPU: long
    before the timeout, even on a loaded machine."""
    error = failure("spin", under=profile(cpu_millis=100, timeout_ms=10_000))
    assert error.kind == "resources" and "SIGXCPU" in str(error) and "(1 s" in str(error)


def test_an_answer_over_the_cap_is_invalid_output() -> None:
    error = failure("huge", {"chars": 11 * MiB})
    assert error.kind == "invalid-output" and "more than 10485760 bytes" in str(error)


def test_the_child_sees_no_secrets_and_little_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AF_SECRET_KB_TOKEN", "tok-planted")
    monkeypatch.setenv("SOME_PARENT_VARIABLE", "parent")
    seen: list[SandboxUsed] = []
    answer = run("environment", seen=seen)
    environ = answer["environ"]
    assert not [name for name in environ if name.startswith("AF_")]
    assert "tok-planted" not in str(answer)
    assert set(environ) <= {
        "PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "TMPDIR", "PYTHONPATH", "PYTHONSAFEPATH",
        "PYTHONNOUSERSITE", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING",
    }  # fmt: skip
    assert str(FIXTURES) == environ["PYTHONPATH"].split(os.pathsep)[0]
    assert seen[0].sandbox == "process" and seen[0].workdir == "empty-read-only"


def test_fs_tmp_gives_a_fresh_private_folder_removed_afterwards() -> None:
    seen: list[SandboxUsed] = []
    answer = run("environment", under=profile(permissions={"fs.tmp": True}), seen=seen)
    assert answer["wrote"] is True
    assert answer["environ"]["TMPDIR"] == answer["cwd"]
    assert not Path(answer["cwd"]).exists()
    assert seen[0].workdir == "private-tmp"


def test_without_fs_tmp_the_folder_is_empty_and_read_only_unless_root() -> None:
    answer = run("environment")
    assert answer["wrote"] is (os.geteuid() == 0), "root ignores the folder's mode"
    assert "TMPDIR" not in answer["environ"]


def test_a_tool_granted_no_host_cannot_connect_anywhere(listener: CountingListener) -> None:
    seen: list[SandboxUsed] = []
    answer = run("connect", {"port": listener.port}, seen=seen)
    if seen[0].network != "isolated":
        pytest.skip(f"this kernel gives no network namespace: {seen[0].network}")
    assert answer["connected"] is False
    assert listener.accepted() == 0


def test_a_stronger_sandbox_asked_for_is_logged_as_not_available(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[SandboxUsed] = []
    assert run("echo", {}, under=profile(sandbox="gvisor"), seen=seen) == {"echo": {}}
    assert seen[0].requested == "gvisor" and seen[0].sandbox == "process"
    assert any("only the process sandbox" in record.getMessage() for record in caplog.records)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
