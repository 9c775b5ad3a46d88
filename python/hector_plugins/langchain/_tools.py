"""``load_tools``: a tool provider's tools (``pm.tools(name)``) as LangChain tools."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from .._core import ToolClient, ToolDefinition, ToolResult
from ._sync import run_sync


async def load_tools(client: ToolClient, *, timeout: float | None = None) -> list[BaseTool]:
    """One LangChain ``StructuredTool`` per tool the provider lists, with its name, description
    and JSON Schema; running it calls the provider (``timeout`` bounds each call; None: the
    plugin's ``call_timeout``).

    A tool's own failure (``ToolResult.success`` False) is answered to the model: the tool
    message carries the error text with ``status="error"`` (the tools raise ``ToolException``
    with ``handle_tool_error=True``), so an agent's loop goes on. A failed call (an unknown tool,
    a crashed plugin, a timeout) raises as the client does. A tool's text is the result's
    ``content``, or its ``output_json`` when the content is empty. The tools also run sync
    (``invoke``) where no event loop runs in the thread.
    """
    if not isinstance(client, ToolClient):
        raise TypeError(
            f"load_tools(client) takes a hector_plugins.ToolClient (pm.tools(name)), not {type(client).__name__} {client!r}"
        )
    return [_structured_tool(client, definition, timeout) for definition in await client.list_tools(timeout=timeout)]


def _structured_tool(client: ToolClient, definition: ToolDefinition, timeout: float | None) -> StructuredTool:
    name = definition.name

    async def call(**arguments: Any) -> str:
        return _text_for_the_model(await client.call(name, arguments, timeout=timeout))

    def call_sync(**arguments: Any) -> str:
        return run_sync(lambda: call(**arguments), f"the tool {name!r} (invoke())", "ainvoke()")

    return StructuredTool(
        name=name,
        description=definition.description,
        args_schema=definition.parameters or {"type": "object", "properties": {}},
        func=call_sync,
        coroutine=call,
        handle_tool_error=True,
    )


def _text_for_the_model(result: ToolResult) -> str:
    if not result.success:
        raise ToolException(result.error or "the tool failed without saying why")
    return result.content or result.output_json
