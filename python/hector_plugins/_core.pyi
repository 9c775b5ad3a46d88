"""Type stubs of the Rust extension module (checked with ``python -m mypy.stubtest``).

The fixed sets of names are the ``Literal`` aliases of ``hector_plugins.literals``; what an
in-process provider must provide is the protocols of ``hector_plugins.providers``. Errors are the
``PluginError`` classes of ``hector_plugins.errors``.
"""

from __future__ import annotations

import os
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Generator,
    Iterable,
    Literal,
    Mapping,
    Protocol,
    Sequence,
    Union,
    final,
    overload,
)

from typing_extensions import Buffer, Self, disjoint_base

from hector_plugins.errors import PluginError
from hector_plugins.literals import (
    ChunkType,
    EntryKind,
    LifecycleEventName,
    PluginState,
    PluginType,
    PluginTypeName,
    ReceivedChunkType,
)
from hector_plugins.providers import (
    DatabaseProvider,
    EmbedderProvider,
    LLMProvider,
    ReasoningStrategy,
    ToolProvider,
)

__version__: str
"""This library's version."""

__all__ = [
    "AsyncStream",
    "ConfiguredPlugin",
    "DatabaseClient",
    "EmbedderClient",
    "LifecycleEvent",
    "EmbedderInfo",
    "GenerateResponse",
    "HealthStatus",
    "IterationPlan",
    "LLMClient",
    "LoadResult",
    "Message",
    "ModelInfo",
    "PluginInfo",
    "PluginManager",
    "PluginManifest",
    "PromptSlots",
    "RawClient",
    "PluginServer",
    "Ready",
    "ReasoningClient",
    "ReasoningState",
    "RequestSender",
    "SearchResult",
    "StopDecision",
    "StrategyInfo",
    "StreamChunk",
    "ToolCall",
    "ToolClient",
    "ToolDefinition",
    "ToolProgress",
    "ToolResult",
    "__version__",
    "_log_levels_changed",
    "_sdk_check_environment",
    "_shutdown_all",
]

_MessageLike = Union["Message", Mapping[str, Any]]
_ToolLike = Union["ToolDefinition", Mapping[str, Any]]
_ToolCallLike = Union["ToolCall", Mapping[str, Any]]
_StrPath = Union[str, "os.PathLike[str]"]

class _SupportsArray(Protocol):
    """A numpy array (numpy is optional: its type cannot be named here)."""

    def __array__(self) -> Any: ...

# A vector from Python: a list of numbers, an array('f') or array('d'), a numpy array of any float
# dtype, or any one-dimensional buffer of floats.
_VectorLike = Union[Sequence[float], Buffer, _SupportsArray]

