"""Aliases (a plugin again, under another name, with config overrides) and fallback chains
(the first ready member serves)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hector_plugins import Message, PluginClosedError, PluginCrashedError, PluginManager, PluginStartError
from helpers import wait_for_log, wait_until


def chain_config(primary: Path, backup: Path, **primary_options: object) -> dict:
    return {
        "plugins": {
            "llm_providers": {
                "primary": {"path": str(primary), **primary_options},
                "backup": {"path": str(backup)},
                "resilient": {"fallbacks": ["primary", "backup"]},
            }
        }
    }


async def test_first_member_fails_at_start_and_the_second_serves(py_plugin, rust_plugin: Path) -> None:
    broken = py_plugin(exit="3", stderr="primary: cannot reach the model server")
    async with PluginManager(chain_config(broken, rust_plugin)) as pm:
        report = {r.name: r for r in await pm.load_all()}
        assert not report["primary"].ok
        assert "cannot reach the model server" in str(report["primary"].error)
        assert report["resilient"].ok and report["resilient"].plugin.name == "backup"
        assert (await pm.llm("resilient").generate([Message.user("hi")])).text == "Echo: hi"


async def test_a_member_that_crashes_later_hands_over_to_the_next(py_plugin, rust_plugin: Path) -> None:
    # The primary's restart takes a second: meanwhile the chain goes to the backup at once.
    slow_restart = {"restart": {"backoff_initial": 1.0, "backoff_max": 1.0}}
    async with PluginManager(chain_config(py_plugin(), rust_plugin, **slow_restart)) as pm:
        await pm.load_all(strict=True)
        llm = pm.llm("resilient")
        assert llm.name == "resilient"
        assert (await llm.generate([Message.user("one")])).text == "Echo: one"  # primary (Python)
        with pytest.raises(PluginCrashedError):
            await llm.generate([Message.user("crash")])  # primary dies during this call
        assert (await llm.generate([Message.user("two")])).text == "Echo: two"  # backup (Rust)
        chunks = [c.text async for c in llm.generate_stream([Message.user("a b")]) if c.type == "text"]
        assert chunks == ["Echo: ", "a ", "b"]
        states = {p.name: p.state for p in pm.plugins}
        assert states == {"primary": "restarting", "backup": "ready"}
        # Restarted, the primary serves the chain again.
        await wait_until(lambda: {p.name: p.state for p in pm.plugins}["primary"] == "ready", timeout=10)
        calls = {p.name: p.calls for p in pm.plugins}
        assert (await llm.generate([Message.user("three")])).text == "Echo: three"
        assert {p.name: p.calls for p in pm.plugins} == {**calls, "primary": calls["primary"] + 1}


async def test_a_chain_with_no_ready_member_says_why(py_plugin, tmp_path: Path) -> None:
    config = chain_config(tmp_path / "missing-a", tmp_path / "missing-b")
    async with PluginManager(config) as pm:
        report = {r.name: r for r in await pm.load_all()}
        assert not report["resilient"].ok
        message = str(report["resilient"].error)
        assert "primary is not loaded" in message and "backup is not loaded" in message
        with pytest.raises(PluginClosedError):
            pm.llm("resilient")
        with pytest.raises(PluginStartError):
            await pm.load_all(strict=True)


async def test_alias_is_the_same_plugin_with_config_overrides(py_plugin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    config = {
        "plugins": {
            "llm_providers": {
                "base": {"path": str(py_plugin()), "config": {"model": "small", "region": "eu"}},
                "big": {"alias": "base", "config": {"model": "big"}},
                "bigger": {"alias": "big", "config": {"stream_delay_ms": 0}},
            }
        }
    }
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True, only=["bigger"])
        assert [p.name for p in pm.plugins] == ["bigger"]
        assert (await pm.llm("bigger").generate([Message.user("alias")])).text == "Echo: alias"
    await wait_for_log(
        caplog,
        lambda r: r.name.endswith(".bigger") and "['model', 'region', 'stream_delay_ms']" in r.getMessage(),
        "saying bigger was initialized with the merged config",
    )
