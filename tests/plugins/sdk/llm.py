"""An LLM plugin on hector_plugins.sdk, for tests: echoes, streams word by word, calls a tool
when asked, fails on demand ("raise"), and waits on "sleep <s>" (cancellation tests)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from hector_plugins import GenerateResponse, Message, ModelInfo, PluginCallError, StreamChunk, ToolCall, ToolDefinition
from hector_plugins.sdk import serve

log = logging.getLogger("sdk-llm")


class EchoLLM:
    def __init__(self) -> None:
        self.prefix = "Echo"
        self.cancelled = 0

    def initialize(self, config: dict[str, str]) -> None:
        if "prefix" in config and not config["prefix"]:
            raise ValueError("config key 'prefix' must not be empty")
        self.prefix = config.get("prefix", self.prefix)
        log.info("initialized", extra={"config_keys": ",".join(sorted(config))})

    async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        text = messages[-1].content
        if text == "raise":
            raise RuntimeError("asked to fail")
        if text.startswith("sleep "):
            try:
                await asyncio.sleep(float(text.split()[1]))
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        if text == "cancelled?":
            return GenerateResponse(text=f"cancelled={self.cancelled}")
        if text == "pid":
            return GenerateResponse(text=str(os.getpid()))
        if text == "unknown model":
            try:
                {}["m"]
            except KeyError as error:
                raise PluginCallError("no such model", code="NOT_FOUND") from error
        if text == "signals":
            # Process-directed signals land on any thread that does not block them.
            signal.signal(signal.SIGUSR1, lambda *_: None)
            for _ in range(200):
                os.kill(os.getpid(), signal.SIGUSR1)
            return GenerateResponse(text="signalled")
        if text == "print":
            print("printed by the plugin", flush=True)
            return GenerateResponse(text="printed")
        if text == "grpc imported?":
            return GenerateResponse(text=str("grpc" in sys.modules))
        if text.startswith("call ") and tools:
            return GenerateResponse(tool_calls=[ToolCall("c1", tools[0].name, {"q": text[5:]})], tokens_used=3)
        return GenerateResponse(text=f"{self.prefix}: {text}", tokens_used=len(messages))

    async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]):
        text = messages[-1].content
        if text == "endless":
            n = 0
            try:
                while True:
                    yield StreamChunk("text", text=f"{n} ")
                    n += 1
                    await asyncio.sleep(0.01)
            finally:
                self.cancelled += 1
        for word in f"{self.prefix}: {text}".split():
            yield word + " "
        if text == "fail midway":
            raise ValueError("stream broke")

    def model_info(self) -> ModelInfo:
        return ModelInfo("sdk-echo", max_tokens=1024, temperature=0.5)

    def manifest(self) -> dict[str, str]:
        return {"name": "sdk-echo", "version": "0.3.0", "description": "test LLM on the SDK"}


if __name__ == "__main__":
    serve(EchoLLM())
