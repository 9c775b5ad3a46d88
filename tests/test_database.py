"""`pm.database(name)` through the real Python vector database example (plain grpcio, its own
process, a real socket): every RPC, each way a call can fail (in-band error, gRPC status, crash
mid-call, timeout), bad input refused before anything is sent, and the plugin serving after each.
In-process vector databases (`pm.register(type="database_provider")`) answer the same calls."""

from __future__ import annotations

import asyncio
import shutil
from array import array
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    DatabaseClient,
    PluginCallError,
    PluginCrashedError,
    PluginManager,
    PluginManifest,
    PluginNotFoundError,
    PluginTypeError,
    SearchResult,
)
from helpers import NO_RESTART, wait_for_state


@pytest.fixture
async def db(vectordb_plugin: Path) -> AsyncIterator[tuple[PluginManager, DatabaseClient]]:
    """The example loaded as "db", with slow calls taking 30 s (longer than any test waits)."""
    async with PluginManager() as pm:
        await pm.load(vectordb_plugin, name="db", type="database", config={"slow_seconds": 30}, supervision=NO_RESTART)
        yield pm, pm.database("db")


async def still_serving(client: DatabaseClient) -> None:
    """The plugin answers an ordinary round trip: a collection made, written, searched, dropped."""
    await client.create_collection("probe", 2)
    await client.upsert("probe", "p", [1.0, 0.0])
    [hit] = await client.search("probe", [1.0, 0.0], top_k=1)
    assert hit.id == "p"
    await client.delete_collection("probe")


def assert_call_error(error: PluginCallError, method: str, code: str, text: str) -> None:
    assert (error.plugin, error.method, error.code) == ("db", method, code), error
    assert text in str(error), error


async def test_every_rpc(db: tuple[PluginManager, DatabaseClient]) -> None:
    pm, client = db
    assert client.name == "db" and repr(client) == 'DatabaseClient(name="db")'
    info = await client.info()
    assert isinstance(info, PluginManifest)
    assert (info.name, info.type, info.protocol, info.capabilities) == (
        "vectordb-py",
        "database_provider",
        "grpc",
        {"filter": "true"},
    )
    assert (await client.health()).healthy

    await client.create_collection("docs", 3)
    # Every kind of vector the client takes: a list, array('f'), array('d'), numpy float64.
    await client.upsert("docs", "a", [1.0, 0.0, 0.0], {"content": "alpha", "lang": "en"})
    await client.upsert("docs", "b", array("f", [0.0, 1.0, 0.0]), {"content": "beta"})
    await client.upsert("docs", "c", array("d", [0.0, 0.0, 1.0]))
    await client.upsert("docs", "ab", np.array([1.0, 1.0, 0.0]))
    assert (await client.health()).message == "1 collections, 4 vectors"

    results = await client.search("docs", np.array([1.0, 0.1, 0.0], dtype=np.float32), top_k=2)
    assert [r.id for r in results] == ["a", "ab"]
    best = results[0]
    assert isinstance(best, SearchResult)
    assert best.score == pytest.approx(1 / np.sqrt(1.01), rel=1e-6)
    assert (best.content, best.metadata, best.model_name) == ("alpha", {"content": "alpha", "lang": "en"}, "")
    assert best.vector.dtype == np.float32 and best.vector.tolist() == [1.0, 0.0, 0.0]

    # Upserting an id again replaces its vector and metadata.
    await client.upsert("docs", "a", [0.0, -1.0, 0.0], {"content": "moved"})
    assert [r.id for r in await client.search("docs", [1.0, 0.1, 0.0], top_k=2)] == ["ab", "b"]

    await client.delete("docs", "ab")
    assert [r.id for r in await client.search("docs", [1.0, 1.0, 0.0], top_k=10)] == ["b", "c", "a"]
    await client.delete_collection("docs")
    with pytest.raises(PluginCallError, match="no collection 'docs'"):
        await client.search("docs", [1.0, 0.0, 0.0])


