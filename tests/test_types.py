"""The ``Literal`` aliases and provider protocols of the stubs, checked against what the
extension really accepts and returns (so the stub cannot drift silently), and the stub checked
to hold callers to them (tests/typing_cases.py through mypy)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any, get_args

import hector_plugins
import pytest
from hector_plugins import (
    ChunkType,
    ClosedState,
    ConfigError,
    DatabaseProvider,
    EntryKind,
    GenerateResponse,
    HealthStatus,
    InProcessType,
    LLMProvider,
    Message,
    ModelInfo,
    NotFoundKind,
    PluginCallError,
    PluginClosedError,
    PluginError,
    PluginManager,
    PluginNotFoundError,
    PluginState,
    PluginType,
    PluginTypeName,
    ReceivedChunkType,
    SearchResult,
    StatusCode,
    StreamChunk,
    SupportsDatabaseInfo,
    SupportsGenerateStream,
    SupportsHealth,
    SupportsModelInfo,
    SupportsUpsertMany,
    ToolDefinition,
)
from helpers import KV_COOKIE, wait_until, write_executable

TYPING_CASES = Path(__file__).resolve().parent / "typing_cases.py"


def values(alias: Any) -> list[str]:
    """The strings of a Literal alias, through nested Literals and Unions, in order."""
    args = get_args(alias)
    if all(isinstance(arg, str) for arg in args):
        return list(args)
    return [value for arg in args for value in values(arg)]


class MinimalLLM:
    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
        return "minimal: " + messages[-1].content


class AnyProvider:
    """Has whatever method any in-process type requires, so registration refuses it only for a
    type that cannot live in process."""

    def __getattr__(self, method: str) -> Callable[..., None]:
        return lambda *args: None


def test_the_aliases_hold_distinct_names() -> None:
    for alias in (PluginType, PluginTypeName, InProcessType, PluginState, ChunkType, EntryKind, StatusCode):
        names = values(alias)
        assert names and len(names) == len(set(names)), alias
    assert set(values(InProcessType)) <= set(values(PluginTypeName))
    assert set(values(ChunkType)) < set(values(ReceivedChunkType))
    assert set(values(PluginType)) < set(values(NotFoundKind))


def test_plugin_type_names_are_exactly_the_ones_the_extension_accepts() -> None:
    pm = PluginManager()
    # The extension's refusal lists the full names; PluginType must be that list.
    with pytest.raises(ConfigError, match="unknown plugin type") as unknown:
        pm.load("/nonexistent", type="spaceship")  # type: ignore[arg-type]
    listed = re.search(r"expected one of: ([^)]*)\)", str(unknown.value))
    assert listed is not None, unknown.value
    assert listed.group(1).split(", ") == values(PluginType)
    # Every name of PluginTypeName passes the same check (load() refuses a bad one before it
    # is awaited; this one is never awaited, so nothing is launched).
    for name in values(PluginTypeName):
        pm.load("/nonexistent", type=name)  # type: ignore[arg-type]

    # register() accepts every name too, but serves only the in-process types.
    registered = []
    for index, name in enumerate(values(PluginTypeName)):
        try:
            pm.register(f"p{index}", AnyProvider(), type=name)  # type: ignore[arg-type]
        except ConfigError:
            raise  # the name itself was refused
        except PluginError as error:
            assert "no in-process object can serve" in str(error)
        else:
            registered.append(name)
    assert sorted(registered) == sorted(values(InProcessType))


def test_configured_types_and_entry_kinds_are_in_their_literals() -> None:
    sections = ["llm_providers", "database_providers", "embedder_providers", "tool_providers", "reasoning_strategies"]
    config: dict[str, Any] = {"plugins": {section: {section: {"path": "/nonexistent"}} for section in sections}}
    config["plugins"]["llm_providers"].update({"local": {"type": "builtin"}, "chain": {"fallbacks": ["local"]}})
    config["plugins"]["tool_providers"]["mcp"] = {"type": "mcp", "url": "http://127.0.0.1:1/mcp"}
    entries = PluginManager(config).validate()
    # Every type but "grpc" has a section; "grpc" is read back from a plugin below.
    assert sorted({e.type for e in entries}) == sorted(set(values(PluginType)) - {"grpc"})
    assert sorted({e.entry for e in entries}) == sorted(values(EntryKind))


async def test_types_states_and_codes_read_back_from_real_plugins(
    go_plugin: Path, kv_plugin: Path, tmp_path: Path
) -> None:
    seen: set[str] = set()

    def note_states(pm: PluginManager) -> None:
        seen.update(p.state for p in pm.plugins)

    async def until(pm: PluginManager, state: str) -> None:
        def reached() -> bool:
            note_states(pm)
            return state in seen

        # Generous: a loaded machine may take long to notice; polling stops as soon as it does.
        await wait_until(reached, timeout=30, interval=0.005, message=lambda: f"never {state}: {pm.plugins}")

    # A lazy plugin that takes a while to start, so that "starting" can be seen.
    slow = write_executable(tmp_path / "slow-start", f"#!/bin/sh\nsleep 0.5\nexec '{go_plugin}'\n")
    config = {
        "plugins": {
            "llm_providers": {
                "echo": {"path": str(go_plugin), "restart": {"enabled": False}},
                "again": {"path": str(go_plugin), "restart": {"backoff_initial": 1.0, "backoff_max": 1.0}},
                "once": {"path": str(go_plugin), "restart": {"max_restarts": 0}},
                "late": {"path": str(slow), "lazy": True},
            }
        }
    }
    pm = PluginManager(config)
    try:
        reports = {r.name: r for r in await pm.load_all(strict=True)}
        report = reports["echo"]
        assert report.type in values(PluginType) and report.plugin is not None
        note_states(pm)  # "late" is not_started
        late = asyncio.ensure_future(pm.llm("late").generate([Message.user("wake")]))
        await until(pm, "starting")
        await late
        for name, state in (("again", "restarting"), ("once", "failed")):
            os.kill(reports[name].plugin.pid, signal.SIGKILL)
            await until(pm, state)
        short = await pm.load(go_plugin, name="short", type="llm")
        assert short.type == "llm_provider"  # a short name reads back in full
        cookie = KV_COOKIE["magic_cookie_key"], KV_COOKIE["magic_cookie_value"]
        generic = await pm.load(
            kv_plugin,
            name="kv",
            type="generic",
            magic_cookie_key=cookie[0],
            magic_cookie_value=cookie[1],
            protocol_versions=[2, 3],
        )
        assert generic.type == "grpc"
        with pytest.raises(PluginCallError) as unimplemented:
            await pm.raw("kv").call("/no.Such/Method")
        assert unimplemented.value.code == "UNIMPLEMENTED" and unimplemented.value.code in values(StatusCode)
        for missing in (lambda: pm.llm("nobody"), lambda: pm.raw("nobody")):
            with pytest.raises(PluginNotFoundError) as not_found:
                missing()
            assert not_found.value.kind in values(NotFoundKind)

        chunks = [c async for c in pm.llm("echo").generate_stream([Message.user("a b")])]
        assert {c.type for c in chunks} == {"text", "done"}

        os.kill(report.plugin.pid, signal.SIGKILL)
        await until(pm, "crashed")
        # A frozen plugin holds its shutdown in "stopping" until its grace runs out.
        os.kill(short.pid, signal.SIGSTOP)
        stopping = asyncio.ensure_future(pm.shutdown(grace=3.0))
        await until(pm, "stopping")
        await stopping
        note_states(pm)
    finally:
        await pm.shutdown()
    assert sorted(seen) == sorted(values(PluginState))


async def test_every_closed_state_is_reported_by_the_extension(rust_plugin: Path, tmp_path: Path) -> None:
    """The `ClosedState` values are the states real refusals carry ("stopping" needs a plugin frozen
    mid-shutdown, which the state test above does; its refusal is the plugin's own state name)."""
    seen: set[str] = set()

    async def refused(call: Any) -> None:
        with pytest.raises(PluginClosedError) as closed:
            await call()
        seen.add(closed.value.state)

    ghost = {"path": str(tmp_path / "missing")}
    config = {"plugins": {"llm_providers": {"ghost": ghost, "chain": {"fallbacks": ["ghost"]}}}}
    async with PluginManager(config) as pm:
        await pm.load_all()
        await refused(lambda: pm.llm("chain").generate([Message.user("hi")]))  # no_ready_member
        hasty = {"restart": {"backoff_initial": 5.0, "backoff_max": 5.0, "while_restarting": "fail"}}
        for name, supervision in (("hasty", hasty), ("once", {"restart": {"max_restarts": 0}})):
            info = await pm.load(rust_plugin, name=name, supervision=supervision)
            os.kill(info.pid, signal.SIGKILL)
            await wait_until(lambda name=name: [p.state for p in pm.plugins if p.name == name] != ["ready"])
        await refused(lambda: pm.llm("hasty").generate([Message.user("hi")]))  # restarting
        await wait_until(lambda: [p.state for p in pm.plugins if p.name == "once"] == ["failed"])
        await refused(lambda: pm.llm("once").generate([Message.user("hi")]))  # failed
        await pm.load(rust_plugin, name="r", config={"stream_delay_ms": 500})
        stream = pm.llm("r").generate_stream([Message.user("a b c")])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.__anext__(), 0.05)
        await refused(stream.__anext__)  # cancelled
        raw = pm.raw("r")
    await refused(lambda: pm.llm("r").generate([Message.user("hi")]))  # shut_down: the manager
    await refused(lambda: raw.call("/hector.plugin.LLMProvider/Health"))  # stopped: the plugin
    assert seen == set(values(ClosedState)) - {"stopping"}


