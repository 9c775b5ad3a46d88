"""MCP servers as tool providers (docs/protocol.md §10), through real server processes: the rmcp
test server (tests/rmcp-server) and the Python `mcp` SDK example (examples/python-mcp), over
stdio and over streamable HTTP on loopback. `pm.tools()` behaves as for a gRPC tool provider;
the server's process lives and dies like any plugin's."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    PluginCallError,
    PluginCrashedError,
    PluginManager,
    PluginNotFoundError,
    PluginStartError,
    StartTimeoutError,
    ToolClient,
    ToolResult,
)
from helpers import NO_RESTART, cli, wait_for_log, wait_gone, wait_gone_sync, wait_until, wait_until_sync


def pids_marked(marker: str) -> list[int]:
    """Processes whose environment carries `HECTOR_TEST_MARK=<marker>`: what a test started,
    found without trusting the host to say."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if f"HECTOR_TEST_MARK={marker}".encode() in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def marker() -> tuple[str, dict[str, str]]:
    mark = uuid.uuid4().hex
    return mark, {"HECTOR_TEST_MARK": mark}


@pytest.fixture
async def rs(rmcp_server: Path) -> AsyncIterator[tuple[PluginManager, ToolClient]]:
    async with PluginManager() as pm:
        # Not restarted: a test crashes it to see the crash reported.
        await pm.load_mcp("rs", rmcp_server, supervision=NO_RESTART)
        yield pm, pm.tools("rs")


def parameters(tools: list, name: str) -> dict:
    [tool] = [t for t in tools if t.name == name]
    return json.loads(tool.parameters_json)


# Calls over stdio: the rmcp server.


async def test_a_stdio_server_lists_its_tools_with_their_schemas(rs: tuple[PluginManager, ToolClient]) -> None:
    pm, tools = rs
    [info] = pm.plugins
    assert (info.protocol, info.address, info.type, info.state) == ("mcp", "stdio", "tool_provider", "ready")
    assert info.pid > 0 and info.version, info
    listed = await tools.list_tools()
    names = {t.name for t in listed}
    assert {"add", "echo", "fail", "protocol_error", "slow", "crash", "image", "add_tool"} <= names, names
    schema = parameters(listed, "add")
    assert schema["type"] == "object" and set(schema["properties"]) == {"a", "b"}, schema
    assert next(t for t in listed if t.name == "add").description


async def test_a_call_returns_text_and_structured_output(rs: tuple[PluginManager, ToolClient]) -> None:
    _, tools = rs
    result = await tools.call("add", {"a": 2, "b": 40}, call_id="call-7")
    assert isinstance(result, ToolResult)
    assert result.success and not result.error, result
    assert json.loads(result.output_json) == {"sum": 42}
    assert json.loads(result.content) == {"sum": 42}  # rmcp also sends it as text
    assert result.call_id == "call-7"
    echoed = await tools.call("echo", '{"text": "hi there"}')  # arguments as JSON text work too
    assert (echoed.success, echoed.content, echoed.output_json) == (True, "hi there", "")


async def test_bad_arguments_and_tool_errors_are_answers_the_model_sees(rs: tuple[PluginManager, ToolClient]) -> None:
    _, tools = rs
    wrong_type = await tools.call("add", {"a": "two", "b": 1})
    assert not wrong_type.success and "failed to deserialize parameters" in wrong_type.error, wrong_type
    missing = await tools.call("add", {"a": 1})
    assert not missing.success and "missing field `b`" in missing.error, missing
    failed = await tools.call("fail", {"message": "disk full"})
    assert (failed.success, failed.error, failed.content) == (False, "disk full", "disk full")


