"""The agent loop (docs/agents.md): per iteration, the strategy prepares, memory is searched
(first iteration), the model answers with the tools offered, the tools it asks for run
concurrently, the strategy updates its state and decides whether to stop; hooks run at every
step. ``run`` and ``stream`` are the same loop (``_Run``); only ``stream`` asks it for events."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from typing import Any, Callable, Union

from .._core import Message, ReasoningState, ToolCall, ToolDefinition, ToolResult
from ..errors import (
    AgentError,
    AgentLimitError,
    AgentTimeoutError,
    CallTimeoutError,
    ConfigError,
    HookVetoError,
    PluginCallError,
)
from ._hooks import HookPoint, HookRegistry, run_hooks
from ._parts import AS_WRITTEN, CLIENTS, AgentTool, Memory, Model, Strategy, Toolbox
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
    TextDelta,
    ToolCallContext,
    ToolCallEvent,
    ToolCallTrace,
    ToolResultEvent,
    WorkflowContext,
)

Task = Union[str, Sequence[Any]]
"""A task: the user's request as text, or a conversation (messages or dicts) to continue."""


class Agent:
    """An LLM with tools, an optional reasoning strategy and optional memory, run as a loop.

    Every part is a plugin client (``pm.llm(...)``, ``pm.tools(...)``, ...) or an in-process
    object with the same methods. ``tools`` are tool providers, ``Toolset``s (prefix, subset) or
    other agents' ``as_tool()``. Limits: ``max_iterations``; ``max_tokens`` (the model is not
    called again once the run has used that many); ``timeout`` (seconds for the whole run:
    every call in flight is cancelled when it passes); ``tool_timeout`` (seconds per tool
    call; a tool that passes it fails, and the model is told). ``hooks`` are the agent's own;
    ``manager_hooks`` (``pm.hooks``, for agents built by ``pm.agent``) run before them.
    ``policy`` (an ``AgentPolicy``, or a mapping of its arguments) restricts the plugins the
    agent is built on (checked here: ``ConfigError`` naming ``policy.plugins``) and the tools it
    may call (the others are not offered, and a call to one fails naming the policy)."""

    def __init__(
        self,
        llm: Any,
        tools: Iterable[Any] = (),
        *,
        reasoning: Any = None,
        memory: Memory | None = None,
        name: str = "agent",
        description: str = "",
        system_prompt: str | None = None,
        max_iterations: int = 10,
        max_tokens: int | None = None,
        timeout: float | None = None,
        tool_timeout: float | None = None,
        max_concurrent_tools: int = 8,
        streaming: bool = False,
        hooks: HookRegistry | None = None,
        manager_hooks: HookRegistry | None = None,
        policy: AgentPolicy | Mapping[str, Any] | None = None,
    ) -> None:
        for key, value, at_least in (
            ("max_iterations", max_iterations, 1),
            ("max_concurrent_tools", max_concurrent_tools, 1),
        ):
            if not isinstance(value, int) or value < at_least:
                raise ConfigError(
                    f"agent {name!r}: {key} must be a whole number, at least {at_least}, not {value!r}", key=key
                )
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise ConfigError(
                f"agent {name!r}: max_tokens must be a whole number, at least 1, not {max_tokens!r}", key="max_tokens"
            )
        for key, seconds in (("timeout", timeout), ("tool_timeout", tool_timeout)):
            if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
                raise ConfigError(f"agent {name!r}: {key} must be seconds, more than 0, not {seconds!r}", key=key)
        if memory is not None and not isinstance(memory, Memory):
            raise ConfigError(f"agent {name!r}: memory must be a Memory(database, embedder, collection)", key="memory")
        self.policy = None if policy is None else AgentPolicy.from_config(policy, _in_code_policy(name))
        self.name = name
        self.description = description
        self.system_prompt = system_prompt
        self.model = Model(llm)
        self.toolbox = Toolbox(tools, self.policy, name)
        self.strategy = Strategy(reasoning) if reasoning is not None else None
        self.memory = memory
        if self.policy is not None:
            self._check_plugins(self.policy)
        self.max_iterations = max_iterations
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.tool_timeout = tool_timeout
        self.max_concurrent_tools = max_concurrent_tools
        self.streaming = streaming
        self.hooks = hooks if hooks is not None else HookRegistry()
        self.manager_hooks = manager_hooks

    def __repr__(self) -> str:
        return f"Agent({self.name!r}, llm={self.model.name!r}, tools={[t.name for t in self.toolbox.toolsets]})"

    def _check_plugins(self, policy: AgentPolicy) -> None:
        """Every plugin client the agent is built on must be in ``policy.plugins`` (in-process
        parts and delegated agents are not plugins; a delegated agent has its own policy)."""
        parts: list[tuple[str, Any]] = [("llm", self.model.part)]
        parts += [("tool provider", toolset.source) for toolset in self.toolbox.toolsets]
        if self.strategy is not None:
            parts.append(("reasoning_strategy", self.strategy.part))
        if self.memory is not None:
            parts += [("database", self.memory.database), ("embedder", self.memory.embedder)]
        for role, part in parts:
            if isinstance(part, CLIENTS) and not policy.allows_plugin(part.name):
                raise ConfigError(policy.plugin_refusal(self.name, role, part.name), key="policy.plugins")

    async def run(self, task: Task) -> AgentResult:
        """Runs the loop on ``task`` and returns the answer with the full trace. Raises what
        stopped it: a plugin call's error (``PluginCallError``, ``PluginCrashedError``, ...), a
        hook's (``HookError``), a limit (``AgentLimitError``, ``AgentTimeoutError``); the
        error's ``result`` holds the trace so far where it is an ``AgentError``. Cancelling the
        task cancels every call in flight."""
        return await _Run(self, task, None).execute(self.streaming)

    async def stream(self, task: Task) -> AsyncIterator[AgentEvent]:
        """The run as events: ``TextDelta`` (the model streams), ``ToolCallEvent``,
        ``ToolResultEvent``, ``IterationEnd``, then ``FinalEvent``; on failure an
        ``ErrorEvent``, then the error is raised. Closing the iterator cancels the run."""
        # The run is a task of its own that hands events over a queue: `run()` pays nothing
        # for events it does not want.
        events: asyncio.Queue[AgentEvent | None] = asyncio.Queue()
        run = _Run(self, task, events.put_nowait)

        async def produce() -> AgentResult:
            try:
                return await run.execute(stream_model=True)
            finally:
                events.put_nowait(None)

        runner = asyncio.ensure_future(produce())
        try:
            while (event := await events.get()) is not None:
                yield event
            await runner  # raises the run's error, after its ErrorEvent
        finally:
            if not runner.done():
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)

    def as_tool(self, name: str | None = None, description: str | None = None) -> AgentTool:
        """This agent as a tool for another: the model passes a ``task``, gets the answer."""
        return AgentTool(self, name, description)

    async def list_tools(self) -> list[ToolDefinition]:
        """The tools the model is offered (listed on the first run, then kept)."""
        return list(await self.toolbox.offered(self.tool_timeout))

    def refresh_tools(self) -> None:
        """Lists the providers' tools again on the next run (after a provider changed them)."""
        self.toolbox.forget()


