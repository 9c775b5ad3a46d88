"""How an agent run behaves at its edges (docs/agents.md): one agent running many tasks at once,
the concurrency bound of tool calls, streaming runs and closing them, limits of delegated agents,
what hooks may hide or redact, and providers that answer the wrong thing. In-process parts
where the behaviour is the loop's own; the Go plugins where a plugin must see it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from hector_plugins import Agent, GenerateResponse, Memory, Message, PluginManager, SearchResult, ToolCall
from hector_plugins.agents import GenerateContext, WorkflowContext


def call_all(*words: str) -> GenerateResponse:
    """A tool call per word: `name`, or `name=task` for an agent tool."""
    calls = []
    for i, word in enumerate(words):
        name, _, task = word.partition("=")
        calls.append(ToolCall(f"c{i}", name, {"task": task} if task else {}))
    return GenerateResponse(tool_calls=calls)


class Scripted:
    """A model that calls the tools named in the task (space-separated words, see `call_all`),
    then says what they gave."""

    async def generate(self, messages: list[Message], tools: list[Any]) -> GenerateResponse | str:
        if messages[-1].role == "tool":
            results = [m.content for m in messages if m.role == "tool"]
            return "got " + ", ".join(results)
        return call_all(*messages[-1].content.split())


class Counting:
    """Tools that count their listings and how many calls run at once."""

    def __init__(self, delay: float = 0.05) -> None:
        self.listings = 0
        self.running = 0
        self.most = 0
        self.cancelled = 0
        self.delay = delay

    async def list_tools(self) -> list[dict[str, Any]]:
        self.listings += 1
        await asyncio.sleep(0.01)
        return [{"name": n, "parameters": {"type": "object"}} for n in ("a", "b", "c", "d", "wrong")]

    async def call(self, tool: str, arguments: dict[str, Any], call_id: str = "") -> Any:
        if tool == "wrong":
            return 42  # neither a ToolResult nor text
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        return tool.upper()


async def test_one_agent_runs_many_tasks_at_once_with_one_tool_listing() -> None:
    tools = Counting()
    agent = Agent(Scripted(), [tools])
    results = await asyncio.gather(*(agent.run("a b") for _ in range(10)))
    assert [r.answer for r in results] == ["got A, B"] * 10
    assert tools.listings == 1, "concurrent first runs share one listing"
    assert len({r.run_id for r in results}) == 10
    agent.refresh_tools()
    await agent.run("a")
    assert tools.listings == 2


async def test_max_concurrent_tools_bounds_the_calls_of_one_answer() -> None:
    tools = Counting()
    result = await Agent(Scripted(), [tools], max_concurrent_tools=2).run("a b c d a b")
    assert result.answer == "got A, B, C, D, A, B"
    assert tools.most == 2
    tools.most = 0
    await Agent(Scripted(), [tools]).run("a b c d")
    assert tools.most == 4, "the default (8) lets four run at once"


async def test_a_provider_that_answers_the_wrong_type_fails_that_call_only() -> None:
    result = await Agent(Scripted(), [Counting()]).run("wrong a")
    wrong, fine = result.tool_calls
    assert wrong.error == "TypeError: tool provider 'Counting' returned int for 'wrong', not a ToolResult or str"
    assert fine.result.content == "A"
    assert result.answer == f"got error: {wrong.error}, A"


async def test_streaming_runs_and_closing_the_stream_cancels_the_run() -> None:
    tools = Counting(delay=30)
    agent = Agent(Scripted(), [tools], streaming=True)
    stream = agent.stream("a b")
    async for event in stream:
        if event.type == "tool_call" and event.call.name == "b":
            break
    await asyncio.sleep(0.05)  # both calls are running now
    await stream.aclose()  # type: ignore[attr-defined]
    assert tools.cancelled == 2 and tools.running == 0

    quick = Agent(Scripted(), [Counting()], streaming=True)
    result = await quick.run("a")
    assert result.answer == "got A" and result.iterations[0].timings["generate"] >= 0


async def test_a_delegated_agents_timeout_is_a_tool_failure_for_the_one_that_delegated() -> None:
    slow = Agent(Scripted(), [Counting(delay=30)], name="slow", timeout=0.2)
    lead = Agent(Scripted(), [slow.as_tool()], name="lead")
    result = await lead.run("slow=a")
    [delegation] = result.tool_calls
    assert delegation.error == "the tool timed out: agent 'slow' stopped: it passed its timeout (0.2 s)"
    assert result.stop_reason == "model_done" and result.answer == f"got error: {delegation.error}"


async def test_a_tool_a_hook_took_out_of_the_offer_is_not_run(go_plugin: Path, tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="model")
        await pm.load(tools_plugin, name="calc", type="tools")
        agent = Agent(pm.llm("model"), [pm.tools("calc")])

        def hide_read_file(context: GenerateContext) -> None:
            context.tools = [t for t in context.tools if t.name != "read_file"]

        agent.hooks.register("before_generate", hide_read_file)
        result = await agent.run('call read_file {"path": "/etc/passwd"}\ncall calculator {"expression": "1+1"}')
        hidden, allowed = result.tool_calls
        assert hidden.error == "tool 'read_file' was not offered to the model in this iteration"
        assert result.iterations[0].tools_offered == ["calculator", "slow"]
        assert allowed.result.content == "2"


async def test_a_redaction_before_the_workflow_reaches_memory_and_the_strategy() -> None:
    queries: list[str] = []

    class Store:
        def search(self, collection: str, vector: Any, top_k: int) -> list[SearchResult]:
            return []

    class Embedder:
        def embed(self, text: str) -> list[float]:
            queries.append(text)
            return [1.0]

    class Strategy:
        def prepare_iteration(self, state: Any) -> None:
            queries.append(state.query)

    agent = Agent(Scripted(), reasoning=Strategy(), memory=Memory(Store(), Embedder(), "notes"))

    def redact(context: WorkflowContext) -> None:
        context.messages = [Message(m.role, m.content.replace("hunter2", "[secret]")) for m in context.messages]

    agent.hooks.register("pre_workflow_execution", redact)
    result = await agent.run("my password is hunter2")
    # The embedder (first iteration) and the strategy (each of the two iterations) saw the redaction.
    assert queries == ["my password is [secret]"] * 3
    assert "hunter2" not in json.dumps([m.content for m in result.messages])