async def test_upsert_many_takes_a_numpy_block_and_names_the_entry_that_failed(
    db: tuple[PluginManager, DatabaseClient],
) -> None:
    _, client = db
    await client.create_collection("batch", 4)
    vectors = np.eye(4, dtype=np.float64)
    await client.upsert_many("batch", ["x0", "x1", "x2", "x3"], vectors, [{"row": str(i)} for i in range(4)])
    [hit] = await client.search("batch", vectors[2], top_k=1)
    assert (hit.id, hit.metadata) == ("x2", {"row": "2"})
    # A list of vectors of mixed kinds; the one of the wrong size fails its Upsert, in-band.
    mixed = [[1.0, 0, 0, 0], array("f", [0, 1, 0, 0]), np.ones(4), [1.0, 2.0]]
    with pytest.raises(PluginCallError) as failed:
        await client.upsert_many("batch", ["m0", "m1", "m2", "m3"], mixed)
    assert_call_error(failed.value, "Upsert", "UNKNOWN", 'entry 3 (id "m3"): the vector has 2 floats')
    # A 2-dimensional buffer of floats (what embed_batch returns without numpy) is cut into rows.
    block = memoryview(array("f", [0, 0, 1, 1, 0, 1, 0, 1])).cast("B").cast("f", (2, 4))
    await client.upsert_many("batch", ["b0", "b1"], block)
    [hit] = await client.search("batch", [0, 1, 0, 1], top_k=1)
    assert hit.id == "b1" and hit.vector.tolist() == [0, 1, 0, 1]
    await client.upsert_many("batch", [], [])  # nothing to send
    await still_serving(client)


async def test_a_numpy_query_finds_the_same_top_k_as_brute_force(db: tuple[PluginManager, DatabaseClient]) -> None:
    _, client = db
    rng = np.random.default_rng(7)
    stored = rng.standard_normal((2000, 48))
    ids = [f"v{i}" for i in range(len(stored))]
    await client.create_collection("random", 48)
    await client.upsert_many("random", ids, stored)
    unit = stored / np.linalg.norm(stored, axis=1, keepdims=True)
    for query in rng.standard_normal((5, 48)):
        cosine = unit @ (query / np.linalg.norm(query))
        expected = np.argsort(-cosine)[:10]
        results = await client.search("random", query, top_k=10)
        assert [r.id for r in results] == [ids[i] for i in expected]
        assert [r.score for r in results] == pytest.approx(cosine[expected].tolist(), abs=1e-5)


async def test_a_filter_keeps_only_matching_metadata(db: tuple[PluginManager, DatabaseClient]) -> None:
    _, client = db
    await client.create_collection("langs", 2)
    await client.upsert("langs", "en1", [1.0, 0.0], {"lang": "en", "kind": "doc"})
    await client.upsert("langs", "fr1", [1.0, 0.01], {"lang": "fr", "kind": "doc"})
    await client.upsert("langs", "en2", [0.0, 1.0], {"lang": "en", "kind": "note"})
    found = await client.search("langs", [1.0, 0.0], top_k=5, filter={"lang": "en"})
    assert [r.id for r in found] == ["en1", "en2"]
    found = await client.search("langs", [1.0, 0.0], top_k=5, filter={"lang": "en", "kind": "note"})
    assert [r.id for r in found] == ["en2"]
    assert await client.search("langs", [1.0, 0.0], filter={"lang": "de"}) == []


async def test_a_filter_is_refused_for_a_plugin_that_does_not_declare_it(vectordb_plugin: Path, tmp_path: Path) -> None:
    # The same plugin without its manifest: nothing says it applies filters.
    bare = tmp_path / "bare-db"
    shutil.copy2(vectordb_plugin, bare)
    async with PluginManager() as pm:
        await pm.load(bare, name="bare", type="database")
        client = pm.database("bare")
        await client.create_collection("c", 2)
        await client.upsert("c", "a", [1.0, 0.0], {"lang": "en"})
        with pytest.raises(ConfigError, match=r"does not declare `capabilities: \{filter: true\}`"):
            await client.search("c", [1.0, 0.0], filter={"lang": "fr"})
        assert [r.id for r in await client.search("c", [1.0, 0.0])] == ["a"]


async def test_in_band_errors_are_call_errors_with_the_plugins_message(
    db: tuple[PluginManager, DatabaseClient],
) -> None:
    _, client = db
    await client.create_collection("three", 3)
    refusals: list[tuple[Any, str, str]] = [
        (lambda: client.upsert("nowhere", "a", [1.0, 2.0, 3.0]), "Upsert", "no collection 'nowhere'"),
        (lambda: client.search("nowhere", [1.0, 2.0, 3.0]), "Search", "no collection 'nowhere' (collections: 'three')"),
        (lambda: client.delete("nowhere", "a"), "Delete", "no collection 'nowhere'"),
        (lambda: client.delete_collection("nowhere"), "DeleteCollection", "no collection 'nowhere'"),
        (lambda: client.create_collection("three", 3), "CreateCollection", "collection 'three' already exists"),
        (lambda: client.upsert("three", "a", [1.0, 2.0]), "Upsert", "this collection holds vectors of 3"),
        (lambda: client.search("three", [1.0] * 4), "Search", "the vector has 4 floats"),
        (lambda: client.delete("three", "ghost"), "Delete", "no entry 'ghost'"),
    ]
    for call, method, text in refusals:
        with pytest.raises(PluginCallError) as refused:
            await call()
        assert_call_error(refused.value, method, "UNKNOWN", text)
    await still_serving(client)