async def test_protocol_errors_are_plugin_call_errors(rs: tuple[PluginManager, ToolClient]) -> None:
    _, tools = rs
    with pytest.raises(PluginCallError) as caught:
        await tools.call("protocol_error", {"message": "no such account"})
    error = caught.value
    assert (error.code, error.method, error.plugin) == ("INVALID_ARGUMENT", "tools/call", "rs")
    assert "no such account (MCP error -32602)" in str(error)
    with pytest.raises(PluginCallError, match=r"tool not found") as unknown:
        await tools.call("no_such_tool", {})
    assert unknown.value.code == "INVALID_ARGUMENT"
    # Arguments that are no JSON object never reach the server.
    with pytest.raises(ConfigError, match=r"object"):
        await tools.call("add", "[1, 2]")
    with pytest.raises(ConfigError, match=r"JSON"):
        await tools.call("add", "{not json")
    assert (await tools.call("add", {"a": 1, "b": 1})).success, "the server must still serve"


async def test_parts_other_than_text_are_kept_whole(rs: tuple[PluginManager, ToolClient]) -> None:
    _, tools = rs
    result = await tools.call("image", {})
    assert result.success
    lines = result.content.split("\n")
    assert lines[1] == "[image image/png]" and len(lines) == 3, result.content
    parts = json.loads(result.metadata["mcp.content"])
    assert [p["type"] for p in parts] == ["text", "image", "resource"]
    assert parts[1]["mimeType"] == "image/png" and parts[1]["data"]
    assert parts[2]["resource"]["text"] == lines[2]


async def test_a_changed_tool_list_is_listed_again(rs: tuple[PluginManager, ToolClient]) -> None:
    _, tools = rs
    before = {t.name for t in await tools.list_tools()}
    assert {t.name for t in await tools.list_tools()} == before  # served from the cache
    added = await tools.call("add_tool", {"name": "weather"})
    assert added.success, added
    # The server announced the change (notifications/tools/list_changed) before it answered.
    after = {t.name for t in await tools.list_tools()}
    assert after == before | {"weather"}, after
    echoed = await tools.call("weather", {"city": "Oslo"})
    assert echoed.success and json.loads(echoed.content) == {"city": "Oslo"}, echoed


async def test_a_call_past_its_timeout_is_cancelled_on_the_server(
    rs: tuple[PluginManager, ToolClient], caplog: pytest.LogCaptureFixture
) -> None:
    _, tools = rs
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    with pytest.raises(CallTimeoutError, match=r"tools/call .*no answer within 0\.300s") as caught:
        await tools.call("slow", {"ms": 60_000}, timeout=0.3)
    assert caught.value.method == "tools/call"
    await wait_for_log(caplog, lambda r: "slow cancelled" in r.getMessage(), "'slow cancelled'", timeout=10)
    task = asyncio.ensure_future(tools.call("slow", {"ms": 60_000}))
    await asyncio.sleep(0.2)
    caplog.clear()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_log(caplog, lambda r: "slow cancelled" in r.getMessage(), "'slow cancelled'", timeout=10)
    assert (await tools.call("add", {"a": 1, "b": 2})).success


async def test_a_server_that_crashes_mid_call_raises_crashed(rs: tuple[PluginManager, ToolClient]) -> None:
    pm, tools = rs
    [info] = pm.plugins
    with pytest.raises(PluginCrashedError) as caught:
        await asyncio.wait_for(tools.call("crash", {"code": 3}), 30)
    error = caught.value
    assert error.method == "tools/call" and "exit status 3" in str(error), error
    assert any("crashing with exit code 3" in line for line in error.stderr), error.stderr
    [after] = pm.plugins
    assert after.state == "crashed" and after.exit_code == 3
    with pytest.raises(PluginCrashedError):
        await tools.list_tools()
    await wait_gone(info.pid)
    restarted = await pm.restart("rs")
    assert restarted.state == "ready" and restarted.pid != info.pid
    assert (await tools.call("add", {"a": 1, "b": 2})).success, "a client made before the restart follows it"