class _Run:
    """The state of one run: the conversation, the strategy's state, the trace, the clock."""

    def __init__(self, agent: Agent, task: Task, emit: Callable[[AgentEvent], None] | None) -> None:
        self.agent = agent
        self.emit = emit
        self.started = time.monotonic()
        self.deadline = None if agent.timeout is None else self.started + agent.timeout
        if isinstance(task, str):
            query, conversation = task, [Message.user(task)]
        else:
            items: Sequence[Any] = task
            conversation = [m if isinstance(m, Message) else Message(**m) for m in items]
            users = [m.content for m in conversation if m.role == "user"]
            if not users:
                raise ConfigError(f"agent {agent.name!r}: a conversation to continue needs a user message")
            query = users[-1]
        self.query = query
        self.messages: list[Message] = (
            [Message.system(agent.system_prompt)] if agent.system_prompt else []
        ) + conversation
        run_id = f"{_RUN_PREFIX}{next(_run_numbers):x}"
        self.result = AgentResult(agent.name, run_id, query)
        self.info = RunInfo(agent.name, run_id, query, result=self.result)
        self.custom_state = ""
        self.iteration_number = 0
        # The hooks, fixed for the run (registering during a run applies from the next one); the
        # loop builds no context for a point without hooks.
        manager = agent.manager_hooks
        self.hook_lists = agent.hooks.lists() if manager is None else manager.lists(then=agent.hooks)

    async def execute(self, stream_model: bool) -> AgentResult:
        """The whole run: the workflow hooks around the iterations, ``on_error`` on failure."""
        try:
            if self.has_hooks("pre_workflow_execution"):
                start = WorkflowContext("pre_workflow_execution", self.info, self.messages)
                await self.hooks("pre_workflow_execution", start)
                self.messages = start.messages
                # What memory and the strategy see is the request as the hooks left it (redacted).
                self.query = next((m.content for m in reversed(self.messages) if m.role == "user"), self.query)
            for iteration in range(1, self.agent.max_iterations + 1):
                await self.iteration(iteration, stream_model)
                if self.result.stop_reason is not None:
                    break
            else:
                raise self.limit("max_iterations", f"it reached max_iterations ({self.agent.max_iterations})")
            self.finish()
            if self.has_hooks("post_workflow_execution"):
                end = WorkflowContext("post_workflow_execution", self.info, self.messages, self.result)
                await self.hooks("post_workflow_execution", end)
        except (Exception, asyncio.CancelledError) as caught:
            error = self.failed(caught)
            if not isinstance(error, asyncio.CancelledError):
                try:
                    await self.hooks("on_error", ErrorContext("on_error", self.info, self.iteration_number, error))
                except AgentError as hook_failed:  # reported in place of the error it was told of
                    hook_failed.result = self.result
                    if self.emit is not None:
                        self.emit(ErrorEvent(hook_failed, self.result))
                    raise
                if self.emit is not None:
                    self.emit(ErrorEvent(error, self.result))
            if error is caught:
                raise
            raise error from caught
        if self.emit is not None:
            self.emit(FinalEvent(self.result))
        return self.result

    # -- time and limits

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.limit("timeout", f"it passed its timeout ({self.agent.timeout} s)")
        return left

    def within(self, per_call: float | None = None) -> float | None:
        """The timeout for the next call: its own, cut to what is left of the run's."""
        left = self.remaining()
        return left if per_call is None else per_call if left is None else min(left, per_call)

    def limit(self, which: str, why: str) -> AgentLimitError:
        self.finish()
        cls = AgentTimeoutError if which == "timeout" else AgentLimitError
        return cls(f"agent {self.agent.name!r} stopped: {why}", agent=self.agent.name, limit=which, result=self.result)

    def failed(self, error: BaseException) -> BaseException:
        """The error the run raises: a timeout past the run's deadline becomes its
        ``AgentTimeoutError``; an ``AgentError`` gets the trace so far."""
        self.finish()
        past_deadline = self.deadline is not None and time.monotonic() >= self.deadline
        if (
            past_deadline
            and isinstance(error, (CallTimeoutError, asyncio.TimeoutError))
            and not isinstance(error, AgentError)
        ):
            timed_out = self.limit("timeout", f"it passed its timeout ({self.agent.timeout} s)")
            timed_out.__cause__ = error
            return timed_out
        if isinstance(error, AgentError) and error.result is None:
            error.result = self.result
        return error

    def finish(self) -> None:
        self.result.messages = self.messages
        self.result.duration = time.monotonic() - self.started

    # -- hooks

    def has_hooks(self, point: HookPoint) -> bool:
        return point in self.hook_lists

    async def hooks(self, point: HookPoint, context: Any) -> None:
        hooks = self.hook_lists.get(point)
        if hooks:
            await run_hooks(hooks, context, agent=self.agent.name)

    # -- one iteration

    def state(self, step: IterationTrace, **done: Any) -> ReasoningState:
        return ReasoningState(
            step.iteration,
            self.query,
            self.messages,
            custom_state=self.custom_state,
            total_tokens=self.result.total_tokens,
            **done,
        )

    async def iteration(self, number: int, stream_model: bool) -> None:
        agent, strategy = self.agent, self.agent.strategy
        self.iteration_number = number
        step = IterationTrace(number)
        self.result.iterations.append(step)
        began = time.monotonic()
        if self.has_hooks("before_iteration"):
            before = IterationContext("before_iteration", self.info, number, self.messages)
            await self.hooks("before_iteration", before)
            self.messages = before.messages

        if strategy is not None:
            mark = time.monotonic()
            plan = await strategy.hook("prepare_iteration", self.state(step), self.within())
            if plan is not None:
                step.injected = list(plan.inject_messages)
                self.messages.extend(step.injected)
                self.custom_state = plan.custom_state_json or self.custom_state
            step.timings["prepare"] = time.monotonic() - mark

        if agent.memory is not None and number == 1:
            mark = time.monotonic()
            step.retrieved = await agent.memory.retrieve(self.query, self.within())
            context = Memory.context_of(step.retrieved)
            if context is not None:
                self.messages.append(context)
            step.timings["retrieve"] = time.monotonic() - mark

        request = list(self.messages)
        if strategy is not None and strategy.has["context_injection"]:
            extra = await strategy.hook("context_injection", self.state(step), self.within())
            if extra:  # with the leading system messages, where models look for instructions
                leading = next((i for i, m in enumerate(request) if m.role != "system"), len(request))
                request.insert(leading, Message.system(extra))

        if agent.max_tokens is not None and self.result.total_tokens >= agent.max_tokens:
            raise self.limit("max_tokens", f"it used {self.result.total_tokens} tokens (max_tokens {agent.max_tokens})")
        toolbox = agent.toolbox
        tools = toolbox.kept()  # listed by an earlier run: no await
        if tools is None:
            tools = await toolbox.offered(self.within(agent.tool_timeout)) if toolbox.toolsets else []
        # Hooks get their own copy of the offer; without them the kept list is sent as it is.
        hooked = self.has_hooks("before_generate") or self.has_hooks("after_generate")
        generate = GenerateContext("before_generate", self.info, number, request, list(tools) if hooked else tools)
        if self.has_hooks("before_generate"):
            await self.hooks("before_generate", generate)
            generate.tools = toolbox.permitted(generate.tools)  # a hook cannot offer what the policy forbids
            step.tools_offered = [t.name for t in generate.tools]
            offered_names: Collection[str] = set(step.tools_offered)
        else:
            step.tools_offered = toolbox.names()
            offered_names = toolbox.name_set()
        step.request = generate.messages

        mark = time.monotonic()
        if stream_model:
            await self._stream_answer(number, generate)
        else:
            reply = await agent.model.generate(generate.messages, generate.tools, self.within())
            generate.text, generate.tool_calls, generate.tokens_used = reply.text, reply.tool_calls, reply.tokens_used
        step.timings["generate"] = time.monotonic() - mark
        if self.has_hooks("after_generate"):
            generate.point = "after_generate"
            await self.hooks("after_generate", generate)
        step.text, step.tokens_used = generate.text, generate.tokens_used
        self.result.total_tokens += generate.tokens_used
        calls = list(generate.tool_calls)
        self.messages.append(Message.assistant(generate.text, calls))

        if calls:
            mark = time.monotonic()
            await self._run_tools(number, calls, step, offered_names)
            step.timings["tools"] = time.monotonic() - mark

        if strategy is not None:
            results = [t.result for t in step.tool_calls]
            done = {
                "assistant_text": step.text,
                "tool_calls": [t.call for t in step.tool_calls],
                "tool_results": results,
            }
            mark = time.monotonic()
            update = await strategy.hook("after_iteration", self.state(step, **done), self.within())
            if update:
                self.custom_state = update
            step.timings["after"] = time.monotonic() - mark
            if strategy.has["should_stop"]:
                mark = time.monotonic()
                step.stop = Strategy.stop_of(
                    await strategy.hook("should_stop", self.state(step, **done), self.within())
                )
                self.custom_state = step.stop.custom_state_json or self.custom_state
                step.timings["should_stop"] = time.monotonic() - mark
        stop = bool(step.stop) if step.stop is not None else not calls
        step.timings["total"] = time.monotonic() - began
        if self.has_hooks("after_iteration"):
            after = IterationContext("after_iteration", self.info, number, self.messages, step)
            await self.hooks("after_iteration", after)
            self.messages = after.messages
        if stop:
            self.result.answer = step.text
            self.result.stop_reason = "strategy" if step.stop is not None else "model_done"
        if self.emit is not None:
            self.emit(IterationEnd(number, step))

    async def _stream_answer(self, number: int, generate: GenerateContext) -> None:
        chunks = self.agent.model.stream(generate.messages, generate.tools, self.within())
        try:
            await self._read_answer(number, generate, chunks)
        finally:
            await chunks.aclose()  # at once, not when collected: the plugin sees the call end

    async def _read_answer(self, number: int, generate: GenerateContext, chunks: AsyncIterator[Any]) -> None:
        text: list[str] = []
        async for chunk in chunks:
            if chunk.type == "text":
                text.append(chunk.text)
                if self.emit is not None:
                    self.emit(TextDelta(number, chunk.text))
            elif chunk.type == "tool_call" and chunk.tool_call is not None:
                generate.tool_calls.append(chunk.tool_call)
            elif chunk.type == "done":
                generate.tokens_used = chunk.tokens_used
            elif chunk.type == "error":
                raise PluginCallError(
                    f"llm {self.agent.model.name!r} streamed an error: {chunk.error}",
                    plugin=self.agent.model.name,
                    code="UNKNOWN",
                    method="GenerateStreaming",
                )
            self.remaining()  # a stream that trickles past the deadline stops here
        generate.text = "".join(text)

    async def _run_tools(
        self, number: int, calls: list[ToolCall], step: IterationTrace, offered: Collection[str]
    ) -> None:
        """``before_tool_call`` hooks in call order, the approved calls concurrently (at most
        ``max_concurrent_tools`` at once), then ``after_tool_call`` hooks in call order.
        Without tool hooks, the model's arguments go to the tool as the JSON it wrote."""
        toolbox = self.agent.toolbox
        hooked = self.has_hooks("before_tool_call") or self.has_hooks("after_tool_call")
        contexts: list[ToolCallContext | None] = []
        for call in calls:
            context = None
            trace = ToolCallTrace(number, call, toolbox.provider_of(call.name), _NOT_RUN, 0.0)
            if hooked:
                context = ToolCallContext(
                    "before_tool_call", self.info, number, call.id, call.name, _parsed(call), trace.provider
                )
                try:
                    await self.hooks("before_tool_call", context)
                except HookVetoError as veto:
                    trace.vetoed_by, context.error = veto.hook, f"refused by hook {veto.hook!r}: {veto.reason}"
                try:
                    trace.call = _as_called(context)
                except (TypeError, ValueError) as error:  # a hook left arguments JSON cannot carry
                    context.error = f"the arguments before_tool_call hooks left are not JSON: {error}"
                trace.provider = toolbox.provider_of(context.name)
            why: str | None = None
            if context is None or context.error is None:  # not vetoed: the policy, then the offer
                # Checked on the name the hooks left, so a hook cannot rename a call past it.
                refused = toolbox.refusal(trace.call.name)
                if refused is not None:
                    trace.refused_by, why = refused
                elif trace.provider and trace.call.name not in offered:
                    # A tool a before_generate hook took out of the offer is not run either.
                    why = f"tool {trace.call.name!r} was not offered to the model in this iteration"
            if why is not None:
                context = context or ToolCallContext(
                    "before_tool_call", self.info, number, call.id, call.name, None, trace.provider
                )
                context.error = why
            contexts.append(context)
            step.tool_calls.append(trace)
            if self.emit is not None:
                self.emit(ToolCallEvent(number, trace.call, trace.provider))

        if len(calls) == 1:
            await self._run_tool(contexts[0], step.tool_calls[0], None)
        else:
            limiter = asyncio.Semaphore(self.agent.max_concurrent_tools)
            await _all([self._run_tool(c, t, limiter) for c, t in zip(contexts, step.tool_calls)])

        for context, trace in zip(contexts, step.tool_calls):
            if context is not None:
                context.point, context.result = "after_tool_call", trace.result
                await self.hooks("after_tool_call", context)
                if context.result is not trace.result and context.result is not None:
                    trace.result = context.result
                    trace.error = None if trace.result.success else (trace.result.error or "the tool failed")
            self.messages.append(Message.tool(_for_model(trace.result), trace.call.id))
            if self.emit is not None:
                self.emit(ToolResultEvent(number, trace))

    async def _run_tool(
        self, context: ToolCallContext | None, trace: ToolCallTrace, limiter: asyncio.Semaphore | None
    ) -> None:
        if context is not None and context.error is not None:  # refused before it ran (veto, not offered, bad JSON)
            trace.result, trace.error = ToolResult(False, error=context.error, call_id=context.call_id), context.error
            return
        arguments = AS_WRITTEN if context is None else context.arguments
        began = time.monotonic()
        try:
            if limiter is None:
                result, trace.delegated = await self._execute(trace.call, arguments)
            else:
                async with limiter:
                    began = time.monotonic()
                    result, trace.delegated = await self._execute(trace.call, arguments)
        except (Exception, asyncio.TimeoutError) as error:
            own_limit = isinstance(error, AgentError) and error.result is self.result
            if own_limit or (self.deadline is not None and time.monotonic() >= self.deadline):
                raise  # the run's own deadline, not this tool's failure (a delegated agent's is)
            result = ToolResult(False, error=_tool_failure(error, self.agent.tool_timeout), call_id=trace.call.id)
        trace.duration = time.monotonic() - began
        trace.result = result
        if not result.success:
            trace.error = result.error or "the tool failed"

    def _execute(self, call: ToolCall, arguments: Any) -> Any:
        return self.agent.toolbox.execute(call, arguments, self.within(self.agent.tool_timeout))


