"""Agents (hector_plugins.agents, docs/agents.md) over real plugin processes: one hector.yaml with
every plugin type, the trace step by step, streaming events, many agents at once, cancellation,
failing tools, limits, delegation, in-process parts, and configuration errors.

The Go echo LLM decides by its input (examples/go/echo-llm/main.go): `call <tool> <json>` lines
are tool calls, a trailing tool result is answered "Done: <results> | <memory context>"."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    Agent,
    AgentLimitError,
    AgentTimeoutError,
    ConfigError,
    GenerateResponse,
    Memory,
    Message,
    PluginCrashedError,
    PluginManager,
    PluginNotFoundError,
    StopDecision,
    ToolDefinition,
    Toolset,
)
from hector_plugins.agents import FinalEvent, IterationEnd, TextDelta, ToolCallEvent, ToolResultEvent
from helpers import wait_until

TWO_TOOLS = 'call calculator {"expression": "6*7"}\ncall add {"a": 2, "b": 3}'
FACTS = {
    "calc": "The calculator tool evaluates arithmetic expressions",
    "paris": "Paris is the capital of France",
    "rivers": "The Seine flows through Paris",
}


def whole_config(
    go_plugin: Path, rust_embedder: Path, vectordb: Path, tools: Path, reasoning: Path, notes: Path
) -> str:
    return f"""
plugins:
  llm_providers:
    model: {{path: {go_plugin}}}
  embedder_providers:
    embedder: {{path: {rust_embedder}}}
  database_providers:
    docs: {{path: {vectordb}}}
  tool_providers:
    calc: {{path: {tools}}}
    notes: {{type: mcp, command: {sys.executable}, args: [{notes}]}}
  reasoning_strategies:
    cot: {{path: {reasoning}}}
agents:
  research:
    description: Answers with the tools and the facts it remembers
    llm: model
    tools:
      - {{type: plugin, provider: calc, only: [calculator]}}
      - {{type: plugin, provider: notes, only: [add]}}
    database: docs
    embedder: embedder
    memory: {{collection: facts, top_k: 1}}
    reasoning_strategy: cot
    max_iterations: 4
    tool_timeout: 30
