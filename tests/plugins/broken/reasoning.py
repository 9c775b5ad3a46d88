"""A broken reasoning strategy: Initialize refuses every config, valid or not (success=false).
Otherwise correct: it stops when the model called no tool."""

from __future__ import annotations

import asyncio
import json

from _serve import serve
from hector.plugin import common_pb2, reasoning_pb2, reasoning_pb2_grpc


class RefusesConfig(reasoning_pb2_grpc.ReasoningStrategyServicer):
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    async def Initialize(self, request, context):
        # The fault: whatever the config, it is refused.
        return common_pb2.InitializeResponse(success=False, error=f"unsupported configuration {dict(request.config)}")

    async def Shutdown(self, request, context):
        asyncio.get_running_loop().call_later(0.05, self.stop.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        return common_pb2.HealthResponse(healthy=True, message="ok")

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(name="broken-reasoning", version="0.1.0", type="reasoning_strategy")

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")

    async def GetStrategyInfo(self, request, context):
        return reasoning_pb2.StrategyInfo(name="stop_without_tools")

    async def PrepareIteration(self, state, context):
        return reasoning_pb2.IterationPlan(custom_state_json=json.dumps({"iteration": state.iteration}))

    async def ShouldStop(self, state, context):
        return reasoning_pb2.StopDecision(stop=not state.tool_calls, reason="no tool called")

    async def AfterIteration(self, state, context):
        return reasoning_pb2.StateUpdate(custom_state_json=state.custom_state_json)

    async def GetContextInjection(self, state, context):
        return reasoning_pb2.ContextInjection(text=f"Iteration {state.iteration}.")

    async def GetPromptSlots(self, request, context):
        return reasoning_pb2.PromptSlots()


if __name__ == "__main__":
    serve(lambda server, stop: reasoning_pb2_grpc.add_ReasoningStrategyServicer_to_server(RefusesConfig(stop), server))