def test_chunk_types_are_exactly_the_ones_a_chunk_can_have() -> None:
    with pytest.raises(ValueError, match="a chunk's type is one of") as refused:
        StreamChunk("bogus")  # type: ignore[arg-type]
    listed = re.search(r"one of (.*), not", str(refused.value))
    assert listed is not None and listed.group(1).split(", ") == values(ChunkType)
    assert [StreamChunk(name).type for name in values(ChunkType)] == values(ChunkType)  # type: ignore[arg-type]


class TypedLLM:
    """Declares the protocols it implements, so a type checker holds each method to them."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        self.calls.append("generate")
        return GenerateResponse(text="typed: " + messages[-1].content, tokens_used=1)

    async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> AsyncIterator[str]:
        self.calls.append("generate_stream")
        for word in messages[-1].content.split():
            yield word

    def model_info(self) -> dict[str, Any]:
        self.calls.append("model_info")
        return {"model_name": "typed", "max_tokens": 8}

    async def health(self) -> HealthStatus:
        self.calls.append("health")
        return HealthStatus(False, "warming up")


async def test_an_object_satisfying_the_protocols_is_called_through_each_of_them() -> None:
    provider = TypedLLM()
    for protocol in (LLMProvider, SupportsGenerateStream, SupportsModelInfo, SupportsHealth):
        assert isinstance(provider, protocol), protocol
    async with PluginManager() as pm:
        pm.register("typed", provider)
        llm = pm.llm("typed")
        assert (await llm.generate([Message.user("hi")])).text == "typed: hi"
        assert [c.text async for c in llm.generate_stream([Message.user("a b")])] == ["a", "b", ""]
        info = await llm.model_info()
        assert isinstance(info, ModelInfo) and (info.model_name, info.max_tokens) == ("typed", 8)
        health = await llm.health()
        assert not health and health.message == "warming up"
    assert provider.calls == ["generate", "generate_stream", "model_info", "health"]


class TypedDatabase:
    """A vector database declaring every protocol of its type (a one-dimensional store: the score
    is the product of the query's and the entry's first components)."""

    def __init__(self) -> None:
        self.entries: dict[str, float] = {}
        self.calls: list[str] = []

    async def upsert(self, collection: str, id: str, vector: Any, metadata: dict[str, str]) -> None:
        self.calls.append("upsert")
        self.entries[id] = float(vector[0])

    def upsert_many(self, collection: str, ids: list[str], vectors: list[Any], metadatas: list[dict[str, str]]) -> None:
        self.calls.append("upsert_many")
        self.entries.update((id, float(v[0])) for id, v in zip(ids, vectors))

    async def search(self, collection: str, vector: Any, top_k: int, filter: dict[str, str]) -> list[SearchResult]:
        self.calls.append("search")
        ranked = sorted(self.entries.items(), key=lambda e: -e[1] * float(vector[0]))
        return [SearchResult(id, value * float(vector[0])) for id, value in ranked[:top_k]]

    def delete(self, collection: str, id: str) -> None:
        self.calls.append("delete")
        del self.entries[id]

    def create_collection(self, collection: str, vector_size: int) -> None:
        self.calls.append("create_collection")

    def delete_collection(self, collection: str) -> None:
        self.calls.append("delete_collection")

    def info(self) -> dict[str, Any]:
        self.calls.append("info")
        return {"name": "typed-db", "version": "2.0"}

    async def health(self) -> bool:
        self.calls.append("health")
        return True


async def test_a_database_satisfying_the_protocols_is_called_through_each_of_them() -> None:
    provider = TypedDatabase()
    for protocol in (DatabaseProvider, SupportsUpsertMany, SupportsDatabaseInfo, SupportsHealth):
        assert isinstance(provider, protocol), protocol
    assert not isinstance(MinimalLLM(), DatabaseProvider)
    async with PluginManager() as pm:
        pm.register("typed", provider, type="database")
        db = pm.database("typed")
        await db.create_collection("c", 1)
        await db.upsert("c", "a", [2.0])
        await db.upsert_many("c", ["b", "c"], [[3.0], [1.0]])
        assert [(r.id, r.score) for r in await db.search("c", [1.0], top_k=2)] == [("b", 3.0), ("a", 2.0)]
        await db.delete("c", "b")
        await db.delete_collection("c")
        info = await db.info()
        assert (info.name, info.version) == ("typed-db", "2.0")
        assert (await db.health()).healthy
    assert provider.calls == [
        "create_collection",
        "upsert",
        "upsert_many",
        "search",
        "delete",
        "delete_collection",
        "info",
        "health",
    ]


def test_register_refuses_what_the_protocol_check_refuses() -> None:
    class Silent:
        def model_info(self) -> ModelInfo:
            return ModelInfo("silent")

    assert not isinstance(Silent(), LLMProvider)
    with pytest.raises(PluginError, match="has no method generate"):
        PluginManager().register("silent", Silent())  # type: ignore[arg-type]
    assert isinstance(MinimalLLM(), LLMProvider) and not isinstance(MinimalLLM(), SupportsGenerateStream)

    class Incomplete:  # a database that cannot delete
        def upsert(self, collection: str, id: str, vector: Any, metadata: dict[str, str]) -> None: ...
        def search(self, collection: str, vector: Any, top_k: int, filter: dict[str, str]) -> list[SearchResult]:
            return []

        def create_collection(self, collection: str, vector_size: int) -> None: ...
        def delete_collection(self, collection: str) -> None: ...

    assert not isinstance(Incomplete(), DatabaseProvider)
    with pytest.raises(PluginError, match="has no method delete"):
        PluginManager().register("incomplete", Incomplete(), type="database_provider")  # type: ignore[arg-type]


def marked_lines(path: Path) -> list[int]:
    return [number for number, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"# E\b", line)]


def mypy_errors(output: str, path: Path) -> Iterable[int]:
    for line in output.splitlines():
        match = re.match(rf"{re.escape(path.name)}:(\d+): error:", line)
        if match:
            yield int(match.group(1))


def test_the_stub_holds_callers_to_the_literals_and_protocols(tmp_path: Path) -> None:
    # Checked against the package this test imports, not whichever one is installed.
    env = {**os.environ, "MYPYPATH": str(Path(hector_plugins.__file__).resolve().parent.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict-equality", "--cache-dir", str(tmp_path), TYPING_CASES.name],
        cwd=TYPING_CASES.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert sorted(set(mypy_errors(run.stdout, TYPING_CASES))) == marked_lines(TYPING_CASES), run.stdout + run.stderr
