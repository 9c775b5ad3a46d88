"""hector-plugins: launch, supervise and call out-of-process gRPC plugins from asyncio.

from hector_plugins import PluginManager, Message

async with PluginManager() as pm:
    await pm.load("./plugins/echo-llm", name="echo")
    reply = await pm.llm("echo").generate([Message.user("hi")])

The ``Literal`` aliases of the names the API takes and returns (``PluginState``, ``PluginType``,
``ChunkType``, ...) live in ``hector_plugins.literals``; the protocols an in-process provider
satisfies (``LLMProvider``, ...) in ``hector_plugins.providers``. Both are re-exported here.
"""

from __future__ import annotations

import atexit

from . import errors, literals, providers
from ._core import (
    AsyncStream,
    ConfiguredPlugin,
    EmbedderClient,
    EmbedderInfo,
    GenerateResponse,
    HealthStatus,
    LLMClient,
    LoadResult,
    Message,
    ModelInfo,
    PluginInfo,
    PluginManager,
    RawClient,
    StreamChunk,
    ToolCall,
    ToolDefinition,
    __version__,
    _shutdown_all,
)
from .errors import (
    CallTimeoutError,
    ConfigError,
    HandshakeError,
    PluginCallError,
    PluginClosedError,
    PluginCrashedError,
    PluginError,
    PluginNotFoundError,
    PluginStartError,
    PluginTimeoutError,
    PluginTypeError,
    PluginUsageError,
    StartTimeoutError,
)
from .literals import (
    ChunkType,
    ClosedState,
    EntryKind,
    InProcessType,
    NotFoundKind,
    PluginState,
    PluginType,
    PluginTypeName,
    PluginTypeShortName,
    ReceivedChunkType,
    StatusCode,
)
from .providers import (
    EmbedderProvider,
    LLMProvider,
    SupportsEmbedBatch,
    SupportsEmbedderInfo,
    SupportsGenerateStream,
    SupportsHealth,
    SupportsModelInfo,
)

# Interpreter exit stops every plugin still running (gracefully, then killed).
atexit.register(_shutdown_all)

__all__ = [
    "AsyncStream",
    "CallTimeoutError",
    "ChunkType",
    "ClosedState",
    "ConfigError",
    "ConfiguredPlugin",
    "EmbedderClient",
    "EmbedderInfo",
    "EmbedderProvider",
    "EntryKind",
    "GenerateResponse",
    "HandshakeError",
    "HealthStatus",
    "InProcessType",
    "LLMClient",
    "LLMProvider",
    "LoadResult",
    "Message",
    "ModelInfo",
    "NotFoundKind",
    "PluginCallError",
    "PluginClosedError",
    "PluginCrashedError",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "PluginNotFoundError",
    "PluginStartError",
    "PluginState",
    "PluginTimeoutError",
    "PluginTypeError",
    "PluginUsageError",
    "PluginType",
    "PluginTypeName",
    "PluginTypeShortName",
    "RawClient",
    "ReceivedChunkType",
    "StartTimeoutError",
    "StatusCode",
    "StreamChunk",
    "SupportsEmbedBatch",
    "SupportsEmbedderInfo",
    "SupportsGenerateStream",
    "SupportsHealth",
    "SupportsModelInfo",
    "ToolCall",
    "ToolDefinition",
    "__version__",
    "errors",
    "literals",
    "providers",
]