@final
class ToolCall:
    """A tool call the model asked for (or that a conversation carries back to it)."""

    id: str
    """The model's id of this call; the tool's answer names it (``Message.tool``)."""
    name: str
    """The tool's name."""
    arguments_json: str
    """The arguments as JSON text, as on the wire."""
    def __new__(
        cls, id: str, name: str, arguments: Any | None = None, *, arguments_json: str | None = None
    ) -> ToolCall:
        """``arguments`` is any JSON-able value (a str is taken as JSON text), or give
        ``arguments_json``; giving both raises ``TypeError``. Neither: ``{}``."""
    @property
    def arguments(self) -> Any:
        """The arguments parsed from JSON (``json.JSONDecodeError`` if they are not JSON)."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Message:
    """One chat message. Plain dicts with the same keys are accepted wherever a Message is."""

    role: str
    """``"system"``, ``"user"``, ``"assistant"`` or ``"tool"`` by convention; sent as given
    and not checked (docs/protocol.md §7.3), so other spellings reach the plugin unchanged."""
    content: str
    """The text of the message."""
    tool_calls: list[ToolCall]
    """The tool calls an assistant message carries back to the model."""
    tool_call_id: str
    """For a ``"tool"`` message: the id of the call it answers."""
    def __new__(
        cls,
        role: str,
        content: str = ...,
        tool_calls: Sequence[_ToolCallLike] | None = None,
        tool_call_id: str = ...,
    ) -> Message:
        """A message of any role; tool calls may be ``ToolCall`` objects or dicts (``TypeError``
        or ``ValueError`` for anything else)."""
    @staticmethod
    def system(content: str) -> Message:
        """A ``"system"`` message."""
    @staticmethod
    def user(content: str) -> Message:
        """A ``"user"`` message."""
    @staticmethod
    def assistant(content: str = ..., tool_calls: Sequence[_ToolCallLike] | None = None) -> Message:
        """An ``"assistant"`` message, e.g. the model's earlier turn with its tool calls."""
    @staticmethod
    def tool(content: str, tool_call_id: str) -> Message:
        """The result of a tool call, answering ``tool_call_id``."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class ToolDefinition:
    """A tool offered to the model; ``parameters`` is a JSON Schema (dict or JSON text)."""

    name: str
    """The name the model calls the tool by."""
    description: str
    """What the tool does, for the model."""
    parameters_json: str
    """The JSON Schema of the arguments, as JSON text."""
    def __new__(cls, name: str, description: str = ..., parameters: Any | None = None) -> ToolDefinition:
        """Without ``parameters``, a tool that takes an empty object."""
    @property
    def parameters(self) -> Any:
        """The JSON Schema parsed from ``parameters_json``."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class GenerateResponse:
    """The answer of ``LLMClient.generate``. Constructible, for in-process providers and tests."""

    def __new__(
        cls, text: str = ..., tool_calls: Sequence[_ToolCallLike] | None = None, tokens_used: int = 0
    ) -> GenerateResponse:
        """A response with text and/or tool calls."""
    @property
    def text(self) -> str:
        """The generated text (empty when the model only called tools)."""
    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tools the model wants called."""
    @property
    def tokens_used(self) -> int:
        """Tokens the call used, as the plugin reports them (0 if it does not)."""
    def chunks(self) -> list[StreamChunk]:
        """The stream that carries this response: a ``text`` chunk (if there is text), one
        ``tool_call`` chunk per tool call, then ``done`` with ``tokens_used``. What
        ``generate_stream`` yields for a provider that cannot stream."""

@final
class StreamChunk:
    """One item of ``LLMClient.generate_stream``: which fields matter depends on ``type``."""

    def __new__(
        cls,
        type: ChunkType,
        text: str = ...,
        tool_call: _ToolCallLike | None = None,
        error: str = ...,
        tokens_used: int = 0,
    ) -> StreamChunk:
        """A chunk, for in-process providers and tests; a ``type`` outside ``ChunkType`` raises
        ``ValueError``."""
    @property
    def type(self) -> ReceivedChunkType:
        """``"text"`` (``text``), ``"tool_call"`` (``tool_call``), ``"done"`` (``tokens_used``,
        the stream's last chunk) or ``"error"`` (``error``); ``"unknown"`` when a plugin sent a
        type number outside the protocol (docs/protocol.md §7.3)."""
    @property
    def text(self) -> str:
        """A text chunk's piece of the answer."""
    @property
    def tool_call(self) -> ToolCall | None:
        """A tool-call chunk's call."""
    @property
    def error(self) -> str:
        """An error chunk's message, as the plugin sent it."""
    @property
    def tokens_used(self) -> int:
        """On the ``"done"`` chunk: tokens the whole stream used."""

@final
class ModelInfo:
    """What ``LLMClient.model_info`` reports about the model behind a provider."""

    def __new__(cls, model_name: str = ..., max_tokens: int = 0, temperature: float = 0.0) -> ModelInfo:
        """For in-process providers and tests."""
    @property
    def model_name(self) -> str:
        """The model's name."""
    @property
    def max_tokens(self) -> int:
        """The model's token limit (0 if not reported)."""
    @property
    def temperature(self) -> float:
        """The sampling temperature the provider uses."""

@final
class HealthStatus:
    """What ``LLMClient.health`` reports; truthy when healthy."""

    def __new__(cls, healthy: bool = True, message: str = ...) -> HealthStatus:
        """For in-process providers and tests."""
    @property
    def healthy(self) -> bool:
        """Whether the provider says it can serve calls."""
    @property
    def message(self) -> str:
        """The provider's explanation, if any."""
    def __bool__(self) -> bool:
        """``healthy``."""

@final
class PluginManifest:
    """What a plugin says about itself (its ``GetManifest`` RPC, docs/protocol.md §7.1)."""

    def __new__(
        cls,
        name: str,
        version: str = ...,
        author: str = ...,
        description: str = ...,
        type: str = ...,
        protocol: str = ...,
        hector_version: str = ...,
        capabilities: Mapping[str, str] | None = None,
    ) -> PluginManifest:
        """For in-process providers and tests."""
    @property
    def name(self) -> str:
        """The plugin's own name for itself."""
    @property
    def version(self) -> str:
        """Its version."""
    @property
    def author(self) -> str:
        """Its author."""
    @property
    def description(self) -> str:
        """What it does."""
    @property
    def type(self) -> str:
        """Its type as it states it (e.g. ``"database_provider"``); not checked by the host."""
    @property
    def protocol(self) -> str:
        """``"grpc"`` for every plugin this host can run."""
    @property
    def hector_version(self) -> str:
        """The host versions it asks for."""
    @property
    def capabilities(self) -> dict[str, str]:
        """Its capabilities, as strings (a new dict per access)."""

@final
class SearchResult:
    """One match of ``DatabaseClient.search``."""

    def __new__(
        cls,
        id: str,
        score: float,
        content: str = ...,
        vector: _VectorLike | None = None,
        metadata: Mapping[str, str] | None = None,
        model_name: str = ...,
    ) -> SearchResult:
        """For in-process providers and tests; ``vector`` and ``metadata`` are checked as for
        ``DatabaseClient.upsert``."""
    @property
    def id(self) -> str:
        """The entry's id."""
    @property
    def score(self) -> float:
        """How well it matches, as the plugin scores it (higher is better for cosine similarity)."""
    @property
    def content(self) -> str:
        """The entry's text, if the plugin stores one."""
    @property
    def vector(self) -> Any:
        """The stored vector as a float32 block of shape ``(dim,)`` (a numpy array, or a
        ``memoryview`` of format ``'f'`` without numpy; a new one per access), or None when the
        plugin sent none."""
    @property
    def metadata(self) -> dict[str, str]:
        """The entry's metadata (a new dict per access)."""
    @property
    def model_name(self) -> str:
        """The embedding model that made the vector, if the plugin says."""

@final
class EmbedderInfo:
    """What ``EmbedderClient.info`` reports about the model behind an embedder."""

    def __new__(cls, model_name: str = ..., dimension: int = 0) -> EmbedderInfo:
        """For in-process providers and tests."""
    @property
    def model_name(self) -> str:
        """The embedding model's name."""
    @property
    def dimension(self) -> int:
        """The length of its vectors (0 if not reported)."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class PluginInfo:
    """A snapshot of one plugin process (``pm.plugins``, ``pm.load()``); it does not update."""

    @property
    def name(self) -> str:
        """The name it was loaded under."""
    @property
    def type(self) -> PluginType:
        """Its type, in full (``"llm"`` reads back as ``"llm_provider"``)."""
    @property
    def path(self) -> str:
        """The executable (an MCP server over HTTP: its URL)."""
    @property
    def pid(self) -> int:
        """The plugin's process id (0 for an MCP server over HTTP, which the host did not start)."""
    @property
    def state(self) -> PluginState:
        """``"ready"``, ``"crashed"`` (it died on its own and is not restarted), ``"stopping"``,
        ``"stopped"``; while it has no serving process: ``"restarting"``, ``"failed"`` (restarted
        too often: the circuit is open until ``pm.restart()``), ``"not_started"`` or
        ``"starting"`` (a lazy plugin before and during its first start)."""
    @property
    def protocol(self) -> Literal["grpc", "mcp"]:
        """``"grpc"`` (a go-plugin plugin) or ``"mcp"`` (an MCP server, docs/protocol.md §10)."""
    @property
    def protocol_version(self) -> int:
        """The app protocol version negotiated in the handshake (docs/protocol.md §2); 0 for MCP."""
    @property
    def address(self) -> str:
        """``"unix:/path"`` or ``"tcp:host:port"``; ``"stdio"`` or the URL for an MCP server."""
    @property
    def restarts(self) -> int:
        """How many times it was started again (by its supervisor or ``pm.restart()``)."""
    @property
    def exit_code(self) -> int | None:
        """The exit status once it exited normally, else None."""
    @property
    def exit_signal(self) -> int | None:
        """The signal that ended it, if one did, else None."""
    @property
    def killed(self) -> bool:
        """True when shutdown had to kill the plugin."""
    @property
    def version(self) -> str | None:
        """The manifest's version, when the plugin has a ``<executable>.plugin.yaml``."""
    @property
    def capabilities(self) -> dict[str, Any]:
        """The manifest's capabilities (e.g. ``{"streaming": True}``; empty without a manifest)."""
    @property
    def calls(self) -> int:
        """Calls made to this name, over all its processes, and those refused before any process
        had them (circuit open, ``while_restarting: fail``, no process within the deadline, a failed
        lazy start)."""
    @property
    def failures(self) -> int:
        """How many of those failed."""
    @property
    def last_error(self) -> str | None:
        """The latest failed call's error."""
    @property
    def last_error_at(self) -> float | None:
        """When it failed (seconds since the epoch, as ``time.time()``)."""
    @property
    def healthy(self) -> bool | None:
        """The latest periodic health check passed (None before the first one)."""
    @property
    def last_health(self) -> str | None:
        """What the latest health check said (why it failed, or the plugin's message)."""
    @property
    def last_health_at(self) -> float | None:
        """When the latest health check ran (seconds since the epoch)."""
    @property
    def reason(self) -> str | None:
        """Why it is ``restarting`` or ``failed`` (or why a lazy start failed)."""
    @property
    def since(self) -> float | None:
        """Since when (seconds since the epoch)."""
    @property
    def dropped_log_lines(self) -> int:
        """Output lines of this process dropped over its ``log_budget`` (docs/protocol.md §5.2)."""

@final
class LifecycleEvent:
    """What happened to a plugin, for ``pm.on(event, callback)`` (docs/supervision.md)."""

    @property
    def plugin(self) -> str:
        """The plugin's name."""
    @property
    def event(self) -> LifecycleEventName:
        """``loaded``, ``unhealthy``, ``crashed``, ``restarting``, ``restarted``, ``failed``,
        ``reloaded``, ``reload_failed`` or ``stopped``."""
    @property
    def message(self) -> str:
        """What happened, in words: the exit status, the failed check, the attempt, the error."""
    @property
    def at(self) -> float:
        """When (seconds since the epoch)."""
    @property
    def pid(self) -> int:
        """The process it concerns (0 when there is none)."""

@final
class LoadResult:
    """One entry of the ``pm.load_all()`` report."""

    @property
    def name(self) -> str:
        """The configured name."""
    @property
    def type(self) -> PluginType:
        """The type of its section (``llm_providers`` gives ``"llm_provider"``)."""
    @property
    def ok(self) -> bool:
        """True when the name can be called: loaded, registered, or a chain with a ready member."""
    @property
    def plugin(self) -> PluginInfo | None:
        """The process started for this entry (None for in-process providers, chains, failures)."""
    @property
    def error(self) -> PluginError | None:
        """Why it failed (e.g. ``PluginStartError``), or None."""
    @property
    def served_by(self) -> str | None:
        """The plugin or in-process provider serving this name (a chain's serving member)."""
    @property
    def in_process(self) -> bool:
        """True when ``served_by`` is an in-process provider."""

@final
class ConfiguredPlugin:
    """A configured or discovered plugin, checked without launching it (``pm.validate()``)."""

    @property
    def name(self) -> str:
        """The configured (or discovered) name."""
    @property
    def type(self) -> PluginType:
        """The type of its section, or of its manifest when discovered."""
    @property
    def path(self) -> str:
        """The executable (empty for ``"builtin"`` and ``"fallbacks"`` entries)."""
    @property
    def version(self) -> str | None:
        """The manifest's version, if it has a manifest."""
    @property
    def ok(self) -> bool:
        """True when nothing found so far stops it from loading."""
    @property
    def error(self) -> PluginError | None:
        """What would stop it from loading (e.g. ``ConfigError``, ``PluginStartError``), or None."""
    @property
    def entry(self) -> EntryKind:
        """``"plugin"`` (a process to launch), ``"mcp"`` (an MCP server; ``path`` is its command line
        or URL), ``"builtin"`` (registered in code) or ``"fallbacks"``."""
    @property
    def members(self) -> list[str]:
        """A fallback chain's members, in order (empty for other entries)."""

@final
class Ready:
    """An awaitable whose result is already known: ``await`` returns it without a loop round trip."""

    def __await__(self) -> Generator[Any, None, Any]: ...
    def __iter__(self) -> Ready: ...
    def __next__(self) -> Any: ...

@final
class AsyncStream:
    """An async iterator over a server stream; cancelling or closing it cancels the RPC.

    A read raises what the call raised (``PluginCallError``, ``CallTimeoutError``,
    ``PluginCrashedError``); after the awaiting task was cancelled, ``PluginClosedError``. Only
    one task may wait on it at a time (``RuntimeError``)."""

    def __aiter__(self) -> AsyncStream: ...
    def __anext__(self) -> Awaitable[Any]: ...
    def aclose(self) -> Awaitable[None]:
        """Stops the stream early; the plugin sees the call cancelled."""

@final
class LLMClient:
    """Calls an LLM plugin, in-process provider or fallback chain (``pm.llm(name)``).

    A chain or an in-process name is looked up on every call, and a restarted plugin is followed,
    so a client can be kept. Every call may raise ``PluginCallError`` (``.code``: a
    ``StatusCode``), ``CallTimeoutError``, ``PluginCrashedError``, ``PluginClosedError`` (shut
    down) or ``PluginNotFoundError`` (the name is gone); ``timeout`` below 1 ms is a
    ``ConfigError``."""

    @property
    def name(self) -> str:
        """The name the client was obtained for."""
    def generate(
        self,
        messages: Iterable[_MessageLike],
        tools: Iterable[_ToolLike] | None = None,
        *,
        timeout: float | None = None,
    ) -> Awaitable[GenerateResponse]:
        """One completion. ``timeout`` (seconds; default: the plugin's ``call_timeout``) bounds
        the call. A str for ``messages``, or items that are not messages, raise ``TypeError``."""
    def generate_stream(
        self,
        messages: Iterable[_MessageLike],
        tools: Iterable[_ToolLike] | None = None,
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """The completion chunk by chunk, ending with a ``"done"`` chunk. ``timeout`` bounds the
        wait for the first chunk and between chunks, never the whole stream. An
        ``AsyncStream`` for a plugin, an async generator for an in-process provider."""
    def model_info(self, *, timeout: float | None = None) -> Awaitable[ModelInfo]:
        """The model behind the provider."""
    def health(self, *, timeout: float | None = None) -> Awaitable[HealthStatus]:
        """The provider's own health report."""

@final
class ToolResult:
    """A tool's answer (``ToolClient.call``). ``success=False`` is the tool's own failure, for
    the model to see; it is returned, not raised. Constructible, for in-process providers,
    tests and ``ReasoningState.tool_results``."""

    def __new__(
        cls,
        success: bool = True,
        content: str = ...,
        *,
        output: Any | None = None,
        error: str = ...,
        metadata: Mapping[str, str] | None = None,
        duration_ms: int = 0,
        call_id: str = ...,
    ) -> ToolResult:
        """``output``: any JSON-able value (or JSON text), kept as ``output_json``."""
    @property
    def success(self) -> bool:
        """False when the tool failed; ``error`` says why."""
    @property
    def content(self) -> str:
        """Text for the model."""
    @property
    def output_json(self) -> str:
        """Structured output as JSON text (may be empty)."""
    @property
    def output(self) -> Any:
        """``output_json`` parsed; None when empty."""
    @property
    def error(self) -> str:
        """Why the tool failed (with ``success=False``)."""
    @property
    def metadata(self) -> dict[str, str]:
        """The provider's extra information."""
    @property
    def duration_ms(self) -> int:
        """How long the tool ran, as the provider measured it."""
    @property
    def call_id(self) -> str:
        """The ``call_id`` of the call, echoed."""
    def __bool__(self) -> bool: ...

@final
class ToolProgress:
    """One item of ``ToolClient.call_stream``; the last has ``done=True`` and the ``result``."""

    def __new__(
        cls,
        message: str = ...,
        partial_content: str = ...,
        fraction: float | None = None,
        done: bool = False,
        result: ToolResult | None = None,
    ) -> ToolProgress: ...
    @property
    def message(self) -> str:
        """Progress text for people, not for the model."""
    @property
    def partial_content(self) -> str:
        """Output since the previous item (appended, not replaced)."""
    @property
    def fraction(self) -> float | None:
        """0 to 1 when the tool knows, else None."""
    @property
    def done(self) -> bool:
        """True on the last item."""
    @property
    def result(self) -> ToolResult | None:
        """Set on the last item."""

@final
class ReasoningState:
    """Everything a reasoning strategy may need about the agent loop, sent whole on every hook
    (the strategy keeps no state; docs/protocol.md §7.8)."""

    def __new__(
        cls,
        iteration: int = 1,
        query: str = ...,
        conversation: Sequence[_MessageLike] | None = None,
        *,
        assistant_text: str = ...,
        tool_calls: Sequence[_ToolCallLike] | None = None,
        tool_results: Sequence[ToolResult] | None = None,
        custom_state: Any | None = None,
        total_tokens: int = 0,
    ) -> ReasoningState:
        """``custom_state``: what the strategy last returned (JSON text or a JSON-able value)."""
    @property
    def iteration(self) -> int:
        """1 for the first iteration."""
    @property
    def total_tokens(self) -> int: ...
    @property
    def query(self) -> str:
        """The user's request that started the loop."""
    @property
    def conversation(self) -> list[Message]: ...
    @property
    def assistant_text(self) -> str:
        """What the model said in this iteration."""
    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls of this iteration."""
    @property
    def tool_results(self) -> list[ToolResult]:
        """Their results, in the same order."""
    @property
    def custom_state_json(self) -> str: ...
    @property
    def custom_state(self) -> Any:
        """``custom_state_json`` parsed; None when empty."""

@final
class StrategyInfo:
    """What ``ReasoningClient.info`` returns."""

    def __new__(
        cls, name: str = ..., description: str = ..., required_tools: list[str] | None = None
    ) -> StrategyInfo: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def required_tools(self) -> list[str]:
        """Tools the strategy expects the agent to have."""

@final
class IterationPlan:
    """``ReasoningClient.prepare_iteration``'s answer."""

    def __new__(
        cls, inject_messages: Sequence[_MessageLike] | None = None, custom_state: Any | None = None
    ) -> IterationPlan: ...
    @property
    def inject_messages(self) -> list[Message]:
        """Messages to append before the model is called."""
    @property
    def custom_state_json(self) -> str:
        """The strategy's new state, for the next hook's ``ReasoningState``."""
    @property
    def custom_state(self) -> Any: ...

@final
class StopDecision:
    """``ReasoningClient.should_stop``'s answer; true (``bool()``) when the loop ends here."""

    def __new__(cls, stop: bool, reason: str = ..., custom_state: Any | None = None) -> StopDecision: ...
    @property
    def stop(self) -> bool: ...
    @property
    def reason(self) -> str:
        """Why, for logs and people."""
    @property
    def custom_state_json(self) -> str: ...
    @property
    def custom_state(self) -> Any: ...
    def __bool__(self) -> bool: ...

@final
class PromptSlots:
    """The parts of the system prompt a strategy wants; an empty one means the host's default."""

    def __new__(
        cls,
        system_role: str = ...,
        reasoning_instructions: str = ...,
        tool_usage: str = ...,
        output_format: str = ...,
        communication_style: str = ...,
        additional: str = ...,
    ) -> PromptSlots: ...
    @property
    def system_role(self) -> str: ...
    @property
    def reasoning_instructions(self) -> str: ...
    @property
    def tool_usage(self) -> str: ...
    @property
    def output_format(self) -> str: ...
    @property
    def communication_style(self) -> str: ...
    @property
    def additional(self) -> str: ...

@final
class ToolClient:
    """Calls a tool provider plugin, in-process provider or fallback chain (``pm.tools(name)``).
    Calls raise as ``LLMClient``'s do; a tool's own failure is a ``ToolResult`` with
    ``success=False``, not an exception."""

    @property
    def name(self) -> str:
        """The name the client was obtained for."""
    def list_tools(self, *, timeout: float | None = None) -> Awaitable[list[ToolDefinition]]:
        """The provider's tools (ready to hand to an LLM)."""
    def call(
        self,
        tool: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str = ...,
        timeout: float | None = None,
    ) -> Awaitable[ToolResult]:
        """Runs ``tool``. ``arguments``: a dict or a JSON object as text (None: ``{}``); anything
        else raises ``PluginTypeError`` (not a dict or str, not JSON-serializable) or
        ``ConfigError`` (text that is not a JSON object) before any call."""
    def call_stream(
        self,
        tool: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str = ...,
        timeout: float | None = None,
    ) -> AsyncIterator[ToolProgress]:
        """Runs ``tool``, yielding progress; the last item has ``done=True`` and the result. A
        provider without streaming yields that one item. ``timeout`` bounds each wait."""
    def health(self, *, timeout: float | None = None) -> Awaitable[HealthStatus]:
        """The provider's own health report."""

@final
class DatabaseClient:
    """Calls a vector database plugin, in-process provider or fallback chain
    (``pm.database(name)``); follows restarts and resolves chains per call, and raises as
    ``LLMClient`` does. A plugin's in-band failure (``success=false`` or an ``error`` field)
    raises ``PluginCallError`` (code ``"UNKNOWN"``, the plugin's message), like a gRPC status.

    Vectors go in as lists of numbers, ``array('f')``/``array('d')``, numpy arrays of any float
    dtype (converted once) or any buffer of floats; a vector that is not floats raises
    ``PluginTypeError``, an empty one or one holding NaN or infinity ``ConfigError``. Metadata
    and filters are dicts of str to str: any other key or value raises ``PluginTypeError``
    (convert with ``str()`` to store it)."""

    @property
    def name(self) -> str:
        """The name the client was obtained for."""
    def upsert(
        self,
        collection: str,
        id: str,
        vector: _VectorLike,
        metadata: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
    ) -> Awaitable[None]:
        """Stores (or replaces) the entry ``id`` of ``collection``."""
    def upsert_many(
        self,
        collection: str,
        ids: Iterable[str],
        vectors: Any,
        metadatas: Iterable[Mapping[str, str]] | None = None,
        *,
        timeout: float | None = None,
    ) -> Awaitable[None]:
        """Stores many entries: ``vectors`` is a two-dimensional numpy array or buffer of floats
        (one row per id) or a list of vectors, ``metadatas`` None or one dict per id (other lengths: ``ConfigError``).
        One ``Upsert`` per entry, 16 in flight at a time, each with its own ``timeout``; the
        first failure raises, naming the entry, and the entries before it may or may not be
        stored."""
    def search(
        self,
        collection: str,
        vector: _VectorLike,
        top_k: int = 10,
        *,
        filter: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Awaitable[list[SearchResult]]:
        """The ``top_k`` (at least 1) best matches of ``vector``, best first. With ``filter``, only
        entries whose metadata holds each key with exactly that value; a plugin must declare
        ``capabilities: {filter: true}`` in its manifest to get one (``ConfigError`` otherwise:
        an older plugin would ignore it, docs/protocol.md §7.4)."""
    def delete(self, collection: str, id: str, *, timeout: float | None = None) -> Awaitable[None]:
        """Removes the entry ``id`` of ``collection``."""
    def create_collection(self, collection: str, vector_size: int, *, timeout: float | None = None) -> Awaitable[None]:
        """Creates ``collection`` for vectors of ``vector_size`` (at least 1) floats."""
    def delete_collection(self, collection: str, *, timeout: float | None = None) -> Awaitable[None]:
        """Removes ``collection`` and its entries."""
    def info(self, *, timeout: float | None = None) -> Awaitable[PluginManifest]:
        """What the plugin says about itself (``GetManifest``)."""
    def health(self, *, timeout: float | None = None) -> Awaitable[HealthStatus]:
        """The provider's own health report."""

@final
class EmbedderClient:
    """Calls an embedder plugin, in-process provider or fallback chain (``pm.embedder(name)``);
    follows restarts and resolves chains per call, and raises as ``LLMClient`` does. A plugin's
    in-band ``error`` raises ``PluginCallError`` (code ``"UNKNOWN"``), an answer of the wrong
    dimension ``PluginCallError`` (code ``"INTERNAL"``).

    Vectors come back as one float32 block, never a Python float per element: a numpy array
    when numpy can be imported (``pip install 'hector-plugins[numpy]'``), else a ``memoryview``
    of format ``'f'`` with the same shape (``numpy.asarray(view)``, ``array('f',
    view.tobytes())`` and ``view.tolist()`` all read it)."""

    @property
    def name(self) -> str:
        """The name the client was obtained for."""
    def embed(self, text: str, *, timeout: float | None = None) -> Awaitable[Any]:
        """The vector of ``text``, shape ``(dimension,)``. A ``text`` that is not a str raises
        ``PluginTypeError``."""
    def embed_batch(self, texts: Iterable[str], *, timeout: float | None = None) -> Awaitable[Any]:
        """The vectors of ``texts``, in their order, as one block of shape ``(len(texts),
        dimension)``: one ``EmbedBatch`` call, or for a plugin that does not serve it (answers
        UNIMPLEMENTED, remembered until it restarts) one ``Embed`` per text, 16 at a time, with
        the same result. ``timeout`` bounds the whole batch. No texts raise ``ConfigError``; a
        str, or an item that is not a str, ``PluginTypeError``."""
    def info(self, *, timeout: float | None = None) -> Awaitable[EmbedderInfo]:
        """The model behind the embedder (``GetEmbedderInfo``)."""
    def health(self, *, timeout: float | None = None) -> Awaitable[HealthStatus]:
        """The embedder's own health report."""

@final
class ReasoningClient:
    """Calls a reasoning strategy plugin, in-process provider or fallback chain
    (``pm.reasoning(name)``). The caller owns the agent loop and its state; each method is one
    hook. A strategy's in-band ``error`` raises ``PluginCallError`` like a gRPC status."""

    @property
    def name(self) -> str:
        """The name the client was obtained for."""
    def info(self, *, timeout: float | None = None) -> Awaitable[StrategyInfo]: ...
    def prepare_iteration(self, state: ReasoningState, *, timeout: float | None = None) -> Awaitable[IterationPlan]:
        """Before the model is called: messages to add, and the new custom state."""
    def should_stop(self, state: ReasoningState, *, timeout: float | None = None) -> Awaitable[StopDecision]:
        """After the model answered and its tools ran: whether the loop ends."""
    def after_iteration(self, state: ReasoningState, *, timeout: float | None = None) -> Awaitable[str]:
        """At the end of an iteration: the new custom state as JSON text ("" for none)."""
    def context_injection(self, state: ReasoningState, *, timeout: float | None = None) -> Awaitable[str]:
        """Text for the model's context in this iteration ("" for none)."""
    def prompt_slots(self, *, timeout: float | None = None) -> Awaitable[PromptSlots]: ...
    def health(self, *, timeout: float | None = None) -> Awaitable[HealthStatus]:
        """The strategy's own health report."""

@final
class RawClient:
    """Calls any gRPC method of a plugin with protobuf bytes (``pm.raw(name)``); follows
    restarts. Calls raise as ``LLMClient``'s do."""

    @property
    def name(self) -> str:
        """The plugin's name."""
    @property
    def protocol_version(self) -> int:
        """The app protocol version the plugin chose from the ones the host offered."""
    def call(self, method: str, request: Buffer | None = None, *, timeout: float | None = None) -> Awaitable[bytes]:
        """Unary call of ``"/pkg.Service/Method"``: the serialized request (None: an empty
        message) in, the serialized response out. A request that is not bytes-like raises
        ``TypeError``."""
    def stream(
        self, method: str, request: Buffer | None = None, *, timeout: float | None = None
    ) -> AsyncIterator[bytes]:
        """Server-streaming call: an async iterator of serialized responses. ``timeout`` bounds
        the wait for the first item and between items."""
    def client_stream(
        self, method: str, requests: Iterable[Buffer] | AsyncIterable[Buffer], *, timeout: float | None = None
    ) -> Awaitable[bytes]:
        """Client-streaming call: sends ``requests`` (serialized messages, from an iterable or an
        async iterable, read one at a time as the plugin takes them) and returns the serialized
        response. ``timeout`` bounds the whole call. An item that is not bytes-like raises
        ``TypeError`` naming its index; what the iterable raises propagates. Either cancels the
        call: the plugin sees the requests reset, not ended."""
    def bidi_stream(
        self, method: str, requests: Iterable[Buffer] | AsyncIterable[Buffer], *, timeout: float | None = None
    ) -> AsyncIterator[bytes]:
        """Bidirectional call: an async iterator of serialized responses while ``requests`` are
        sent (from the first read on). ``timeout`` bounds the wait for the first response and
        between responses. Request failures as for ``client_stream``, raised by the next read."""

@final
class RequestSender:
    """The requests of one client or bidirectional stream, queued by ``hector_plugins._raw_streams``."""

    def send(self, request: object) -> Awaitable[None] | None:
        """Queues the next request: None when queued at once, else an awaitable that resolves once
        it is (or once the call takes no more requests). Not bytes-like: ``TypeError``."""
    def finish(self) -> None:
        """There are no more requests: the plugin sees their stream end."""
    @property
    def closed(self) -> bool:
        """Whether the call takes no more requests (it ended, failed or was cancelled)."""

@disjoint_base
class PluginManager:
    """Launches, supervises, calls and stops plugins; use it as ``async with PluginManager() as pm``.

    ``hector_plugins.PluginManager`` is a subclass that adds agents and hooks
    (``hector_plugins.agents``); this base class is the Rust core's part."""

    def __new__(cls, config: _StrPath | Mapping[str, Any] | None = None) -> PluginManager:
        """``config``: a path to ``hector.yaml``, a dict of the same shape, or None. An invalid
        configuration (or a file that cannot be read) raises ``ConfigError``."""
    def load(
        self,
        path: _StrPath,
        name: str | None = None,
        type: PluginTypeName = "llm_provider",
        config: Mapping[str, Any] | None = None,
        *,
        start_timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
        clean_env: bool = False,
        magic_cookie_key: str | None = None,
        magic_cookie_value: str | None = None,
        protocol_versions: Sequence[int] | None = None,
        shutdown_grace: float = 2.0,
        cwd: _StrPath | None = None,
        call_timeout: float | None = ...,  # 60.0; None or 0: no default deadline
        max_message_size: int = 67108864,
        allow_non_loopback: bool = False,
        mtls: Literal["auto", "on", "off"] | None = None,  # None: plugin_security.mtls, "auto" by default
        log_budget: Mapping[str, float] | Literal["unlimited"] | None = None,  # None: the default budget
        supervision: Mapping[str, Any] | None = None,
        security: Mapping[str, Any] | None = None,
        grants: Mapping[str, Sequence[str | int]] | None = None,
        sha256: str | None = None,
    ) -> Awaitable[PluginInfo]:
        """Launches one plugin and waits until it is ready (``name`` defaults to the file name).
        ``supervision`` takes the keys ``health``, ``restart``, ``idempotent`` and ``hot_reload``
        of a hector.yaml entry (docs/supervision.md), over the built-in defaults. ``security``
        (limits, ``env_allowlist``, ``sandbox``), ``grants`` and ``sha256`` are an entry's keys
        of the same names (docs/security.md), over the configuration's ``plugin_security``.
        ``mtls``: automatic mTLS (docs/protocol.md §3.5); ``"auto"`` offers no certificate, leaves
        the private unix socket plaintext and refuses a plain TCP plugin; ``"on"`` offers it and
        requires the plugin's own (TLS on any transport); ``"off"`` offers none and accepts plain
        TCP.
        Bad options raise ``ConfigError`` at once; a plugin that cannot start raises
        ``PluginStartError`` (``HandshakeError``, ``StartTimeoutError``); a name already running
        is a ``ConfigError``, a crashed or stopped one is taken over."""
    def load_mcp(
        self,
        name: str,
        command: _StrPath | None = None,
        args: Sequence[str] | None = None,
        *,
        url: str | None = None,
        env: Mapping[str, str] | None = None,
        clean_env: bool = False,
        cwd: _StrPath | None = None,
        start_timeout: float = 60.0,
        shutdown_grace: float = 2.0,
        call_timeout: float | None = ...,  # 60.0; None or 0: no default deadline
        log_budget: Mapping[str, float] | Literal["unlimited"] | None = None,  # None: the default budget
        supervision: Mapping[str, Any] | None = None,
        security: Mapping[str, Any] | None = None,
        grants: Mapping[str, Sequence[str | int]] | None = None,
        sha256: str | None = None,
    ) -> Awaitable[PluginInfo]:
        """Starts an MCP server as the tool provider ``name`` (docs/protocol.md §10): ``command``
        with ``args`` over stdio (a bare command is looked up on PATH), or the running server at
        ``url`` (streamable HTTP). Call it with ``pm.tools(name)``. A launched server is verified
        and confined as a plugin is (``security``, ``grants``, ``sha256``: docs/security.md), and
        its stderr passes its ``log_budget`` as a plugin's does (docs/protocol.md §5.2; a server
        at a url has none). Errors as for ``load``."""
    def load_all(self, *, strict: bool = False, only: Sequence[str] | None = None) -> Awaitable[list[LoadResult]]:
        """Starts every configured plugin (or those named in ``only``; an unknown name is a
        ``ConfigError``) concurrently, one ``LoadResult`` each. With ``strict=True``, any
        failure raises one ``PluginStartError`` listing them all (``.results``: the report)."""
    def restart(self, name: str) -> Awaitable[PluginInfo]:
        """Stops the plugin ``name`` (gracefully, if it runs) and starts it again with the same
        spec and config; clients obtained earlier call the new process. It also closes an open
        circuit (state ``failed``) and starts a lazy plugin. ``PluginNotFoundError`` for an
        unknown name, the start errors of ``load`` otherwise."""
    def reload(self, name: str) -> Awaitable[PluginInfo]:
        """Starts a new process of ``name`` beside the running one; once it is ready, new calls
        go to it, calls in flight finish on the old one (within its call timeout), then the old
        one stops. A new version that fails to start leaves the old one serving and raises why
        (also a ``reload_failed`` event). Clients obtained earlier follow."""
    def _next_event(self) -> Awaitable[LifecycleEvent | None]:
        """The next lifecycle event, or None once the manager is shut down (``pm.on`` reads it)."""
    def validate(self) -> list[ConfiguredPlugin]:
        """Every configured and discovered plugin, checked as far as possible without launching
        it (executable, working directory, manifest, required config), then the ``builtin``
        names and the fallback chains."""
    def _agent_settings(self) -> str:
        """The ``agents`` and ``hooks`` sections, checked and expanded, and where they came from
        (``{"origin": ..., "agents": ..., "hooks": ...}`` as JSON text), for ``hector_plugins.agents``."""
    @property
    def config_warnings(self) -> list[str]:
        """Valid but worth a word: settings read but not enforced yet, keys that look like typos."""
    @property
    def unenforced_settings(self) -> list[str]:
        """Key paths of configured settings not enforced yet, e.g. ``plugin_security.max_memory_mb``."""
    @overload
    def register(
        self, name: str, provider: LLMProvider, *, type: Literal["llm_provider", "llm"] = "llm_provider"
    ) -> None:
        """Registers ``provider``, an object in this process, under ``name``: the type's client
        (``pm.llm(name)``, ``pm.database(name)``, ``pm.embedder(name)``, ``pm.tools(name)``,
        ``pm.reasoning(name)``) calls it and fallback chains may name it. ``PluginError`` when
        it lacks its type's required methods (see ``hector_plugins.providers``); ``ConfigError``
        for a bad or taken name or an unknown type."""
    @overload
    def register(
        self, name: str, provider: DatabaseProvider, *, type: Literal["database_provider", "database"]
    ) -> None:
        """An in-process vector database (``DatabaseProvider``): ``pm.database(name)`` calls it."""
    @overload
    def register(
        self, name: str, provider: EmbedderProvider, *, type: Literal["embedder_provider", "embedder"]
    ) -> None:
        """An in-process embedder (``EmbedderProvider``): ``pm.embedder(name)`` calls it."""
    @overload
    def register(self, name: str, provider: ToolProvider, *, type: Literal["tool_provider", "tool", "tools"]) -> None:
        """In-process tools (``ToolProvider``): ``pm.tools(name)`` calls them."""
    @overload
    def register(
        self, name: str, provider: ReasoningStrategy, *, type: Literal["reasoning_strategy", "reasoning"]
    ) -> None:
        """An in-process reasoning strategy (``ReasoningStrategy``): ``pm.reasoning(name)`` calls it."""
    def unregister(self, name: str) -> bool:
        """Removes an in-process provider; returns whether there was one. Clients and chains
        stop calling it from their next call on."""
    def llm(self, name: str) -> LLMClient:
        """The ``LLMClient`` of the LLM plugin, in-process provider or fallback chain ``name``;
        ``PluginNotFoundError`` (listing the known names) if there is none, ``PluginClosedError``
        after shutdown."""
    def database(self, name: str) -> DatabaseClient:
        """The ``DatabaseClient`` of the vector database plugin, in-process provider or fallback
        chain ``name``; raises as ``llm`` does."""
    def embedder(self, name: str) -> EmbedderClient:
        """The ``EmbedderClient`` of the embedder plugin, in-process provider or fallback chain
        ``name``; raises as ``llm`` does."""
    def tools(self, name: str) -> ToolClient:
        """The ``ToolClient`` of the tool provider ``name`` (plugin, in-process or chain);
        raises as ``llm`` does."""
    def reasoning(self, name: str) -> ReasoningClient:
        """The ``ReasoningClient`` of the reasoning strategy ``name`` (plugin, in-process or
        chain); raises as ``llm`` does."""
    def raw(self, name: str) -> RawClient:
        """A raw-bytes client for the loaded plugin ``name``, whatever its type;
        ``PluginNotFoundError`` if none is loaded, ``ConfigError`` for an in-process provider."""
    @property
    def plugins(self) -> list[PluginInfo]:
        """A snapshot of every plugin process this manager started."""
    def shutdown(self, grace: float | None = None, timeout: float | None = None) -> Awaitable[None]:
        """Stops every plugin: graceful first (Shutdown RPCs), killed after ``grace`` seconds
        (default: each plugin's ``shutdown_grace``), a plugin only once those that depend on it
        have stopped; after ``timeout`` seconds in all, whatever still runs is killed at once.
        Releases in-process providers. The manager cannot be used afterwards
        (``PluginClosedError``)."""
    def __aenter__(self) -> Awaitable[Self]:
        """``PluginClosedError`` if this manager was shut down already."""
    def __aexit__(self, *_exc_info: object) -> Awaitable[None]:
        """``shutdown()`` with each plugin's own grace."""

def _log_levels_changed() -> None:
    """Logging's levels changed: plugin records the forwarder dropped by a cached level must be
    checked again (``hector_plugins._logging`` calls it)."""

def _shutdown_all(grace: float | None = None) -> None:
    """Interpreter exit: stops every live plugin of this process (graceful, then killed)."""

# The plugin side (hector_plugins.sdk): a Python object served by the Rust SDK.

@final
class PluginServer:
    """One plugin server for ``plugin`` (an object with the methods of ``kind``); used by
    ``hector_plugins.sdk.serve``."""

    def __new__(cls, kind: str, plugin: object, name: str, manifest: PluginManifest | None = None) -> PluginServer: ...
    def serve(self, version: int, shutdown_grace: float) -> Awaitable[None]:
        """Listens, prints the handshake line and serves on the running event loop until the host
        or ``shutdown()`` stops it."""
    def shutdown(self) -> None:
        """Asks the server to stop gracefully (what SIGTERM does)."""
    def close(self) -> None:
        """Stops watching the loop for calls once ``serve`` ended (or was cancelled); calls
        still arriving fail at once."""

def _sdk_check_environment() -> int:
    """The app protocol version to announce; ``PluginError`` with go-plugin's message when the
    cookie is missing or wrong or no version is common."""
