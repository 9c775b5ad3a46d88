"""A broken LLM plugin: its stream never sends its end (no DONE chunk). Everything else is right."""

from __future__ import annotations

from _serve import Lifecycle, serve
from hector.plugin import llm_pb2, llm_pb2_grpc


class NoStreamEnd(Lifecycle, llm_pb2_grpc.LLMProviderServicer):
    name, kind = "broken-llm", "llm_provider"

    def refusal(self, config: dict[str, str]) -> str | None:
        temperature = config.get("temperature")
        if temperature not in (None, "") and not _number(temperature):
            return f"temperature {temperature!r} is not a number"
        return None

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
