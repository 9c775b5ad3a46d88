"""A tool provider on hector_plugins.sdk, for tests: ``add`` (sums ``numbers``, streams one
progress item per number), ``fail`` (a tool failure the model sees) and ``crash`` (raises)."""

from __future__ import annotations

from typing import Any

from hector_plugins import ToolDefinition, ToolProgress, ToolResult
from hector_plugins.sdk import serve

NUMBERS = {"type": "object", "properties": {"numbers": {"type": "array", "items": {"type": "number"}}}}


class Tools:
    def list_tools(self) -> list[ToolDefinition]:
        return [
            ToolDefinition("add", "Sums numbers", NUMBERS),
            ToolDefinition("fail", "Always fails"),
            ToolDefinition("crash", "Raises"),
        ]

    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> ToolResult | str:
        if tool == "add":
            return str(sum(arguments.get("numbers", [])))
        if tool == "fail":
            return ToolResult(False, error="this tool always fails")
        if tool == "crash":
            raise RuntimeError("the tool raised")
        return ToolResult(False, error=f"no tool {tool!r}")

    async def call_tool_stream(self, tool: str, arguments: dict[str, Any]):
        numbers = arguments.get("numbers", [])
        for index, number in enumerate(numbers):
            yield ToolProgress(f"adding {number}", fraction=(index + 1) / len(numbers))
        yield ToolProgress(done=True, result=ToolResult(True, str(sum(numbers))))


if __name__ == "__main__":
    serve(Tools())
