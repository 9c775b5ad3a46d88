"""Supervision through real plugin processes (docs/supervision.md): crashed, frozen and unhealthy
plugins come back by themselves, a crash loop opens the circuit, calls wait for a restart or
fail fast, idempotent calls are retried, reloads lose no call, and lifecycle events reach
``pm.on`` callbacks."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    LifecycleEvent,
    Message,
    PluginClosedError,
    PluginCrashedError,
    PluginInfo,
    PluginManager,
    PluginStartError,
)
from helpers import ROOT, freeze, wait_gone, wait_until, write_executable

# Restarts quickly, so the tests do not wait for the default backoff.
QUICK = {"restart": {"backoff_initial": 0.05, "backoff_max": 0.2}}
# Checks health often, and calls a plugin unhealthy after two failed checks (the timeout leaves a
# loaded machine room: a check that passes late is no failure).
WATCHFUL = {**QUICK, "health": {"interval": 0.1, "timeout": 2.0, "failure_threshold": 2}}


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def info(pm: PluginManager, name: str) -> PluginInfo:
    [found] = [p for p in pm.plugins if p.name == name]
    return found


class Recorder:
    """Collects lifecycle events (``pm.on("*", ...)``)."""

    def __init__(self) -> None:
        self.events: list[LifecycleEvent] = []

    def __call__(self, event: LifecycleEvent) -> None:
        self.events.append(event)

    def kinds(self, plugin: str) -> list[str]:
        return [e.event for e in self.events if e.plugin == plugin]

    async def wait_for(self, plugin: str, kind: str, count: int = 1, timeout: float = 10.0) -> None:
        await wait_until(
            lambda: self.kinds(plugin).count(kind) >= count,
            timeout=timeout,
            message=lambda: f"{plugin}: {count}x {kind} never came; events: {self.kinds(plugin)}",
        )


async def test_a_plugin_killed_mid_call_fails_that_call_then_serves_again(py_plugin) -> None:
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("*", events)
        first = await pm.load(py_plugin(), name="victim", supervision=QUICK)
        llm = pm.llm("victim")
        in_flight = asyncio.ensure_future(llm.generate([Message.user("sleep 5")]))
        await asyncio.sleep(0.3)
        os.kill(first.pid, signal.SIGKILL)
        with pytest.raises(PluginCrashedError, match="killed by signal 9"):
            await in_flight
        # The next call waits for the restart, then is answered by the new process.
        assert (await llm.generate([Message.user("again")], timeout=10)).text == "Echo: again"
        [info] = pm.plugins
        assert info.state == "ready" and info.pid != first.pid and info.restarts == 1
        assert info.calls == 2 and info.failures == 1 and "killed by signal 9" in (info.last_error or "")
        await events.wait_for("victim", "restarted")
        assert events.kinds("victim")[:4] == ["loaded", "crashed", "restarting", "restarted"]
        crashed = next(e for e in events.events if e.event == "crashed")
        assert crashed.pid == first.pid and "killed by signal 9" in crashed.message


async def test_a_stream_cut_by_a_crash_ends_with_the_crash_then_the_plugin_streams_again(py_plugin) -> None:
    async with PluginManager() as pm:
        first = await pm.load(py_plugin(), name="streamer", config={"stream_delay_ms": 200}, supervision=QUICK)
        llm = pm.llm("streamer")
        stream = llm.generate_stream([Message.user("a b c d e f g h i j k l m n o p")])
        received = [await stream.__anext__()]
        os.kill(first.pid, signal.SIGKILL)
        with pytest.raises(PluginCrashedError):
            async for chunk in stream:
                received.append(chunk)
        chunks = [c async for c in llm.generate_stream([Message.user("hello")], timeout=10)]
        assert "".join(c.text for c in chunks) == "Echo: hello"
        assert pm.plugins[0].pid != first.pid


async def test_a_frozen_plugin_costs_its_callers_their_deadline_then_is_restarted(py_plugin) -> None:
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("*", events)
        # Health checks need at least 2 s to call it unhealthy: the call's deadline comes first.
        slow_checks = {**QUICK, "health": {"interval": 1.0, "timeout": 0.5, "failure_threshold": 2}}
        first = await pm.load(py_plugin(), name="frozen", call_timeout=0.3, supervision=slow_checks)
        await freeze(first.pid)
        with pytest.raises(CallTimeoutError, match="call_timeout"):
            await pm.llm("frozen").generate([Message.user("x")])
        await events.wait_for("frozen", "restarted")
        unhealthy = next(e for e in events.events if e.event == "unhealthy")
        assert "2 health checks in a row failed" in unhealthy.message and "no answer" in unhealthy.message
        assert (await pm.llm("frozen").generate([Message.user("back")])).text == "Echo: back"
        await wait_gone(first.pid)
        [info] = pm.plugins
        assert info.healthy is not None and info.last_health_at is not None


async def test_a_plugin_that_says_it_is_unhealthy_is_restarted(py_plugin, tmp_path: Path) -> None:
    sick = tmp_path / "sick"
    starts = tmp_path / "starts"
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("unhealthy", events)
        pm.on("restarted", events)
        await pm.load(py_plugin(unhealthy_file=sick, starts=starts), name="sickly", supervision=WATCHFUL)
        await asyncio.sleep(0.4)
        assert pm.plugins[0].healthy is True and pm.plugins[0].last_health == "python ok"
        sick.touch()
        await events.wait_for("sickly", "unhealthy")
        sick.unlink()
        await events.wait_for("sickly", "restarted")
        assert "its Health RPC says unhealthy: told to be unhealthy" in events.events[0].message
        assert len(lines(starts)) == 2


async def test_a_crash_loop_opens_the_circuit_until_a_manual_restart(py_plugin, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    policy = {"restart": {"backoff_initial": 0.05, "backoff_max": 0.1, "max_restarts": 3, "window": 60}}
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("*", events)
        await pm.load(py_plugin(die_after=0.5, starts=starts), name="looper", supervision=policy)
        await events.wait_for("looper", "failed")
        [info] = pm.plugins
        assert info.state == "failed"
        assert "3 restarts within 60s" in (info.reason or "") and info.since is not None
        # Calls fail at once, saying why and since when.
        with pytest.raises(PluginClosedError, match=r"failed since \d{4}-\d\d-\d\dT.*circuit is open") as caught:
            await pm.llm("looper").generate([Message.user("x")], timeout=30)
        assert caught.value.state == "failed"
        # Refused before any process had it, it still counts among the name's calls and failures.
        [refused] = pm.plugins
        assert (refused.calls, refused.failures) == (info.calls + 1, info.failures + 1)
        assert "circuit is open" in (refused.last_error or "") and refused.last_error_at is not None
        # No busy loop: one start and three restarts, and nothing more while the circuit is open.
        await asyncio.sleep(0.5)
        assert len(lines(starts)) == 4
        again = await pm.restart("looper")
        assert again.state == "ready"
        assert len(lines(starts)) == 5


async def test_calls_during_a_restart_wait_for_it_or_fail_fast_when_so_configured(py_plugin) -> None:
    slow_restart = {"restart": {"backoff_initial": 1.0, "backoff_max": 1.0}}
    fail_fast = {"restart": {**slow_restart["restart"], "while_restarting": "fail"}}
    async with PluginManager() as pm:
        patient = await pm.load(py_plugin(), name="patient", supervision=slow_restart)
        hasty = await pm.load(py_plugin(), name="hasty", supervision=fail_fast)
        os.kill(patient.pid, signal.SIGKILL)
        os.kill(hasty.pid, signal.SIGKILL)
        await wait_until(lambda: {p.state for p in pm.plugins} == {"restarting"}, timeout=5)
        with pytest.raises(PluginClosedError, match=r"is restarting since .*while_restarting: fail") as caught:
            await pm.llm("hasty").generate([Message.user("x")])
        assert caught.value.state == "restarting"
        assert (info(pm, "hasty").failures, info(pm, "patient").failures) == (1, 0)
        assert "while_restarting: fail" in (info(pm, "hasty").last_error or "")
        assert (await pm.llm("patient").generate([Message.user("waited")], timeout=10)).text == "Echo: waited"
        # A deadline shorter than the restart: the call fails with it, naming the restart.
        os.kill(info(pm, "patient").pid, signal.SIGKILL)
        await wait_until(lambda: info(pm, "patient").state == "restarting", timeout=5)
        with pytest.raises(CallTimeoutError, match="restarting"):
            await pm.llm("patient").generate([Message.user("x")], timeout=0.2)


async def test_a_call_lost_to_a_crash_is_retried_only_when_its_rpc_is_idempotent(py_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(py_plugin(), name="retried", supervision={**QUICK, "idempotent": ["Generate"]})
        await pm.load(py_plugin(), name="once", supervision=QUICK)
        outcomes: dict[str, Any] = {}
        for name in ("retried", "once"):
            call = asyncio.ensure_future(pm.llm(name).generate([Message.user("sleep 0.5")], timeout=20))
            await asyncio.sleep(0.2)
            os.kill(info(pm, name).pid, signal.SIGKILL)
            outcomes[name] = (await asyncio.gather(call, return_exceptions=True))[0]
        assert outcomes["retried"].text == "Echo: sleep 0.5"
        assert isinstance(outcomes["once"], PluginCrashedError)


async def test_a_retry_refused_while_restarting_counts_the_call_once(py_plugin) -> None:
    # The lost attempt counted the call and its failure; the refused retry is the same call.
    policy = {
        "restart": {"backoff_initial": 1.0, "backoff_max": 1.0, "while_restarting": "fail"},
        "idempotent": ["Generate"],
    }
    async with PluginManager() as pm:
        await pm.load(py_plugin(), name="retried", supervision=policy)
        call = asyncio.ensure_future(pm.llm("retried").generate([Message.user("sleep 0.5")], timeout=20))
        await asyncio.sleep(0.2)
        os.kill(info(pm, "retried").pid, signal.SIGKILL)
        with pytest.raises(PluginClosedError, match="while_restarting: fail"):
            await call
        now = info(pm, "retried")
        assert (now.calls, now.failures) == (1, 1), now


async def test_an_idempotent_name_that_is_no_rpc_of_the_type_is_refused(py_plugin) -> None:
    # A misspelt name would never match: the call it meant would not be sent again after a crash.
    async with PluginManager() as pm:
        with pytest.raises(
            ConfigError, match=r'supervision\.idempotent\[0\]: "Embed" is not an RPC of an llm_provider'
        ):
            await pm.load(py_plugin(), name="x", supervision={"idempotent": ["Embed"]})
        with pytest.raises(ConfigError, match="its RPCs are: .*ExecuteTool"):
            await pm.load_mcp("m", sys.executable, ["-c", "pass"], supervision={"idempotent": ["Generate"]})
        assert pm.plugins == []


async def test_restart_false_leaves_a_crashed_plugin_crashed(py_plugin) -> None:
    async with PluginManager() as pm:
        first = await pm.load(py_plugin(), name="mortal", supervision={"restart": {"enabled": False}})
        os.kill(first.pid, signal.SIGKILL)
        with pytest.raises(PluginCrashedError, match="killed by signal 9"):
            await pm.llm("mortal").generate([Message.user("x")])
        await asyncio.sleep(0.3)
        assert [p.state for p in pm.plugins] == ["crashed"]


async def test_a_reload_with_200_calls_in_flight_loses_none(py_plugin) -> None:
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("*", events)
        old = await pm.load(py_plugin(), name="live")
        llm = pm.llm("live")
        calls = [asyncio.ensure_future(llm.generate([Message.user(f"sleep 0.{i % 5 + 3}")])) for i in range(200)]
        await asyncio.sleep(0.1)
        made_before = llm.generate([Message.user("made before, awaited after")])  # not started yet
        new = await pm.reload("live")
        assert new.pid != old.pid and new.state == "ready"
        after = [asyncio.ensure_future(llm.generate([Message.user(f"n{i}")])) for i in range(20)]
        answers = await asyncio.gather(*calls, *after)
        assert [a.text for a in answers[:200]] == [f"Echo: sleep 0.{i % 5 + 3}" for i in range(200)]
        await wait_gone(old.pid, timeout=10)
        assert (await made_before).text == "Echo: made before, awaited after"  # by the new process
        assert [a.text for a in answers[200:]] == [f"Echo: n{i}" for i in range(20)]
        await wait_until(lambda: pm.plugins[0].calls == 221, message=lambda: str(pm.plugins[0].calls))
        [now] = pm.plugins
        assert now.pid == new.pid and now.failures == 0
        assert "reloaded" in events.kinds("live") and "crashed" not in events.kinds("live")


async def test_a_process_that_dies_or_is_shut_down_while_it_drains_after_a_reload_is_no_crash(py_plugin) -> None:
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("*", events)
        old = await pm.load(py_plugin(), name="drained", supervision=QUICK)
        llm = pm.llm("drained")
        slow = asyncio.ensure_future(llm.generate([Message.user("sleep 30")]))
        await asyncio.sleep(0.3)
        await pm.reload("drained")
        os.kill(old.pid, signal.SIGKILL)  # dies while draining
        with pytest.raises(PluginCrashedError):
            await slow
        await asyncio.sleep(0.5)
        assert [p.state for p in pm.plugins] == ["ready"]
        assert "crashed" not in events.kinds("drained") and "restarting" not in events.kinds("drained")
        # A shutdown does not wait for a drain: it stops the draining process with the others.
        second = pm.plugins[0]
        slow = asyncio.ensure_future(llm.generate([Message.user("sleep 30")]))
        await asyncio.sleep(0.3)
        await pm.reload("drained")
    await wait_gone(second.pid, timeout=5)
    assert isinstance((await asyncio.gather(slow, return_exceptions=True))[0], Exception)
    assert events.kinds("drained").count("stopped") == 2


async def test_a_reload_whose_new_version_fails_to_start_leaves_the_old_one_serving(py_plugin) -> None:
    events = Recorder()
    path = py_plugin()
    async with PluginManager() as pm:
        pm.on("reload_failed", events)
        old = await pm.load(path, name="stable")
        original = path.read_text()
        path.write_text("#!/bin/sh\necho 'this build is broken' >&2\nexit 4\n")
        with pytest.raises(PluginStartError, match="this build is broken"):
            await pm.reload("stable")
        assert (await pm.llm("stable").generate([Message.user("still")])).text == "Echo: still"
        assert [(p.pid, p.state) for p in pm.plugins] == [(old.pid, "ready")]
        await events.wait_for("stable", "reload_failed")
        assert f"pid {old.pid}" in events.events[0].message
        path.write_text(original)


async def test_hot_reload_follows_a_new_executable_on_disk(py_plugin, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    path = py_plugin(starts=starts)
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("reloaded", events)
        old = await pm.load(path, name="watched", supervision={"hot_reload": True})
        # A new build lands (written in place, as a copy would).
        path.write_text(path.read_text() + "# v2\n")
        await events.wait_for("watched", "reloaded")
        [info] = pm.plugins
        assert info.pid != old.pid and len(lines(starts)) == 2
        assert (await pm.llm("watched").generate([Message.user("v2")])).text == "Echo: v2"
        await wait_gone(old.pid, timeout=10)


async def test_event_callbacks_may_be_async_and_one_that_raises_is_logged(
    py_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="hector_plugins.events")
    seen: list[str] = []

    async def slow(event: LifecycleEvent) -> None:
        await asyncio.sleep(0.01)
        seen.append(f"{event.plugin}:{event.event}")

    def broken(event: LifecycleEvent) -> None:
        raise RuntimeError("callback bug")

    async with PluginManager() as pm:
        pm.on("loaded", broken)
        pm.on("loaded", slow)
        pm.on("stopped", slow)
        with pytest.raises(ValueError, match="unknown lifecycle event 'load'"):
            pm.on("load", slow)
        await pm.load(py_plugin(), name="a")
    # Leaving the block delivered the stopped event before returning.
    assert seen == ["a:loaded", "a:stopped"]
    assert any("callback bug" in r.getMessage() or "callback bug" in str(r.exc_info) for r in caplog.records)


async def test_a_stateful_plugin_keeps_its_state_across_a_sigkill_and_a_reload(tmp_path: Path) -> None:
    script = ROOT / "tests" / "plugins" / "sdk" / "stateful.py"
    plugin = write_executable(tmp_path / "stateful", f'#!/bin/sh\nexec "{sys.executable}" "{script}"\n')
    policy = {**QUICK, "health": {"interval": 0.1, "timeout": 1.0}}
    events = Recorder()
    async with PluginManager() as pm:
        pm.on("*", events)
        first = await pm.load(plugin, name="counter", supervision=policy)
        llm = pm.llm("counter")
        for word in ("a", "b", "c"):
            await llm.generate([Message.user(word)])
        # The host keeps the state at each passed health check; wait for one after the third call.
        checks = pm.plugins[0].last_health_at or 0.0
        await wait_until(lambda: (pm.plugins[0].last_health_at or 0.0) > checks, timeout=5)
        os.kill(first.pid, signal.SIGKILL)
        await events.wait_for("counter", "restarted")
        assert (await llm.generate([Message.user("restored?")])).text == "restored from 3"
        assert (await llm.generate([Message.user("d")])).text == "4: d"
        # A reload takes the state of the old process as of the swap.
        before = pm.plugins[0].pid
        await pm.reload("counter")
        assert pm.plugins[0].pid != before
        assert (await llm.generate([Message.user("e")])).text == "5: e"
