"""A manifest's permissions against hector.yaml's grants (docs/security.md, "Permissions and
grants"): a plugin that asks for more than it is granted is refused at load with the difference
listed, before anything runs, and `hector-plugins validate` shows it; what is granted is what
its sandbox allows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hector_plugins import ConfigError, PluginManager, PluginStartError
from helpers import cli, write_executable, write_manifest

from .hostile import PYTHON_READ_ONLY, hostile_plugin, order

MANIFEST = """plugin:
  name: hostile
  version: 1.0.0
  type: llm_provider
  protocol: grpc
  permissions:
    read: [data]
    tcp_connect: [443]
    env: [OPENAI_API_KEY]
"""


def config_text(plugin: Path, grants: str) -> str:
    return f"plugins:\n  llm_providers:\n    hostile:\n      path: {plugin}\n      grants: {grants}\n"


async def test_asking_for_more_than_granted_is_refused_with_the_difference(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    plugin = write_executable(tmp_path / "hostile", f"#!/bin/sh\ntouch {ran}\nexit 1\n")
    write_manifest(plugin, MANIFEST)
    config = tmp_path / "hector.yaml"
    config.write_text(config_text(plugin, "{read: [data], env: [OTHER]}"))
    async with PluginManager(config) as pm:
        with pytest.raises(PluginStartError) as refused:
            await pm.load_all(strict=True)
        assert "asks for permissions its configuration does not grant: tcp_connect 443, env OPENAI_API_KEY" in str(
            refused.value
        ), refused.value
        assert "read" not in str(refused.value).split("does not grant:")[1].split(".")[0]
    assert not ran.exists(), "nothing ran"

    validated = cli("-c", str(config), "validate", "--json")
    assert validated.returncode == 1
    report = json.dumps(json.loads(validated.stdout))
    assert "tcp_connect 443, env OPENAI_API_KEY" in report, report


async def test_what_is_granted_is_what_the_sandbox_allows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "granted")
    data = tmp_path / "bin" / "data"
    data.mkdir(parents=True)
    (data / "model.txt").write_text("weights\n")
    (tmp_path / "other.txt").write_text("not granted\n")
    plugin = hostile_plugin(tmp_path / "bin")
    write_manifest(plugin, MANIFEST)
    config = {
        "plugins": {
            "llm_providers": {
                "hostile": {
                    "path": str(plugin),
                    "grants": {"read": [str(data)], "tcp_connect": [443], "env": ["OPENAI_API_KEY"]},
                    "security": {"sandbox": {"read_only": PYTHON_READ_ONLY}},
                }
            }
        }
    }
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True)
        assert await order(pm, "hostile", f"read {data / 'model.txt'}") == "weights"
        assert "Permission denied" in await order(pm, "hostile", f"read {tmp_path / 'other.txt'}")
        assert await order(pm, "hostile", "env OPENAI_API_KEY") == "granted"


def test_a_grant_of_the_wrong_shape_names_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"plugins\.llm_providers\.x\.grants"):
        PluginManager({"plugins": {"llm_providers": {"x": {"path": "/bin/true", "grants": {"paths": ["/"]}}}}})