"""


@pytest.fixture
async def whole(
    tmp_path: Path,
    go_plugin: Path,
    rust_embedder: Path,
    vectordb_plugin: Path,
    tools_plugin: Path,
    reasoning_plugin: Path,
    mcp_notes_server: Path,
) -> Any:
    """A manager loaded from one hector.yaml with every plugin type, memory filled."""
    config = tmp_path / "hector.yaml"
    config.write_text(
        whole_config(go_plugin, rust_embedder, vectordb_plugin, tools_plugin, reasoning_plugin, mcp_notes_server)
    )
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True)
        memory = pm.agent("research").memory
        assert memory is not None
        await pm.database("docs").create_collection("facts", (await pm.embedder("embedder").info()).dimension)
        await memory.add(list(FACTS.values()), ids=list(FACTS))
        yield pm


async def test_one_hector_yaml_builds_an_agent_that_searches_memory_and_calls_tools(whole: PluginManager) -> None:
    agent = whole.agent("research")
    assert whole.agent("research") is agent, "pm.agent keeps the agent it built"
    result = await agent.run(TWO_TOOLS)

    assert result.answer == "Done: 42; 5.0 | - The calculator tool evaluates arithmetic expressions"
    assert result.stop_reason == "strategy"
    assert [step.iteration for step in result.iterations] == [1, 2]
    first, second = result.iterations

    # Iteration 1: the strategy's instruction, memory's nearest fact, then two concurrent tool calls.
    assert [m.role for m in first.injected] == ["system"] and "step by step" in first.injected[0].content
    assert [hit.id for hit in first.retrieved] == ["calc"]
    assert first.retrieved[0].content == FACTS["calc"]
    assert first.tools_offered == ["calculator", "add"]
    sent = [(m.role, m.content.splitlines()[0]) for m in first.request]
    assert ("user", TWO_TOOLS.splitlines()[0]) in sent
    assert ("system", "Context:") in sent, "the memory context reaches the model"
    assert first.text == ""
    calls = [(t.call.name, t.call.arguments, t.provider, t.result.success, t.result.content) for t in first.tool_calls]
    assert calls == [
        ("calculator", {"expression": "6*7"}, "calc", True, "42"),
        ("add", {"a": 2, "b": 3}, "notes", True, "5.0"),
    ]
    assert all(t.error is None and t.vetoed_by is None and t.duration > 0 for t in first.tool_calls)
    assert first.stop is not None and not first.stop
    assert {"prepare", "retrieve", "generate", "tools", "after", "should_stop", "total"} <= set(first.timings)

    # Iteration 2: the model answers from the tool results; the strategy stops.
    assert second.retrieved == [] and second.tool_calls == []
    assert [m.role for m in second.request][-3:] == ["assistant", "tool", "tool"]
    assert second.stop is not None and second.stop.reason == "the model called no tool"
    assert result.total_tokens == first.tokens_used + second.tokens_used > 0

    # The whole conversation, and the strategy's notes carried in its custom state.
    roles = [m.role for m in result.messages]
    assert roles[:2] == ["user", "system"] and roles[-4:] == ["assistant", "tool", "tool", "assistant"]
    assert [m.tool_call_id for m in result.messages if m.role == "tool"] == ["call_1", "call_2"]
    assert [t.call.name for t in result.tool_calls] == ["calculator", "add"]
    assert result.task == TWO_TOOLS and result.agent == "research" and result.duration > 0


async def test_stream_yields_typed_events_in_order(whole: PluginManager) -> None:
    events = [event async for event in whole.agent("research").stream(TWO_TOOLS)]
    kinds = [event.type for event in events]
    assert kinds[:4] == ["tool_call", "tool_call", "tool_result", "tool_result"]
    assert kinds[4] == "iteration_end" and kinds[-2:] == ["iteration_end", "final"]
    assert set(kinds[5:-2]) == {"text_delta"}
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    final = events[-1]
    assert isinstance(final, FinalEvent) and "".join(deltas) == final.result.answer
    assert final.result.answer.startswith("Done: 42; 5.0")
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.call.name, c.provider, c.iteration) for c in calls] == [("calculator", "calc", 1), ("add", "notes", 1)]
    results = [e for e in events if isinstance(e, ToolResultEvent)]
    assert [r.trace.result.content for r in results] == ["42", "5.0"]
    assert [e.iteration for e in events if isinstance(e, IterationEnd)] == [1, 2]


async def test_twenty_agents_share_three_plugin_processes_and_cancelling_one_cancels_only_its_calls(
    go_plugin: Path, mcp_notes_server: Path, reasoning_plugin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin.notes")
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="model")
        await pm.load_mcp("notes", sys.executable, [str(mcp_notes_server)])
        await pm.load(reasoning_plugin, name="cot", type="reasoning")
        pids = sorted(p.pid for p in pm.plugins)

        def agent(i: int) -> Agent:
            return Agent(pm.llm("model"), [pm.tools("notes")], reasoning=pm.reasoning("cot"), name=f"agent-{i}")

        started = asyncio.Event()

        async def victim_started(context: Any) -> None:
            started.set()

        victim = agent(0)
        victim.hooks.register("before_tool_call", victim_started)
        victim_run = asyncio.ensure_future(victim.run('call slow {"seconds": 60}'))
        tasks = [f'call add {{"a": {i}, "b": 1}}\ncall slow {{"seconds": 0.3}}' for i in range(1, 20)]
        others = asyncio.gather(*(agent(i).run(task) for i, task in enumerate(tasks, start=1)))
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0.1)  # the victim's slow call is now in the server
        victim_run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await victim_run

        results = await others
        assert [r.answer for r in results] == [f"Done: {i + 1}.0; slept 0.3s" for i in range(1, 20)]
        assert all(r.agent == f"agent-{i}" for i, r in enumerate(results, start=1))
        # Only the victim's call was cancelled, on the server's side too.
        await wait_until(lambda: any("slow cancelled" in r.getMessage() for r in caplog.records), 10)
        assert sum("slow cancelled" in r.getMessage() for r in caplog.records) == 1
        assert sorted(p.pid for p in pm.plugins) == pids, "no plugin was restarted or added"
        assert (await pm.tools("notes").call("add", {"a": 1, "b": 1})).content == "2.0"


async def test_a_failing_tool_is_an_error_the_model_sees_not_a_crash(go_plugin: Path, tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="model")
        await pm.load(tools_plugin, name="calc", type="tools", config={"crash_tool": "true"})
        agent = Agent(pm.llm("model"), [pm.tools("calc")], tool_timeout=0.5)
        task = "\n".join(
            [
                'call calculator {"expression": "1/0"}',  # the tool's own failure (in band)
                "call nope {}",  # no such tool
                'call slow {"seconds": 20}',  # past tool_timeout
                "call calculator [1, 2]",  # arguments that are not a JSON object
            ]
        )
        result = await agent.run(task)
        traces = result.tool_calls
        assert [t.call.name for t in traces] == ["calculator", "nope", "slow", "calculator"]
        assert all(not t.result.success and t.error for t in traces)
        assert "division by zero" in traces[0].error
        assert traces[1].error == "no tool named 'nope' (tools: calculator, read_file, slow, crash)"
        assert traces[1].provider == ""
        assert "timed out" in traces[2].error and "tool_timeout 0.5" in traces[2].error
        assert "JSON object" in traces[3].error
        answer = result.answer
        assert answer.startswith("Done: error: ") and answer.count("error: ") == 4, answer

        # A tool whose process dies mid-call: the model hears of it; the run completes.
        crashed = await agent.run("call crash {}")
        [trace] = crashed.tool_calls
        assert "PluginCrashedError" in (trace.error or ""), trace.error
        assert crashed.answer.startswith("Done: error: PluginCrashedError")


async def test_limits_stop_a_run_with_its_trace(go_plugin: Path, tools_plugin: Path) -> None:
    class NeverStop:
        def should_stop(self, state: Any) -> StopDecision:
            return StopDecision(False)

    async with PluginManager() as pm:
        await pm.load(go_plugin, name="model")
        await pm.load(tools_plugin, name="calc", type="tools")
        llm, calc = pm.llm("model"), pm.tools("calc")

        with pytest.raises(AgentLimitError) as iterations:
            await Agent(llm, [calc], reasoning=NeverStop(), max_iterations=3).run("hello")
        assert iterations.value.limit == "max_iterations" and "max_iterations (3)" in str(iterations.value)
        assert len(iterations.value.result.iterations) == 3

        with pytest.raises(AgentLimitError) as tokens:
            await Agent(llm, [calc], reasoning=NeverStop(), max_tokens=3).run("one two three four")
        assert (
            tokens.value.limit == "max_tokens" and tokens.value.result.total_tokens == 5
        )  # "Echo: one two three four"
        assert len(tokens.value.result.iterations) == 2

        slow = Agent(llm, [calc], timeout=0.5, name="slowpoke")
        with pytest.raises(AgentTimeoutError) as timed_out:
            await slow.run('call slow {"seconds": 30}')
        assert isinstance(timed_out.value, TimeoutError) and timed_out.value.limit == "timeout"
        assert "'slowpoke'" in str(timed_out.value) and timed_out.value.result.iterations
        assert (await calc.call("calculator", {"expression": "1+1"})).content == "2", "the provider still serves"


async def test_an_agent_delegates_to_another_through_hector_yaml(go_plugin: Path, tools_plugin: Path) -> None:
    config = {
        "plugins": {
            "llm_providers": {"model": {"path": str(go_plugin)}},
            "tool_providers": {"calc": {"path": str(tools_plugin)}},
        },
        "agents": {
            "lead": {"llm": "model", "tools": [{"type": "agent", "agent": "mathematician"}]},
            "mathematician": {"llm": "model", "tools": [{"type": "plugin", "provider": "calc"}]},
        },
    }
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True)
        assert pm.agent_names == ["lead", "mathematician"]
        lead = pm.agent("lead")
        assert [t.name for t in await lead.list_tools()] == ["mathematician"]
        inner = json.dumps({"task": 'call calculator {"expression": "2+2"}'})
        result = await lead.run(f"call mathematician {inner}")
        assert result.answer == "Done: Done: 4"
        [delegation] = result.tool_calls
        assert delegation.provider == "mathematician" and delegation.delegated is not None
        assert delegation.delegated.answer == "Done: 4"
        assert [t.result.content for t in delegation.delegated.tool_calls] == ["4"]
        assert pm.agent("mathematician") is lead.toolbox.toolsets[0].source.agent  # type: ignore[attr-defined]


async def test_in_process_parts_and_conversations() -> None:
    """Every part may be an object in this process with the clients' methods."""

    class Model:
        def __init__(self) -> None:
            self.seen: list[list[str]] = []

        async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse | str:
            self.seen.append([m.content for m in messages])
            if messages[-1].role == "tool":
                return f"the weather is {messages[-1].content}"
            return GenerateResponse(tool_calls=[{"id": "w1", "name": "weather", "arguments": {"city": "Oslo"}}])

    class Weather:
        def list_tools(self) -> list[dict[str, Any]]:
            return [{"name": "weather", "description": "by city", "parameters": {"type": "object"}}]

        def call(self, tool: str, arguments: dict[str, Any], call_id: str = "") -> str:
            return f"cold in {arguments['city']}"

    class Store:
        async def search(self, collection: str, vector: Any, top_k: int) -> list[Any]:
            from hector_plugins import SearchResult

            return [SearchResult("n1", 0.9, f"{collection} says hi")][:top_k]

    class Embedder:
        def embed(self, text: str) -> list[float]:
            return [1.0, 0.0]

    model = Model()
    agent = Agent(model, [Weather()], memory=Memory(Store(), Embedder(), "notes"), system_prompt="be brief")
    result = await agent.run([{"role": "user", "content": "earlier"}, Message.user("weather in Oslo?")])
    assert result.answer == "the weather is cold in Oslo" and result.stop_reason == "model_done"
    assert result.task == "weather in Oslo?"
    assert model.seen[0] == ["be brief", "earlier", "weather in Oslo?", "Context:\n- notes says hi"]
    assert [t.provider for t in result.tool_calls] == ["Weather"]

    with pytest.raises(ConfigError, match="must have generate"):
        Agent(object())
    with pytest.raises(ConfigError, match="max_iterations"):
        Agent(model, max_iterations=0)
    with pytest.raises(ConfigError, match="offered by both"):
        await Agent(model, [Weather(), Weather()]).run("x")
    assert [t.name for t in await Agent(model, [Weather(), Toolset(Weather(), prefix="w2_")]).list_tools()] == [
        "weather",
        "w2_weather",
    ]
    with pytest.raises(ConfigError, match="has no tool nope"):
        await Agent(model, [Toolset(Weather(), only=["nope"])]).run("x")


