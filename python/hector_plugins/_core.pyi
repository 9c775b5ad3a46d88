"""Type stubs of the Rust extension module (checked with ``python -m mypy.stubtest``).

The fixed sets of names are the ``Literal`` aliases of ``hector_plugins.literals``; what an
in-process provider must provide is the protocols of ``hector_plugins.providers``. Errors are the
``PluginError`` classes of ``hector_plugins.errors``.
"""

from __future__ import annotations

import os
from typing import Any, AsyncIterable, AsyncIterator, Awaitable, Generator, Iterable, Mapping, Sequence, Union, final

from typing_extensions import Buffer

from hector_plugins.errors import PluginError
from hector_plugins.literals import (
    ChunkType,
    EntryKind,
    InProcessType,
    PluginState,
    PluginType,
    PluginTypeName,
    ReceivedChunkType,
)
from hector_plugins.providers import LLMProvider

__version__: str
"""This library's version."""

__all__ = [
    "AsyncStream",
    "ConfiguredPlugin",
    "GenerateResponse",
    "HealthStatus",
    "LLMClient",
    "LoadResult",
    "Message",
    "ModelInfo",
    "PluginInfo",
    "PluginManager",
    "RawClient",
    "Ready",
    "RequestSender",
    "StreamChunk",
    "ToolCall",
    "ToolDefinition",
    "__version__",
    "_shutdown_all",
]

_MessageLike = Union["Message", Mapping[str, Any]]
_ToolLike = Union["ToolDefinition", Mapping[str, Any]]
_ToolCallLike = Union["ToolCall", Mapping[str, Any]]
_StrPath = Union[str, "os.PathLike[str]"]

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
        """The executable."""
    @property
    def pid(self) -> int:
        """The plugin's process id."""
    @property
    def state(self) -> PluginState:
        """``"ready"``, ``"crashed"`` (it died on its own), ``"stopping"`` or ``"stopped"``."""
    @property
    def protocol_version(self) -> int:
        """The app protocol version negotiated in the handshake (docs/protocol.md §2)."""
    @property
    def address(self) -> str:
        """``"unix:/path"`` or ``"tcp:host:port"``."""
    @property
    def restarts(self) -> int:
        """How many times ``pm.restart()`` started it again."""
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
        """``"plugin"`` (a process to launch), ``"builtin"`` (registered in code) or ``"fallbacks"``."""
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

@final
class PluginManager:
    """Launches, supervises, calls and stops plugins; use it as ``async with PluginManager() as pm``."""

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
    ) -> Awaitable[PluginInfo]:
        """Launches one plugin and waits until it is ready (``name`` defaults to the file name).
        Bad options raise ``ConfigError`` at once; a plugin that cannot start raises
        ``PluginStartError`` (``HandshakeError``, ``StartTimeoutError``); a name already running
        is a ``ConfigError``, a crashed or stopped one is taken over."""
    def load_all(self, *, strict: bool = False, only: Sequence[str] | None = None) -> Awaitable[list[LoadResult]]:
        """Starts every configured plugin (or those named in ``only``; an unknown name is a
        ``ConfigError``) concurrently, one ``LoadResult`` each. With ``strict=True``, any
        failure raises one ``PluginStartError`` listing them all (``.results``: the report)."""
    def restart(self, name: str) -> Awaitable[PluginInfo]:
        """Stops the plugin ``name`` (gracefully, if it runs) and starts it again with the same
        spec and config; clients obtained earlier call the new process. ``PluginNotFoundError``
        for an unknown name, the start errors of ``load`` otherwise."""
    def validate(self) -> list[ConfiguredPlugin]:
        """Every configured and discovered plugin, checked as far as possible without launching
        it (executable, working directory, manifest, required config), then the ``builtin``
        names and the fallback chains."""
    @property
    def config_warnings(self) -> list[str]:
        """Valid but worth a word: settings read but not enforced yet, keys that look like typos."""
    @property
    def unenforced_settings(self) -> list[str]:
        """Key paths of configured settings not enforced yet, e.g. ``plugin_security.max_memory_mb``."""
    def register(self, name: str, provider: LLMProvider, *, type: InProcessType = "llm_provider") -> None:
        """Registers ``provider``, an object in this process, under ``name``: ``pm.llm(name)``
        calls it and fallback chains may name it. ``PluginError`` when it has no ``generate``
        or ``type`` has no in-process providers yet; ``ConfigError`` for a bad or taken name or
        an unknown type."""
    def unregister(self, name: str) -> bool:
        """Removes an in-process provider; returns whether there was one. Clients and chains
        stop calling it from their next call on."""
    def llm(self, name: str) -> LLMClient:
        """The ``LLMClient`` of the LLM plugin, in-process provider or fallback chain ``name``;
        ``PluginNotFoundError`` (listing the known names) if there is none, ``PluginClosedError``
        after shutdown."""
    def raw(self, name: str) -> RawClient:
        """A raw-bytes client for the loaded plugin ``name``, whatever its type;
        ``PluginNotFoundError`` if none is loaded, ``ConfigError`` for an in-process provider."""
    @property
    def plugins(self) -> list[PluginInfo]:
        """A snapshot of every plugin process this manager started."""
    def shutdown(self, grace: float | None = None) -> Awaitable[None]:
        """Stops every plugin: graceful first (Shutdown RPCs), killed after ``grace`` seconds
        (default: each plugin's ``shutdown_grace``); releases in-process providers. The manager
        cannot be used afterwards (``PluginClosedError``)."""
    def __aenter__(self) -> Awaitable[PluginManager]:
        """``PluginClosedError`` if this manager was shut down already."""
    def __aexit__(self, *_exc_info: object) -> Awaitable[None]:
        """``shutdown()`` with each plugin's own grace."""

def _shutdown_all(grace: float | None = None) -> None:
    """Interpreter exit: stops every live plugin of this process (graceful, then killed)."""
