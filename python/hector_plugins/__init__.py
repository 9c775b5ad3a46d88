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
    DatabaseClient,
    GenerateResponse,
    HealthStatus,
    IterationPlan,
    LLMClient,
    LoadResult,
    Message,
    ModelInfo,
    PluginInfo,
    PluginManager,
    PluginManifest,
    PromptSlots,
    RawClient,
    ReasoningClient,
    ReasoningState,
    SearchResult,
    StopDecision,
    StrategyInfo,
    StreamChunk,
    ToolCall,
    ToolClient,
    ToolDefinition,
    ToolProgress,
    ToolResult,
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
    DatabaseProvider,
    LLMProvider,
    ReasoningStrategy,
    SupportsDatabaseInfo,
    SupportsGenerateStream,
    SupportsHealth,
    SupportsModelInfo,
    SupportsUpsertMany,
    ToolProvider,
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
    "DatabaseClient",
    "DatabaseProvider",
    "EntryKind",
    "GenerateResponse",
    "HandshakeError",
    "HealthStatus",
    "InProcessType",
    "IterationPlan",
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
    "PluginManifest",
    "PluginNotFoundError",
    "PluginStartError",
    "PluginState",
    "PluginTimeoutError",
    "PluginType",
    "PluginTypeError",
    "PluginTypeName",
    "PluginTypeShortName",
    "PluginUsageError",
    "PromptSlots",
    "RawClient",
    "ReasoningClient",
    "ReasoningState",
    "ReasoningStrategy",
    "ReceivedChunkType",
    "SearchResult",
    "StartTimeoutError",
    "StatusCode",
    "StopDecision",
    "StrategyInfo",
    "StreamChunk",
    "SupportsDatabaseInfo",
    "SupportsGenerateStream",
    "SupportsHealth",
    "SupportsModelInfo",
    "SupportsUpsertMany",
    "ToolCall",
    "ToolClient",
    "ToolDefinition",
    "ToolProgress",
    "ToolProvider",
    "ToolResult",
    "errors",
    "literals",
    "providers",
    "__version__",
]
