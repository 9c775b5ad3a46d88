"""Agent: one hector.yaml (examples/agent.yaml) with a Go LLM, a Rust embedder, a Python vector
database, a Go tool provider, an MCP server and a reasoning strategy; an agent that searches its
memory, calls two tools at once and answers, with a hook watching every tool call.

    python examples/agent.py

Builds the example plugins first if needed. The MCP server needs the `mcp` package (Python >=
3.10; the dev extra installs it). The LLM is the Go echo plugin, scripted by its input: each
`call <tool> <json>` line is a tool call, and after the tools ran it answers with their results
and the context memory gave it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_plugins  # noqa: E402
from hector_plugins import PluginManager  # noqa: E402
from hector_plugins.agents import TextDelta, ToolCallContext, ToolCallEvent, ToolResultEvent  # noqa: E402

FACTS = {
    "calc": "The calculator tool evaluates arithmetic expressions",
    "paris": "Paris is the capital of France",
}
TASK = 'call calculator {"expression": "6*7"}\ncall add {"a": 2, "b": 3}'


async def main() -> None:
    build_plugins.build_all()
    # agent.yaml runs the MCP server with this interpreter, from this directory.
    os.environ.setdefault("HECTOR_EXAMPLE_PYTHON", sys.executable)
    os.environ.setdefault("HECTOR_EXAMPLES_DIR", str(HERE))

    async with PluginManager(HERE / "agent.yaml") as pm:
        await pm.load_all(strict=True)

        # A hook for every agent of this manager: see (and here, log) each tool call.
        @pm.hooks.on("before_tool_call")
        def announce(call: ToolCallContext) -> None:
            print(f"  hook: {call.name}({call.arguments}) on {call.provider}")

        agent = pm.agent("research")
        assert agent.memory is not None
        await pm.database("docs").create_collection("facts", (await pm.embedder("embedder").info()).dimension)
        await agent.memory.add(list(FACTS.values()), ids=list(FACTS))

        print("run:")
        result = await agent.run(TASK)
        for step in result.iterations:
            print(
                f"  iteration {step.iteration}: memory {[hit.id for hit in step.retrieved]}, "
                f"tools {[(t.call.name, t.result.content) for t in step.tool_calls]}, "
                f"{step.timings['total'] * 1000:.1f} ms"
            )
        print(f"  answer: {result.answer}")
        print(
            f"  {len(result.iterations)} iterations, {result.total_tokens} tokens, stopped by the {result.stop_reason}"
        )

        print("stream:")
        async for event in agent.stream(TASK):
            if isinstance(event, ToolCallEvent):
                print(f"  tool call {event.call.name} -> {event.provider}")
            elif isinstance(event, ToolResultEvent):
                print(f"  tool result {event.trace.result.content}")
            elif isinstance(event, TextDelta):
                print(f"  text {event.text!r}")
            elif event.type == "final":
                print(f"  final: {event.result.answer}")


if __name__ == "__main__":
    asyncio.run(main())
