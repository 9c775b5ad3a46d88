"""A broken embedder: its vectors have 7 floats while GetEmbedderInfo says dimension 8 (a wrong
field). The vectors agree with each other (Embed and EmbedBatch), so only that rule breaks."""

from __future__ import annotations

import asyncio
import hashlib

from _serve import log, serve
from hector.plugin import common_pb2, embedder_pb2, embedder_pb2_grpc

DIMENSION = 8  # what GetEmbedderInfo reports
SENT = 7  # what the vectors hold: the fault


def vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [byte / 255.0 + 0.01 for byte in digest[:SENT]]


class WrongDimension(embedder_pb2_grpc.EmbedderProviderServicer):
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    async def Initialize(self, request, context):
        if "model" in request.config and not request.config["model"]:
            return common_pb2.InitializeResponse(success=False, error="model must not be empty")
        log("info", "initialized", config_keys=sorted(request.config))
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        asyncio.get_running_loop().call_later(0.05, self.stop.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        return common_pb2.HealthResponse(healthy=True, message="ok")

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(name="broken-embedder", version="0.1.0", type="embedder_provider")

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")

    async def Embed(self, request, context):
        if not request.text:
            return embedder_pb2.EmbedResponse(error="cannot embed an empty text")
        return embedder_pb2.EmbedResponse(vector=vector(request.text))

    async def EmbedBatch(self, request, context):
        vectors = [value for text in request.texts for value in vector(text)]
        return embedder_pb2.EmbedBatchResponse(vectors=vectors, dimension=SENT)

    async def GetEmbedderInfo(self, request, context):
        return embedder_pb2.EmbedderInfo(model_name="broken-hash", dimension=DIMENSION)


if __name__ == "__main__":
    serve(lambda server, stop: embedder_pb2_grpc.add_EmbedderProviderServicer_to_server(WrongDimension(stop), server))
