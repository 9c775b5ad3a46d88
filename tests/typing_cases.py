"""Code that uses the stubs, type-checked (never run) by tests/test_types.py: each line whose
comment starts with E must be a mypy error, every other line must pass. It shows that the stub
holds callers to the ``Literal`` aliases and the in-process provider protocols."""

from __future__ import annotations

from array import array
from collections.abc import AsyncIterator
from typing import Any, Optional

from hector_plugins import (
    ChunkType,
    ConfiguredPlugin,
    DatabaseClient,
    DatabaseProvider,
    EmbedderProvider,
    EntryKind,
    GenerateResponse,
    LLMProvider,
    LoadResult,
    Message,
    ModelInfo,
    NotFoundKind,
    PluginCallError,
    PluginError,
    PluginInfo,
    PluginManager,
    PluginNotFoundError,
    PluginState,
    PluginType,
    ReceivedChunkType,
    SearchResult,
    StatusCode,
    StreamChunk,
    SupportsEmbedBatch,
    SupportsGenerateStream,
    SupportsHealth,
    SupportsModelInfo,
    SupportsUpsertMany,
    ToolDefinition,
)
from typing_extensions import assert_type


class LocalLLM:
    """Every method, async and plain mixed."""

    async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        return GenerateResponse(text="local")

    async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> AsyncIterator[Any]:
        yield "local"

    async def model_info(self) -> ModelInfo:
        return ModelInfo("local")

    def health(self) -> bool:
        return True


class MinimalLLM:
    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
        return "minimal"


class DictLLM:
    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> dict[str, Any]:
        return {"text": "as a dict"}

    def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> list[str]:
        return ["a", "b"]


class LocalDatabase:
    """A vector database in process: the five required methods, async and plain mixed."""

    async def upsert(self, collection: str, id: str, vector: Any, metadata: dict[str, str]) -> None: ...

    def search(self, collection: str, vector: Any, top_k: int, filter: dict[str, str]) -> list[SearchResult]:
        return [SearchResult("a", 1.0)]

    def delete(self, collection: str, id: str) -> None: ...

    def create_collection(self, collection: str, vector_size: int) -> None: ...

    def delete_collection(self, collection: str) -> None: ...


class LocalEmbedder:
    def embed(self, text: str) -> list[float]:
        return [1.0]

    async def embed_batch(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] for _ in texts]


class NoGenerate:
    def model_info(self) -> ModelInfo:
        return ModelInfo("none")


class WrongResult:
    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> int:
        return 1


class WrongStream:
    def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> int:
        return 1


def streams(provider: SupportsGenerateStream) -> None: ...


def reports_model(provider: SupportsModelInfo) -> None: ...


def reports_health(provider: SupportsHealth) -> None: ...


def serves(provider: LLMProvider) -> None: ...


def stores(provider: DatabaseProvider) -> None: ...


def stores_many(provider: SupportsUpsertMany) -> None: ...


def embeds(provider: EmbedderProvider) -> None: ...


def embeds_batches(provider: SupportsEmbedBatch) -> None: ...


def accepted(pm: PluginManager) -> None:
    pm.register("local", LocalLLM())
    pm.register("minimal", MinimalLLM(), type="llm")
    pm.register("dict", DictLLM(), type="llm_provider")
    serves(LocalLLM())
    streams(LocalLLM())
    streams(DictLLM())
    reports_model(LocalLLM())
    reports_health(LocalLLM())
    pm.register("db", LocalDatabase(), type="database")
    stores(LocalDatabase())
    pm.register("vectors", LocalEmbedder(), type="embedder")
    pm.register("more-vectors", LocalEmbedder(), type="embedder_provider")
    embeds(LocalEmbedder())
    embeds_batches(LocalEmbedder())
    pm.load("plugin", type="generic")
    pm.load("plugin", type="embedder_provider")
    StreamChunk("tool_call")


def read_back(info: PluginInfo, result: LoadResult, entry: ConfiguredPlugin, chunk: StreamChunk) -> None:
    assert_type(info.state, PluginState)
    assert_type(info.type, PluginType)
    assert_type(result.type, PluginType)
    assert_type(result.error, Optional[PluginError])
    assert_type(entry.entry, EntryKind)
    assert_type(chunk.type, ReceivedChunkType)
    kind: ChunkType | None = chunk.type if chunk.type != "unknown" else None
    del kind


async def vectors(db: DatabaseClient) -> None:
    await db.upsert("c", "a", [1.0, 2.0], {"lang": "en"})
    await db.upsert("c", "b", array("f", [1.0, 2.0]))
    assert_type(await db.search("c", (1.0, 2.0), top_k=3, filter={"lang": "en"}), list[SearchResult])


def errors(call: PluginCallError, missing: PluginNotFoundError) -> None:
    assert_type(call.code, StatusCode)
    assert_type(missing.kind, NotFoundKind)


async def agents_and_hooks(config: str) -> None:
    from hector_plugins.agents import Agent, AgentResult, HookRegistry, ToolCallContext

    async with PluginManager(config) as pm:  # the subclass's type survives `async with`
        assert_type(pm.hooks, HookRegistry)
        agent = pm.agent("research")
        assert_type(agent, Agent)
        assert_type(await agent.run("task"), AgentResult)

        def audit(call: ToolCallContext) -> None:
            pass

        pm.hooks.register("before_tool_call", audit)
        pm.hooks.register("before_toolcall", audit)  # E: not a hook point


def refused(pm: PluginManager, info: PluginInfo, call: PluginCallError) -> None:
    pm.register("none", NoGenerate())  # E
    pm.register("wrong", WrongResult())  # E
    pm.register("nodb", NoGenerate(), type="database")  # E
    stores(MinimalLLM())  # E
    stores_many(LocalDatabase())  # E: upsert_many is optional
    pm.register("tools", MinimalLLM(), type="tool_provider")  # E: no list_tools
    pm.register("vectors", MinimalLLM(), type="embedder_provider")  # E: no embed
    pm.register("chat", LocalEmbedder())  # E: an embedder is no LLM
    embeds(MinimalLLM())  # E
    pm.load("plugin", type="lmm")  # E
    streams(WrongStream())  # E
    StreamChunk("txt")  # E
    if info.state == "redy":  # E (with --strict-equality)
        pass
    if call.code == "TIMEOUT":  # E
        pass
