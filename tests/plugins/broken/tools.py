"""A broken tool provider: its handshake line has 4 fields, `1|1|unix|<socket>`, without the
protocol field (this host assumes grpc; go-plugin's own host would take it for netrpc). With
BROKEN_HANDSHAKE set, it prints that template instead (e.g. `1|1|tcp|nonsense|grpc`, which no
host accepts). Otherwise correct: one tool, `add`, with streaming progress."""

from __future__ import annotations

import json
import os
import time

import grpc
from _serve import Lifecycle, serve
from hector.plugin import llm_pb2, tool_pb2, tool_pb2_grpc

ADD = llm_pb2.ToolDefinition(
    name="add",
    description="Adds numbers.",
    parameters_json=json.dumps(
        {"type": "object", "properties": {"numbers": {"type": "array", "items": {"type": "number"}}}}
    ),
)


class Adder(Lifecycle, tool_pb2_grpc.ToolProviderServicer):
    name, kind = "broken-tools", "tool_provider"

    def refusal(self, config: dict[str, str]) -> str | None:
        precision = config.get("precision")
        return "precision must be a whole number" if precision is not None and not precision.isdigit() else None

    async def ListTools(self, request, context):
        return tool_pb2.ListToolsResponse(tools=[ADD])

    async def _run(self, request, context) -> tool_pb2.ToolResult:
        if request.name != "add":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no tool named {request.name!r}")
        started = time.monotonic()
        numbers = json.loads(request.arguments_json or "{}").get("numbers", [])
        if not all(isinstance(n, (int, float)) for n in numbers):
            return tool_pb2.ToolResult(success=False, error="numbers must be numbers", call_id=request.call_id)
        return tool_pb2.ToolResult(
            success=True,
            content=str(sum(numbers)),
            call_id=request.call_id,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    async def ExecuteTool(self, request, context):
        return await self._run(request, context)

    async def ExecuteToolStreaming(self, request, context):
        yield tool_pb2.ToolProgress(message="adding", fraction=0.5)
        yield tool_pb2.ToolProgress(done=True, result=await self._run(request, context))


if __name__ == "__main__":
    serve(
        lambda server, stop: tool_pb2_grpc.add_ToolProviderServicer_to_server(Adder(stop), server),
        handshake=os.environ.get("BROKEN_HANDSHAKE", "1|1|unix|{address}"),
    )
