"""The agent workload: one task in which the model calls one tool and then answers (two model
calls and one tool call, on the Go echo LLM and the Go tool provider), run three ways on the same
plugin processes:

* hector Agent       `await Agent(llm, [tools]).run(task)` (hector_plugins.agents, no hooks)
* by hand            the same steps written with the clients: generate, call the tool, generate
* LangChain adapter  `HectorChatModel.bind_tools(...)` and `load_tools(...)`, the same steps with
                     LangChain messages (hector_plugins.langchain)

Goal: the Agent costs at most 5% more time per task than the steps by hand. Reports sequential
p50 and tasks/s at concurrency 16; every answer is checked. Asserts no time.

    python benchmarks/agents.py [--calls N] [--rounds R]   # on its own: updates its RESULTS.md section
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
import report  # noqa: E402
from measure import UnarySamples, measure_unary  # noqa: E402
from report import Goal, divide, fmt, median, table  # noqa: E402

HEADING = "## Agents: one task with one tool call"
TASK = 'call calculator {"expression": "6*7"}'
ANSWER = "Done: 42"
CONCURRENCY = 16
AGENT, HAND, LANGCHAIN = "hector Agent", "by hand with the clients", "LangChain adapter"
RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()


def by_hand(llm: Any, tools: Any, offered: list[Any]) -> Callable[[], Any]:
    """What an orchestrator writes without the Agent: the same calls, the same messages."""
    from hector_plugins import Message

    async def run() -> str:
        messages = [Message.user(TASK)]
        reply = await llm.generate(messages, offered)
        messages.append(Message.assistant(reply.text, reply.tool_calls))
        for call in reply.tool_calls:
            result = await tools.call(call.name, call.arguments_json, call_id=call.id)
            messages.append(Message.tool(result.content if result.success else f"error: {result.error}", call.id))
        return (await llm.generate(messages, offered)).text

    return run


def with_agent(agent: Any) -> Callable[[], Any]:
    async def run() -> str:
        return (await agent.run(TASK)).answer  # type: ignore[no-any-return]

    return run


def with_langchain(model: Any, tools: list[Any]) -> Callable[[], Any]:
    from langchain_core.messages import HumanMessage

    bound = model.bind_tools(tools)
    by_name = {tool.name: tool for tool in tools}

    async def run() -> str:
        messages: list[Any] = [HumanMessage(TASK)]
        reply = await bound.ainvoke(messages)
        messages.append(reply)
        for call in reply.tool_calls:
            messages.append(await by_name[call["name"]].ainvoke(call))
        return str((await bound.ainvoke(messages)).content)

    return run


async def measure(calls: int, rounds: int) -> dict[str, Any]:
    """Per-round samples of each way, in alternating order; every answer checked first."""
    from hector_plugins import PluginManager
    from hector_plugins.agents import Agent

    build = peers.build_plugins
    async with PluginManager() as pm:
        await pm.load(build.GO_PLUGIN, name="model")
        await pm.load(build.GO_TOOLS_PLUGIN, name="calc", type="tools")
        llm, tools = pm.llm("model"), pm.tools("calc")
        agent = Agent(llm, [tools])
        ways: dict[str, Callable[[], Any]] = {
            AGENT: with_agent(agent),
            HAND: by_hand(llm, tools, await tools.list_tools()),
        }
        missing = None
        try:
            from hector_plugins.langchain import HectorChatModel, load_tools

            ways[LANGCHAIN] = with_langchain(HectorChatModel(client=llm), await load_tools(tools))
        except ImportError as error:
            missing = f"LangChain adapter not measured: {error}"
        for name, run in ways.items():
            answer = await run()
            if answer != ANSWER:
                raise RuntimeError(f"{name} answered {answer!r}, not {ANSWER!r}")
        samples = {name: UnarySamples() for name in ways}
        warm = max(20, calls // 10)
        for r in range(rounds):
            order = list(ways) if r % 2 == 0 else list(ways)[::-1]
            print(f"  agents round {r + 1}/{rounds}", file=sys.stderr, flush=True)
            for name in order:
                await measure_unary(ways[name], calls, warm, samples[name], concurrency=(CONCURRENCY,))
    return {"samples": samples, "calls": calls, "rounds": rounds, "missing": missing}


def section(m: dict[str, Any]) -> list[str]:
    samples: dict[str, UnarySamples] = m["samples"]
    hand = samples[HAND]
    rows = []
    for name, s in samples.items():
        p50, rate = s.median("p50_us"), median(s.conc_rate[CONCURRENCY])
        rows.append(
            [
                name,
                fmt(p50, ",.0f"),
                fmt(s.median("p99_us"), ",.0f"),
                fmt(s.median("seq_rate")),
                fmt(rate),
                fmt(s.median("cpu_us"), ",.0f"),
                "–" if name == HAND else f"{(divide(p50, hand.median('p50_us')) or 0) - 1:+.1%}",
            ]
        )
    notes = [m["missing"]] if m["missing"] else []
    return [
        "",
        HEADING,
        "",
        f"`{TASK}` on the Go echo LLM and the Go tool provider: the model asks for the calculator, the tool runs, "
        f"the model answers `{ANSWER}` (two `Generate` calls and one `ExecuteTool` per task). {m['calls']} tasks per "
        f"measurement, {m['rounds']} rounds, medians; the Agent runs with no strategy, memory or hooks. By hand: "
        "the same calls and messages written with the clients. LangChain: `HectorChatModel.bind_tools` and "
        "`load_tools`, the same steps with LangChain messages (no LangGraph).",
        "",
        *table(
            ["way", "p50 µs", "p99 µs", "tasks/s", f"tasks/s c{CONCURRENCY}", "host CPU µs/task", "p50 vs by hand"],
            rows,
        ),
        *(["", *notes] if notes else []),
    ]


def goals(m: dict[str, Any]) -> list[Goal]:
    samples: dict[str, UnarySamples] = m["samples"]
    agent, hand = samples[AGENT].median("p50_us"), samples[HAND].median("p50_us")
    return [
        Goal(
            "Agent at most 5% more time per task than the same steps by hand (p50)",
            divide(hand, agent),
            1 / 1.05,
            True,
            f"{fmt(agent)} vs {fmt(hand)} µs",
        )
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=2000, help="tasks per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    report.add_output_arguments(parser, RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    peers.build_plugins.build_go()
    m = asyncio.run(measure(args.calls, args.rounds))
    report.update_alone(args, HEADING, section(m), goals(m), LOAD_AT_START)


if __name__ == "__main__":
    main()
