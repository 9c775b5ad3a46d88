"""Plugin processes the kit starts itself (the handshake rules) and the checks that a process is
gone. What it starts it always kills, with its process group, and reaps."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

# Variables the host sets for a plugin (docs/protocol.md §1.2); the kit sets them itself.
_HOST_VARIABLES = ("PLUGIN_PROTOCOL_VERSIONS", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_UNIX_SOCKET_DIR")


class Started:
    """A plugin process started by the kit: its first stdout line, its exit, its stderr."""

    def __init__(self, process: asyncio.subprocess.Process, socket_dir: str) -> None:
        self.process = process
        self.socket_dir = socket_dir
        self._stderr = bytearray()
        assert process.stderr is not None
        self._drain = asyncio.ensure_future(self._read_stderr(process.stderr))

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self._stderr += chunk

    async def first_line(self, timeout: float) -> str | None:
        """The first stdout line (without its end), "" for stdout closed without one, None when
        none came within `timeout`."""
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except asyncio.TimeoutError:
            return None
        except ValueError:  # a line longer than the reader's limit: not a handshake line
            return "<a line longer than 64 KiB>"
        return line.decode(errors="replace").rstrip("\r\n") if line else ""

    async def exit_status(self, timeout: float) -> int | None:
        """The exit status (negative: killed by that signal), None if it still runs after `timeout`."""
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            return None

    async def stderr(self) -> str:
        """What it wrote on stderr so far (all of it once it exited)."""
        if self.process.returncode is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._drain), 2)
        return self._stderr.decode(errors="replace")

    async def kill(self) -> None:
        """Kills its process group and reaps it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()
        self._drain.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._drain


def plugin_environment(
    extra: Mapping[str, str] | None, cookie: tuple[str, str] | None, versions: str, socket_dir: str
) -> dict[str, str]:
    """The inherited environment without the host's plugin variables, then the author's `extra`,
    then the cookie (None: left out) and the host's variables."""
    env = {key: value for key, value in os.environ.items() if key not in _HOST_VARIABLES}
    env.update(extra or {})
    if cookie is not None:
        env[cookie[0]] = cookie[1]
    env.update(
        PLUGIN_PROTOCOL_VERSIONS=versions,
        PLUGIN_MIN_PORT="10000",
        PLUGIN_MAX_PORT="25000",
        PLUGIN_UNIX_SOCKET_DIR=socket_dir,
    )
    return env


@contextlib.asynccontextmanager
async def started(
    executable: Path,
    extra_env: Mapping[str, str] | None,
    cookie: tuple[str, str] | None,
    versions: str = "1",
    without: tuple[str, ...] = (),
) -> AsyncIterator[Started]:
    """Starts `executable` as a host would (stdin /dev/null, its own process group, a private
    socket directory) with the cookie `cookie` (None: none), leaving out the variables `without`."""
    socket_dir = tempfile.mkdtemp(prefix="hplug-kit-")
    env = plugin_environment(extra_env, cookie, versions, socket_dir)
    for name in without:
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        str(executable),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    launched = Started(process, socket_dir)
    try:
        yield launched
    finally:
        await launched.kill()
        shutil.rmtree(socket_dir, ignore_errors=True)


def process_gone(pid: int) -> bool:
    """True when `pid` no longer runs (a zombie counts as gone: it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    except OSError:  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return state in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (Linux: from /proc; elsewhere [pgid] if the group
    can still be signalled)."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for pid, fields in _proc_stats().items():
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(pid)
    return members


def descendants(root: int) -> set[int]:
    """Live descendants of `root` (Linux; elsewhere the empty set)."""
    children: dict[int, list[int]] = {}
    for pid, fields in _proc_stats().items():
        if fields[0] not in ("Z", "X"):
            children.setdefault(int(fields[1]), []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _proc_stats() -> dict[int, list[str]]:
    """Each process's /proc/<pid>/stat fields after its name: state, ppid, pgrp, ..."""
    stats = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    text = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                stats[int(entry)] = text.rsplit(")", 1)[1].split()
    return stats


async def poll(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Awaits until `predicate()` is true or `timeout` passes; returns whether it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return bool(predicate())
        await asyncio.sleep(interval)
    return True
