"""``DatabaseConformance``: the DatabaseProvider contract (docs/protocol.md §7.4)."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import ClassVar

from .. import PluginManager
from .._core import DatabaseClient, SearchResult
from ..errors import PluginCallError, PluginCrashedError, PluginError
from ..literals import PluginTypeName
from ._base import PluginConformance
from ._errors import describe, skip


class DatabaseConformance(PluginConformance):
    """The common rules, and collections, upsert, search (top_k, order, filter), delete."""

    plugin_type: ClassVar[PluginTypeName] = "database_provider"
    vector_size: int = 8
    """The size of the vectors the rules store (at least 2)."""

    def _client(self, pm: PluginManager) -> DatabaseClient:
        return pm.database(self.name)

    def _vector(self, index: int, of: int = 16) -> list[float]:
        """Distinct unit vectors: angles spread over a quarter turn in the first two dimensions."""
        angle = (math.pi / 2) * index / max(of - 1, 1)
        return [math.cos(angle), math.sin(angle)] + [0.0] * (self.vector_size - 2)

    @asynccontextmanager
    async def _collection(self, pm: PluginManager) -> AsyncIterator[str]:
        """A fresh collection, deleted afterwards (if it still exists)."""
        collection = f"conformance-{uuid.uuid4().hex[:12]}"
        try:
            await self._client(pm).create_collection(collection, self.vector_size, timeout=self.call_timeout)
        except PluginError as error:
            self._fail(
                f"create_collection({collection!r}, {self.vector_size}) to succeed", f"failed: {describe(error)}"
            )
        try:
            yield collection
        finally:
            try:
                await self._client(pm).delete_collection(collection, timeout=self.call_timeout)
            except PluginCallError:
                pass  # the rule deleted it already, or failed for a reason it reports

    async def _search(
        self, pm: PluginManager, collection: str, vector: list[float], top_k: int, **options: dict[str, str]
    ) -> list[SearchResult]:
        try:
            return await self._client(pm).search(collection, vector, top_k, timeout=self.call_timeout, **options)
        except PluginError as error:
            self._fail(f"search(top_k={top_k}) to answer", f"failed: {describe(error)}")

    async def _upsert(self, pm: PluginManager, collection: str, id: str, index: int, kind: str) -> None:
        try:
            await self._client(pm).upsert(
                collection, id, self._vector(index), {"kind": kind}, timeout=self.call_timeout
            )
        except PluginError as error:
            self._fail(f"upsert({id!r}) to succeed", f"failed: {describe(error)}")

    async def _exercise(self, pm: PluginManager) -> None:
        async with self._collection(pm) as collection:
            await self._upsert(pm, collection, "a", 0, "x")
            await self._search(pm, collection, self._vector(0), 1)

    async def _one_of_many(self, pm: PluginManager, index: int) -> str | None:
        # Each call stores its own entry in a shared collection, then must find it first.
        collection = self._shared
        id = f"entry-{index}"
        await self._client(pm).upsert(collection, id, self._vector(index), {"kind": "x"}, timeout=self.call_timeout)
        results = await self._client(pm).search(collection, self._vector(index), 1, timeout=self.call_timeout)
        found = [result.id for result in results]
        return None if found == [id] else f"searching {id}'s own vector found {found}"

    _shared: str = ""

    @asynccontextmanager
    async def _prepared(self, pm: PluginManager) -> AsyncIterator[None]:
        async with self._collection(pm) as collection:
            self._shared = collection
            yield

    def test_search(self) -> None:
        """The entry stored with the query's own vector comes first; top_k is respected; scores
        come best first."""
        self._run("search", self._search_rule)

    async def _search_rule(self) -> None:
        async with self._loaded() as (pm, _info), self._collection(pm) as collection:
            for index, id in enumerate(("a", "b", "c", "d")):
                await self._upsert(pm, collection, id, index * 5, "x")
            results = await self._search(pm, collection, self._vector(5), 2)
            if len(results) > 2:
                self._fail("search(top_k=2) to return at most 2 results", f"returned {len(results)}")
            if not results or results[0].id != "b":
                found = [(r.id, round(r.score, 4)) for r in results]
                self._fail("search() with entry 'b''s own vector to find 'b' first", f"returned {found}")
            scores = [r.score for r in await self._search(pm, collection, self._vector(5), 4)]
            if any(later > earlier + 1e-6 for earlier, later in zip(scores, scores[1:])):
                self._fail("search() results best first (scores not increasing)", f"returned scores {scores}")

    def test_search_filter(self) -> None:
        """With a metadata filter, only entries holding it are returned (plugins that declare
        ``capabilities: {filter: true}``)."""
        self._run("search_filter", self._search_filter)

    async def _search_filter(self) -> None:
        async with self._loaded() as (pm, info):
            if str(info.capabilities.get("filter", "")).lower() != "true":
                skip("the plugin's manifest does not declare capabilities: {filter: true}; the host sends no filter")
            async with self._collection(pm) as collection:
                for index, (id, kind) in enumerate((("a", "x"), ("b", "y"), ("c", "y"), ("d", "x"))):
                    await self._upsert(pm, collection, id, index * 5, kind)
                results = await self._search(pm, collection, self._vector(0), 4, filter={"kind": "y"})
                ids = [r.id for r in results]
                if sorted(ids) != ["b", "c"]:
                    self._fail("search(filter={'kind': 'y'}) to return exactly b and c", f"returned {ids}")

    def test_delete(self) -> None:
        """delete() removes an entry; delete_collection() removes the collection (searching it
        is then an error)."""
        self._run("delete", self._delete)

    async def _delete(self) -> None:
        async with self._loaded() as (pm, _info), self._collection(pm) as collection:
            database = self._client(pm)
            await self._upsert(pm, collection, "a", 0, "x")
            await self._upsert(pm, collection, "b", 15, "x")
            try:
                await database.delete(collection, "a", timeout=self.call_timeout)
            except PluginError as error:
                self._fail("delete('a') to succeed", f"failed: {describe(error)}")
            ids = [r.id for r in await self._search(pm, collection, self._vector(0), 2)]
            if "a" in ids:
                self._fail("delete('a') to remove the entry", f"still returns it from search: {ids}")
            try:
                await database.delete_collection(collection, timeout=self.call_timeout)
            except PluginError as error:
                self._fail("delete_collection() to succeed", f"failed: {describe(error)}")
            try:
                results = await database.search(collection, self._vector(0), 1, timeout=self.call_timeout)
            except PluginCallError:
                return
            self._fail("search() of a deleted collection to fail", f"answered {[r.id for r in results]}")

    def test_missing_collection(self) -> None:
        """Searching a collection that does not exist is an error, not a crash; the plugin stays
        healthy."""
        self._run("missing_collection", self._missing_collection)

    async def _missing_collection(self) -> None:
        missing = f"missing-{uuid.uuid4().hex[:12]}"
        async with self._loaded() as (pm, _info):
            try:
                results = await self._client(pm).search(missing, self._vector(0), 1, timeout=self.call_timeout)
            except PluginCrashedError as error:
                self._fail("search() of a missing collection to be an error", f"crashed: {describe(error)}")
            except PluginCallError:
                pass
            else:
                self._fail("search() of a missing collection to be an error", f"answered {[r.id for r in results]}")
            await self._still_serving(pm, "after a search of a missing collection")
