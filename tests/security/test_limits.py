"""Resource limits (docs/security.md, "Limits"): a plugin that allocates past its memory limit or
spins past its CPU time is stopped and reported with the limit it hit (in the call's error and in
the `crashed` lifecycle event); one that opens thousands of files or forks without bound is
refused by the kernel and keeps serving. The neighbour answers throughout."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hector_plugins import LifecycleEvent, PluginError, PluginManager
from helpers import NO_RESTART, wait_for_log, wait_until

from .hostile import hostile_plugin, neighbour_answers, order


async def stopped_for(pm: PluginManager, text: str, limit: str) -> None:
    """`text` gets the hostile plugin stopped: the call's error and the `crashed` event name `limit`."""
    crashed: list[LifecycleEvent] = []
    pm.on("crashed", crashed.append)
    with pytest.raises(PluginError) as error:
        await order(pm, "hostile", text)
    assert limit in str(error.value), error.value
    await wait_until(lambda: crashed, message="no crashed event")
    assert limit in crashed[0].message, crashed[0].message
    assert next(p for p in pm.plugins if p.name == "hostile").state == "crashed"


async def test_a_plugin_past_its_memory_limit_is_stopped_and_the_limit_named(tmp_path: Path, rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(tmp_path), name="hostile", security={"max_memory_mb": 150}, supervision=NO_RESTART)
        assert await order(pm, "hostile", "alloc 10") == "allocated 10 MiB"
        await stopped_for(pm, "alloc 400", "max_memory_mb: 150 MiB")
        await neighbour_answers(pm)


async def test_a_plugin_past_its_cpu_time_is_stopped_and_the_limit_named(tmp_path: Path, rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(tmp_path), name="hostile", security={"max_cpu_seconds": 2}, supervision=NO_RESTART)
        await stopped_for(pm, "spin", "max_cpu_seconds: 2 s")
        await neighbour_answers(pm)


async def test_thousands_of_open_files_are_refused_by_the_kernel(tmp_path: Path, rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(tmp_path), name="hostile", security={"max_open_files": 64})
        answer = await order(pm, "hostile", "files 5000")
        opened = re.fullmatch(r"(\d+) then error: \[Errno 24\] Too many open files.*", answer)
        assert opened and int(opened.group(1)) < 64, answer
        # Contained, not killed: it still answers.
        assert await order(pm, "hostile", "env PATH") != "<unset>"
        await neighbour_answers(pm)


async def test_a_fork_bomb_is_held_at_its_process_limit(
    tmp_path: Path, rust_plugin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hector_plugins")
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(tmp_path), name="hostile", security={"max_processes": 24})
        answer = await order(pm, "hostile", "spawn 500")
        started = re.fullmatch(r"(\d+) then error: \[Errno 11\] Resource temporarily unavailable", answer)
        assert started and int(started.group(1)) < 24, answer
        # The host says which rule refused the forks, on the plugin's logger.
        warning = await wait_for_log(
            caplog, lambda r: "max_processes: 24" in r.getMessage(), "naming max_processes", timeout=10
        )
        assert warning.name == "hector_plugins.plugin.hostile" and "refused" in warning.getMessage()
        assert await order(pm, "hostile", "env PATH") != "<unset>"
        await neighbour_answers(pm)
