"""Plugin output reaches Python logging with the plugin's level and fields."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from hector_plugins import Message, PluginManager


def wait_for(caplog: pytest.LogCaptureFixture, predicate, what: str) -> logging.LogRecord:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in caplog.records:
            if predicate(record):
                return record
        time.sleep(0.02)
    raise AssertionError(f"no log record {what}; got {[r.getMessage() for r in caplog.records][:20]}")


async def test_hclog_json_lines_keep_level_and_fields(go_plugin: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="go-logs", config={"greeting": "hello"})
        record = wait_for(caplog, lambda r: r.getMessage() == "echo-llm initialized", "'echo-llm initialized'")
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
        info = wait_for(caplog, lambda r: r.getMessage().startswith("initialized with"), "from [INFO] line")
        assert info.levelno == logging.INFO and info.name == "hector_plugins.plugin.py-logs"
        out = wait_for(caplog, lambda r: getattr(r, "plugin_stream", "") == "stdout", "from stdout")
        assert out.levelno == logging.DEBUG and out.getMessage().startswith("xxx")


async def test_go_plugin_stdio_stream_is_drained_and_logged(go_plugin: Path, caplog: pytest.LogCaptureFixture) -> None:
    # go-plugin redirects a plugin's stdout/stderr into its GRPCStdio stream and blocks the
    # writer when the host does not read it: this load would time out without the drain.
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="go-stdio", config={"flood_bytes": 300_000, "flood_target": "stdio"}, start_timeout=20)
        assert (await pm.llm("go-stdio").generate([Message.user("after flood")])).text == "Echo: after flood"
        wait_for(caplog, lambda r: getattr(r, "plugin_stream", "") == "grpc_stdio", "from the GRPCStdio stream")
