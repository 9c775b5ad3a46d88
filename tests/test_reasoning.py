"""Reasoning strategies: the Python grpcio chain-of-thought example through ReasoningClient,
every RPC and each error path, an agent loop driven here with a scripted model and the Go tool
provider, and an in-process strategy through the same client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    CallTimeoutError,
    GenerateResponse,
    IterationPlan,
    Message,
    PluginCallError,
    PluginCrashedError,
    PluginManager,
    PromptSlots,
    ReasoningState,
    ReasoningStrategy,
    StopDecision,
    StrategyInfo,
    ToolCall,
    ToolDefinition,
    ToolResult,
)
from hector_plugins._core import ReasoningClient


async def load(pm: PluginManager, plugin: Path, **config: str) -> ReasoningClient:
    await pm.load(plugin, name="cot", type="reasoning_strategy", config=config)
    return pm.reasoning("cot")


async def still_serving(cot: ReasoningClient) -> None:
    assert (await cot.should_stop(ReasoningState(1, "q"))).stop


async def test_every_hook(reasoning_plugin: Path) -> None:
    async with PluginManager() as pm:
        cot = await load(pm, reasoning_plugin, max_iterations="3")
        info = await cot.info()
        assert isinstance(info, StrategyInfo) and info.name == "chain_of_thought" and info.required_tools == []
        slots = await cot.prompt_slots()
        assert isinstance(slots, PromptSlots) and "step by step" in slots.reasoning_instructions
        assert slots.system_role == "" and slots.tool_usage != ""

        first = ReasoningState(1, "what is 6*7?", [Message.user("what is 6*7?")])
        plan = await cot.prepare_iteration(first)
        assert isinstance(plan, IterationPlan)
        [system] = plan.inject_messages
        assert system.role == "system" and "step by step" in system.content
        assert plan.custom_state == {"notes": []}
        assert (
            await cot.prepare_iteration(ReasoningState(2, "q", custom_state=plan.custom_state_json))
        ).inject_messages == []

        calls = [ToolCall("c1", "calculator", {"expression": "6*7"})]
        results = [ToolResult(True, "42", call_id="c1")]
        working = ReasoningState(
            1, "q", assistant_text="let me compute", tool_calls=calls, tool_results=results, custom_state={"notes": []}
        )
        custom = await cot.after_iteration(working)
        assert custom == '{"notes": [{"iteration": 1, "tools": ["calculator"], "failed": []}]}'
        decision = await cot.should_stop(working)
        assert isinstance(decision, StopDecision) and not decision and decision.reason == ""
        assert "Iteration 2 of at most 3." in await cot.context_injection(ReasoningState(2, "q", custom_state=custom))
        assert "called: calculator" in await cot.context_injection(ReasoningState(2, "q", custom_state=custom))
        assert (await cot.health()).healthy


async def test_in_band_errors_grpc_status_crash_and_timeout(reasoning_plugin: Path) -> None:
    async with PluginManager() as pm:
        cot = await load(pm, reasoning_plugin, test_hooks="true")
        bad = ReasoningState(0, "q")
        hooks = [
            (cot.prepare_iteration, "PrepareIteration"),
            (cot.should_stop, "ShouldStop"),
            (cot.after_iteration, "AfterIteration"),
            (cot.context_injection, "GetContextInjection"),
        ]
        for hook, method in hooks:
            with pytest.raises(PluginCallError, match="iteration must be 1 or more, not 0") as in_band:
                await hook(bad)
            assert (in_band.value.method, in_band.value.code) == (method, "UNKNOWN")
        with pytest.raises(PluginCallError, match="not a JSON object") as status:
            await cot.should_stop(ReasoningState(1, "q", custom_state="[1, 2]"))
        assert status.value.code == "INVALID_ARGUMENT"
        with pytest.raises(CallTimeoutError):
            await cot.should_stop(ReasoningState(1, "sleep 5"), timeout=0.3)
        await still_serving(cot)
        with pytest.raises(PluginCrashedError) as crashed:
            await cot.prepare_iteration(ReasoningState(1, "crash"))
        assert crashed.value.method == "PrepareIteration"


class ScriptedModel:
    """An LLM that plays a script: each generate returns the next reply."""

    def __init__(self, replies: list[GenerateResponse]) -> None:
        self.replies = replies
        self.seen: list[list[Message]] = []

    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        self.seen.append(messages)
        assert [t.name for t in tools][:1] == ["calculator"]
        return self.replies[len(self.seen) - 1]


async def agent_loop(pm: PluginManager, query: str) -> tuple[int, StopDecision, list[Message], Any]:
    """The loop an orchestrator runs: the strategy's hooks around the model and the tools."""
    cot, llm, tools = pm.reasoning("cot"), pm.llm("model"), pm.tools("tools")
    definitions = await tools.list_tools()
    conversation = [Message.user(query)]
    custom = ""
    for iteration in range(1, 20):
        plan = await cot.prepare_iteration(ReasoningState(iteration, query, conversation, custom_state=custom))
        conversation += plan.inject_messages
        custom = plan.custom_state_json
        context = await cot.context_injection(ReasoningState(iteration, query, conversation, custom_state=custom))
        reply = await llm.generate([*conversation, Message.system(context)], definitions)
        results = [await tools.call(c.name, c.arguments_json, call_id=c.id) for c in reply.tool_calls]
        conversation.append(Message.assistant(reply.text, reply.tool_calls))
        conversation += [Message.tool(r.content or r.error, r.call_id) for r in results]

        done = {"assistant_text": reply.text, "tool_calls": reply.tool_calls, "tool_results": results}
        custom = await cot.after_iteration(ReasoningState(iteration, query, conversation, custom_state=custom, **done))
        decision = await cot.should_stop(ReasoningState(iteration, query, conversation, custom_state=custom, **done))
        if decision:
            return iteration, decision, conversation, ReasoningState(custom_state=custom).custom_state
    raise AssertionError("the strategy never stopped")


