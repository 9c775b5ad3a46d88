"""Plugins that flood, crash, get cancelled mid-stream, or outlive a SIGKILLed host."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hector_plugins import CallTimeoutError, Message, PluginClosedError, PluginCrashedError, PluginManager
from helpers import NO_RESTART, socket_path, wait_for_file, wait_for_log, wait_gone, wait_gone_sync, wait_until


async def test_flooding_stdout_and_stderr_after_the_handshake(
    rust_plugin: Path, go_plugin: Path, py_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    flood = 1_200_000  # > 1 MiB on each pipe
    # Untagged lines are warnings; at ERROR they are dropped before reaching Python, so the
    # flood does not keep the log thread busy for the tests that follow.
    caplog.set_level(logging.ERROR, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="rust", config={"flood_bytes": flood})
        await pm.load(go_plugin, name="go", config={"flood_bytes": flood})
        await pm.load(py_plugin(flood=str(flood)), name="py")
        for name in ("rust", "go", "py"):
            for i in range(20):
                reply = await pm.llm(name).generate([Message.user(f"still there {i}")], timeout=30)
                assert reply.text == f"Echo: still there {i}"
        assert all(p.state == "ready" for p in pm.plugins)


async def test_cancelling_a_stream_cancels_the_rpc_and_the_plugin_keeps_serving(
    rust_plugin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="slow", config={"stream_delay_ms": 200})
        llm = pm.llm("slow")
        received: list[str] = []

        async def consume() -> None:
            words = " ".join(f"w{i}" for i in range(100))
            async for chunk in llm.generate_stream([Message.user(words)]):
                received.append(chunk.text)

        task = asyncio.create_task(consume())
        await wait_until(lambda: len(received) >= 2, timeout=10, message="the stream sent fewer than 2 chunks")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(received) < 10

        # The plugin saw the cancellation (it logs it) ...
        await wait_for_log(
            caplog, lambda r: "stream cancelled by host" in r.getMessage(), "saying the plugin saw the stream cancelled"
        )
        # ... and still serves others.
        assert (await llm.generate([Message.user("next")])).text == "Echo: next"
        chunks = [c async for c in pm.llm("slow").generate_stream([Message.user("a b")])]
        assert chunks[-1].type == "done"


async def test_closing_a_stream_early(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r", config={"stream_delay_ms": 50})
        stream = pm.llm("r").generate_stream([Message.user("a b c d e f g h")])
        first = await stream.__anext__()
        assert first.type == "text"
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        assert (await pm.llm("r").generate([Message.user("x")])).text == "Echo: x"


async def test_a_crash_during_a_call_raises_instead_of_hanging(py_plugin) -> None:
    async with PluginManager() as pm:
        info = await pm.load(py_plugin(stderr="about to be fragile"), name="fragile", supervision=NO_RESTART)
        llm = pm.llm("fragile")
        with pytest.raises(PluginCrashedError) as caught:
            await llm.generate([Message.user("crash")])
        assert "exit status 7" in str(caught.value)
        assert caught.value.plugin == "fragile"
        await wait_gone(info.pid)
        [status] = pm.plugins
        assert status.state == "crashed" and status.exit_code == 7
        # Later calls fail at once with the same error type.
        with pytest.raises(PluginCrashedError):
            await llm.generate([Message.user("again")])


async def test_call_timeout_and_calls_after_shutdown(py_plugin) -> None:
    pm = PluginManager()
    await pm.load(py_plugin(), name="p")
    llm = pm.llm("p")
    with pytest.raises(CallTimeoutError) as caught:
        await llm.generate([Message.user("sleep 5")], timeout=0.2)
    assert isinstance(caught.value, TimeoutError) and caught.value.code == "DEADLINE_EXCEEDED"
    await pm.shutdown()
    with pytest.raises(PluginClosedError):
        await llm.generate([Message.user("late")])


HOST = textwrap.dedent(
    """
    import asyncio, sys
    from hector_plugins import PluginManager

    async def main():
        pm = PluginManager()
        pids = []
        for i, path in enumerate(sys.argv[1:]):
            pids.append((await pm.load(path, name=f"p{i}")).pid)
        print(" ".join(map(str, pids)), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_sigkilled_host_leaves_no_plugin_alive(rust_plugin: Path, go_plugin: Path, tmp_path: Path) -> None:
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, str(rust_plugin), str(go_plugin)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = host.stdout.readline()
        pids = [int(p) for p in line.split()]
        assert len(pids) == 2, f"host printed {line!r}"
        for pid in pids:
            os.kill(pid, 0)  # alive
        host.send_signal(signal.SIGKILL)
        host.wait()
        for pid in pids:
            wait_gone_sync(pid, timeout=1.0, allow_zombie=True, message=f"plugin {pid} outlived its host")
    finally:
        host.kill()


def test_interpreter_exit_without_shutdown_stops_plugins(rust_plugin: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from hector_plugins import PluginManager
        pm = PluginManager()
        async def main():
            print((await pm.load(sys.argv[1], name="r")).pid, flush=True)
        asyncio.run(main())
        """
    )
    out = subprocess.run([sys.executable, "-c", script, str(rust_plugin)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    wait_gone_sync(int(out.stdout.strip()), timeout=1.0)


async def test_cancelling_a_load_leaves_nothing_running(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    pm = PluginManager()
    task = asyncio.create_task(pm.load(py_plugin(sleep="30", pidfile=pidfile), name="slow-start"))
    pid = int(await wait_for_file(pidfile, timeout=10, message="the plugin never started"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_gone(pid)
    assert pm.plugins == []
    # The name is free again.
    with pytest.raises(Exception, match="not found"):
        await pm.load(tmp_path / "missing", name="slow-start")


def _child_uses_inherited_manager(pm: PluginManager, queue) -> None:  # runs in a forked child
    try:
        asyncio.run(pm.llm("r").generate([Message.user("from child")]))
        queue.put("no error")
    except RuntimeError as error:
        queue.put(str(error))


async def test_a_forked_child_neither_hangs_nor_stops_the_parents_plugins(rust_plugin: Path) -> None:
    import multiprocessing

    async with PluginManager() as pm:
        info = await pm.load(rust_plugin, name="r")
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_child_uses_inherited_manager, args=(pm, queue))
        child.start()
        message = await asyncio.get_running_loop().run_in_executor(None, queue.get, True, 30)
        await asyncio.get_running_loop().run_in_executor(None, child.join, 30)
        assert child.exitcode == 0
        assert "forked" in message
        # The child's exit (atexit, object drops) left the parent's plugin alone.
        assert (await pm.llm("r").generate([Message.user("parent")])).text == "Echo: parent"
        assert pm.plugins[0].state == "ready"
        assert socket_path(info.address).exists()
