"""A broken embedder: its vectors have 7 floats while GetEmbedderInfo says dimension 8 (a wrong
field). The vectors agree with each other (Embed and EmbedBatch), so only that rule breaks."""

from __future__ import annotations

import hashlib

from _serve import Lifecycle, serve
from hector.plugin import embedder_pb2, embedder_pb2_grpc

DIMENSION = 8  # what GetEmbedderInfo reports
SENT = 7  # what the vectors hold: the fault


def vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [byte / 255.0 + 0.01 for byte in digest[:SENT]]


class WrongDimension(Lifecycle, embedder_pb2_grpc.EmbedderProviderServicer):
    name, kind = "broken-embedder", "embedder_provider"

    def refusal(self, config: dict[str, str]) -> str | None:
        return "model must not be empty" if "model" in config and not config["model"] else None

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
