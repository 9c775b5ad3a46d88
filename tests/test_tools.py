"""Tool providers: the Go example (hashicorp/go-plugin) through ToolClient, every RPC and each
error path, and an in-process provider through the same client."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    PluginCallError,
    PluginCrashedError,
    PluginError,
    PluginManager,
    PluginTypeError,
    ToolDefinition,
    ToolProgress,
    ToolProvider,
    ToolResult,
)
from hector_plugins._core import ToolClient


async def load(pm: PluginManager, plugin: Path, **config: str) -> ToolClient:
    await pm.load(plugin, name="tools", type="tool_provider", config=config)
    return pm.tools("tools")


async def still_serving(tools: ToolClient) -> None:
    result = await tools.call("calculator", {"expression": "1 + 1"})
    assert result.success and result.content == "2"


async def test_lists_tools_and_runs_the_calculator(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin)
        listed = await tools.list_tools()
        assert all(isinstance(t, ToolDefinition) for t in listed)
        assert [t.name for t in listed] == ["calculator", "read_file", "slow"]
        calculator = listed[0]
        assert calculator.parameters["required"] == ["expression"]

        result = await tools.call("calculator", {"expression": "2 * (3 + 4) ^ 2 - 10 % 4"}, call_id="c1")
        assert isinstance(result, ToolResult) and result
        assert (result.content, result.output, result.call_id) == ("96", {"value": 96}, "c1")
        assert result.duration_ms >= 0
        # Arguments as JSON text, as a model produces them.
        assert (await tools.call("calculator", '{"expression": "-1.5 * 2"}')).content == "-3"
        assert (await tools.health()).healthy


async def test_a_tool_failure_is_a_result_not_an_exception(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin)
        for expression, error in [("1 / 0", "division by zero"), ("__import__('os')", "unexpected"), ("2 +", "end")]:
            result = await tools.call("calculator", {"expression": expression}, call_id="x")
            assert not result.success and not result, expression
            assert error in result.error and result.call_id == "x"
        await still_serving(tools)


async def test_unknown_tool_and_bad_arguments_from_the_plugin_are_grpc_errors(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin)
        with pytest.raises(PluginCallError, match="no tool named") as unknown:
            await tools.call("teleport", {})
        assert (unknown.value.code, unknown.value.method) == ("NOT_FOUND", "ExecuteTool")
        await still_serving(tools)


async def test_arguments_that_are_not_a_json_object_are_refused_before_any_call(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin)
        with pytest.raises(ConfigError, match="not valid JSON"):
            await tools.call("calculator", "{expression: 1}")
        with pytest.raises(ConfigError, match="must be a JSON object, not an array"):
            await tools.call("calculator", "[1, 2]")
        with pytest.raises(PluginTypeError, match="not JSON-serializable"):
            await tools.call("calculator", {"expression": object()})
        with pytest.raises(PluginTypeError, match="must be a dict or a JSON object as str"):
            await tools.call("calculator", 42)  # type: ignore[arg-type]
        with pytest.raises(PluginTypeError):
            tools.call_stream("calculator", [1])  # type: ignore[arg-type]
        await still_serving(tools)


async def test_read_file_stays_under_its_root(tools_plugin: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "link-out")
    os.symlink(root / "docs" / "a.txt", root / "link-in")
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin, root=str(root))
        assert (await tools.call("read_file", {"path": "docs/a.txt"})).content == "inside"
        assert (await tools.call("read_file", {"path": "link-in"})).content == "inside"
        refused = {
            "../secret.txt": "escapes the root (..)",
            "docs/../../secret.txt": "escapes the root (..)",
            str(tmp_path / "secret.txt"): "is absolute",
            "link-out": "escapes the root (through a symlink)",
            "missing.txt": "no file",
        }
        for path, reason in refused.items():
            result = await tools.call("read_file", {"path": path})
            assert not result.success and reason in result.error, (path, result.error)
            assert "outside" not in result.content
        await still_serving(tools)


async def test_streaming_reports_progress_then_the_result(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin)
        items = [p async for p in tools.call_stream("slow", {"seconds": 0.2, "steps": 4}, call_id="s")]
        assert all(isinstance(p, ToolProgress) for p in items)
        progress, last = items[:-1], items[-1]
        assert [p.message for p in progress] == [f"step {i} of 4" for i in range(1, 5)]
        assert [p.fraction for p in progress] == [0.25, 0.5, 0.75, 1.0]
        assert "".join(p.partial_content for p in progress) == "step 1\nstep 2\nstep 3\nstep 4\n"
        assert not any(p.done for p in progress)
        assert last.done and last.result is not None and last.result.success and last.result.call_id == "s"
        # A tool without progress: just the final item; fraction unset.
        [only] = [p async for p in tools.call_stream("calculator", {"expression": "6*7"})]
        assert only.done and only.fraction is None and only.result is not None and only.result.content == "42"


async def test_a_provider_without_streaming_falls_back_to_execute_tool(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin, streaming="false")
        [only] = [p async for p in tools.call_stream("slow", {"seconds": 0.05, "steps": 2}, call_id="f")]
        assert only.done and only.result is not None
        assert only.result.success and only.result.call_id == "f" and "2 steps" in only.result.content
        [failed] = [p async for p in tools.call_stream("calculator", {"expression": "1/0"})]
        assert failed.done and failed.result is not None and not failed.result.success
        with pytest.raises(PluginCallError) as unknown:
            [p async for p in tools.call_stream("teleport")]
        assert unknown.value.code == "NOT_FOUND"


async def test_a_slow_tool_times_out_and_the_plugin_keeps_serving(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin)
        with pytest.raises(CallTimeoutError) as timed_out:
            await tools.call("slow", {"seconds": 5, "steps": 1}, timeout=0.2)
        assert timed_out.value.method == "ExecuteTool"
        # A stream's timeout bounds each wait: 5 s in one silent step is too long...
        with pytest.raises(CallTimeoutError):
            [p async for p in tools.call_stream("slow", {"seconds": 5, "steps": 1}, timeout=0.2)]
        # ...while steps that each come within it are not cut off.
        items = [p async for p in tools.call_stream("slow", {"seconds": 0.3, "steps": 6}, timeout=2.0)]
        assert items[-1].done
        await still_serving(tools)


async def test_a_crash_mid_call_is_reported(tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        tools = await load(pm, tools_plugin, crash_tool="true")
        assert "crash" in [t.name for t in await tools.list_tools()]
        with pytest.raises(PluginCrashedError) as crashed:
            await tools.call("crash")
        assert crashed.value.method == "ExecuteTool"


class LocalTools:
    """An in-process tool provider: a tool that fails in-band, one that raises, a stream."""

    def list_tools(self) -> list[Any]:
        return [ToolDefinition("upper"), {"name": "boom", "description": "raises"}]

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> ToolResult | str:
        if tool == "upper":
            if "text" not in arguments:
                return ToolResult(False, error="text is required")
            return str(arguments["text"]).upper()
        raise RuntimeError(f"{tool} exploded")

    async def call_tool_stream(self, tool: str, arguments: dict[str, Any]) -> Any:
        yield "working"
        await asyncio.sleep(0)
        yield ToolProgress(done=True, result=ToolResult(True, str(arguments).upper()))


async def test_an_in_process_provider_through_the_same_client() -> None:
    assert isinstance(LocalTools(), ToolProvider)
    async with PluginManager() as pm:
        pm.register("local", LocalTools(), type="tool_provider")
        tools = pm.tools("local")
        assert [t.name for t in await tools.list_tools()] == ["upper", "boom"]
        result = await tools.call("upper", {"text": "hi"}, call_id="u")
        assert (result.success, result.content, result.call_id) == (True, "HI", "u")
        failed = await tools.call("upper", {})
        assert not failed.success and failed.error == "text is required"
        with pytest.raises(PluginCallError, match="boom exploded") as raised:
            await tools.call("boom")
        assert raised.value.method == "ExecuteTool"
        items = [p async for p in tools.call_stream("upper", {"a": 1})]
        assert [p.message for p in items] == ["working", ""] and items[-1].done
        with pytest.raises(ConfigError):
            await tools.call("upper", "not json")
        assert (await tools.health()).healthy


def test_register_refuses_an_object_without_the_tool_methods() -> None:
    class NotTools:
        def list_tools(self) -> list[Any]:
            return []

    assert not isinstance(NotTools(), ToolProvider)
    with pytest.raises(PluginError, match="has no method call_tool"):
        PluginManager().register("bad", NotTools(), type="tools")  # type: ignore[arg-type]
