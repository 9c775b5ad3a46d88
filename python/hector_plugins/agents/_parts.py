"""The parts an agent is built from, each a plugin client or an in-process object with the same
methods: the model, tool sets, the reasoning strategy, memory. Each wrapper gives the loop one
way to call its part, with the timeout passed to a plugin client (so the plugin sees the
deadline) and enforced around an in-process object."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._core import (
    DatabaseClient,
    EmbedderClient,
    GenerateResponse,
    LLMClient,
    Message,
    ReasoningClient,
    ReasoningState,
    SearchResult,
    StopDecision,
    StreamChunk,
    ToolCall,
    ToolClient,
    ToolDefinition,
    ToolResult,
)
from ..errors import ConfigError, PluginCallError

if TYPE_CHECKING:
    from ._agent import Agent
    from ._policy import AgentPolicy
    from ._trace import AgentResult

T = TypeVar("T")
CONTENT_KEY = "content"
"""The metadata key that carries an entry's text: the example database returns it as
``SearchResult.content``; ``Memory`` and the LangChain vector store store text under it."""
AS_WRITTEN: Any = object()
"""Tool arguments to send as the model wrote them (``ToolCall.arguments_json``), unparsed."""
CLIENTS = (LLMClient, ToolClient, ReasoningClient, DatabaseClient, EmbedderClient)


def part_name(part: Any) -> str:
    """A client's plugin name, else the object's class name."""
    name = getattr(part, "name", None)
    return name if isinstance(name, str) and name else type(part).__name__


async def settle(value: Any, timeout: float | None) -> Any:
    """``value``, awaited when it is awaitable (within ``timeout`` seconds, if given)."""
    if not inspect.isawaitable(value):
        return value
    if timeout is None:
        return await value
    return await asyncio.wait_for(value, timeout)


def call(part: Any, method: str, *args: Any, timeout: float | None) -> Awaitable[Any]:
    """``part.method(*args)``: a plugin client gets ``timeout=``; an in-process object's result
    is awaited if needed, within the timeout."""
    if isinstance(part, CLIENTS):
        return getattr(part, method)(*args, timeout=timeout)  # type: ignore[no-any-return]
    return settle(getattr(part, method)(*args), timeout)


def require(part: Any, role: str, methods: Sequence[str]) -> None:
    missing = [m for m in methods if not callable(getattr(part, m, None))]
    if missing:
        raise ConfigError(f"the agent's {role} must have {', '.join(missing)}() (got {part!r})", key=role)


class Model:
    """The LLM."""

    def __init__(self, llm: Any) -> None:
        require(llm, "llm", ["generate"])
        self.part = llm
        self.name = part_name(llm)

    async def generate(
        self, messages: list[Message], tools: list[ToolDefinition], timeout: float | None
    ) -> GenerateResponse:
        reply = await call(self.part, "generate", messages, tools, timeout=timeout)
        if isinstance(reply, str):  # an in-process model may answer with text alone
            return GenerateResponse(reply)
        if not isinstance(reply, GenerateResponse):
            raise PluginCallError(
                f"the agent's llm {self.name!r} returned {type(reply).__name__}, not a GenerateResponse or str",
                plugin=self.name,
                code="INTERNAL",
                method="Generate",
            )
        return reply

    async def stream(
        self, messages: list[Message], tools: list[ToolDefinition], timeout: float | None
    ) -> AsyncGenerator[StreamChunk, None]:
        """The answer chunk by chunk; a model without ``generate_stream`` gives one answer's
        chunks."""
        if not callable(getattr(self.part, "generate_stream", None)):
            for chunk in (await self.generate(messages, tools, timeout)).chunks():
                yield chunk
            return
        if isinstance(self.part, LLMClient):
            chunks = self.part.generate_stream(messages, tools, timeout=timeout)
        else:
            chunks = await settle(self.part.generate_stream(messages, tools), timeout)
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()


class Toolset:
    """Tools for an agent: a tool provider (``pm.tools(name)``, a plugin or an MCP server), an
    in-process object with the same ``list_tools()`` and ``call(tool, arguments, call_id=...)``
    methods, or another agent (``agent.as_tool()``). ``prefix`` is put before each tool's name
    (to tell apart two providers' tools of the same name); ``only`` keeps just the tools named."""

    def __init__(
        self, source: Any, *, prefix: str = "", only: Iterable[str] | None = None, name: str | None = None
    ) -> None:
        if isinstance(source, Toolset):
            raise ConfigError("Toolset(...) takes a tool provider, not another Toolset", key="tools")
        if not isinstance(source, AgentTool):
            require(source, "tools", ["list_tools", "call"])
        self.source = source
        self.prefix = prefix
        self.only = None if only is None else frozenset(only)
        self.name = name or part_name(source)

    async def definitions(self, timeout: float | None) -> list[ToolDefinition]:
        listed = await call(self.source, "list_tools", timeout=timeout)
        tools = [t if isinstance(t, ToolDefinition) else ToolDefinition(**t) for t in listed]
        if self.only is not None:
            missing = self.only - {t.name for t in tools}
            if missing:
                raise ConfigError(
                    f"tool provider {self.name!r} has no tool {', '.join(sorted(missing))} "
                    f"(it has: {', '.join(t.name for t in tools) or 'none'})",
                    key="tools",
                )
            tools = [t for t in tools if t.name in self.only]
        if self.prefix:
            tools = [ToolDefinition(self.prefix + t.name, t.description, t.parameters_json) for t in tools]
        return tools


class AgentTool:
    """Another agent offered as a tool (``Agent.as_tool``): the model gives it a ``task`` and
    gets its answer; the call's trace keeps the delegated run."""

    def __init__(self, agent: Agent, name: str | None = None, description: str | None = None) -> None:
        self.agent = agent
        self.name = name or agent.name
        self.description = description or agent.description or f"Ask the agent {agent.name!r} to do a task."

    def list_tools(self) -> list[ToolDefinition]:
        schema = {
            "type": "object",
            "properties": {"task": {"type": "string", "description": "What the agent should do."}},
            "required": ["task"],
        }
        return [ToolDefinition(self.name, self.description, schema)]

    async def run(self, arguments: Any) -> AgentResult:
        task = arguments.get("task") if isinstance(arguments, dict) else None
        if not isinstance(task, str) or not task:
            raise ConfigError(f"agent tool {self.name!r} needs a non-empty `task` string, got {arguments!r}")
        return await self.agent.run(task)


class Toolbox:
    """Every tool an agent offers, by the name the model calls it, with the set that serves it.
    With a ``policy``, the tools it forbids are served (so a call to one is refused naming the
    policy, not "no such tool") but never offered."""

    def __init__(self, toolsets: Iterable[Any], policy: AgentPolicy | None = None, agent: str = "agent") -> None:
        self.toolsets = [t if isinstance(t, Toolset) else Toolset(t) for t in toolsets]
        self.policy = policy
        self.agent = agent
        self._offered: list[ToolDefinition] | None = None
        self._offered_names: list[str] = []
        self._offered_name_set: frozenset[str] = frozenset()
        self._served_by: dict[str, tuple[Toolset, str]] = {}
        self._listing: asyncio.Future[Any] | None = None

    def forget(self) -> None:
        """The next run lists the tools again."""
        self._offered, self._listing = None, None

    async def offered(self, timeout: float | None) -> list[ToolDefinition]:
        """The tools, listed once and kept (``forget`` lists again). Concurrent first runs share
        one listing; each waits for it within its own ``timeout``."""
        if self._offered is not None:
            return self._offered
        listing = self._listing
        if listing is None:
            listing = self._listing = asyncio.ensure_future(self._list(timeout))
            listing.add_done_callback(self._listed)
        shared = asyncio.shield(listing)
        offered, served_by = await (shared if timeout is None else asyncio.wait_for(shared, timeout))
        if self._listing is listing:  # not forgotten meanwhile
            self._offered, self._served_by = offered, served_by
            self._offered_names = [t.name for t in offered]
            self._offered_name_set = frozenset(self._offered_names)
        return offered

    def _listed(self, listing: asyncio.Future[Any]) -> None:
        """A failed listing is retried by the next run (its error went to the runs waiting)."""
        if (listing.cancelled() or listing.exception() is not None) and self._listing is listing:
            self._listing = None

    async def _list(self, timeout: float | None) -> tuple[list[ToolDefinition], dict[str, tuple[Toolset, str]]]:
        listings = await asyncio.gather(*(t.definitions(timeout) for t in self.toolsets))
        offered: list[ToolDefinition] = []
        served_by: dict[str, tuple[Toolset, str]] = {}
        for toolset, tools in zip(self.toolsets, listings):
            for tool in tools:
                if tool.name in served_by:
                    other = served_by[tool.name][0].name
                    raise ConfigError(
                        f"tool {tool.name!r} is offered by both {other!r} and {toolset.name!r}; "
                        "give one a prefix (Toolset(..., prefix=...) or `prefix:` in hector.yaml)",
                        key="tools",
                    )
                served_by[tool.name] = (toolset, tool.name[len(toolset.prefix) :])
                if self.policy is None or self.policy.allows_tool(*_known_as(tool.name, served_by)):
                    offered.append(tool)
        return offered, served_by

    def kept(self) -> list[ToolDefinition] | None:
        """The tools as listed by an earlier run; None until a listing is done."""
        return self._offered

    def names(self) -> list[str]:
        """The names of the tools offered (after ``offered``)."""
        return list(self._offered_names)

    def name_set(self) -> frozenset[str]:
        """The same names, to look calls up in."""
        return self._offered_name_set

    def provider_of(self, tool: str) -> str:
        served = self._served_by.get(tool)
        return served[0].name if served else ""

    def refusal(self, tool: str) -> tuple[str, str] | None:
        """The policy rule that refuses a call to ``tool``, with the error the model gets; None
        when the agent may call it (or has no policy)."""
        if self.policy is None:
            return None
        rule = self.policy.tool_rule(*_known_as(tool, self._served_by))
        return None if rule is None else (rule, self.policy.tool_refusal(self.agent, tool, rule))

    def permitted(self, tools: list[ToolDefinition]) -> list[ToolDefinition]:
        """``tools`` without those the policy forbids (what a hook put back into the offer)."""
        if self.policy is None:
            return tools
        return [t for t in tools if self.refusal(t.name) is None]

    async def execute(
        self, call: ToolCall, arguments: Any, timeout: float | None
    ) -> tuple[ToolResult, AgentResult | None]:
        """Runs one call; raises what the call raised (the loop turns it into a failed result)."""
        served = self._served_by.get(call.name)
        if served is None:
            known = ", ".join(self._offered_names) or "none"  # not the tools the policy hides
            raise LookupError(f"no tool named {call.name!r} (tools: {known})")
        toolset, tool = served
        if isinstance(toolset.source, AgentTool):
            if arguments is AS_WRITTEN:
                arguments = json.loads(call.arguments_json or "{}")
            delegated: AgentResult = await settle(toolset.source.run(arguments), timeout)
            return ToolResult(True, delegated.answer, call_id=call.id), delegated
        if arguments is AS_WRITTEN:
            encoded = call.arguments_json
        elif isinstance(arguments, str):  # not JSON: the provider refuses it in its own words
            encoded = arguments
        else:
            encoded = json.dumps(arguments)
        if isinstance(toolset.source, ToolClient):
            result = await toolset.source.call(tool, encoded, call_id=call.id, timeout=timeout)
        else:
            decoded = json.loads(encoded or "{}")
            if not isinstance(decoded, dict):
                raise ConfigError(f"arguments must be a JSON object, not {encoded!r}")
            result = await settle(toolset.source.call(tool, decoded, call_id=call.id), timeout)
            if isinstance(result, str):
                result = ToolResult(True, result, call_id=call.id)
            elif not isinstance(result, ToolResult):
                raise TypeError(
                    f"tool provider {toolset.name!r} returned {type(result).__name__} for {tool!r}, "
                    "not a ToolResult or str"
                )
        return result, None


def _known_as(tool: str, served_by: dict[str, tuple[Toolset, str]]) -> tuple[str, ...]:
    """The names a policy matches a tool by: the one the model calls it and, behind a prefix,
    the provider's own (so ``deny_tools: [write]`` holds for ``fs_write`` too)."""
    served = served_by.get(tool)
    return (tool,) if served is None or served[1] == tool else (tool, served[1])


class Strategy:
    """The reasoning strategy: a ``ReasoningClient`` or an object with any of its hooks
    (``prepare_iteration``, ``context_injection``, ``after_iteration``, ``should_stop``); a hook
    it lacks does nothing, and without ``should_stop`` the run stops when the model calls no
    tool."""

    def __init__(self, strategy: Any) -> None:
        self.part = strategy
        self.name = part_name(strategy)
        self.has = {
            m: callable(getattr(strategy, m, None))
            for m in ("prepare_iteration", "context_injection", "after_iteration", "should_stop")
        }
        if not any(self.has.values()):
            raise ConfigError(
                f"the agent's reasoning strategy {strategy!r} has none of prepare_iteration, "
                "context_injection, after_iteration, should_stop",
                key="reasoning",
            )

    async def hook(self, method: str, state: ReasoningState, timeout: float | None) -> Any:
        if not self.has[method]:
            return None
        return await call(self.part, method, state, timeout=timeout)

    @staticmethod
    def stop_of(answer: Any) -> StopDecision:
        return answer if isinstance(answer, StopDecision) else StopDecision(bool(answer))


class Memory:
    """What an agent retrieves before it answers: a search of ``collection`` in ``database``
    with the task embedded by ``embedder`` (clients or in-process objects with their methods).
    The hits' text (``SearchResult.content``, else their ``content`` metadata) reaches the model
    as one system message starting with ``Context:``."""

    def __init__(self, database: Any, embedder: Any, collection: str, *, top_k: int = 3) -> None:
        require(database, "memory database", ["search"])
        require(embedder, "memory embedder", ["embed"])
        if not isinstance(collection, str) or not collection:
            raise ConfigError(f"memory needs a collection name, not {collection!r}", key="collection")
        if not isinstance(top_k, int) or top_k < 1:
            raise ConfigError(f"memory's top_k must be a whole number, at least 1, not {top_k!r}", key="top_k")
        self.database, self.embedder, self.collection, self.top_k = database, embedder, collection, top_k

    async def retrieve(self, query: str, timeout: float | None = None) -> list[SearchResult]:
        """The ``top_k`` entries closest to ``query``, best first; ``timeout`` bounds both calls
        together."""
        end = None if timeout is None else time.monotonic() + timeout
        vector = await call(self.embedder, "embed", query, timeout=timeout)
        left = None if end is None else max(end - time.monotonic(), 0.001)
        if isinstance(self.database, DatabaseClient):
            return await self.database.search(self.collection, vector, self.top_k, timeout=left)
        return list(await settle(self.database.search(self.collection, vector, self.top_k), left))

    async def add(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        metadatas: Sequence[dict[str, str]] | None = None,
        *,
        timeout: float | None = None,
    ) -> list[str]:
        """Stores ``texts`` (their text in the ``content`` metadata) and returns their ids
        (``ids``, or generated)."""
        import uuid

        ids = list(ids) if ids is not None else [uuid.uuid4().hex for _ in texts]
        if len(ids) != len(texts) or (metadatas is not None and len(metadatas) != len(texts)):
            raise ConfigError("memory.add: texts, ids and metadatas must have the same length")
        vectors = await call(self.embedder, "embed_batch", list(texts), timeout=timeout)
        metadata = [{**(metadatas[i] if metadatas else {}), CONTENT_KEY: text} for i, text in enumerate(texts)]
        await call(self.database, "upsert_many", self.collection, ids, vectors, metadata, timeout=timeout)
        return ids

    @staticmethod
    def context_of(hits: Sequence[SearchResult]) -> Message | None:
        texts = [hit.content or hit.metadata.get(CONTENT_KEY, "") for hit in hits]
        texts = [t for t in texts if t]
        if not texts:
            return None
        return Message.system("Context:\n" + "\n".join(f"- {t}" for t in texts))
