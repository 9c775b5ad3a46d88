"""A broken reasoning strategy: Initialize refuses every config, valid or not (success=false).
Otherwise correct: it stops when the model called no tool."""

from __future__ import annotations

import json

from _serve import Lifecycle, serve
from hector.plugin import reasoning_pb2, reasoning_pb2_grpc


class RefusesConfig(Lifecycle, reasoning_pb2_grpc.ReasoningStrategyServicer):
    name, kind = "broken-reasoning", "reasoning_strategy"

    def refusal(self, config: dict[str, str]) -> str | None:
        return f"unsupported configuration {config}"  # the fault: whatever the config, it is refused

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
