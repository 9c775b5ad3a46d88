"""Type stubs of the Rust extension module (checked with ``python -m mypy.stubtest``)."""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Awaitable, Generator, Iterable, Mapping, Sequence, Union, final

from typing_extensions import Buffer

__version__: str

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
    "StreamChunk",
    "ToolCall",
    "ToolDefinition",
    "__version__",
    "_shutdown_all",
]

_MessageLike = Union["Message", Mapping[str, Any]]
_ToolLike = Union["ToolDefinition", Mapping[str, Any]]
_StrPath = Union[str, "os.PathLike[str]"]

@final
class ToolCall:
    """A tool call the model asked for (or that a conversation carries back)."""

    id: str
    name: str
    arguments_json: str
    def __new__(
        cls, id: str, name: str, arguments: Any | None = None, *, arguments_json: str | None = None
    ) -> ToolCall: ...
    @property
    def arguments(self) -> Any:
        """The arguments parsed from JSON."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Message:
    """One chat message. Plain dicts with the same keys are accepted wherever a Message is."""

    role: str
    content: str
    tool_calls: list[ToolCall]
    tool_call_id: str
    def __new__(
        cls,
        role: str,
        content: str = ...,
        tool_calls: Sequence[ToolCall | Mapping[str, Any]] | None = None,
        tool_call_id: str = ...,
    ) -> Message: ...
    @staticmethod
    def system(content: str) -> Message: ...
    @staticmethod
    def user(content: str) -> Message: ...
    @staticmethod
    def assistant(content: str = ..., tool_calls: Sequence[ToolCall | Mapping[str, Any]] | None = None) -> Message: ...
    @staticmethod
    def tool(content: str, tool_call_id: str) -> Message: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class ToolDefinition:
    """A tool offered to the model; ``parameters`` is a JSON Schema (dict or JSON text)."""

    name: str
    description: str
    parameters_json: str
    def __new__(cls, name: str, description: str = ..., parameters: Any | None = None) -> ToolDefinition: ...
    @property
    def parameters(self) -> Any: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class GenerateResponse:
    def __new__(
        cls, text: str = ..., tool_calls: Sequence[ToolCall | Mapping[str, Any]] | None = None, tokens_used: int = 0
    ) -> GenerateResponse: ...
    @property
    def text(self) -> str: ...
    @property
    def tool_calls(self) -> list[ToolCall]: ...
    @property
    def tokens_used(self) -> int: ...

@final
class StreamChunk:
    def __new__(
        cls,
        type: str,
        text: str = ...,
        tool_call: ToolCall | Mapping[str, Any] | None = None,
        error: str = ...,
        tokens_used: int = 0,
    ) -> StreamChunk: ...
    @property
    def type(self) -> str:
        """ "text", "tool_call", "done" or "error"."""
    @property
    def text(self) -> str: ...
    @property
    def tool_call(self) -> ToolCall | None: ...
    @property
    def error(self) -> str: ...
    @property
    def tokens_used(self) -> int: ...

@final
class ModelInfo:
    def __new__(cls, model_name: str = ..., max_tokens: int = 0, temperature: float = 0.0) -> ModelInfo: ...
    @property
    def model_name(self) -> str: ...
    @property
    def max_tokens(self) -> int: ...
    @property
    def temperature(self) -> float: ...

@final
class HealthStatus:
    def __new__(cls, healthy: bool = True, message: str = ...) -> HealthStatus: ...
    @property
    def healthy(self) -> bool: ...
    @property
    def message(self) -> str: ...
    def __bool__(self) -> bool: ...

@final
class PluginInfo:
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def pid(self) -> int: ...
    @property
    def state(self) -> str:
        """ "ready", "crashed", "stopping" or "stopped"."""
    @property
    def protocol_version(self) -> int: ...
    @property
    def address(self) -> str:
        """ "unix:/path" or "tcp:host:port"."""
    @property
    def restarts(self) -> int: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def exit_signal(self) -> int | None: ...
    @property
    def killed(self) -> bool:
        """True when shutdown had to kill the plugin."""
    @property
    def version(self) -> str | None:
        """The manifest's version, when the plugin has a ``<executable>.plugin.yaml``."""
    @property
    def capabilities(self) -> dict[str, Any]:
        """The manifest's capabilities (empty without a manifest)."""

