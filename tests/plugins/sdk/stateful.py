"""A stateful LLM on hector_plugins.sdk, for tests: it counts the messages it has seen and
answers "<count>: <message>". Its count survives a crash or a reload through
``get_state``/``restore_state`` (docs/supervision.md, "State"); the message "die" makes it exit."""

from __future__ import annotations

import json
import os

from hector_plugins import GenerateResponse, Message
from hector_plugins.sdk import serve


class CountingLLM:
    def __init__(self) -> None:
        self.seen = 0
        self.restored_from: int | None = None

    def generate(self, messages: list[Message], tools: object = None) -> GenerateResponse:
        text = messages[-1].content
        if text == "die":
            os._exit(9)
        if text == "restored?":
            return GenerateResponse(text=f"restored from {self.restored_from}")
        self.seen += 1
        return GenerateResponse(text=f"{self.seen}: {text}")

    def get_state(self) -> bytes:
        return json.dumps({"seen": self.seen}).encode()

    def restore_state(self, state: bytes) -> None:
        self.seen = json.loads(state)["seen"]
        self.restored_from = self.seen


if __name__ == "__main__":
    serve(CountingLLM())