async def test_a_grpc_status_is_the_same_kind_of_error(db: tuple[PluginManager, DatabaseClient]) -> None:
    _, client = db
    await client.create_collection("c", 2)
    with pytest.raises(PluginCallError) as refused:
        await client.search("c", [0.0, 0.0])
    assert_call_error(refused.value, "Search", "INVALID_ARGUMENT", "a zero vector has no direction")
    with pytest.raises(PluginCallError) as refused:
        await client.upsert("c", "zero", np.zeros(2))
    assert_call_error(refused.value, "Upsert", "INVALID_ARGUMENT", "cosine is undefined")
    await still_serving(client)


async def test_a_crash_mid_call_is_reported_and_a_restart_serves_again(
    db: tuple[PluginManager, DatabaseClient],
) -> None:
    pm, client = db
    with pytest.raises(PluginCrashedError, match="exit") as crashed:
        await client.upsert("__crash__", "a", [1.0])
    assert crashed.value.method == "Upsert"
    assert any("asked to crash" in line for line in crashed.value.stderr), crashed.value.stderr
    await wait_for_state(pm, "db", "crashed")
    await pm.restart("db")
    await still_serving(client)  # the same client follows the new process


async def test_a_timeout_ends_the_call_and_the_plugin_serves_on(db: tuple[PluginManager, DatabaseClient]) -> None:
    _, client = db
    with pytest.raises(CallTimeoutError) as timed_out:
        await client.search("__slow__", [1.0], timeout=0.2)
    assert (timed_out.value.method, timed_out.value.code) == ("Search", "DEADLINE_EXCEEDED")
    await still_serving(client)


async def test_bad_input_is_refused_before_anything_is_sent(db: tuple[PluginManager, DatabaseClient]) -> None:
    _, client = db
    await client.create_collection("c", 2)
    type_errors: list[tuple[Any, str]] = [
        (lambda: client.upsert("c", "a", array("i", [1, 2])), r"must be a buffer of floats \(format 'f' or 'd'\)"),
        (lambda: client.upsert("c", "a", np.array([1, 2])), "must hold floats, not numpy dtype int64"),
        (lambda: client.search("c", "1.0, 2.0"), "must be a sequence or buffer of floats, not str"),  # type: ignore[arg-type]
        (lambda: client.search("c", [1.0, "x"]), r"vector\[1\] must be a number, not str"),  # type: ignore[list-item]
        (lambda: client.search("c", np.ones((2, 2))), "must be one-dimensional"),
        (
            lambda: client.upsert("c", "a", [1.0, 2.0], {"year": 2024}),  # type: ignore[dict-item]
            r'metadata\["year"\] must be a str, not int \(metadata travels as strings',
        ),
        (lambda: client.upsert("c", "a", [1.0, 2.0], {1: "one"}), "metadata keys must be str, not int"),  # type: ignore[dict-item]
        (lambda: client.upsert("c", "a", [1.0, 2.0], ["lang", "en"]), "metadata must be a dict of str to str"),  # type: ignore[arg-type]
        (lambda: client.search("c", [1.0, 2.0], filter={"n": 1.5}), r'filter\["n"\] must be a str, not float'),  # type: ignore[dict-item]
        (lambda: client.upsert_many("c", ["a"], "xy"), "must be a list of vectors or a 2-dimensional array"),
        (lambda: client.upsert_many("c", ["a"], np.ones(2)), "must be a 2-dimensional array"),
        (
            lambda: client.upsert_many("c", ["a"], memoryview(array("i", [1, 2])).cast("B").cast("i", (1, 2))),
            r"vectors must be a buffer of floats \(format 'f' or 'd'\), not format \"i\"",
        ),
        (lambda: client.upsert_many("c", "ab", [[1.0, 2.0]]), "ids must be a list, not str"),
        (lambda: client.upsert_many("c", [1], [[1.0, 2.0]]), r"ids\[0\] must be a str, not int"),  # type: ignore[list-item]
    ]
    for call, text in type_errors:
        with pytest.raises(PluginTypeError, match=text):
            call()
    config_errors: list[tuple[Any, str]] = [
        (
            lambda: client.upsert("c", "a", [1.0, float("nan")]),
            r"vector\[1\] is NaN: a vector must hold finite numbers",
        ),
        (lambda: client.search("c", np.array([np.inf, 1.0])), r"vector\[0\] is inf"),
        (lambda: client.upsert("c", "a", []), "vector is empty"),
        (lambda: client.search("c", [1.0, 2.0], top_k=0), "top_k must be a positive number"),
        (lambda: client.search("c", [1.0, 2.0], top_k=2**31), "top_k must be a positive number below 2\\*\\*31"),
        (lambda: client.create_collection("d", 0), "vector_size must be a positive number, not 0"),
        (lambda: client.upsert_many("c", ["a", "b"], np.ones((3, 2))), "2 ids but 3 vectors"),
        (lambda: client.upsert_many("c", ["a"], [[1.0, 2.0]], [{}, {}]), "1 ids but 2 metadatas"),
        (lambda: client.upsert_many("c", ["a", "b"], np.array([[1.0, 2.0], [np.nan, 0]])), r"vectors\[1\]\[0\] is NaN"),
    ]
    for call, text in config_errors:
        with pytest.raises(ConfigError, match=text):
            call()
    await still_serving(client)


