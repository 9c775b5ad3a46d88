"""Agents and hooks: the loop a multi-agent orchestrator runs on plugins (docs/agents.md).

    from hector_plugins.agents import Agent, Memory

    agent = Agent(pm.llm("gpt"), [pm.tools("calc"), pm.tools("notes")], reasoning=pm.reasoning("cot"),
                  memory=Memory(pm.database("docs"), pm.embedder("e"), "notes"))
    result = await agent.run("what is 2+3?")      # answer + trace
    async for event in agent.stream("..."): ...   # typed events

Agents configured in hector.yaml's ``agents:`` come from ``pm.agent(name)``; ``pm.hooks`` holds
the hooks every agent of that manager runs. ``AgentPolicy`` restricts the plugins and tools one
agent may call (``Agent(..., policy=...)``, or ``policy:`` in hector.yaml).
"""

from __future__ import annotations

from ._agent import Agent, Task
from ._hooks import ENTRY_POINT_GROUP, HOOK_POINTS, Hook, HookPoint, HookRegistry, RegisteredHook, Veto
from ._parts import AgentTool, Memory, Toolset
from ._policy import AgentPolicy
from ._trace import (
    AgentEvent,
    AgentResult,
    ErrorContext,
    ErrorEvent,
    FinalEvent,
    GenerateContext,
    IterationContext,
    IterationEnd,
    IterationTrace,
    RunInfo,
    StopReason,
    TextDelta,
    ToolCallContext,
    ToolCallEvent,
    ToolCallTrace,
    ToolResultEvent,
    WorkflowContext,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOK_POINTS",
    "Agent",
    "AgentEvent",
    "AgentPolicy",
    "AgentResult",
    "AgentTool",
    "ErrorContext",
    "ErrorEvent",
    "FinalEvent",
    "GenerateContext",
    "Hook",
    "HookPoint",
    "HookRegistry",
    "IterationContext",
    "IterationEnd",
    "IterationTrace",
    "Memory",
    "RegisteredHook",
    "RunInfo",
    "StopReason",
    "Task",
    "TextDelta",
    "ToolCallContext",
    "ToolCallEvent",
    "ToolCallTrace",
    "ToolResultEvent",
    "Toolset",
    "Veto",
    "WorkflowContext",
]