async def test_stderr_goes_to_logging_and_stdout_garbage_is_skipped(
    rmcp_server: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load_mcp("noisy", rmcp_server, ["--garbage", "--stderr-lines", "3"])
        tools = pm.tools("noisy")
        assert (await tools.call("add", {"a": 2, "b": 3})).output_json == '{"sum":5}'
        assert {t.name for t in await tools.list_tools()} >= {"add", "echo"}

        def log_lines() -> list[str]:
            noisy = (r.getMessage() for r in caplog.records if r.name == "hector_plugins.plugin.noisy")
            return [message for message in noisy if "log line" in message]

        # Plugin output reaches logging on the core's own thread, maybe after the calls returned.
        await wait_until(lambda: len(log_lines()) >= 3, message=lambda: f"stderr lines logged: {log_lines()}")
        assert len(log_lines()) == 3, log_lines()
        # Nothing of stdout is logged: it is the protocol, garbage included.
        assert not any("noise" in r.getMessage() for r in caplog.records)


async def test_load_mcp_takes_a_log_budget_that_drops_what_exceeds_it(
    rmcp_server: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    budget = {"lines_per_second": 1, "burst_seconds": 1}
    async with PluginManager() as pm:
        await pm.load_mcp("chatty", rmcp_server, ["--stderr-lines", "50"], log_budget=budget)

        def logged() -> list[str]:
            chatty = (r.getMessage() for r in caplog.records if r.name == "hector_plugins.plugin.chatty")
            # The server's own lines, not the host's warning about the dropped ones.
            return [message for message in chatty if "rmcp-test-server: log line" in message]

        # The server wrote its 50 lines before answering initialize: the budget's burst holds one.
        # Each line is either logged or counted as dropped, and records reach logging later.
        await wait_until(
            lambda: pm.plugins[0].dropped_log_lines >= 45 and len(logged()) == 50 - pm.plugins[0].dropped_log_lines,
            message=lambda: f"{pm.plugins[0].dropped_log_lines} dropped, logged: {logged()}",
        )
        assert "log line 1 of 50" in logged()[0]
        assert (await pm.tools("chatty").call("add", {"a": 1, "b": 1})).output_json == '{"sum":2}'


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"url": "http://127.0.0.1:1/mcp", "log_budget": "unlimited"}, "a server at a url is no process"),
        ({"command": "x", "log_budget": {"lines_per_second": 0}}, "log_budget.lines_per_second"),
        ({"command": "x", "log_budget": "none"}, "log_budget"),
    ],
)
async def test_a_bad_log_budget_of_load_mcp_is_a_config_error(arguments: dict[str, Any], message: str) -> None:
    async with PluginManager() as pm:
        with pytest.raises(ConfigError, match=re.escape(message)):
            await pm.load_mcp("fs", **arguments)
        assert pm.plugins == []


# Start, stop and the process.


async def test_a_server_that_never_answers_initialize_is_killed_at_its_start_timeout(rmcp_server: Path) -> None:
    mark, env = marker()
    async with PluginManager() as pm:
        with pytest.raises(StartTimeoutError) as caught:
            await pm.load_mcp("mute", rmcp_server, ["--silent", "--ignore-stdin-close"], env=env, start_timeout=1)
        message = str(caught.value)
        assert 'plugin "mute" did not answer MCP initialize within 1s (its start_timeout)' in message, message
        assert "JSON-RPC on stdin and stdout" in message, message
        await wait_until(lambda: not pids_marked(mark), timeout=5, message="the silent server outlived its start")
        assert pm.plugins == []


async def test_a_command_that_is_not_there_is_refused_before_launch(tmp_path: Path) -> None:
    async with PluginManager() as pm:
        with pytest.raises(PluginStartError, match=r'command "no-such-mcp-server-xyz" not found on PATH'):
            await pm.load_mcp("gone", "no-such-mcp-server-xyz")
        with pytest.raises(PluginStartError, match=r"not found"):
            await pm.load_mcp("gone", tmp_path / "missing")
        with pytest.raises(ConfigError, match=r"exactly one of command .* and url"):
            await pm.load_mcp("neither")
        with pytest.raises(ConfigError, match=r"not an http:// or https:// URL"):
            await pm.load_mcp("bad", url="ftp://example")


