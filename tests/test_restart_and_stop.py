"""A crashed or stopped name can be started again (restart, or load over it), and stopping a
plugin honours its grace period and is graceful however the manager goes away."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hector_plugins import ConfigError, Message, PluginManager, PluginNotFoundError
from helpers import NO_RESTART, wait_for_file, wait_for_state, wait_gone, wait_gone_sync, wait_until


async def test_restart_brings_a_crashed_plugin_back_and_old_clients_follow(
    py_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        first = await pm.load(py_plugin(), name="c", config={"greeting": "hi"}, supervision=NO_RESTART)
        llm, raw = pm.llm("c"), pm.raw("c")
        os.kill(first.pid, signal.SIGKILL)
        await wait_for_state(pm, "c", "crashed")

        again = await pm.restart("c")
        assert again.state == "ready" and again.restarts == 1 and again.pid != first.pid
        assert [(p.name, p.state, p.restarts) for p in pm.plugins] == [("c", "ready", 1)]
        # Clients taken before the crash call the new process, initialized with the same config.
        assert (await llm.generate([Message.user("x")])).text == "Echo: x"
        assert raw.protocol_version == again.protocol_version

        # A running plugin is stopped first; its old process is gone.
        third = await pm.restart("c")
        assert third.restarts == 2 and third.pid != again.pid
        await wait_gone(again.pid)
        assert (await llm.generate([Message.user("y")])).text == "Echo: y"

    # Logs reach Python on their own thread: wait for the third start's line.
    def initialized() -> int:
        return len([r for r in caplog.records if r.getMessage() == "initialized with ['greeting']"])

    await wait_until(lambda: initialized() == 3, message=lambda: str([r.getMessage() for r in caplog.records]))


async def test_load_takes_over_a_crashed_or_stopped_name_but_not_a_running_one(py_plugin) -> None:
    async with PluginManager() as pm:
        first = await pm.load(py_plugin(), name="c", supervision=NO_RESTART)
        with pytest.raises(ConfigError, match=r'"c" is already loaded \(ready\); use restart'):
            await pm.load(py_plugin(), name="c")
        os.kill(first.pid, signal.SIGKILL)
        await wait_for_state(pm, "c", "crashed")
        second = await pm.load(py_plugin(), name="c")
        assert second.state == "ready" and second.restarts == 0
        assert len(pm.plugins) == 1
        assert (await pm.llm("c").generate([Message.user("x")])).text == "Echo: x"


async def test_load_all_starts_a_crashed_configured_plugin_again(rust_plugin: Path) -> None:
    config = {"plugins": {"llm_providers": {"a": {"path": str(rust_plugin), **NO_RESTART}}}}
    async with PluginManager(config) as pm:
        [report] = await pm.load_all()
        os.kill(report.plugin.pid, signal.SIGKILL)
        await wait_for_state(pm, "a", "crashed")
        [again] = await pm.load_all()
        assert again.ok and again.plugin.pid != report.plugin.pid
        assert (await pm.llm("a").generate([Message.user("x")])).text.endswith("x")


async def test_restart_of_an_unknown_name_and_a_failed_restart(py_plugin, tmp_path: Path) -> None:
    async with PluginManager() as pm:
        with pytest.raises(PluginNotFoundError, match="nope"):
            await pm.restart("nope")
    # A configured plugin that fails to start can be restarted once fixed.
    script = tmp_path / "later"
    config = {"plugins": {"llm_providers": {"later": {"path": str(script)}}}}
    async with PluginManager(config) as pm:
        [report] = await pm.load_all()
        assert not report.ok
        script.symlink_to(py_plugin())
        info = await pm.restart("later")
        assert info.state == "ready" and info.restarts == 0


async def test_shutdown_of_a_frozen_plugin_fits_in_its_grace(py_plugin) -> None:
    pm = PluginManager()
    info = await pm.load(py_plugin(), name="frozen", shutdown_grace=0.3)
    os.kill(info.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        await pm.shutdown()  # each plugin's own grace
        elapsed = time.monotonic() - started
        # Before the fix the Shutdown RPCs waited 2 s each on top of the grace (4.3 s).
        assert elapsed < 2.5, f"stopping took {elapsed:.1f}s with a 0.3s grace"
        [stopped] = pm.plugins
        assert stopped.state == "stopped" and stopped.killed
        await wait_gone(info.pid)
    finally:
        try:
            os.kill(info.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    pm = PluginManager()
    info = await pm.load(py_plugin(), name="frozen")
    os.kill(info.pid, signal.SIGSTOP)
    started = time.monotonic()
    await pm.shutdown(grace=0.2)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"shutdown(grace=0.2) took {elapsed:.1f}s"
    await wait_gone(info.pid)


async def test_a_manager_dropped_without_shutdown_stops_its_plugins_gracefully(py_plugin, tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    pm = PluginManager()
    info = await pm.load(py_plugin(shutdown_mark=mark), name="dropped")
    with pytest.warns(ResourceWarning, match="without shutdown"):
        del pm
        gc.collect()
    marked = await wait_for_file(mark, timeout=10, message="the plugin never got its Shutdown RPC")
    assert marked.startswith(f"shutdown {info.pid}\n"), "the plugin never got its Shutdown RPC"
    await wait_gone(info.pid, timeout=5.0)


async def test_clients_keep_a_dropped_manager_and_its_plugins_alive(rust_plugin: Path) -> None:
    pm = PluginManager()
    await pm.load(rust_plugin, name="r")
    llm = pm.llm("r")
    del pm
    gc.collect()
    assert (await llm.generate([Message.user("still here")])).text.endswith("still here")


def test_interpreter_exit_after_dropping_a_manager_stops_plugins_gracefully(py_plugin, tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    script = textwrap.dedent(
        """
        import asyncio, sys, warnings
        from hector_plugins import PluginManager
        warnings.simplefilter("ignore")
        async def main():
            pm = PluginManager()
            print((await pm.load(sys.argv[1], name="p")).pid, flush=True)
            del pm
        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(py_plugin(shutdown_mark=mark))], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.strip())
    assert mark.read_text() == f"shutdown {pid}\nexited {pid}\n"
    wait_gone_sync(pid, timeout=1.0)


def test_interpreter_exit_gives_each_plugin_its_own_grace(py_plugin, tmp_path: Path) -> None:
    # The plugin needs 2.5 s to exit after Shutdown; its grace is 10 s, so it must not be killed.
    mark = tmp_path / "mark"
    script = textwrap.dedent(
        """
        import asyncio, sys
        from hector_plugins import PluginManager
        pm = PluginManager()
        async def main():
            print((await pm.load(sys.argv[1], name="p", shutdown_grace=10)).pid, flush=True)
        asyncio.run(main())
        """
    )
    plugin = py_plugin(shutdown_mark=mark, shutdown_delay="2.5")
    out = subprocess.run([sys.executable, "-c", script, str(plugin)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.strip())
    assert mark.read_text() == f"shutdown {pid}\nexited {pid}\n", "the plugin was killed before its grace ran out"