async def test_a_database_client_is_only_for_databases(db: tuple[PluginManager, DatabaseClient]) -> None:
    pm, _ = db
    with pytest.raises(PluginNotFoundError, match='no database_provider plugin named "nobody"'):
        pm.database("nobody")
    with pytest.raises(PluginNotFoundError):
        pm.llm("db")


class MemoryDatabase:
    """An in-process vector database: exact-match filters, dot-product scores."""

    def __init__(self) -> None:
        self.collections: dict[str, dict[str, tuple[list[float], dict[str, str]]]] = {}
        self.seen: list[Any] = []

    def create_collection(self, collection: str, vector_size: int) -> None:
        self.collections[collection] = {}

    def delete_collection(self, collection: str) -> None:
        del self.collections[collection]

    async def upsert(self, collection: str, id: str, vector: Any, metadata: dict[str, str]) -> None:
        self.seen.append(vector)
        if id == "bad":
            raise ValueError("refused")
        if collection == "slow":
            await asyncio.sleep(30)
        self.collections[collection][id] = (vector.tolist(), metadata)

    def delete(self, collection: str, id: str) -> None:
        del self.collections[collection][id]

    async def search(
        self, collection: str, vector: Any, top_k: int, filter: dict[str, str]
    ) -> list[SearchResult | dict[str, Any]]:
        entries = self.collections[collection]
        scored = sorted(
            ((sum(a * b for a, b in zip(v, vector.tolist())), id, m) for id, (v, m) in entries.items()),
            reverse=True,
        )
        matching = [(s, id, m) for s, id, m in scored if all(m.get(k) == v for k, v in filter.items())]
        top = matching[:top_k]
        # Either form is a result: a SearchResult, or a dict of its arguments.
        return [
            SearchResult(id, s, metadata=m) if i % 2 else {"id": id, "score": s} for i, (s, id, m) in enumerate(top)
        ]


async def test_an_in_process_database_answers_the_same_calls() -> None:
    provider = MemoryDatabase()
    config = {"plugins": {"database_providers": {"local": {"type": "builtin"}, "any": {"fallbacks": ["local"]}}}}
    async with PluginManager(config) as pm:
        pm.register("local", provider, type="database_provider")
        await pm.load_all(strict=True)
        client = pm.database("any")  # through the fallback chain
        await client.create_collection("c", 2)
        await client.upsert("c", "a", [1.0, 0.0], {"lang": "en"})
        await client.upsert_many("c", ["b", "c"], np.array([[0.0, 1.0], [0.5, 0.5]]), [{"lang": "fr"}, {}])
        assert all(v.dtype == np.float32 for v in provider.seen)  # as a plugin would receive them
        results = await client.search("c", [1.0, 0.0], top_k=2)
        assert [(r.id, r.score) for r in results] == [("a", 1.0), ("c", 0.5)]
        assert [r.id for r in await client.search("c", [1.0, 0.0], filter={"lang": "fr"})] == ["b"]
        await client.delete("c", "a")
        info = await client.info()
        assert (info.name, info.type) == ("local", "database_provider")
        assert (await client.health()).healthy

        # The provider's exceptions are call errors naming the RPC; the caller's timeout holds.
        with pytest.raises(PluginCallError, match="KeyError") as failed:
            await client.search("nowhere", [1.0, 0.0])
        assert (failed.value.method, failed.value.code) == ("Search", "UNKNOWN")
        with pytest.raises(PluginCallError, match=r'entry 1 \(id "bad"\): .*ValueError: refused') as failed:
            await client.upsert_many("c", ["fine", "bad"], [[1.0, 0.0], [0.0, 1.0]])
        assert failed.value.method == "Upsert"
        await client.create_collection("slow", 2)
        with pytest.raises(CallTimeoutError):
            await client.upsert("slow", "a", [1.0, 0.0], timeout=0.05)
        await client.delete_collection("c")
        with pytest.raises(PluginCallError, match="DeleteCollection"):
            await client.delete_collection("c")
