"""A broken LLM plugin: its stream never sends its end (no DONE chunk). Everything else is right."""

from __future__ import annotations

import asyncio

from _serve import log, serve
from hector.plugin import common_pb2, llm_pb2, llm_pb2_grpc


class NoStreamEnd(llm_pb2_grpc.LLMProviderServicer):
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    async def Initialize(self, request, context):
        if request.config.get("temperature") not in (None, "") and not _number(request.config["temperature"]):
            return common_pb2.InitializeResponse(
                success=False, error=f"temperature {request.config['temperature']!r} is not a number"
            )
        log("info", "initialized", config_keys=sorted(request.config))
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        asyncio.get_running_loop().call_later(0.05, self.stop.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        return common_pb2.HealthResponse(healthy=True, message="ok")

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(name="broken-llm", version="0.1.0", type="llm_provider", protocol="grpc")

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")

    def _text(self, request) -> str:
        users = [m.content for m in request.messages if m.role in ("user", "ROLE_USER")]
        return "Echo: " + (users[-1] if users else "")

    async def Generate(self, request, context):
        text = self._text(request)
        return llm_pb2.GenerateResponse(text=text, tokens_used=len(text.split()))

    async def GenerateStreaming(self, request, context):
        for word in self._text(request).split(" "):
            yield llm_pb2.StreamChunk(type=llm_pb2.StreamChunk.TEXT, text=word + " ")
        # The fault: the stream ends here, without StreamChunk(type=DONE).

    async def GetModelInfo(self, request, context):
        return llm_pb2.ModelInfo(model_name="broken-echo", max_tokens=128)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


if __name__ == "__main__":
    serve(lambda server, stop: llm_pb2_grpc.add_LLMProviderServicer_to_server(NoStreamEnd(stop), server))
