"""The benchmark's LLM on hector_plugins.sdk (the protocol in Rust, no grpcio)."""

from __future__ import annotations

from echo_handler import answer
from hector_plugins import GenerateResponse, Message, ToolDefinition
from hector_plugins.sdk import serve


class EchoLLM:
    async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        return GenerateResponse(text=answer(messages[-1].content))


if __name__ == "__main__":
    serve(EchoLLM())