async def test_an_agent_loop_stops_when_the_model_calls_no_tool(reasoning_plugin: Path, tools_plugin: Path) -> None:
    model = ScriptedModel(
        [
            GenerateResponse(tool_calls=[ToolCall("c1", "calculator", {"expression": "6*7"})]),
            GenerateResponse(tool_calls=[ToolCall("c2", "calculator", {"expression": "1/0"})]),
            GenerateResponse(text="6*7 is 42"),
        ]
    )
    async with PluginManager() as pm:
        await pm.load(reasoning_plugin, name="cot", type="reasoning")
        await pm.load(tools_plugin, name="tools", type="tools")
        pm.register("model", model)
        iterations, decision, conversation, notes = await agent_loop(pm, "what is 6*7?")
    assert iterations == 3 and decision.reason == "the model called no tool"
    assert notes == {
        "notes": [
            {"iteration": 1, "tools": ["calculator"], "failed": []},
            {"iteration": 2, "tools": ["calculator"], "failed": ["c2"]},
            {"iteration": 3, "tools": [], "failed": []},
        ]
    }
    # The strategy's system message came first; each tool result reached the model.
    assert conversation[1].role == "system" and "step by step" in conversation[1].content
    tool_messages = [(m.tool_call_id, m.content) for m in conversation if m.role == "tool"]
    assert tool_messages == [("c1", "42"), ("c2", "division by zero")]
    assert model.seen[2][-1].content.startswith("Iteration 3 of at most 5.")


async def test_an_agent_loop_stops_after_max_iterations(reasoning_plugin: Path, tools_plugin: Path) -> None:
    always = GenerateResponse(tool_calls=[ToolCall("c", "calculator", {"expression": "1+1"})])
    async with PluginManager() as pm:
        await pm.load(reasoning_plugin, name="cot", type="reasoning", config={"max_iterations": "2"})
        await pm.load(tools_plugin, name="tools", type="tools")
        pm.register("model", ScriptedModel([always] * 5))
        iterations, decision, _, notes = await agent_loop(pm, "loop")
    assert iterations == 2 and decision.reason == "reached max_iterations (2)"
    assert len(notes["notes"]) == 2


class OneShot:
    """An in-process strategy: stop at once, remember how often it was asked."""

    def should_stop(self, state: ReasoningState) -> StopDecision:
        if state.query == "fail":
            raise ValueError("cannot decide")
        return StopDecision(True, "one shot", custom_state={"asked": state.iteration})

    async def after_iteration(self, state: ReasoningState) -> dict[str, int]:
        return {"after": state.iteration}


async def test_an_in_process_strategy_through_the_same_client() -> None:
    assert isinstance(OneShot(), ReasoningStrategy)
    async with PluginManager() as pm:
        pm.register("local", OneShot(), type="reasoning")
        cot = pm.reasoning("local")
        decision = await cot.should_stop(ReasoningState(4, "q"))
        assert decision.stop and decision.reason == "one shot" and decision.custom_state == {"asked": 4}
        assert await cot.after_iteration(ReasoningState(2)) == '{"after": 2}'
        # Hooks it does not have: the defaults, state kept.
        plan = await cot.prepare_iteration(ReasoningState(1, custom_state={"k": 1}))
        assert plan.inject_messages == [] and plan.custom_state == {"k": 1}
        assert await cot.context_injection(ReasoningState()) == ""
        assert (await cot.info()).name == "local"
        assert (await cot.prompt_slots()).reasoning_instructions == ""
        with pytest.raises(PluginCallError, match="cannot decide") as failed:
            await cot.should_stop(ReasoningState(1, "fail"))
        assert failed.value.method == "ShouldStop"
