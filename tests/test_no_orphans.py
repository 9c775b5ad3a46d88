"""Nothing of a plugin outlives its host or its own end: not the plugin, not a child it left in
its process group, not a `setsid` daemon that left the group, not its socket directory; and no
descriptor of the host leaks into it."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hector_plugins import Message, PluginCrashedError, PluginManager
from helpers import (
    NO_RESTART,
    proc_stat,
    skip_unless_ci,
    socket_path,
    wait_for_file,
    wait_for_file_sync,
    wait_gone,
    wait_gone_sync,
    wait_until,
    wait_until_sync,
    write_executable,
)

HOST = textwrap.dedent(
    """
    import asyncio, sys
    from hector_plugins import PluginManager

    async def main():
        pm = PluginManager()
        info = await pm.load(sys.argv[1], name="parent")
        print(info.pid, info.address, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


NO_DESCENDANTS = "the plugin never started its descendants"


def alive_descendants(written: str) -> list[int]:
    """The pids the test plugin wrote: its child in its group, then its `setsid` daemon."""
    pids = [int(p) for p in written.split()]
    for pid in pids:
        os.kill(pid, 0)  # alive
    return pids


async def read_descendants(path: Path) -> list[int]:
    return alive_descendants(await wait_for_file(path, message=NO_DESCENDANTS))


def read_descendants_sync(path: Path) -> list[int]:
    return alive_descendants(wait_for_file_sync(path, message=NO_DESCENDANTS))


def parent_of(pid: int) -> int:
    return int(proc_stat(pid)[1])


def session_of(pid: int) -> int:
    return int(proc_stat(pid)[3])


def test_a_sigkilled_host_takes_the_plugin_its_children_its_daemons_and_its_socket_dir(
    py_plugin, tmp_path: Path
) -> None:
    descendants = tmp_path / "descendants"
    pidfile = tmp_path / "pid"
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, str(py_plugin(descendants=descendants, pidfile=pidfile))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = host.stdout.readline()
        pid_text, address = line.split()
        plugin = int(pid_text)
        assert plugin == int(pidfile.read_text()), "PluginInfo.pid must be the plugin's own pid"
        in_group, daemon = read_descendants_sync(descendants)
        # The daemon really left: another session, and (its launcher gone) not the plugin's child.
        assert session_of(daemon) != session_of(plugin) and parent_of(daemon) != plugin
        keeper = parent_of(plugin)
        socket_dir = socket_path(address).parent
        assert socket_dir.is_dir()

        host.send_signal(signal.SIGKILL)
        host.wait()

        # Gone means reaped too (no zombie): the keeper reaps what it kills.
        wait_gone_sync({"plugin": plugin, "child in its group": in_group, "setsid daemon": daemon}, timeout=5.0)
        wait_until_sync(lambda: not socket_dir.exists(), timeout=5.0, message=f"{socket_dir} outlived the host")
        # The keeper itself ends too; init reaps it (it was the dead host's child).
        wait_gone_sync({"keeper": keeper}, timeout=5.0, allow_zombie=True)
    finally:
        host.kill()
        host.wait()


async def test_shutdown_takes_the_plugins_children_and_daemons_with_it(py_plugin, tmp_path: Path) -> None:
    descendants = tmp_path / "descendants"
    pm = PluginManager()
    info = await pm.load(py_plugin(descendants=descendants), name="parent")
    in_group, daemon = await read_descendants(descendants)
    socket_dir = socket_path(info.address).parent
    await pm.shutdown()
    await wait_gone({"plugin": info.pid, "child in its group": in_group, "setsid daemon": daemon}, timeout=1.0)
    assert not socket_dir.exists()


async def test_a_crashed_plugins_children_and_daemons_are_killed_and_its_exit_is_its_own(
    py_plugin, tmp_path: Path
) -> None:
    descendants = tmp_path / "descendants"
    pidfile = tmp_path / "pid"
    async with PluginManager() as pm:
        info = await pm.load(
            py_plugin(descendants=descendants, pidfile=pidfile), name="fragile", supervision=NO_RESTART
        )
        assert info.pid == int(pidfile.read_text())
        in_group, daemon = await read_descendants(descendants)
        with pytest.raises(PluginCrashedError, match="exit status 7"):
            await pm.llm("fragile").generate([Message.user("crash")])
        # Reported only once everything it left behind is gone.
        await wait_gone({"plugin": info.pid, "child in its group": in_group, "setsid daemon": daemon}, timeout=1.0)
        [status] = pm.plugins
        assert status.state == "crashed" and status.exit_code == 7 and status.exit_signal is None


async def test_the_reported_pid_is_the_plugins_and_so_is_the_signal_that_killed_it(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    async with PluginManager() as pm:
        info = await pm.load(py_plugin(pidfile=pidfile), name="victim", supervision=NO_RESTART)
        assert info.pid == int(pidfile.read_text())
        os.kill(info.pid, signal.SIGKILL)
        with pytest.raises(PluginCrashedError, match="killed by signal 9"):
            await pm.llm("victim").generate([Message.user("hello")])
        [status] = pm.plugins
        assert status.exit_signal == signal.SIGKILL and status.exit_code is None
        await wait_gone(info.pid)


async def test_host_descriptors_do_not_leak_into_plugins(py_plugin, tmp_path: Path) -> None:
    read, write = os.pipe()
    os.set_inheritable(read, True)
    os.set_inheritable(write, True)
    fdfile = tmp_path / "fds"
    try:
        async with PluginManager() as pm:
            await pm.load(py_plugin(fdfile=fdfile), name="fds")
    finally:
        os.close(read)
        os.close(write)
    lines = fdfile.read_text().splitlines()
    open_fds = {int(line.split(" -> ")[0]): line.split(" -> ")[1] for line in lines}
    assert sorted(open_fds) == [0, 1, 2], lines
    assert open_fds[0] == "/dev/null" and open_fds[1].startswith("pipe:") and open_fds[2].startswith("pipe:"), lines


async def test_a_plugin_that_cannot_start_still_fails_clearly(tmp_path: Path) -> None:
    # The exec error comes back from the plugin's side of the keeper's fork.
    script = write_executable(tmp_path / "no-interpreter", "#!/nonexistent/interpreter\n")
    with pytest.raises(Exception, match=r"cannot execute .*no-interpreter.*No such file or directory"):
        await asyncio.wait_for(PluginManager().load(script, name="broken"), 20)


IGNORING_HOST = textwrap.dedent(
    """
    import asyncio, signal, sys
    from hector_plugins import Message, PluginCrashedError, PluginManager

    # What a daemon or a Python host may well do; the keeper and the plugin must not inherit it.
    for number in (signal.SIGCHLD, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(number, signal.SIG_IGN)

    async def main():
        pm = PluginManager()
        info = await pm.load(sys.argv[1], name="fragile", supervision={"restart": {"enabled": False}})
        print(info.pid, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        try:
            await asyncio.wait_for(pm.llm("fragile").generate([Message.user("crash")]), 10)
        except PluginCrashedError as e:
            print("crashed:", e, flush=True)
        [status] = pm.plugins
        print(status.state, status.exit_code, status.exit_signal, flush=True)
        await pm.shutdown()

    asyncio.run(main())
    """
)


def signal_mask(status_line: str) -> int:
    return int(status_line.split(":")[1], 16)


def test_a_host_ignoring_sigchld_and_friends_still_sees_its_plugin_crash_and_passes_none_of_it_on(
    py_plugin, tmp_path: Path
) -> None:
    descendants = tmp_path / "descendants"
    masks = tmp_path / "masks"
    inner = py_plugin(descendants=descendants)
    # sh itself changes no disposition: its own status is what the keeper handed the plugin. It is
    # read with builtins only: a shell waiting for a child (grep) blocks every signal meanwhile,
    # so a child reading the shell's status could see that mask instead.
    wrapper = write_executable(
        tmp_path / "wrapper",
        "#!/bin/sh\n"
        'while IFS= read -r line; do case $line in SigIgn:*|SigBlk:*) echo "$line";; esac; done'
        f" < /proc/$$/status > '{masks}'\n"
        f"exec '{inner}'\n",
    )
    host = subprocess.Popen(
        [sys.executable, "-c", IGNORING_HOST, str(wrapper)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        plugin = int(host.stdout.readline())
        in_group, daemon = read_descendants_sync(descendants)
        lines = dict(line.split(":", 1) for line in masks.read_text().splitlines())
        assert int(lines["SigIgn"], 16) == 0 and int(lines["SigBlk"], 16) == 0, lines
        host.stdin.write("go\n")
        host.stdin.flush()
        out, _ = host.communicate(timeout=30)
        assert "exit status 7" in out, out
        assert out.splitlines()[-1] == "crashed 7 None", out
        wait_gone_sync({"plugin": plugin, "child in its group": in_group, "setsid daemon": daemon}, timeout=1.0)
    finally:
        host.kill()
        host.wait()


PTRACE_SEIZE = 0x4206
WALL = 0x40000000


async def test_a_descendant_the_keeper_cannot_reap_does_not_hold_back_the_plugins_exit(
    py_plugin, tmp_path: Path
) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    descendants = tmp_path / "descendants"
    async with PluginManager() as pm:
        await pm.load(py_plugin(descendants=descendants), name="fragile", supervision=NO_RESTART)
        _, daemon = await read_descendants(descendants)
        # Traced by us, not by its keeper: once killed it stays a zombie that its parent (the
        # keeper) cannot reap until we, the tracer, wait for it. A blocking wait would hang.
        if libc.ptrace(ctypes.c_long(PTRACE_SEIZE), ctypes.c_int(daemon), None, None) != 0:
            skip_unless_ci(
                f"cannot ptrace: {os.strerror(ctypes.get_errno())} (CI must allow ptrace of our own processes)"
            )
        try:
            with pytest.raises(PluginCrashedError):
                await pm.llm("fragile").generate([Message.user("crash")])
            await wait_until(
                lambda: pm.plugins[0].exit_code is not None, timeout=6, message="the plugin's exit was not reported"
            )
            [status] = pm.plugins
            assert status.state == "crashed" and status.exit_code == 7
        finally:
            # As its tracer, we must wait for the daemon before its zombie can go. Killed first (it
            # may still run if the test failed early), so the wait ends; off the loop all the same.
            os.kill(daemon, signal.SIGKILL)
            await asyncio.to_thread(os.waitpid, daemon, WALL)
