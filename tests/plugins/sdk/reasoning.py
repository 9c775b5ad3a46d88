"""A reasoning strategy on hector_plugins.sdk, for tests: stops when no tool was called or at
iteration 3, counting iterations in its custom state; injects the query as context."""

from __future__ import annotations

import json

from hector_plugins import IterationPlan, Message, PromptSlots, ReasoningState, StopDecision, StrategyInfo
from hector_plugins.sdk import serve


class ThreeSteps:
    def info(self) -> StrategyInfo:
        return StrategyInfo("three-steps", "stops after 3 iterations", ["search"])

    def prepare_iteration(self, state: ReasoningState) -> IterationPlan:
        return IterationPlan([Message.system(f"iteration {state.iteration}")], custom_state=state.custom_state)

    def should_stop(self, state: ReasoningState) -> StopDecision:
        stop = not state.tool_calls or state.iteration >= 3
        return StopDecision(stop, "done" if stop else "", custom_state=state.custom_state)

    def after_iteration(self, state: ReasoningState) -> str:
        count = (state.custom_state or {}).get("iterations", 0) + 1
        return json.dumps({"iterations": count})

    def context_injection(self, state: ReasoningState) -> str:
        return f"Query: {state.query}"

    def prompt_slots(self) -> PromptSlots:
        return PromptSlots(system_role="a careful planner")


if __name__ == "__main__":
    serve(ThreeSteps())
