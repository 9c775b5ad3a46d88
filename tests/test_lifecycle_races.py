"""Races between callers and the plugin lifecycle: cancelled shutdowns, loads that finish after
shutdown, streams closed or read twice, plugins that exit while a child holds stdout."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hector_plugins import HandshakeError, Message, PluginClosedError, PluginManager
from helpers import wait_for_file, wait_gone, wait_gone_sync, write_executable


async def test_calls_are_coroutines_for_tasks_and_task_groups(rust_plugin: Path) -> None:
    pm = PluginManager()
    info = await asyncio.create_task(pm.load(rust_plugin, name="r"))
    llm = pm.llm("r")
    call = llm.generate([Message.user("lazy")])  # nothing runs until awaited, like async def
    assert (await asyncio.ensure_future(call)).text == "Echo: lazy"
    results = await asyncio.gather(*(asyncio.create_task(llm.generate([Message.user(str(i))])) for i in range(5)))
    assert [r.text for r in results] == [f"Echo: {i}" for i in range(5)]
    await asyncio.create_task(pm.shutdown())
    await wait_gone(info.pid)


def test_asyncio_run_accepts_calls_directly(rust_plugin: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from hector_plugins import PluginManager
        pm = PluginManager()
        info = asyncio.run(pm.load(sys.argv[1], name="r"))
        asyncio.run(pm.shutdown())
        print(info.pid, pm.plugins[0].state)
        """
    )
    out = subprocess.run([sys.executable, "-c", script, str(rust_plugin)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid, state = out.stdout.split()
    assert state == "stopped"
    wait_gone_sync(int(pid))


async def test_a_cancelled_shutdown_still_completes(py_plugin) -> None:
    pm = PluginManager()
    info = await pm.load(py_plugin(), name="p", shutdown_grace=1.0)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(pm.shutdown(), 0.001)
    # The shutdown goes on without its caller; a second one waits for the same outcome.
    await asyncio.wait_for(pm.shutdown(), 10)
    assert pm.plugins[0].state == "stopped"
    await wait_gone(info.pid)


async def test_a_load_racing_shutdown_leaves_nothing_running(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    pm = PluginManager()
    loading = asyncio.create_task(pm.load(py_plugin(sleep="0.5", pidfile=pidfile), name="late"))
    await asyncio.sleep(0.1)
    await pm.shutdown()
    with pytest.raises(PluginClosedError):
        await loading
    if pidfile.exists() and pidfile.read_text():  # it may have been stopped before it started
        await wait_gone(int(pidfile.read_text()))
    with pytest.raises(PluginClosedError):
        await pm.load(py_plugin(), name="after")


async def test_stream_closed_while_another_task_waits(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r", config={"stream_delay_ms": 300})
        stream = pm.llm("r").generate_stream([Message.user("a b c d e f")])

        async def read_all() -> list[str]:
            return [chunk.text async for chunk in stream]

        reader = asyncio.create_task(read_all())
        await asyncio.sleep(0.05)
        await stream.aclose()
        assert await asyncio.wait_for(reader, 5) == []


async def test_reading_one_stream_from_two_tasks_is_an_error(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r", config={"stream_delay_ms": 300})
        stream = pm.llm("r").generate_stream([Message.user("a b")])
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already being awaited"):
            await stream.__anext__()
        assert (await asyncio.wait_for(first, 5)).text == "Echo: "


async def test_a_chunk_timeout_is_not_mistaken_for_the_end(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r", config={"stream_delay_ms": 500})
        stream = pm.llm("r").generate_stream([Message.user("a b c")])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.__anext__(), 0.05)
        with pytest.raises(PluginClosedError, match="cancelled"):
            await stream.__anext__()


async def test_exit_is_seen_even_if_a_child_keeps_stdout_open(tmp_path: Path) -> None:
    script = write_executable(
        tmp_path / "forks-and-exits", "#!/bin/sh\nsleep 30 &\necho 'cannot start: no config' >&2\nexit 3\n"
    )
    with pytest.raises(HandshakeError, match="exit status 3") as caught:
        await asyncio.wait_for(PluginManager().load(script, name="forker", start_timeout=20), 10)
    assert "cannot start: no config" in str(caught.value)


async def test_bad_durations_and_paths_are_clear_errors(rust_plugin: Path, tmp_path: Path) -> None:
    pm = PluginManager()
    with pytest.raises(ValueError, match="start_timeout"):
        await pm.load(rust_plugin, name="x", start_timeout=1e300)
    with pytest.raises(ValueError, match="timeout"):
        await pm.load(rust_plugin, name="x", start_timeout=-1)
    from hector_plugins import PluginStartError

    with pytest.raises(PluginStartError, match="working directory"):
        await pm.load(rust_plugin, name="x", cwd=tmp_path / "nope")


async def test_relative_paths_are_relative_to_the_working_directory(
    rust_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(rust_plugin.parent)
    async with PluginManager() as pm:
        info = await pm.load(rust_plugin.name)  # a bare name is not looked up on PATH
        assert info.name == rust_plugin.name and info.path == str(rust_plugin)


async def test_event_loops_in_short_lived_threads_leak_no_descriptors(rust_plugin: Path) -> None:
    import os
    import threading

    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r")
        llm = pm.llm("r")

        def one_loop_in_a_thread() -> None:
            assert asyncio.run(llm.generate([Message.user("thread")])).text == "Echo: thread"

        def run_threads(n: int) -> None:
            for _ in range(n):
                thread = threading.Thread(target=one_loop_in_a_thread)
                thread.start()
                thread.join()

        run_threads(5)
        before = len(os.listdir("/proc/self/fd"))
        run_threads(100)
        after = len(os.listdir("/proc/self/fd"))
        assert after - before < 10, f"{after - before} descriptors leaked by 100 threads"
        assert (await llm.generate([Message.user("main")])).text == "Echo: main"


async def test_cancelling_a_call_before_it_starts(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r")
        llm = pm.llm("r")
        task = asyncio.create_task(llm.generate([Message.user("never")]))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(llm.generate([Message.user("zero")]), 0)
        assert (await llm.generate([Message.user("after")])).text == "Echo: after"


async def test_anext_on_a_temporary_stream(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r", config={"stream_delay_ms": 50})
        first = await pm.llm("r").generate_stream([Message.user("a b")]).__anext__()
        assert first.text == "Echo: "


async def test_many_unread_streams_do_not_freeze_the_plugin(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r")
        llm = pm.llm("r")
        words = " ".join(["word" * 50] * 20000)  # ~4 MB streamed per call
        streams = [llm.generate_stream([Message.user(words)]) for _ in range(6)]
        for stream in streams:
            await stream.__anext__()  # started, then left unread
        info = await asyncio.wait_for(llm.model_info(), 10)
        assert info.model_name == "echo-llm-v1.0"
        total = sum([len(c.text) async for c in streams[0]])
        assert total > 4_000_000
        for stream in streams:
            await stream.aclose()


async def test_shutdown_abandons_a_slow_start(py_plugin, tmp_path: Path) -> None:
    import time

    pidfile = tmp_path / "pid"
    pm = PluginManager()
    loading = asyncio.create_task(pm.load(py_plugin(sleep="30", pidfile=pidfile), name="slow", start_timeout=30))
    pid = int(await wait_for_file(pidfile, timeout=30, message="the plugin never started"))
    started = time.monotonic()
    await pm.shutdown()
    assert time.monotonic() - started < 10, "shutdown must not wait out a start timeout"
    with pytest.raises(PluginClosedError):
        await loading
    await wait_gone(pid)
