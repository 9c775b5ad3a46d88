"""An in-memory vector database plugin in plain Python: grpcio, the stubs grpcio-tools generates
from proto/hector/plugin/*.proto, and numpy. It imports nothing from hector-plugins, to show that
a plugin in any gRPC language only has to follow the wire protocol (docs/protocol.md):

* check the magic cookie, pick an app protocol version the host offers (§1.2);
* serve hector.plugin.DatabaseProvider on a unix socket in PLUGIN_UNIX_SOCKET_DIR;
* print the handshake line ``1|<version>|unix|<socket>|grpc`` on stdout (§2);
* log on stderr; exit after the Shutdown RPC (§6).

Collections hold vectors of a fixed size; search ranks by cosine similarity, best first, and
applies ``SearchRequest.filter`` (exact match on every key of the entry's metadata), which is why
its manifest declares ``capabilities: {filter: true}`` (§7.4). An entry's ``content`` metadata
comes back as ``SearchResult.content``.

Failures, as §7.4 allows both: what the request asks that the data does not allow (an unknown
collection, a vector of the wrong size, a collection that exists) is answered in-band
(``success=false`` / ``error``); a request that makes no sense at all (a zero vector, whose
cosine is undefined; ``top_k`` below 1) is refused with gRPC status INVALID_ARGUMENT.

Two collection names misbehave on purpose, for tests of the host: ``__crash__`` makes the
process exit in the middle of the call, ``__slow__`` makes it answer only after ``slow_seconds``
(config, default 30).

Built by examples/build_plugins.py (``build_python_vectordb``): stubs into ``_generated/``
next to this file, and the launcher examples/plugins/vectordb-py.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_generated"))

import grpc  # noqa: E402
import numpy as np  # noqa: E402
from hector.plugin import common_pb2, database_pb2, database_pb2_grpc  # noqa: E402
from store import Collection  # noqa: E402  (next to this script)

COOKIE_KEY, COOKIE_VALUE = "HECTOR_PLUGIN", "hector_plugin_v1"
APP_VERSION = "1"
CRASH, SLOW = "__crash__", "__slow__"


def log(level: str, message: str) -> None:
    sys.stderr.write(f"[{level}] vectordb: {message}\n")
    sys.stderr.flush()


class VectorDatabase(database_pb2_grpc.DatabaseProviderServicer):
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.collections: dict[str, Collection] = {}
        self.slow_seconds = 30.0

    # Lifecycle (docs/protocol.md §7.2).

    async def Initialize(self, request, context):
        try:
            self.slow_seconds = float(request.config.get("slow_seconds", self.slow_seconds))
        except ValueError:
            return common_pb2.InitializeResponse(success=False, error="slow_seconds must be a number")
        log("INFO", f"initialized (config keys: {sorted(request.config)})")
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        log("INFO", "shutdown requested")
        # Answer first, then stop serving.
        asyncio.get_running_loop().call_later(0.05, self.stop.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        vectors = sum(c.count for c in self.collections.values())
        return common_pb2.HealthResponse(
            healthy=True, message=f"{len(self.collections)} collections, {vectors} vectors"
        )

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(
            name="vectordb-py",
            version="1.0.0",
            author="hector-plugins examples",
            description="In-memory vector database in plain Python (grpcio, numpy)",
            type="database_provider",
            protocol="grpc",
            hector_version=">=0.1.0",
            capabilities={"filter": "true"},
        )

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")

    # The database.

    async def CreateCollection(self, request, context):
        await self.misbehave(request.collection)
        if request.collection in self.collections:
            return database_pb2.CreateCollectionResponse(error=f"collection {request.collection!r} already exists")
        if request.vector_size == 0:
            return database_pb2.CreateCollectionResponse(error="vector_size must be at least 1")
        self.collections[request.collection] = Collection(request.vector_size)
        return database_pb2.CreateCollectionResponse(success=True)

    async def DeleteCollection(self, request, context):
        await self.misbehave(request.collection)
        if self.collections.pop(request.collection, None) is None:
            return database_pb2.DeleteCollectionResponse(error=self.unknown(request.collection))
        return database_pb2.DeleteCollectionResponse(success=True)

    async def Upsert(self, request, context):
        await self.misbehave(request.collection)
        collection = self.collections.get(request.collection)
        if collection is None:
            return database_pb2.UpsertResponse(error=self.unknown(request.collection))
        vector, error = self.vector_of(request.vector, collection)
        if error:
            return database_pb2.UpsertResponse(error=error)
        norm = await self.norm(vector, context)
        collection.upsert(request.id, vector, norm, dict(request.metadata))
        return database_pb2.UpsertResponse(success=True)

    async def Delete(self, request, context):
        await self.misbehave(request.collection)
        collection = self.collections.get(request.collection)
        if collection is None:
            return database_pb2.DeleteResponse(error=self.unknown(request.collection))
        if not collection.delete(request.id):
            return database_pb2.DeleteResponse(error=f"no entry {request.id!r} in collection {request.collection!r}")
        return database_pb2.DeleteResponse(success=True)

    async def Search(self, request, context):
        await self.misbehave(request.collection)
        if request.top_k < 1:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"top_k must be at least 1, not {request.top_k}")
        collection = self.collections.get(request.collection)
        if collection is None:
            return database_pb2.SearchResponse(error=self.unknown(request.collection))
        query, error = self.vector_of(request.vector, collection)
        if error:
            return database_pb2.SearchResponse(error=error)
        norm = await self.norm(query, context)
        results = []
        for row, score in collection.search(query, norm, request.top_k, dict(request.filter)):
            metadata = collection.metadata[row]
            results.append(
                database_pb2.SearchResult(
                    id=collection.ids[row],
                    score=score,
                    content=metadata.get("content", ""),
                    vector=collection.vectors[row].tolist(),
                    metadata=metadata,
                )
            )
        return database_pb2.SearchResponse(results=results)

    # Helpers.

    async def misbehave(self, collection: str) -> None:
        if collection == CRASH:
            log("ERROR", "asked to crash: exiting in the middle of the call")
            os._exit(13)
        if collection == SLOW:
            await asyncio.sleep(self.slow_seconds)

    def unknown(self, collection: str) -> str:
        known = ", ".join(repr(name) for name in sorted(self.collections)) or "none"
        return f"no collection {collection!r} (collections: {known})"

    @staticmethod
    def vector_of(values, collection: Collection) -> tuple[np.ndarray, str]:
        vector = np.asarray(values, dtype=np.float32)
        if len(vector) != collection.size:
            return vector, f"the vector has {len(vector)} floats; this collection holds vectors of {collection.size}"
        return vector, ""

    @staticmethod
    async def norm(vector: np.ndarray, context) -> float:
        norm = float(np.linalg.norm(vector))
        if norm == 0.0 or not np.isfinite(norm):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a zero vector has no direction: cosine is undefined")
        return norm


async def serve() -> None:
    if os.environ.get(COOKIE_KEY) != COOKIE_VALUE:
        sys.stderr.write("This is a hector plugin: a host launches it; it is not meant to be run directly.\n")
        sys.exit(1)
    offered = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", APP_VERSION).split(",")
    if APP_VERSION not in offered:
        sys.stderr.write(f"vectordb speaks app protocol version {APP_VERSION}; the host offered {offered}\n")
        sys.exit(1)
    stop = asyncio.Event()
    # Vectors of large collections come back in big messages: allow what the host allows (64 MiB).
    limit = 64 * 1024 * 1024
    server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]
    )
    database_pb2_grpc.add_DatabaseProviderServicer_to_server(VectorDatabase(stop), server)
    directory = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or "/tmp"
    socket = os.path.join(directory, f"vectordb-{os.getpid()}.sock")
    server.add_insecure_port("unix:" + socket)
    await server.start()
    sys.stdout.write(f"1|{APP_VERSION}|unix|{socket}|grpc\n")
    sys.stdout.flush()
    await stop.wait()
    await server.stop(0.5)
    log("INFO", "stopped")


if __name__ == "__main__":
    asyncio.run(serve())
