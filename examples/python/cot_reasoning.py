"""A chain-of-thought reasoning strategy plugin in Python with plain grpcio and generated stubs
(hector.plugin.ReasoningStrategy, docs/protocol.md §7.8).

It keeps no state between calls: everything arrives in the ReasoningState, and what it wants
to remember (one note per iteration) goes back as the custom state (JSON).

* PrepareIteration: on the first iteration, a system message asking to think step by step.
* ShouldStop: stop when the model asked for no tool call in this iteration, or once
  `max_iterations` (config, default 5) iterations ran.
* AfterIteration: appends a note (the iteration, the tools called) to the custom state.
* GetContextInjection: "Iteration i of N", and the notes so far.

A state it cannot use is an in-band `error` (iteration < 1) or INVALID_ARGUMENT (custom state
that is not a JSON object). Config `test_hooks: "true"` turns on two hooks for host tests: a
query "crash" exits mid-call, a query "sleep <seconds>" waits that long before answering.

Run by the launcher examples/build_plugins.py writes (it sets HECTOR_PROTO_STUBS, the directory
of the generated *_pb2 modules).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

sys.path.insert(0, os.environ["HECTOR_PROTO_STUBS"])

import grpc  # noqa: E402
from hector.plugin import common_pb2, llm_pb2, reasoning_pb2, reasoning_pb2_grpc  # noqa: E402

NAME = "cot-reasoning-py"
INSTRUCTIONS = "Think step by step. Call a tool when you need a fact or a computation; answer when you can."


class ChainOfThought(reasoning_pb2_grpc.ReasoningStrategyServicer):
    def __init__(self, stopped: asyncio.Event) -> None:
        self.stopped = stopped
        self.max_iterations = 5
        self.test_hooks = False

    async def Initialize(self, request, context):
        config = dict(request.config)
        try:
            self.max_iterations = int(config.get("max_iterations", "5"))
        except ValueError:
            return common_pb2.InitializeResponse(success=False, error="max_iterations must be an integer")
        if self.max_iterations < 1:
            return common_pb2.InitializeResponse(success=False, error="max_iterations must be at least 1")
        self.test_hooks = config.get("test_hooks") == "true"
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        asyncio.get_running_loop().call_later(0.05, self.stopped.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        return common_pb2.HealthResponse(healthy=True, message="ok")

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(
            name=NAME, version="1.0.0", type="reasoning_strategy", protocol="grpc", hector_version=">=0.1.0"
        )

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")

    async def GetStrategyInfo(self, request, context):
        return reasoning_pb2.StrategyInfo(
            name="chain_of_thought",
            description=f"Think step by step; stop when no tool is called or after {self.max_iterations} iterations",
        )

    async def _notes(self, state, context) -> list:
        """The notes of earlier iterations (the custom state), after the test hooks."""
        if self.test_hooks and state.query == "crash":
            os._exit(3)
        if self.test_hooks and state.query.startswith("sleep "):
            await asyncio.sleep(float(state.query.split()[1]))
        if not state.custom_state_json:
            return []
        try:
            custom = json.loads(state.custom_state_json)
        except ValueError:
            custom = None
        if not isinstance(custom, dict):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "custom_state_json is not a JSON object")
        return list(custom.get("notes", []))

    async def PrepareIteration(self, state, context):
        notes = await self._notes(state, context)
        if state.iteration < 1:
            return reasoning_pb2.IterationPlan(error=f"iteration must be 1 or more, not {state.iteration}")
        inject = [llm_pb2.Message(role="system", content=INSTRUCTIONS)] if state.iteration == 1 else []
        return reasoning_pb2.IterationPlan(inject_messages=inject, custom_state_json=json.dumps({"notes": notes}))

    async def ShouldStop(self, state, context):
        notes = await self._notes(state, context)
        if state.iteration < 1:
            return reasoning_pb2.StopDecision(error=f"iteration must be 1 or more, not {state.iteration}")
        custom = json.dumps({"notes": notes})
        if not state.tool_calls:
            return reasoning_pb2.StopDecision(stop=True, reason="the model called no tool", custom_state_json=custom)
        if state.iteration >= self.max_iterations:
            reason = f"reached max_iterations ({self.max_iterations})"
            return reasoning_pb2.StopDecision(stop=True, reason=reason, custom_state_json=custom)
        return reasoning_pb2.StopDecision(stop=False, custom_state_json=custom)

    async def AfterIteration(self, state, context):
        notes = await self._notes(state, context)
        if state.iteration < 1:
            return reasoning_pb2.StateUpdate(error=f"iteration must be 1 or more, not {state.iteration}")
        failed = [r.call_id for r in state.tool_results if not r.success]
        notes.append({"iteration": state.iteration, "tools": [c.name for c in state.tool_calls], "failed": failed})
        return reasoning_pb2.StateUpdate(custom_state_json=json.dumps({"notes": notes}))

    async def GetContextInjection(self, state, context):
        notes = await self._notes(state, context)
        if state.iteration < 1:
            return reasoning_pb2.ContextInjection(error=f"iteration must be 1 or more, not {state.iteration}")
        lines = [f"Iteration {state.iteration} of at most {self.max_iterations}."]
        lines += [f"Iteration {n['iteration']} called: {', '.join(n['tools']) or 'no tool'}." for n in notes]
        return reasoning_pb2.ContextInjection(text="\n".join(lines))

    async def GetPromptSlots(self, request, context):
        return reasoning_pb2.PromptSlots(
            reasoning_instructions=INSTRUCTIONS,
            tool_usage="Use the tools' results; do not guess what a tool would return.",
        )


async def main() -> None:
    if os.environ.get("HECTOR_PLUGIN") != "hector_plugin_v1":
        sys.stderr.write("This binary is a plugin. These are not meant to be executed directly.\n")
        sys.exit(1)
    stopped = asyncio.Event()
    server = grpc.aio.server()
    reasoning_pb2_grpc.add_ReasoningStrategyServicer_to_server(ChainOfThought(stopped), server)
    address = os.path.join(os.environ.get("PLUGIN_UNIX_SOCKET_DIR", "/tmp"), f"{NAME}-{os.getpid()}.sock")
    server.add_insecure_port("unix:" + address)
    await server.start()
    # The go-plugin handshake line (docs/protocol.md §2): nothing else may come first on stdout.
    sys.stdout.write(f"1|1|unix|{address}|grpc|\n")
    sys.stdout.flush()
    await stopped.wait()
    await server.stop(0.1)


if __name__ == "__main__":
    asyncio.run(main())
