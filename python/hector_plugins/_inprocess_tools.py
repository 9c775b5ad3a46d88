"""In-process tool providers (``PluginManager.register(name, obj, type="tool_provider")``),
re-exported by ``_builtin``; the methods an object needs are ``providers.ToolProvider``.

* ``list_tools()`` returns ``ToolDefinition``s or dicts (``name``, ``description``,
  ``parameters``).
* ``call_tool(tool, arguments)`` returns a ``ToolResult``, or a str (the content of a
  successful result). A tool's own failure is ``ToolResult(False, error=...)``; an exception is
  a call failure (``PluginCallError``), as a gRPC status is for a plugin (docs/protocol.md §7.7).
* ``call_tool_stream(tool, arguments)`` (optional) yields ``ToolProgress`` items or str (progress
  messages); without it the stream is the one final item of ``call_tool``, as for a plugin that
  answers UNIMPLEMENTED.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

from . import _builtin
from ._core import ToolDefinition, ToolProgress, ToolResult


def _definitions(value: Any) -> list[ToolDefinition]:
    tools = []
    for item in value:
        if isinstance(item, ToolDefinition):
            tools.append(item)
        elif isinstance(item, dict):
            tools.append(ToolDefinition(item["name"], item.get("description", ""), item.get("parameters")))
        else:
            raise TypeError(f"list_tools returned a {type(item).__name__}; expected ToolDefinition or dict")
    return tools


def _result(call_id: str) -> Any:
    def convert(value: Any) -> ToolResult:
        if isinstance(value, str):
            return ToolResult(True, value, call_id=call_id)
        if not isinstance(value, ToolResult):
            raise TypeError(f"call_tool returned {type(value).__name__}; expected ToolResult or str")
        if value.call_id or not call_id:
            return value
        # The call id is echoed, as a plugin does (docs/protocol.md §7.7).
        return ToolResult(
            value.success,
            value.content,
            output=value.output_json or None,
            error=value.error,
            metadata=value.metadata,
            duration_ms=value.duration_ms,
            call_id=call_id,
        )

    return convert


async def list_tools(name: str, provider: Any, timeout: float | None) -> list[ToolDefinition]:
    """``ToolClient.list_tools`` served by ``provider``."""
    tools: list[ToolDefinition] = await _builtin._invoke(name, "ListTools", provider.list_tools, _definitions, timeout)
    return tools


async def call_tool(
    name: str, provider: Any, tool: str, arguments: dict[str, Any], call_id: str, timeout: float | None
) -> ToolResult:
    """``ToolClient.call`` served by ``provider``."""
    result: ToolResult = await _builtin._invoke(
        name, "ExecuteTool", lambda: provider.call_tool(tool, arguments), _result(call_id), timeout
    )
    return result


def _progress(value: Any) -> ToolProgress:
    if isinstance(value, ToolProgress):
        return value
    if isinstance(value, str):
        return ToolProgress(value)
    raise TypeError(f"call_tool_stream yielded {type(value).__name__}; expected ToolProgress or str")


async def call_tool_stream(
    name: str, provider: Any, tool: str, arguments: dict[str, Any], call_id: str, timeout: float | None = None
) -> AsyncIterator[ToolProgress]:
    """``ToolClient.call_stream`` served by ``provider``: its ``call_tool_stream``, or one final
    item from ``call_tool``. ``timeout`` bounds each wait of an asynchronous stream."""
    method = getattr(provider, "call_tool_stream", None)
    if not callable(method):
        yield ToolProgress(done=True, result=await call_tool(name, provider, tool, arguments, call_id, timeout))
        return
    source: Any = None
    try:
        source = method(tool, arguments)
        if inspect.isawaitable(source):
            source = await _builtin._within(name, source, timeout, "ExecuteToolStreaming")
        if hasattr(source, "__aiter__"):
            items = source.__aiter__()
            while True:
                try:
                    item = await _builtin._within(name, items.__anext__(), timeout, "ExecuteToolStreaming")
                except StopAsyncIteration:
                    break
                progress = _progress(item)
                yield progress
                if progress.done:
                    return
        else:
            for item in source:
                progress = _progress(item)
                yield progress
                if progress.done:
                    return
    except (_builtin.PluginError, GeneratorExit):
        raise
    except Exception as error:
        raise _builtin._call_error(name, "ExecuteToolStreaming", error) from error
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()
    raise _builtin._call_error(
        name, "ExecuteToolStreaming", RuntimeError("the stream ended without a done item carrying the result")
    )
