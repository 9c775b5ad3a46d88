"""A broken vector database: it ignores Shutdown (the Shutdown RPC answers but changes nothing,
plugin.GRPCController/Shutdown and SIGTERM do nothing), so only a kill stops it. Otherwise a
correct in-memory cosine search with metadata filters (its manifest declares filter: true)."""

from __future__ import annotations

import asyncio
import math

from _serve import Lifecycle, log, serve
from hector.plugin import common_pb2, database_pb2, database_pb2_grpc


class IgnoresShutdown(Lifecycle, database_pb2_grpc.DatabaseProviderServicer):
    name, kind = "broken-database", "database_provider"
    capabilities = {"filter": "true"}

    def __init__(self, stop: asyncio.Event) -> None:
        super().__init__(stop)
        self.collections: dict[str, tuple[int, dict[str, tuple[list[float], dict[str, str]]]]] = {}

    def refusal(self, config: dict[str, str]) -> str | None:
        metric = config.get("metric", "cosine")
        return f"metric {metric!r}: only cosine" if metric != "cosine" else None

    async def Shutdown(self, request, context):
        log("info", "shutdown requested (and ignored)")  # the fault: nothing stops the server
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        return common_pb2.HealthResponse(healthy=True, message=f"{len(self.collections)} collections")

    def _missing(self, collection: str) -> str:
        return f"no collection {collection!r}"

    async def CreateCollection(self, request, context):
        if request.collection in self.collections:
            return database_pb2.CreateCollectionResponse(error=f"collection {request.collection!r} exists")
        self.collections[request.collection] = (request.vector_size, {})
        return database_pb2.CreateCollectionResponse(success=True)

    async def DeleteCollection(self, request, context):
        if self.collections.pop(request.collection, None) is None:
            return database_pb2.DeleteCollectionResponse(error=self._missing(request.collection))
        return database_pb2.DeleteCollectionResponse(success=True)

    async def Upsert(self, request, context):
        if request.collection not in self.collections:
            return database_pb2.UpsertResponse(error=self._missing(request.collection))
        size, entries = self.collections[request.collection]
        if len(request.vector) != size:
            return database_pb2.UpsertResponse(error=f"the vector has {len(request.vector)} floats, not {size}")
        entries[request.id] = (list(request.vector), dict(request.metadata))
        return database_pb2.UpsertResponse(success=True)

    async def Delete(self, request, context):
        entries = self.collections.get(request.collection, (0, {}))[1]
        if entries.pop(request.id, None) is None:
            return database_pb2.DeleteResponse(error=f"no entry {request.id!r} in {request.collection!r}")
        return database_pb2.DeleteResponse(success=True)

    async def Search(self, request, context):
        if request.collection not in self.collections:
            return database_pb2.SearchResponse(error=self._missing(request.collection))
        wanted = dict(request.filter)
        scored = [
            (cosine(vector, request.vector), id, metadata)
            for id, (vector, metadata) in self.collections[request.collection][1].items()
            if all(metadata.get(key) == value for key, value in wanted.items())
        ]
        scored.sort(key=lambda item: -item[0])
        results = [
            database_pb2.SearchResult(id=id, score=score, metadata=metadata)
            for score, id, metadata in scored[: request.top_k]
        ]
        return database_pb2.SearchResponse(results=results)


def cosine(one, other) -> float:
    dot = sum(a * b for a, b in zip(one, other))
    norms = math.sqrt(sum(a * a for a in one)) * math.sqrt(sum(b * b for b in other))
    return dot / norms if norms else 0.0


if __name__ == "__main__":
    serve(
        lambda server, stop: database_pb2_grpc.add_DatabaseProviderServicer_to_server(IgnoresShutdown(stop), server),
        ignore_shutdown=True,
    )
