"""Plugin output reaches Python logging with the plugin's level and fields."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from hector_plugins import Message, PluginManager, PluginStartError
from helpers import KV, wait_for_log, wait_until, write_executable


async def test_hclog_json_lines_keep_level_and_fields(go_plugin: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="go-logs", config={"greeting": "hello"})
        record = await wait_for_log(
            caplog, lambda r: r.getMessage() == "echo-llm initialized", "'echo-llm initialized'"
        )
    assert record.name == "hector_plugins.plugin.go-logs"
    assert record.levelno == logging.INFO
    assert record.plugin == "go-logs"
    assert "greeting" in record.plugin_fields["config_keys"]
    assert record.plugin_timestamp and record.plugin_stream == "stderr"


async def test_bracket_levels_and_stdout_after_handshake(py_plugin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(py_plugin(flood="2048"), name="py-logs")
        await pm.llm("py-logs").generate([Message.user("x")])
        info = await wait_for_log(caplog, lambda r: r.getMessage().startswith("initialized with"), "from [INFO] line")
        assert info.levelno == logging.INFO and info.name == "hector_plugins.plugin.py-logs"
        out = await wait_for_log(caplog, lambda r: getattr(r, "plugin_stream", "") == "stdout", "from stdout")
        assert out.levelno == logging.DEBUG and out.getMessage().startswith("xxx")


async def test_go_plugin_stdio_stream_is_drained_and_logged(go_plugin: Path, caplog: pytest.LogCaptureFixture) -> None:
    # go-plugin redirects a plugin's stdout/stderr into its GRPCStdio stream and blocks the
    # writer when the host does not read it: this load would time out without the drain.
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(
            go_plugin, name="go-stdio", config={"flood_bytes": 300_000, "flood_target": "stdio"}, start_timeout=20
        )
        assert (await pm.llm("go-stdio").generate([Message.user("after flood")])).text == "Echo: after flood"
        await wait_for_log(
            caplog, lambda r: getattr(r, "plugin_stream", "") == "grpc_stdio", "from the GRPCStdio stream"
        )


SHOWN = "LC_HOST_MARKER,HOST_ONLY_MARKER,OVERRIDDEN,EXPLICIT,HECTOR_PLUGIN,PLUGIN_PROTOCOL_VERSIONS,PLUGIN_MIN_PORT,PLUGIN_MAX_PORT,PLUGIN_UNIX_SOCKET_DIR"


async def plugin_env(
    pm: PluginManager, plugin: Path, caplog: pytest.LogCaptureFixture, name: str, **options
) -> dict[str, str]:
    await pm.load(plugin, name=name, env={"EXPLICIT": "yes", "OVERRIDDEN": "explicit"}, **options)
    env: dict[str, str] = {}
    for key in SHOWN.split(","):
        record = await wait_for_log(
            caplog, lambda r, k=key: r.name.endswith(name) and r.getMessage().startswith(f"env {k}="), key
        )
        env[key] = record.getMessage().split("=", 1)[1]
    return env


async def test_plugin_environment_inherited_explicit_and_clean(
    py_plugin, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    # An allowlisted variable (LC_*) passes; another host variable does not (docs/security.md).
    monkeypatch.setenv("LC_HOST_MARKER", "from-host")
    monkeypatch.setenv("HOST_ONLY_MARKER", "not-for-plugins")
    monkeypatch.setenv("OVERRIDDEN", "inherited")
    plugin = py_plugin(show_env=SHOWN)
    async with PluginManager() as pm:
        inherited = await plugin_env(pm, plugin, caplog, "inherits")
        clean = await plugin_env(pm, plugin, caplog, "clean", clean_env=True, protocol_versions=[1, 2])
    assert inherited["LC_HOST_MARKER"] == "from-host"
    assert inherited["HOST_ONLY_MARKER"] == "<unset>", "only allowlisted host variables reach a plugin"
    assert inherited["OVERRIDDEN"] == "explicit", "explicit per-plugin env wins over inherited variables"
    assert inherited["EXPLICIT"] == "yes"
    assert inherited["HECTOR_PLUGIN"] == "hector_plugin_v1"
    assert (inherited["PLUGIN_MIN_PORT"], inherited["PLUGIN_MAX_PORT"]) == ("10000", "25000")
    assert clean["LC_HOST_MARKER"] == "<unset>" and clean["HOST_ONLY_MARKER"] == "<unset>"
    assert clean["EXPLICIT"] == "yes" and clean["HECTOR_PLUGIN"] == "hector_plugin_v1"
    assert clean["PLUGIN_PROTOCOL_VERSIONS"] == "1,2"
    sock_dir = Path(clean["PLUGIN_UNIX_SOCKET_DIR"])
    assert not await asyncio.to_thread(sock_dir.exists), "the private socket directory is removed at shutdown"


async def test_untagged_stderr_is_a_warning_and_a_traceback_an_error(
    py_plugin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Default logging shows WARNING and above: what a plugin writes without a level must be seen.
    caplog.set_level(logging.WARNING, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(py_plugin(stderr="could not read ~/.plugin-cache, using defaults"), name="plain")
        plain = await wait_for_log(caplog, lambda r: "could not read" in r.getMessage(), "for the untagged line")
        assert plain.levelno == logging.WARNING and plain.name == "hector_plugins.plugin.plain"

        # A real Python traceback: every line of it is an error.
        crashing = write_executable(tmp_path / "crashing", f"#!{sys.executable}\nimport json\njson.loads('not json')\n")
        with pytest.raises(PluginStartError, match="JSONDecodeError"):
            await pm.load(crashing, name="crashing")
        last = await wait_for_log(
            caplog, lambda r: r.getMessage().startswith("json.decoder.JSONDecodeError"), "the traceback"
        )
        first = await wait_for_log(
            caplog, lambda r: r.getMessage() == "Traceback (most recent call last):", "its first line"
        )
        assert first.levelno == last.levelno == logging.ERROR


async def test_a_level_raised_while_a_plugin_logs_takes_effect_at_once(
    kv_plugin: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forwarder caches each plugin logger's level to drop disabled records without the GIL;
    raising the level must clear that cache at once, not after it expires."""
    from google.protobuf import wrappers_pb2
    from hector_plugins import _logging

    asked: list[str] = []
    emit = _logging.emit

    def spy(records: list[_logging.Record]) -> dict[str, int]:
        asked.extend(record[0] for record in records)
        return emit(records)

    monkeypatch.setattr(_logging, "emit", spy)
    caplog.set_level(logging.WARNING, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(kv_plugin, name="kv-levels", protocol_versions=[3], **KV)
        # Its INFO start-up lines reached Python, which answered WARNING: the forwarder caches it.
        await wait_until(lambda: "kv-levels" in asked, timeout=10, message="no record of the plugin reached Python")
        caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
        echo = wrappers_pb2.BytesValue(value=b"a").SerializeToString()
        assert [r async for r in pm.raw("kv-levels").bidi_stream("/kv.KV/Echo", [echo])] == [echo]
        await wait_for_log(caplog, lambda r: r.getMessage() == "echo ended", "'echo ended' at INFO")
