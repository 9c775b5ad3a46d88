"""What the test modules share: paths and load options, waiting without blocking the event loop,
processes and files that must appear or go, executables and manifests written by a test, and the
console script. Fixtures live in conftest.py.

Async tests wait with the async helpers (`wait_until`, `wait_gone`, `wait_for_file`, ...), which
await between checks so the loop keeps serving the plugin calls under test; the `_sync` twins are
for tests that are not coroutines."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, TypeVar, Union

import pytest
from hector_plugins import PluginManager

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PY_PLUGIN = TESTS / "plugins" / "py_llm.py"
GENERATED = TESTS / "_generated"
IN_CI = os.environ.get("CI") == "true"

# The Go kv example is a generic go-plugin plugin with its own cookie (examples/go/kv).
KV_COOKIE = {"magic_cookie_key": "KV_PLUGIN", "magic_cookie_value": "kv-example-cookie"}
KV = {"type": "grpc", **KV_COOKIE}
# go-plugin's own streaming example (examples/build_plugins.py), with the handshake of its source.
STREAMER = {"type": "grpc", "magic_cookie_key": "BASIC_PLUGIN", "magic_cookie_value": "hello", "protocol_versions": [1]}

T = TypeVar("T")
# A failure message, or a function that builds it once the wait has failed (to describe the state then).
Text = Union[str, Callable[[], str]]

# `pm.load(..., supervision=NO_RESTART)`: a crashed plugin stays crashed (docs/supervision.md), for
# tests of the crash itself and of what a program does about it.
NO_RESTART = {"restart": {"enabled": False}}


# Waiting. The conditions tests wait for (a process gone from /proc, a file another process
# writes, a log record delivered from the core's own thread) have no event to await: poll them.


def _timed_out(message: Text, timeout: float) -> AssertionError:
    text = message() if callable(message) else message
    return AssertionError(f"{text} (waited {timeout:g}s)")


async def wait_until(
    predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02, message: Text = "condition never held"
) -> T:
    """Returns the predicate's first truthy result, checking every `interval` seconds (awaiting
    in between) for up to `timeout`; raises AssertionError with `message` after that."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout)
        await asyncio.sleep(interval)


def wait_until_sync(
    predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02, message: Text = "condition never held"
) -> T:
    """`wait_until` for tests that are not coroutines: sleeps between checks."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout)
        time.sleep(interval)


# Processes.


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_is_gone(pid: int, allow_zombie: bool = False) -> bool:
    """True if `pid` no longer exists, not even as a zombie (a zombie counts as gone with
    `allow_zombie`: a plugin whose host was SIGKILLed is reparented to init, and reaping it is
    then init's job)."""
    try:
        state = proc_stat(pid)[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return allow_zombie and state == "Z"


Pids = Union[int, Mapping[str, int]]


def _still_running(pids: Pids, allow_zombie: bool) -> dict[str, int]:
    named = {"process": pids} if isinstance(pids, int) else pids
    return {name: pid for name, pid in named.items() if not process_is_gone(pid, allow_zombie)}


def _still_running_message(pids: Pids, allow_zombie: bool, message: str) -> Callable[[], str]:
    def describe() -> str:
        left = ", ".join(f"{name} {pid}" for name, pid in _still_running(pids, allow_zombie).items())
        return f"{message}: still running: {left}" if message else f"still running: {left}"

    return describe


async def wait_gone(pids: Pids, timeout: float = 3.0, allow_zombie: bool = False, message: str = "") -> None:
    """Waits until the process, or every process of a {name: pid} mapping, is gone: reaped, not
    even a zombie (unless `allow_zombie`); the failure names those still there."""
    await wait_until(
        lambda: not _still_running(pids, allow_zombie),
        timeout=timeout,
        message=_still_running_message(pids, allow_zombie, message),
    )


def wait_gone_sync(pids: Pids, timeout: float = 3.0, allow_zombie: bool = False, message: str = "") -> None:
    """`wait_gone` for tests that are not coroutines."""
    wait_until_sync(
        lambda: not _still_running(pids, allow_zombie),
        timeout=timeout,
        message=_still_running_message(pids, allow_zombie, message),
    )


# Files another process writes (the test plugin's pid file, its descendants, its shutdown mark).


def _text_if_written(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


async def wait_for_file(path: Path, timeout: float = 10.0, message: str = "") -> str:
    """The text of `path` once it exists and is not empty."""
    return await wait_until(lambda: _text_if_written(path), timeout=timeout, message=message or f"{path} never written")


def wait_for_file_sync(path: Path, timeout: float = 10.0, message: str = "") -> str:
    """`wait_for_file` for tests that are not coroutines."""
    return wait_until_sync(lambda: _text_if_written(path), timeout=timeout, message=message or f"{path} never written")


# The manager's view of a plugin, and what its plugins log.


async def wait_for_state(pm: PluginManager, name: str, state: str, timeout: float = 5.0) -> None:
    await wait_until(
        lambda: [p.state for p in pm.plugins if p.name == name] == [state],
        timeout=timeout,
        message=lambda: f"{name} never became {state}: {pm.plugins}",
    )


async def wait_for_log(
    caplog: pytest.LogCaptureFixture,
    predicate: Callable[[logging.LogRecord], bool],
    what: str,
    timeout: float = 5.0,
) -> logging.LogRecord:
    """The first captured record matching `predicate`. Plugin logs reach Python on the core's own
    thread, after the call that caused them may have returned."""

    def found() -> logging.LogRecord | None:
        return next((record for record in caplog.records if predicate(record)), None)

    return await wait_until(
        found,
        timeout=timeout,
        message=lambda: f"no log record {what}; got {[r.getMessage() for r in caplog.records][:20]}",
    )


# Executables and manifests written by a test.


def _all_threads_stopped(pid: int) -> bool:
    """Whether every thread of `pid` is in the stopped state (Linux /proc)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        states = [(task / "stat").read_text().rsplit(")", 1)[1].split()[0] for task in tasks]
    except OSError:
        return False
    return bool(states) and all(state in ("T", "t") for state in states)


async def freeze(pid: int) -> None:
    """SIGSTOPs `pid` and waits until all its threads are stopped: a signal is delivered to a
    thread running on another CPU only when that CPU gets to it, which on a loaded VM can come
    after the test's next request has been answered."""
    os.kill(pid, signal.SIGSTOP)
    await wait_until(lambda: _all_threads_stopped(pid), message=f"process {pid} never stopped after SIGSTOP")


def write_executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def write_manifest(executable: Path, text: str) -> Path:
    """The manifest the host reads for `executable`: `<executable>.plugin.yaml` next to it."""
    manifest = Path(f"{executable}.plugin.yaml")
    manifest.write_text(text)
    return manifest


def socket_path(address: str) -> Path | None:
    """The socket file of a `unix:` address; None for TCP."""
    return Path(address[len("unix:") :]) if address.startswith("unix:") else None


# The console script, and what a test needs from the machine.


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`hector-plugins` run as a subprocess: the installed console script, `python -m` as a fallback."""
    script = shutil.which("hector-plugins", path=os.path.dirname(sys.executable))
    command = [script] if script else [sys.executable, "-m", "hector_plugins.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def skip_unless_ci(why: str) -> None:
    """Skips the test for a missing prerequisite; in CI (CI=true) it fails the run instead."""
    if IN_CI:
        pytest.fail(why)
    pytest.skip(why)
