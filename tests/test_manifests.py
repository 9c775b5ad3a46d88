"""`<executable>.plugin.yaml` manifests are enforced before launch: type, hector_version,
required config keys, defaults, and capabilities (streaming: false is emulated)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hector_plugins import ConfigError, Message, PluginManager
from helpers import wait_for_log, write_manifest

MANIFEST = """\
plugin:
  name: py-llm
  version: 2.3.4
  type: {type}
  protocol: grpc
  hector_version: "{requirement}"
  config_schema: {{required: [api_key], optional: [model], defaults: {{model: tiny, stream_delay_ms: 0}}}}
  capabilities: {{streaming: {streaming}, tools: true}}
"""


def with_manifest(
    plugin: Path, type: str = "llm_provider", requirement: str = ">=0.1.0", streaming: str = "false"
) -> Path:
    write_manifest(plugin, MANIFEST.format(type=type, requirement=requirement, streaming=streaming))
    return plugin


async def test_defaults_capabilities_and_emulated_streaming(py_plugin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    plugin = with_manifest(py_plugin())
    async with PluginManager() as pm:
        info = await pm.load(plugin, name="m", config={"api_key": "k"})
        assert info.version == "2.3.4"
        assert info.capabilities == {"streaming": False, "tools": True}
        chunks = [c async for c in pm.llm("m").generate_stream([Message.user("a b c")])]
        # One text chunk from Generate, not the plugin's word-by-word stream.
        assert [(c.type, c.text) for c in chunks] == [("text", "Echo: a b c"), ("done", "")]
        assert chunks[-1].tokens_used == 4
    await wait_for_log(
        caplog,
        lambda r: "initialized with ['api_key', 'model', 'stream_delay_ms']" in r.getMessage(),
        "saying the defaults were sent with Initialize",
    )


async def test_plugins_that_stream_keep_streaming(py_plugin) -> None:
    plugin = with_manifest(py_plugin(), streaming="true")
    async with PluginManager() as pm:
        await pm.load(plugin, name="m", config={"api_key": "k"})
        chunks = [c async for c in pm.llm("m").generate_stream([Message.user("a b c")])]
        assert [c.text for c in chunks if c.type == "text"] == ["Echo: ", "a ", "b ", "c"]


@pytest.mark.parametrize(
    "manifest_options,config,expected",
    [
        ({}, {}, "required config key(s) missing: api_key"),
        ({"requirement": ">=99.0"}, {"api_key": "k"}, 'needs hector_version ">=99.0"'),
        (
            {"type": "database_provider"},
            {"api_key": "k"},
            "is a database_provider, but it is being loaded as an llm_provider",
        ),
        ({"requirement": "soon"}, {"api_key": "k"}, "not a semver requirement"),
        ({"type": "spaceship"}, {"api_key": "k"}, "unknown plugin type"),
    ],
)
async def test_manifest_violations_fail_before_launch(
    py_plugin, tmp_path: Path, manifest_options, config, expected
) -> None:
    pidfile = tmp_path / "pid"
    plugin = with_manifest(py_plugin(pidfile=pidfile), **manifest_options)
    with pytest.raises(ConfigError) as caught:
        await PluginManager().load(plugin, name="m", config=config)
    assert expected in str(caught.value)
    assert f"{plugin}.plugin.yaml" in str(caught.value)
    assert not pidfile.exists(), "nothing may be launched"


async def test_broken_manifest_yaml_names_the_file(py_plugin) -> None:
    plugin = py_plugin()
    write_manifest(plugin, "plugin: {name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"\.plugin\.yaml"):
        await PluginManager().load(plugin, name="m")


async def test_example_manifests_load(echo_plugin: Path) -> None:
    async with PluginManager() as pm:
        info = await pm.load(echo_plugin, name="e")
        assert info.version == "1.0.0" and info.capabilities["streaming"] is True
