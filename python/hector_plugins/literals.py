"""The fixed sets of names the API takes and returns, as ``Literal`` types.

Each alias lists exactly the values the extension produces or accepts (tests/test_types.py
checks them against it), so a type checker catches a misspelt ``"redy"`` or ``type="lmm"`` and
can tell which branches of a ``match`` on a state or chunk type are missing::

    from hector_plugins import PluginState

    def is_up(state: PluginState) -> bool:
        return state == "ready"
"""

from __future__ import annotations

from typing import Literal, Union

PluginType = Literal[
    "llm_provider",
    "database_provider",
    "embedder_provider",
    "tool_provider",
    "reasoning_strategy",
    "grpc",
]
"""A plugin's type as the host reports it (``PluginInfo.type``, ``LoadResult.type``,
``ConfiguredPlugin.type``): the manifest names of docs/protocol.md §7.6; ``"grpc"`` is any
go-plugin plugin without a Hector service."""

PluginTypeShortName = Literal["llm", "database", "embedder", "tool", "tools", "reasoning", "generic"]
"""The short forms ``type=`` also accepts (docs/protocol.md §7.6); they are reported under their
full name (``"llm"`` reads back as ``"llm_provider"``)."""

PluginTypeName = Union[PluginType, PluginTypeShortName]
"""Every name ``PluginManager.load(type=...)`` accepts; anything else raises ``ConfigError``."""

InProcessType = Literal[
    "llm_provider",
    "database_provider",
    "embedder_provider",
    "tool_provider",
    "reasoning_strategy",
    "llm",
    "database",
    "embedder",
    "tool",
    "tools",
    "reasoning",
]
"""The ``type=`` names ``PluginManager.register`` accepts (with their short forms): every Hector
plugin type can live in process."""

PluginState = Literal["ready", "crashed", "stopping", "stopped", "not_started", "starting", "restarting", "failed"]
LifecycleEventName = Literal[
    "loaded", "unhealthy", "crashed", "restarting", "restarted", "failed", "reloaded", "reload_failed", "stopped"
]
"""``PluginInfo.state``: serving calls, died on its own, being shut down, shut down."""

ClosedState = Literal["stopping", "stopped", "shut_down", "no_ready_member", "cancelled", "failed", "restarting"]
"""``PluginClosedError.state``: why a name cannot be called. The plugin is being (or was) shut
down; its manager was shut down; a fallback chain has no ready member right now (it serves again
once one loads, restarts or registers); the stream was cancelled by its reader."""

ChunkType = Literal["text", "tool_call", "done", "error"]
"""The chunk types of ``GenerateStreaming`` (docs/protocol.md §7.3), which ``StreamChunk(type)``
accepts; any other name raises ``ValueError``."""

ReceivedChunkType = Union[ChunkType, Literal["unknown"]]
"""``StreamChunk.type``: one of ``ChunkType``, or ``"unknown"`` when a plugin sent a type number
outside the protocol's four."""

EntryKind = Literal["plugin", "mcp", "builtin", "fallbacks"]
"""``ConfiguredPlugin.entry``: a process to launch, an in-process provider declared ``type:
builtin``, or a fallback chain."""

StatusCode = Literal[
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
]
"""``PluginCallError.code``: the gRPC status name of a failed call (``"DEADLINE_EXCEEDED"`` is
raised as ``CallTimeoutError``; an in-process provider's own failure is ``"UNKNOWN"``)."""

NotFoundKind = Union[PluginType, Literal["plugin", "agent"]]
"""``PluginNotFoundError.kind``: the type that was asked for, ``"plugin"`` when any would do
(``pm.raw(name)``), or ``"agent"`` (``pm.agent(name)``)."""

__all__ = [
    "ChunkType",
    "ClosedState",
    "EntryKind",
    "InProcessType",
    "NotFoundKind",
    "PluginState",
    "LifecycleEventName",
    "PluginType",
    "PluginTypeName",
    "PluginTypeShortName",
    "ReceivedChunkType",
    "StatusCode",
]
