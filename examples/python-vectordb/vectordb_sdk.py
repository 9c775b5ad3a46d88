"""The in-memory vector database of ``vectordb.py`` again, on ``hector_plugins.sdk`` instead of
grpcio: the same store (``store.py``), the same answers, a third of the code. The protocol
(cookie, handshake, health, controller, graceful stop) is the SDK's; this file is only the
database. Compare the two to see what the SDK does for a plugin author, and
benchmarks/sdk.py for what it costs.

Failures: an unknown collection, a vector of the wrong size or a collection that exists raise
``PluginCallError`` (code UNKNOWN, as the grpcio twin's in-band errors reach the host); a zero
vector or ``top_k`` below 1 raise it with code INVALID_ARGUMENT. ``__crash__`` and ``__slow__``
misbehave as in the twin.

Built by examples/build_plugins.py (``build_python_vectordb_sdk``): the launcher
examples/plugins/vectordb-sdk-py, next to its manifest.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import numpy as np
from hector_plugins import HealthStatus, PluginCallError, SearchResult
from hector_plugins.sdk import serve
from store import Collection  # next to this script

CRASH, SLOW = "__crash__", "__slow__"
log = logging.getLogger("vectordb-sdk")


class VectorDatabase:
    def __init__(self) -> None:
        self.collections: dict[str, Collection] = {}
        self.slow_seconds = 30.0

    def initialize(self, config: dict[str, str]) -> None:
        try:
            self.slow_seconds = float(config.get("slow_seconds", self.slow_seconds))
        except ValueError:
            raise ValueError("slow_seconds must be a number") from None
        log.info("initialized", extra={"config_keys": ",".join(sorted(config))})

    def health(self) -> HealthStatus:
        vectors = sum(c.count for c in self.collections.values())
        return HealthStatus(True, f"{len(self.collections)} collections, {vectors} vectors")

    def manifest(self) -> dict[str, Any]:
        return {
            "name": "vectordb-sdk-py",
            "version": "1.0.0",
            "author": "hector-plugins examples",
            "description": "In-memory vector database on hector_plugins.sdk (numpy)",
            "type": "database_provider",
            "protocol": "grpc",
            "hector_version": ">=0.1.0",
            "capabilities": {"filter": "true"},
        }

    async def create_collection(self, collection: str, vector_size: int) -> None:
        await self.misbehave(collection)
        if collection in self.collections:
            raise PluginCallError(f"collection {collection!r} already exists")
        if vector_size == 0:
            raise PluginCallError("vector_size must be at least 1")
        self.collections[collection] = Collection(vector_size)

    async def delete_collection(self, collection: str) -> None:
        await self.misbehave(collection)
        if self.collections.pop(collection, None) is None:
            raise PluginCallError(self.unknown(collection))

    async def upsert(self, collection: str, id: str, vector: Any, metadata: dict[str, str]) -> None:
        await self.misbehave(collection)
        store = self.existing(collection)
        vector = self.vector_of(vector, store)
        store.upsert(id, vector, self.norm(vector), metadata)

    async def delete(self, collection: str, id: str) -> None:
        await self.misbehave(collection)
        if not self.existing(collection).delete(id):
            raise PluginCallError(f"no entry {id!r} in collection {collection!r}")

    async def search(self, collection: str, vector: Any, top_k: int, filter: dict[str, str]) -> list[SearchResult]:
        await self.misbehave(collection)
        if top_k < 1:
            raise PluginCallError(f"top_k must be at least 1, not {top_k}", code="INVALID_ARGUMENT")
        store = self.existing(collection)
        query = self.vector_of(vector, store)
        results = []
        for row, score in store.search(query, self.norm(query), top_k, filter):
            metadata = store.metadata[row]
            results.append(
                SearchResult(
                    store.ids[row],
                    score,
                    content=metadata.get("content", ""),
                    vector=store.vectors[row],
                    metadata=metadata,
                )
            )
        return results

    # Helpers.

    async def misbehave(self, collection: str) -> None:
        if collection == CRASH:
            log.error("asked to crash: exiting in the middle of the call")
            os._exit(13)
        if collection == SLOW:
            await asyncio.sleep(self.slow_seconds)

    def existing(self, collection: str) -> Collection:
        store = self.collections.get(collection)
        if store is None:
            raise PluginCallError(self.unknown(collection))
        return store

    def unknown(self, collection: str) -> str:
        known = ", ".join(repr(name) for name in sorted(self.collections)) or "none"
        return f"no collection {collection!r} (collections: {known})"

    @staticmethod
    def vector_of(values: Any, store: Collection) -> np.ndarray:
        vector = np.asarray(values, dtype=np.float32)
        if len(vector) != store.size:
            raise PluginCallError(f"the vector has {len(vector)} floats; this collection holds vectors of {store.size}")
        return vector

    @staticmethod
    def norm(vector: np.ndarray) -> float:
        norm = float(np.linalg.norm(vector))
        if norm == 0.0 or not np.isfinite(norm):
            raise PluginCallError("a zero vector has no direction: cosine is undefined", code="INVALID_ARGUMENT")
        return norm


if __name__ == "__main__":
    serve(VectorDatabase(), name="vectordb-sdk-py")
