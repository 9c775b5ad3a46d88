"""A plugin sees an allowlist of the host's variables plus its own (docs/security.md,
"Environment"): a host secret stays out, whatever the hostile plugin asks for."""

from __future__ import annotations

from pathlib import Path

import pytest
from hector_plugins import ConfigError, PluginManager

from .hostile import hostile_plugin, neighbour_answers, order


async def test_a_host_secret_is_not_in_a_plugins_environment(
    tmp_path: Path, rust_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    monkeypatch.setenv("LC_TEST_SECURITY", "kept")
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(tmp_path), name="hostile", env={"OWN": "mine"})
        assert await order(pm, "hostile", "env AWS_SECRET_ACCESS_KEY") == "<unset>"
        assert await order(pm, "hostile", "env OWN") == "mine"
        assert await order(pm, "hostile", "env LC_TEST_SECURITY") == "kept"
        assert await order(pm, "hostile", "env PATH") != "<unset>"
        await neighbour_answers(pm)


async def test_an_allowlist_and_a_grant_let_named_variables_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "granted-key")
    monkeypatch.setenv("APP_MODE", "fast")
    async with PluginManager({"plugin_security": {"env_allowlist": ["PATH", "APP_*"]}}) as pm:
        await pm.load(hostile_plugin(tmp_path), name="hostile", grants={"env": ["OPENAI_API_KEY"]})
        assert await order(pm, "hostile", "env APP_MODE") == "fast"
        assert await order(pm, "hostile", "env OPENAI_API_KEY") == "granted-key"
        assert await order(pm, "hostile", "env AWS_SECRET_ACCESS_KEY") == "<unset>"
        assert await order(pm, "hostile", "env HOME") == "<unset>"


def test_a_bad_allowlist_entry_names_its_key() -> None:
    with pytest.raises(ConfigError, match=r"plugin_security\.env_allowlist\[1\]"):
        PluginManager({"plugin_security": {"env_allowlist": ["PATH", "A=B"]}})