@final
class LoadResult:
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def plugin(self) -> PluginInfo | None: ...
    @property
    def error(self) -> Exception | None: ...
    @property
    def served_by(self) -> str | None:
        """The plugin or in-process provider serving this name (a chain's serving member)."""
    @property
    def in_process(self) -> bool:
        """True when ``served_by`` is an in-process provider."""

@final
class ConfiguredPlugin:
    """A configured or discovered plugin, checked without launching it."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def ok(self) -> bool: ...
    @property
    def error(self) -> Exception | None: ...
    @property
    def entry(self) -> str:
        """ "plugin" (a process to launch), "builtin" (registered in code) or "fallbacks"."""
    @property
    def members(self) -> list[str]:
        """A fallback chain's members, in order (empty for other entries)."""

@final
class Ready:
    """An awaitable whose result is already known."""

    def __await__(self) -> Generator[Any, None, Any]: ...
    def __iter__(self) -> Ready: ...
    def __next__(self) -> Any: ...

@final
class AsyncStream:
    """An async iterator over a server stream; cancelling or closing it cancels the RPC."""

    def __aiter__(self) -> AsyncStream: ...
    def __anext__(self) -> Awaitable[Any]: ...
    def aclose(self) -> Awaitable[None]: ...

@final
class LLMClient:
    @property
    def name(self) -> str: ...
    def generate(
        self,
        messages: Iterable[_MessageLike],
        tools: Iterable[_ToolLike] | None = None,
        *,
        timeout: float | None = None,
    ) -> Awaitable[GenerateResponse]: ...
    def generate_stream(
        self,
        messages: Iterable[_MessageLike],
        tools: Iterable[_ToolLike] | None = None,
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamChunk]: ...
    def model_info(self, *, timeout: float | None = None) -> Awaitable[ModelInfo]: ...
    def health(self, *, timeout: float | None = None) -> Awaitable[HealthStatus]: ...

@final
class RawClient:
    @property
    def name(self) -> str: ...
    @property
    def protocol_version(self) -> int: ...
    def call(self, method: str, request: Buffer | None = None, *, timeout: float | None = None) -> Awaitable[bytes]: ...
    def stream(
        self, method: str, request: Buffer | None = None, *, timeout: float | None = None
    ) -> AsyncIterator[bytes]: ...

@final
class PluginManager:
    def __new__(cls, config: _StrPath | Mapping[str, Any] | None = None) -> PluginManager: ...
    def load(
        self,
        path: _StrPath,
        name: str | None = None,
        type: str = "llm_provider",
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
    ) -> Awaitable[PluginInfo]: ...
    def load_all(self, *, strict: bool = False, only: Sequence[str] | None = None) -> Awaitable[list[LoadResult]]: ...
    def restart(self, name: str) -> Awaitable[PluginInfo]:
        """Stops the plugin ``name`` (gracefully, if it runs) and starts it again with the same
        spec and config; clients obtained earlier call the new process."""
    def validate(self) -> list[ConfiguredPlugin]: ...
    @property
    def config_warnings(self) -> list[str]:
        """Valid but worth a word: settings read but not enforced yet, keys that look like typos."""
    @property
    def unenforced_settings(self) -> list[str]:
        """Key paths of configured settings not enforced yet, e.g. ``plugin_security.max_memory_mb``."""
    def register(self, name: str, provider: object, *, type: str = "llm_provider") -> None:
        """Registers an in-process provider (see ``hector_plugins._builtin``) under ``name``."""
    def unregister(self, name: str) -> bool: ...
    def llm(self, name: str) -> LLMClient: ...
    def raw(self, name: str) -> RawClient: ...
    @property
    def plugins(self) -> list[PluginInfo]: ...
    def shutdown(self, grace: float | None = None) -> Awaitable[None]: ...
    def __aenter__(self) -> Awaitable[PluginManager]: ...
    def __aexit__(self, *_exc_info: object) -> Awaitable[None]: ...

def _shutdown_all(grace: float | None = None) -> None: ...
