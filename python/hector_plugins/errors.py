"""The exception hierarchy. Every error raised by hector_plugins derives from PluginError.

Each carries a message a person can act on, plus the details as attributes (``plugin``,
``stderr`` for start failures and crashes, ``code`` for gRPC call failures, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .literals import ClosedState, NotFoundKind, StatusCode

if TYPE_CHECKING:
    from ._core import LoadResult


class PluginError(Exception):
    """Base class of every hector_plugins error."""

    plugin: str | None
    """The name of the plugin (or in-process provider) concerned, when there is one."""
    message: str
    """The message, also ``str(error)``."""

    def __init__(self, message: str, **details: Any) -> None:
        """``details`` become attributes; ``plugin`` defaults to None."""
        super().__init__(message)
        self.message = message
        self.plugin = details.pop("plugin", None)
        for key, value in details.items():
            setattr(self, key, value)

    def __str__(self) -> str:  # KeyError subclasses would otherwise quote the message
        return self.message


class ConfigError(PluginError, ValueError):
    """Invalid configuration or options. ``file``, ``line`` and ``column`` say where, when known.

    ``key`` is the dotted key path the error concerns, e.g.
    ``"plugins.llm_providers.gpt.call_timeout"`` (or the keyword argument's name, e.g.
    ``"call_timeout"``, for ``load()``), or None when it concerns no single key."""

    file: str | None
    line: int | None
    column: int | None
    key: str | None


class PluginNotFoundError(PluginError, KeyError):
    """No plugin of that name (and type) is loaded. ``known`` lists the names that are."""

    kind: NotFoundKind
    known: list[str]


class PluginStartError(PluginError):
    """A plugin could not be launched or initialized. ``stderr`` holds its last stderr lines.

    Raised by ``load_all(strict=True)`` for the whole load: then ``plugin`` is None and
    ``results`` is the full report (a list of ``LoadResult``)."""

    stderr: list[str]
    results: list[LoadResult]


class HandshakeError(PluginStartError):
    """The plugin's handshake line was missing or wrong (the message shows the line)."""


class PluginTimeoutError(PluginError, TimeoutError):
    """Something took longer than its limit. Also a builtin ``TimeoutError``."""


class StartTimeoutError(PluginStartError, PluginTimeoutError):
    """The plugin printed no handshake line within ``start_timeout``; it was killed."""

    timeout: float


class PluginCallError(PluginError):
    """A call failed. ``code`` is the gRPC status name (e.g. ``"UNAVAILABLE"``), ``method`` the RPC."""

    code: StatusCode
    method: str


class CallTimeoutError(PluginCallError, PluginTimeoutError):
    """A call did not answer within its ``timeout``."""


class PluginCrashedError(PluginError):
    """The plugin process died. ``exit`` says how; ``stderr`` holds its last stderr lines."""

    exit: str
    method: str
    stderr: list[str]


class PluginClosedError(PluginError):
    """The name cannot be called now: the plugin or its manager was shut down, a fallback chain
    has no ready member, or a stream was cancelled. ``state`` says which."""

    state: ClosedState
    """Why, as a fixed name (see ``hector_plugins.literals.ClosedState``)."""


class PluginTypeError(PluginError, TypeError):
    """An argument of the wrong type: a message that is neither a ``Message`` nor a dict, a raw
    request that is not bytes-like, a dict value that is not a str."""


class PluginUsageError(PluginError, RuntimeError):
    """An awaitable or stream used in a way it cannot serve: awaited twice, read from two tasks at
    once, or used in a process forked from the one that loaded the plugins."""


class AgentError(PluginError):
    """An agent run failed for a reason of its own (not a plugin call's): a limit, a hook.
    ``agent`` names the agent; ``result`` is the ``AgentResult`` so far (its trace up to the
    failure), or None."""

    agent: str
    result: Any


class AgentLimitError(AgentError):
    """A run reached a limit before the model gave its final answer. ``limit`` is
    ``"max_iterations"``, ``"max_tokens"`` or ``"timeout"``."""

    limit: str


class AgentTimeoutError(AgentLimitError, PluginTimeoutError):
    """A run passed its ``timeout`` (the wall-clock deadline of the whole run); every call in
    flight was cancelled. Also a builtin ``TimeoutError``."""


class HookError(AgentError):
    """A hook raised or timed out. ``hook`` is its name, ``point`` where it ran (e.g.
    ``"before_generate"``); the hook's own exception is ``__cause__``."""

    hook: str
    point: str


class HookVetoError(HookError):
    """A hook vetoed a step (it raised ``hector_plugins.agents.Veto``). At ``before_tool_call``
    a veto does not stop the run: the model gets the tool call refused, naming the hook."""

    reason: str


__all__ = [
    "PluginError",
    "ConfigError",
    "PluginNotFoundError",
    "PluginStartError",
    "HandshakeError",
    "PluginTimeoutError",
    "StartTimeoutError",
    "PluginCallError",
    "CallTimeoutError",
    "PluginCrashedError",
    "PluginClosedError",
    "PluginTypeError",
    "PluginUsageError",
    "AgentError",
    "AgentLimitError",
    "AgentTimeoutError",
    "HookError",
    "HookVetoError",
]
