"""Dependencies between plugins and lazy start (docs/supervision.md): ``load_all`` starts
plugins after what they depend on and shutdown stops them in reverse; a failed required
dependency fails its dependents by name; cycles and unknown names are configuration errors; a
lazy plugin starts on its first call, once however many calls arrive together."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import ConfigError, Message, PluginManager, PluginStartError
from helpers import write_executable


def llm_entry(path: Path, **settings: Any) -> dict[str, Any]:
    return {"path": str(path), **settings}


def config(entries: dict[str, dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {"plugins": {"llm_providers": entries}, **top}


def lines(path: Path) -> list[str]:
    return path.read_text().split("\n")[:-1] if path.exists() else []


async def test_a_dependency_chain_starts_in_order_and_stops_in_reverse(py_plugin, tmp_path: Path) -> None:
    starts, marks = tmp_path / "starts", tmp_path / "marks"
    # Each sleeps before its handshake, so a start out of order would show in the file.
    make = lambda: py_plugin(starts=starts, shutdown_mark=marks, sleep=0.3)  # noqa: E731
    entries = {
        "top": llm_entry(make(), depends_on=["middle"]),
        "middle": llm_entry(make(), depends_on=["base"]),
        "base": llm_entry(make()),
        "loner": llm_entry(make()),
    }
    async with PluginManager(config(entries)) as pm:
        reports = await pm.load_all(strict=True)
        assert {r.name for r in reports} == {"top", "middle", "base", "loner"}
        pids = {p.pid: p.name for p in pm.plugins}
        started = [pids[int(pid)] for pid in lines(starts)]
        assert [n for n in started if n != "loner"] == ["base", "middle", "top"], started
        # The independent plugin started alongside the first, not after the chain.
        assert started.index("loner") < started.index("top"), started
    stopped = [pids[int(line.split()[1])] for line in lines(marks) if line.startswith("shutdown")]
    assert [n for n in stopped if n != "loner"] == ["top", "middle", "base"], stopped


async def test_a_failed_required_dependency_fails_its_dependents_by_name(py_plugin, tmp_path: Path) -> None:
    entries = {
        "broken": llm_entry(py_plugin(exit=3)),
        "needs": llm_entry(py_plugin(), depends_on=["broken"]),
        "wants": llm_entry(py_plugin(), optional_depends_on=["broken"]),
    }
    async with PluginManager(config(entries)) as pm:
        reports = {r.name: r for r in await pm.load_all()}
        assert not reports["broken"].ok and not reports["needs"].ok and reports["wants"].ok
        assert isinstance(reports["needs"].error, PluginStartError)
        assert 'its required dependency "broken" is not available' in str(reports["needs"].error)
        assert sorted(p.name for p in pm.plugins) == ["wants"]


@pytest.mark.parametrize(
    ("entries", "message", "key"),
    [
        (
            {"a": {"depends_on": ["b"]}, "b": {"depends_on": ["a"]}},
            "plugin dependencies form a cycle: a -> b -> a",
            None,
        ),
        (
            {"a": {"depends_on": ["ghost"]}},
            'no plugin named "ghost" is configured',
            "plugins.llm_providers.a.depends_on",
        ),
        (
            {"a": {"optional_depends_on": ["a"]}},
            "cannot depend on itself",
            "plugins.llm_providers.a.optional_depends_on",
        ),
        ({"a": {"restart": {"while_restarting": "maybe"}}}, 'must be "wait" or "fail"', None),
        ({"a": {"health": {"failure_threshold": 0}}}, "failure_threshold: must be at least 1", None),
        ({"a": {"health": {"every": 3}}}, "every", None),
    ],
)
async def test_bad_supervision_settings_are_configuration_errors(
    py_plugin, entries: dict[str, dict[str, Any]], message: str, key: str | None
) -> None:
    path = py_plugin()
    with pytest.raises(ConfigError, match=message) as caught:
        PluginManager(config({name: llm_entry(path, **settings) for name, settings in entries.items()}))
    if key is not None:
        assert caught.value.key == key


async def test_supervision_defaults_apply_to_every_entry_and_entries_override_them(py_plugin) -> None:
    path = py_plugin()
    with pytest.raises(ConfigError, match=r"supervision\.restart\.backoff_max: backoff_max \(1\.0s\) must be at least"):
        PluginManager(config({"a": llm_entry(path)}, supervision={"restart": {"backoff_initial": 5, "backoff_max": 1}}))
    lazy_by_default = config({"a": llm_entry(path), "b": llm_entry(path, lazy=False)}, supervision={"lazy": True})
    async with PluginManager(lazy_by_default) as pm:
        await pm.load_all(strict=True)
        assert sorted((p.name, p.state) for p in pm.plugins) == [("a", "not_started"), ("b", "ready")]


async def test_a_lazy_plugin_starts_once_under_100_concurrent_first_calls(py_plugin, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    entries = {"sleepy": llm_entry(py_plugin(starts=starts, sleep=0.3), lazy=True)}
    async with PluginManager(config(entries)) as pm:
        [report] = await pm.load_all(strict=True)
        assert report.ok and report.plugin is None
        [info] = pm.plugins
        assert (info.state, info.pid) == ("not_started", 0)
        assert not starts.exists()
        llm = pm.llm("sleepy")
        answers = await asyncio.gather(*(llm.generate([Message.user(f"m{i}")]) for i in range(100)))
        assert [a.text for a in answers] == [f"Echo: m{i}" for i in range(100)]
        assert len(lines(starts)) == 1
        [info] = pm.plugins
        assert info.state == "ready" and info.calls == 100


async def test_a_lazy_plugin_that_fails_to_start_fails_its_first_calls_and_tries_again(
    py_plugin, tmp_path: Path
) -> None:
    attempts = tmp_path / "attempts"
    doomed = py_plugin(exit=5)
    counted = write_executable(tmp_path / "counted", f"#!/bin/sh\necho start >> '{attempts}'\nexec '{doomed}'\n")
    async with PluginManager(config({"doomed": llm_entry(counted, lazy=True)})) as pm:
        await pm.load_all(strict=True)
        llm = pm.llm("doomed")
        # Calls that arrive together share one start, and its failure.
        failures = await asyncio.gather(*(llm.generate([Message.user("x")]) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(f, PluginStartError) and "exit status 5" in str(f) for f in failures), failures
        assert len(lines(attempts)) == 1
        [info] = pm.plugins
        assert info.state == "not_started" and "exit status 5" in (info.reason or "")
        # No process had them, yet they are the name's calls, and failed.
        assert (info.calls, info.failures) == (5, 5) and "exit status 5" in (info.last_error or "")
        # The next call tries again.
        with pytest.raises(PluginStartError, match="exit status 5"):
            await llm.generate([Message.user("x")])
        assert len(lines(attempts)) == 2
