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

Every method may be ``async def`` or a plain ``def``. Every plugin type (LLM providers, vector
databases, embedders, tool providers, reasoning strategies) can live in process. How the host
calls these methods, and what it does with failures, is in ``hector_plugins._builtin`` (and its
``_inprocess_*`` modules).
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
    PluginManifest,
    ReasoningState,
    SearchResult,
    StopDecision,
    StreamChunk,
    ToolCall,
    ToolDefinition,
    ToolResult,
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

FloatBlock = Any
"""A vector handed to an in-process database: a float32 numpy array of shape ``(dim,)``, or a
``memoryview`` of format ``'f'`` when numpy is not installed (``Any``: the two have no common
static type)."""

SearchResultLike = Union[SearchResult, dict[str, Any]]
"""One match ``search`` may return: a ``SearchResult``, or a dict of its constructor's
arguments (``id``, ``score``, ``content``, ``vector``, ``metadata``, ``model_name``)."""

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
class DatabaseProvider(Protocol):
    """A vector database served in process: what ``PluginManager.register(type=
    "database_provider")`` requires (``isinstance(obj, DatabaseProvider)`` checks the five
    methods exist, as ``register`` does). ``upsert_many``, ``info`` and ``health`` are optional:
    see ``SupportsUpsertMany``, ``SupportsDatabaseInfo`` and ``SupportsHealth``.

    An exception raised by any method reaches the caller as ``PluginCallError`` (code
    ``"UNKNOWN"``, the original as ``__cause__``, ``method`` the RPC's name, e.g. ``"Search"``);
    the caller's ``timeout`` as ``CallTimeoutError``. What the writing methods return is not
    looked at."""

    def upsert(self, collection: str, id: str, vector: FloatBlock, metadata: dict[str, str], /) -> MaybeAwaitable[Any]:
        """Stores (or replaces) the entry ``id``. ``metadata`` is empty when the caller gave none."""
        ...

    def search(
        self, collection: str, vector: FloatBlock, top_k: int, filter: dict[str, str], /
    ) -> MaybeAwaitable[Iterable[SearchResultLike]]:
        """The ``top_k`` best matches, best first, among the entries whose metadata holds every
        key of ``filter`` with exactly its value (an empty ``filter``: all entries)."""
        ...

    def delete(self, collection: str, id: str, /) -> MaybeAwaitable[Any]:
        """Removes the entry ``id``."""
        ...

    def create_collection(self, collection: str, vector_size: int, /) -> MaybeAwaitable[Any]:
        """Creates a collection of vectors of ``vector_size`` floats."""
        ...

    def delete_collection(self, collection: str, /) -> MaybeAwaitable[Any]:
        """Removes a collection and its entries."""
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
class SupportsUpsertMany(Protocol):
    """The optional batch method of a ``DatabaseProvider``; without it, ``upsert_many`` calls
    ``upsert`` once per entry, in order."""

    def upsert_many(
        self, collection: str, ids: list[str], vectors: list[FloatBlock], metadatas: list[dict[str, str]], /
    ) -> MaybeAwaitable[Any]:
        """Stores every entry (``ids[i]``, ``vectors[i]``, ``metadatas[i]``)."""
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
class SupportsDatabaseInfo(Protocol):
    """The optional ``info`` of a ``DatabaseProvider``; without it, the provider reports its
    registered name and ``type="database_provider"``."""

    def info(self) -> MaybeAwaitable[PluginManifest | dict[str, Any]]:
        """A ``PluginManifest``, or a dict of its constructor's arguments (``name``, ``version``, ...)."""
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


@runtime_checkable
class ToolProvider(Protocol):
    """Tools served in process: what ``PluginManager.register(type="tool_provider")`` requires.
    An optional ``call_tool_stream(tool, arguments)`` may yield ``ToolProgress`` items (or str
    messages) ending with a ``done`` one; without it ``call_stream`` yields ``call_tool``'s
    result as its one item. ``health`` is optional as for ``LLMProvider``."""

    def list_tools(self) -> MaybeAwaitable[Iterable[ToolDefinition | dict[str, Any]]]:
        """The tools, as ``ToolDefinition``s or dicts (``name``, ``description``, ``parameters``)."""
        ...

    def call_tool(self, tool: str, arguments: dict[str, Any], /) -> MaybeAwaitable[ToolResult | str]:
        """Runs ``tool``; a str is a successful result's content. A tool's own failure is
        ``ToolResult(False, error=...)``; an exception reaches the caller as ``PluginCallError``."""
        ...


@runtime_checkable
class ReasoningStrategy(Protocol):
    """A reasoning strategy served in process: what ``PluginManager.register(type=
    "reasoning_strategy")`` requires. Optional hooks (``info``, ``prepare_iteration``,
    ``after_iteration``, ``context_injection``, ``prompt_slots``, ``health``) are described in
    ``hector_plugins._inprocess_reasoning``; each gets the whole ``ReasoningState``."""

    def should_stop(self, state: ReasoningState, /) -> MaybeAwaitable[StopDecision | bool]:
        """Whether the agent loop ends after this iteration."""
        ...


__all__ = [
    "BatchLike",
    "ChunkLike",
    "DatabaseProvider",
    "EmbedderProvider",
    "FloatBlock",
    "GenerateResult",
    "LLMProvider",
    "MaybeAwaitable",
    "ReasoningStrategy",
    "SearchResultLike",
    "StreamResult",
    "SupportsDatabaseInfo",
    "SupportsEmbedBatch",
    "SupportsEmbedderInfo",
    "SupportsGenerateStream",
    "SupportsHealth",
    "SupportsModelInfo",
    "SupportsUpsertMany",
    "ToolProvider",
    "VectorLike",
]
