"""What an agent run leaves: its result with the full trace, the events ``Agent.stream`` yields,
and the contexts its hooks receive. Plain dataclasses: readable, and changeable by hooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

from .._core import Message, SearchResult, StopDecision, ToolCall, ToolDefinition, ToolResult
from ._hooks import HookPoint

StopReason = Literal["model_done", "strategy"]
"""Why a run ended with an answer: the model called no tool (and there is no strategy), or the
reasoning strategy said stop (its reason is in the last iteration's ``stop``)."""


@dataclass
class ToolCallTrace:
    """One tool call of a run, as it was executed (after the hooks)."""

    iteration: int
    call: ToolCall
    """The call the tool received (name and arguments after ``before_tool_call`` hooks)."""
    provider: str
    """The tool provider (or delegated agent) that served it; "" for a tool no provider has."""
    result: ToolResult
    """What the model got back: the tool's answer, or a failure (``success=False``)."""
    duration: float
    """Seconds, from the call to its result (hooks excluded)."""
    error: str | None = None
    """Why it failed, when it did: the tool's own failure, a call error, a timeout, a veto, the
    agent's policy."""
    vetoed_by: str | None = None
    """The hook that refused the call, if one did."""
    refused_by: str | None = None
    """The rule of the agent's policy that refused the call, if one did (``"policy.tools"`` or
    ``"policy.deny_tools"``)."""
    delegated: AgentResult | None = None
    """For a call to another agent (``Agent.as_tool``): that agent's result and trace."""


@dataclass
class IterationTrace:
    """One iteration of the loop."""

    iteration: int
    injected: list[Message] = field(default_factory=list)
    """Messages the reasoning strategy added before the model was called."""
    retrieved: list[SearchResult] = field(default_factory=list)
    """What memory returned for the task (first iteration only)."""
    request: list[Message] = field(default_factory=list)
    """The messages the model was sent (after ``before_generate`` hooks)."""
    tools_offered: list[str] = field(default_factory=list)
    text: str = ""
    """What the model said."""
    tool_calls: list[ToolCallTrace] = field(default_factory=list)
    tokens_used: int = 0
    stop: StopDecision | None = None
    """The strategy's decision (None without a strategy)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step: ``prepare``, ``retrieve``, ``generate``, ``tools``, ``after``,
    ``should_stop``, and ``total``."""


@dataclass
class AgentResult:
    """The outcome of ``Agent.run``: the answer and everything that led to it."""

    agent: str
    run_id: str
    task: str
    answer: str = ""
    """The model's last text."""
    messages: list[Message] = field(default_factory=list)
    """The whole conversation, tool calls and results included."""
    iterations: list[IterationTrace] = field(default_factory=list)
    total_tokens: int = 0
    duration: float = 0.0
    """Seconds, for the whole run."""
    stop_reason: StopReason | None = None
    """None while the run is going (a partial result attached to an error)."""

    @property
    def tool_calls(self) -> list[ToolCallTrace]:
        """Every tool call of the run, in order."""
        return [call for step in self.iterations for call in step.tool_calls]


# ---- events (Agent.stream) -------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    """A piece of the model's text, as it streams."""

    iteration: int
    text: str
    type: Literal["text_delta"] = "text_delta"


@dataclass(frozen=True)
class ToolCallEvent:
    """A tool call about to run (after ``before_tool_call`` hooks)."""

    iteration: int
    call: ToolCall
    provider: str
    type: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True)
class ToolResultEvent:
    """A tool call's outcome (after ``after_tool_call`` hooks)."""

    iteration: int
    trace: ToolCallTrace
    type: Literal["tool_result"] = "tool_result"


@dataclass(frozen=True)
class IterationEnd:
    """An iteration finished."""

    iteration: int
    trace: IterationTrace
    type: Literal["iteration_end"] = "iteration_end"


@dataclass(frozen=True)
class FinalEvent:
    """The run's result; the last event."""

    result: AgentResult
    type: Literal["final"] = "final"


@dataclass(frozen=True)
class ErrorEvent:
    """The run failed; the stream raises ``error`` right after yielding this."""

    error: BaseException
    result: AgentResult
    """The trace up to the failure."""
    type: Literal["error"] = "error"


AgentEvent = Union[TextDelta, ToolCallEvent, ToolResultEvent, IterationEnd, FinalEvent, ErrorEvent]


# ---- hook contexts ---------------------------------------------------------------------


@dataclass
class RunInfo:
    """What every hook of one run shares."""

    agent: str
    run_id: str
    task: str
    metadata: dict[str, Any] = field(default_factory=dict)
    """Free for hooks: state one hook leaves for a later one in the same run."""
    result: AgentResult | None = None
    """The trace so far (complete at ``post_workflow_execution``)."""


@dataclass
class WorkflowContext:
    """``pre_workflow_execution`` (change ``messages`` to change what the run starts from) and
    ``post_workflow_execution`` (``result`` is final; changing its ``answer`` changes what
    ``run`` returns)."""

    point: HookPoint
    run: RunInfo
    messages: list[Message]
    result: AgentResult | None = None


@dataclass
class IterationContext:
    """``before_iteration`` and ``after_iteration`` (``step`` is the finished iteration)."""

    point: HookPoint
    run: RunInfo
    iteration: int
    messages: list[Message]
    """The conversation; changes are kept for the rest of the run."""
    step: IterationTrace | None = None


@dataclass
class GenerateContext:
    """``before_generate`` (change ``messages`` or ``tools`` to change what the model is sent:
    redact, add context) and ``after_generate`` (change ``text`` or ``tool_calls`` to change
    what the run does with the answer)."""

    point: HookPoint
    run: RunInfo
    iteration: int
    messages: list[Message]
    tools: list[ToolDefinition]
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tokens_used: int = 0


@dataclass
class ToolCallContext:
    """``before_tool_call`` (change ``arguments`` or ``name``; ``raise Veto(reason)`` refuses
    the call, and the model is told which hook refused it) and ``after_tool_call`` (replace
    ``result`` to change what the model gets)."""

    point: HookPoint
    run: RunInfo
    iteration: int
    call_id: str
    name: str
    arguments: Any
    """The arguments, parsed from the model's JSON (the text itself when it is not JSON)."""
    provider: str
    result: ToolResult | None = None
    error: str | None = None


@dataclass
class ErrorContext:
    """``on_error``: the run failed with ``error`` (it is raised after the hooks)."""

    point: HookPoint
    run: RunInfo
    iteration: int
    error: BaseException