_NOT_RUN = ToolResult(False, error="not run")
# Run ids: unique in this process and unlikely to repeat across processes, without a syscall each.
_RUN_PREFIX = secrets.token_hex(4) + "-"
_run_numbers = itertools.count(1)


async def _all(runs: list[Any]) -> None:
    """Runs ``runs`` concurrently; the first that raises (or a cancellation) cancels the rest."""
    tasks = [asyncio.ensure_future(run) for run in runs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _in_code_policy(agent: str) -> Callable[[str, str], ConfigError]:
    return lambda key, why: ConfigError(f"agent {agent!r}: {key}: {why}", key=key)


def _parsed(call: ToolCall) -> Any:
    try:
        return json.loads(call.arguments_json) if call.arguments_json.strip() else {}
    except ValueError:
        return call.arguments_json


def _as_called(context: ToolCallContext) -> ToolCall:
    arguments = context.arguments
    if isinstance(arguments, str):
        return ToolCall(context.call_id, context.name, arguments_json=arguments)
    return ToolCall(context.call_id, context.name, arguments)


def _tool_failure(error: BaseException, tool_timeout: float | None) -> str:
    if isinstance(error, (CallTimeoutError, asyncio.TimeoutError)):
        return f"the tool timed out (tool_timeout {tool_timeout} s)" if tool_timeout else f"the tool timed out: {error}"
    if isinstance(error, LookupError) and not isinstance(error, KeyError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _for_model(result: ToolResult) -> str:
    if result.success:
        return result.content or result.output_json
    return f"error: {result.error or 'the tool failed'}"
