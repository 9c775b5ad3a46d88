"""What an in-process provider must look like, as ``typing.Protocol`` classes.

``PluginManager.register(name, provider)`` accepts any object with the methods of its type; no
base class is needed (the protocols are structural). A type checker holds a registered object to
``LLMProvider``; the optional methods have their own protocols, for a class that wants them
checked too::

    class LocalLLM:  # satisfies LLMProvider and SupportsModelInfo
        async def generate(self, messages, tools) -> str:
            return "..."

        def model_info(self) -> ModelInfo:
            return ModelInfo("local", max_tokens=4096)

Every method may be ``async def`` or a plain ``def``. LLM providers and embedders can live in
process today; the other plugin types get theirs with their typed clients. How the host calls
these methods, and what it does with failures, is in ``hector_plugins._builtin`` (and
``_inprocess_embedder``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Iterable
from typing import Any, Protocol, TypeVar, Union, runtime_checkable

from ._core import (
    EmbedderInfo,
    GenerateResponse,
    HealthStatus,
    Message,
    ModelInfo,
    StreamChunk,
    ToolCall,
    ToolDefinition,
)

_T = TypeVar("_T")

MaybeAwaitable = Union[_T, Awaitable[_T]]
"""A provider method's result, from a plain ``def`` or an ``async def``."""

GenerateResult = Union[GenerateResponse, str, dict[str, Any]]
"""What ``generate`` may return: a ``GenerateResponse``, its text alone, or a dict with
``text``, ``tool_calls`` and ``tokens_used``."""

ChunkLike = Union[StreamChunk, str, ToolCall]
"""One item of ``generate_stream``: a ``StreamChunk``, a text chunk's text, or a tool call."""

StreamResult = Union[AsyncIterable[ChunkLike], Iterable[ChunkLike]]
"""What ``generate_stream`` may return: an async generator, or any (async) iterable of chunks."""

VectorLike = Any
"""One vector an embedder returns: a list of numbers, an ``array('f')`` or ``array('d')``, a
numpy array of any float dtype, or any buffer of floats (``Any``: buffers and numpy arrays have
no common static type)."""

BatchLike = Any
"""What ``embed_batch`` returns: one ``VectorLike`` per text (a list of them, or a 2-D numpy
array)."""


@runtime_checkable
class LLMProvider(Protocol):
    """An LLM served in process: what ``PluginManager.register(type="llm_provider")`` requires.

    ``isinstance(obj, LLMProvider)`` checks that ``generate`` exists, as ``register`` does (it
    raises ``PluginError`` otherwise). ``generate_stream``, ``model_info`` and ``health`` are
    optional: see ``SupportsGenerateStream``, ``SupportsModelInfo`` and ``SupportsHealth``.
    """

    def generate(self, messages: list[Message], tools: list[ToolDefinition], /) -> MaybeAwaitable[GenerateResult]:
        """Answers one ``LLMClient.generate`` call. ``messages`` and ``tools`` arrive as
        ``Message`` and ``ToolDefinition`` objects whatever the caller passed. An exception
        reaches the caller as ``PluginCallError`` (code ``"UNKNOWN"``, the original as
        ``__cause__``); the caller's ``timeout`` as ``CallTimeoutError``."""
        ...


@runtime_checkable
class SupportsGenerateStream(Protocol):
    """The optional streaming method of an ``LLMProvider``; without it, ``generate_stream`` is
    emulated from ``generate`` (a text chunk, its tool calls, then ``"done"``)."""

    def generate_stream(self, messages: list[Message], tools: list[ToolDefinition], /) -> MaybeAwaitable[StreamResult]:
        """Answers one ``LLMClient.generate_stream`` call, one item per chunk. A final
        ``"done"`` chunk is added when the stream does not end with one. The caller's
        ``timeout`` bounds each wait of an asynchronous stream (``CallTimeoutError``); a plain
        iterator cannot be interrupted."""
        ...


@runtime_checkable
class SupportsModelInfo(Protocol):
    """The optional ``model_info`` of an ``LLMProvider``; without it, the provider reports its
    registered name as the model name."""

    def model_info(self) -> MaybeAwaitable[ModelInfo | dict[str, Any]]:
        """A ``ModelInfo``, or a dict of its fields (``model_name``, ``max_tokens``,
        ``temperature``)."""
        ...


@runtime_checkable
class EmbedderProvider(Protocol):
    """An embedder served in process: what ``PluginManager.register(type="embedder_provider")``
    requires (``isinstance(obj, EmbedderProvider)`` checks that ``embed`` exists, as
    ``register`` does). ``embed_batch``, ``info`` and ``health`` are optional: see
    ``SupportsEmbedBatch``, ``SupportsEmbedderInfo`` and ``SupportsHealth``."""

    def embed(self, text: str, /) -> MaybeAwaitable[VectorLike]:
        """The vector of one text. It reaches the caller as a float32 block, like a plugin's;
        an exception, or a result that is no vector of finite floats, as ``PluginCallError``
        (``method`` ``"Embed"``); the caller's ``timeout`` as ``CallTimeoutError``."""
        ...


@runtime_checkable
class SupportsEmbedBatch(Protocol):
    """The optional batch method of an ``EmbedderProvider``; without it, ``embed_batch`` calls
    ``embed`` once per text (at most 16 at a time), as for a plugin without ``EmbedBatch``."""

    def embed_batch(self, texts: list[str], /) -> MaybeAwaitable[BatchLike]:
        """One vector per text, in their order, all of one dimension; anything else is a
        ``PluginCallError`` (``method`` ``"EmbedBatch"``)."""
        ...


@runtime_checkable
class SupportsEmbedderInfo(Protocol):
    """The optional ``info`` of an ``EmbedderProvider``; without it, the provider reports its
    registered name and dimension 0 (unknown)."""

    def info(self) -> MaybeAwaitable[EmbedderInfo | dict[str, Any]]:
        """An ``EmbedderInfo``, or a dict of its fields (``model_name``, ``dimension``)."""
        ...


@runtime_checkable
class SupportsHealth(Protocol):
    """The optional ``health`` of any provider; without it, the provider reports healthy."""

    def health(self) -> MaybeAwaitable[HealthStatus | bool]:
        """A ``HealthStatus``, or a bool (healthy or not)."""
        ...


__all__ = [
    "BatchLike",
    "ChunkLike",
    "EmbedderProvider",
    "GenerateResult",
    "LLMProvider",
    "MaybeAwaitable",
    "StreamResult",
    "SupportsEmbedBatch",
    "SupportsEmbedderInfo",
    "SupportsGenerateStream",
    "SupportsHealth",
    "SupportsModelInfo",
    "VectorLike",
]
