"""hector-plugins: launch, supervise and call out-of-process gRPC plugins from asyncio.

from hector_plugins import PluginManager, Message

async with PluginManager() as pm:
    await pm.load("./plugins/echo-llm", name="echo")
    reply = await pm.llm("echo").generate([Message.user("hi")])
"""

from __future__ import annotations

import atexit

from . import errors
from ._core import (
    AsyncStream,
    ConfiguredPlugin,
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
    StartTimeoutError,
)

# Interpreter exit stops every plugin still running (gracefully, then killed).
atexit.register(_shutdown_all)

__all__ = [
    "AsyncStream",
    "CallTimeoutError",
    "ConfigError",
    "ConfiguredPlugin",
    "GenerateResponse",
    "HandshakeError",
    "HealthStatus",
    "LLMClient",
    "LoadResult",
    "Message",
    "ModelInfo",
    "PluginCallError",
    "PluginClosedError",
    "PluginCrashedError",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "PluginNotFoundError",
    "PluginStartError",
    "PluginTimeoutError",
    "RawClient",
    "StartTimeoutError",
    "StreamChunk",
    "ToolCall",
    "ToolDefinition",
    "__version__",
    "errors",
]