async def test_a_server_that_exits_at_once_fails_its_start_with_its_stderr(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("import sys\nprint('config file missing', file=sys.stderr)\nsys.exit(4)\n")
    async with PluginManager() as pm:
        with pytest.raises(PluginStartError) as caught:
            await pm.load_mcp("broken", sys.executable, [str(script)], start_timeout=10)
    message = str(caught.value)
    assert "initialize handshake failed" in message and "config file missing" in message, message


async def test_stop_closes_stdin_then_kills_a_server_that_stays(rmcp_server: Path) -> None:
    pm = PluginManager()
    polite = await pm.load_mcp("polite", rmcp_server)
    stubborn = await pm.load_mcp("stubborn", rmcp_server, ["--ignore-stdin-close"], shutdown_grace=0.5)
    await pm.shutdown()
    by_name = {p.name: p for p in pm.plugins}
    assert (by_name["polite"].killed, by_name["polite"].exit_code) == (False, 0), by_name["polite"]
    assert by_name["stubborn"].killed is True, by_name["stubborn"]
    await wait_gone({"polite": polite.pid, "stubborn": stubborn.pid})


HOST = textwrap.dedent(
    """
    import asyncio, os, sys
    from hector_plugins import PluginManager

    async def main():
        pm = PluginManager()
        # The mark is no allowlisted variable: passed on explicitly (docs/security.md).
        mark = {"HECTOR_TEST_MARK": os.environ["HECTOR_TEST_MARK"]}
        info = await pm.load_mcp("fs", sys.argv[1], ["--ignore-stdin-close"], env=mark)
        print(info.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_a_sigkilled_host_leaves_no_server_behind(rmcp_server: Path) -> None:
    mark, env = marker()
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, str(rmcp_server)], stdout=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    try:
        server = int(host.stdout.readline())  # type: ignore[union-attr]
        assert server in pids_marked(mark)
        host.send_signal(signal.SIGKILL)
        host.wait()
        # The server ignores the end of its stdin: only its keeper can take it.
        wait_gone_sync({"MCP server": server}, timeout=5.0)
        wait_until_sync(lambda: pids_marked(mark) == [], timeout=5.0, message="a process of the host outlived it")
    finally:
        host.kill()
        host.wait()


# Streamable HTTP: the Python SDK's server on loopback.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(mcp_notes_server: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(mcp_notes_server), "--http", str(port)], stderr=subprocess.PIPE, text=True
    )
    try:

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        wait_until_sync(listening, timeout=30, message="the HTTP MCP server did not start")
        yield f"http://127.0.0.1:{port}/mcp", server
    finally:
        server.kill()
        server.wait()


async def test_a_server_over_streamable_http(http_server: tuple[str, subprocess.Popen[str]]) -> None:
    url, server = http_server
    async with PluginManager() as pm:
        info = await pm.load_mcp("notes", url=url)
        assert (info.protocol, info.address, info.pid, info.path) == ("mcp", url, 0, url)
        tools = pm.tools("notes")
        assert {"add", "add_note", "search_notes", "fail", "slow"} <= {t.name for t in await tools.list_tools()}
        added = await tools.call("add", {"a": 1.5, "b": 2})
        assert added.success and json.loads(added.output_json) == {"result": 3.5}, added
        await tools.call("add_note", {"title": "groceries", "text": "milk and eggs"})
        found = await tools.call("search_notes", {"query": "EGGS"})
        assert found.content == "groceries", found
        failed = await tools.call("fail", {"message": "quota"})
        assert not failed.success and "quota" in failed.error, failed
        assert (await tools.health()).healthy
    # Stopping the host ends its session, never the server it did not start.
    assert server.poll() is None


async def test_a_http_server_that_goes_away_fails_calls_clearly(
    http_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, server = http_server
    async with PluginManager() as pm:
        await pm.load_mcp("notes", url=url, call_timeout=10)
        tools = pm.tools("notes")
        assert (await tools.call("add", {"a": 1, "b": 1})).success
        server.kill()
        server.wait()
        with pytest.raises((PluginCrashedError, PluginCallError)) as caught:
            await tools.call("add", {"a": 1, "b": 1})
        assert '"notes"' in str(caught.value) and caught.value.method == "tools/call", caught.value


async def test_an_unreachable_url_fails_the_start() -> None:
    async with PluginManager() as pm:
        with pytest.raises(PluginStartError, match=r"MCP initialize handshake failed"):
            await pm.load_mcp("nowhere", url=f"http://127.0.0.1:{free_port()}/mcp", start_timeout=10)


# The Python SDK's server over stdio, and the same client as for gRPC tool providers.


async def test_the_python_sdk_server_over_stdio(mcp_notes_server: Path) -> None:
    async with PluginManager() as pm:
        await pm.load_mcp("notes", sys.executable, [str(mcp_notes_server)])
        tools = pm.tools("notes")
        result = await tools.call("add", {"a": 2, "b": 3})
        assert result.success and json.loads(result.output_json) == {"result": 5.0}, result
        unknown = await tools.call("nope", {})  # this SDK answers an unknown tool in band
        assert not unknown.success and "Unknown tool" in unknown.error, unknown


@pytest.mark.parametrize("kind", ["grpc", "mcp"])
async def test_the_tool_client_behaves_the_same_for_grpc_and_mcp(kind: str, request: pytest.FixtureRequest) -> None:
    async with PluginManager() as pm:
        if kind == "grpc":
            await pm.load(request.getfixturevalue("tools_plugin"), name="t", type="tool_provider")
            good, bad = ("calculator", {"expression": "2+3"}), ("calculator", {"expression": "2+"})
        else:
            await pm.load_mcp("t", request.getfixturevalue("rmcp_server"))
            good, bad = ("add", {"a": 2, "b": 3}), ("fail", {"message": "no"})
        tools = pm.tools("t")
        assert all(t.name and t.parameters_json.startswith("{") for t in await tools.list_tools())
        result = await tools.call(*good, call_id="x")
        assert result.success and "5" in result.content and result.call_id == "x", result
        failed = await tools.call(*bad)
        assert not failed.success and failed.error, failed
        items = [item async for item in tools.call_stream(*good)]
        assert items[-1].done and items[-1].result is not None and items[-1].result.success, items
        assert (await tools.health()).healthy
        with pytest.raises(PluginCallError):
            await tools.call("no_such_tool", {})


async def test_raw_calls_are_refused_with_the_way_to_call_it(rs: tuple[PluginManager, ToolClient]) -> None:
    pm, _ = rs
    with pytest.raises(ConfigError, match=r'"rs" is an MCP server: .* call its tools with pm.tools\("rs"\)'):
        pm.raw("rs")
    with pytest.raises(
        PluginNotFoundError, match=r"no llm_provider plugin named \"rs\" is loaded: \"rs\" is a tool_provider"
    ):
        pm.llm("rs")


# hector.yaml and the command line.


def write_config(tmp_path: Path, entries: str) -> Path:
    config = tmp_path / "hector.yaml"
    config.write_text("plugins:\n  tool_providers:\n" + textwrap.indent(textwrap.dedent(entries), "    "))
    return config


async def test_mcp_servers_from_hector_yaml(
    tmp_path: Path, rmcp_server: Path, mcp_notes_server: Path, tools_plugin: Path
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "server").symlink_to(rmcp_server)
    config = write_config(
        tmp_path,
        f"""
        rs: {{type: mcp, command: ./bin/server, args: [--stderr-lines, "1"], start_timeout: 20}}
        notes: {{type: mcp, command: {sys.executable}, args: [{mcp_notes_server}], env: {{NOTES_MODE: test}}}}
        calc: {{path: {tools_plugin}}}
        """,
    )
    async with PluginManager(config) as pm:
        reports = await pm.load_all(strict=True)
        assert {r.name for r in reports} == {"rs", "notes", "calc"}
        protocols = {p.name: p.protocol for p in pm.plugins}
        assert protocols == {"rs": "mcp", "notes": "mcp", "calc": "grpc"}
        assert (await pm.tools("rs").call("add", {"a": 1, "b": 2})).output_json == '{"sum":3}'
        assert (await pm.tools("notes").call("add", {"a": 1, "b": 2})).success
        entries = {e.name: e for e in pm.validate()}
        assert entries["rs"].entry == "mcp" and entries["rs"].path.endswith("bin/server --stderr-lines 1")
        assert entries["calc"].entry == "plugin"


@pytest.mark.parametrize(
    ("entry", "section", "key", "message"),
    [
        ("{type: mcp, command: x, url: 'http://127.0.0.1:1/mcp'}", "tool_providers", "fs", "not both"),
        ("{type: mcp}", "tool_providers", "fs", "needs `command`"),
        ("{type: mcp, url: 'http://127.0.0.1:1/mcp', args: [a]}", "tool_providers", "fs.args", "go with `command`"),
        ("{type: mcp, command: x, config: {a: 1}}", "tool_providers", "fs.config", "has no Initialize"),
        ("{type: mcp, command: x, path: ./p}", "tool_providers", "fs.path", "started from `command`"),
        ("{type: mcp, command: x, magic_cookie_key: K}", "tool_providers", "fs.magic_cookie_key", "no go-plugin"),
        ("{type: mcp, command: x}", "llm_providers", "fs.type", "configure it under plugins.tool_providers"),
        ("{path: ./p, command: x}", "tool_providers", "fs.command", "add `type: mcp`"),
        ("{type: builtin, url: 'http://h/mcp'}", "tool_providers", "fs.url", "configured in code"),
        ("{type: mcpp, command: x}", "tool_providers", "fs.type", 'or "mcp"'),
    ],
)
def test_bad_mcp_entries_name_the_key(tmp_path: Path, entry: str, section: str, key: str, message: str) -> None:
    config = tmp_path / "hector.yaml"
    config.write_text(f"plugins:\n  {section}:\n    fs: {entry}\n")
    with pytest.raises(ConfigError) as caught:
        PluginManager(config)
    text = str(caught.value)
    assert f"plugins.{section}.{key}" in text and message in text, text


def test_the_cli_lists_inspects_and_calls_an_mcp_server(tmp_path: Path, rmcp_server: Path) -> None:
    config = write_config(tmp_path, f"fs: {{type: mcp, command: {rmcp_server}, args: [--stderr-lines, '1']}}\n")
    listed = cli("-c", str(config), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["entry"], row["path"]) == ("mcp", f"{rmcp_server} --stderr-lines 1"), row
    assert cli("-c", str(config), "validate").returncode == 0
    inspected = cli("-c", str(config), "inspect", "fs", "--json")
    assert inspected.returncode == 0, inspected.stderr
    shown = json.loads(inspected.stdout)
    assert shown["protocol"] == "mcp" and "add" in shown["tools"] and shown["health"]["healthy"], shown
    called = cli("-c", str(config), "call", "fs", "call_tool", "add", '{"a": 20, "b": 22}', "--json")
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["output"] == {"sum": 42}, called.stdout
    failed = cli("-c", str(config), "call", "fs", "call_tool", "fail", '{"message": "nope"}')
    assert failed.returncode == 1 and "nope" in failed.stdout + failed.stderr, failed

    (tmp_path / "m").mkdir()
    missing = write_config(tmp_path / "m", "fs: {type: mcp, command: no-such-mcp-server-xyz}\n")
    checked = cli("-c", str(missing), "validate")
    assert checked.returncode == 1 and "not found on PATH" in checked.stdout + checked.stderr, checked