async def test_a_model_that_crashes_fails_the_run_with_its_error(go_plugin: Path) -> None:
    async with PluginManager() as pm:
        # Not restarted: a call made while a restart is under way would wait for it and succeed.
        info = await pm.load(go_plugin, name="model", supervision={"restart": {"enabled": False}})
        seen: list[BaseException] = []
        agent = Agent(pm.llm("model"))
        agent.hooks.register("on_error", lambda context: seen.append(context.error))
        os.kill(info.pid, signal.SIGKILL)
        with pytest.raises(PluginCrashedError):
            await agent.run("hello")
        assert len(seen) == 1 and isinstance(seen[0], PluginCrashedError)


async def test_configuration_errors_name_the_file_and_key(tmp_path: Path, go_plugin: Path) -> None:
    config = tmp_path / "hector.yaml"
    plugins = f"plugins:\n  llm_providers:\n    model: {{path: {go_plugin}}}\n"
    config.write_text(plugins + "agents:\n  a: {llm: model, max_iterations: 0}\n")
    with pytest.raises(ConfigError) as bad_number:
        PluginManager(config)
    assert bad_number.value.key == "agents.a.max_iterations" and bad_number.value.line == 5

    config.write_text(
        plugins + "agents:\n  a: {llm: model, tools: [{type: agent, agent: b}]}\n"
        "  b: {llm: model, tools: [{type: agent, agent: a}]}\n"
    )
    with pytest.raises(ConfigError, match="a -> b -> a"):
        PluginManager(config)

    config.write_text(plugins + "agents:\n  a: {llm: model, memory: {collection: c}}\n")
    with pytest.raises(ConfigError, match="memory: needs the agent's `database`"):
        PluginManager(config)

    config.write_text(plugins + "agents:\n  a: {llm: model, tools: [{type: function, name: f}]}\n  b: {}\n")
    async with PluginManager(config) as pm:
        with pytest.raises(ConfigError, match="agents.a.llm: 'model' is not loaded"):
            pm.agent("a")  # nothing loaded yet
        await pm.load_all(strict=True)
        with pytest.raises(ConfigError, match=r"agents\.a\.tools\[0\]\.type: .*not 'function'") as bad_tool:
            pm.agent("a")
        assert str(config) in str(bad_tool.value)
        with pytest.raises(ConfigError, match="agents.b.llm: an agent needs an llm"):
            pm.agent("b")
        with pytest.raises(PluginNotFoundError, match=r"no agent named 'ghost'.*\(agents: a, b\)"):
            pm.agent("ghost")
