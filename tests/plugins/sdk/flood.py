"""An LLM plugin on hector_plugins.sdk that floods its stderr on request, for the log budget's test
and benchmark (docs/protocol.md §5.2). It echoes, and understands these messages:

  "flood <bytes/s> [<line bytes>]"  start a writer process that shares the plugin's stderr and
                                    writes numbered log lines at that rate (default 100-byte
                                    lines) until "stop"; answers its pid
  "stop"                            stop the writer
  "log <n> <lines/s>"               write n numbered lines "[WARN] steady line <i>" on stderr at
                                    that pace, from the plugin itself; answers at once

The writer is a process of its own (this file run with --write) so that the flood takes nothing
from the plugin's event loop: what slows calls down under a flood is then the host's doing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from hector_plugins import GenerateResponse, Message, ToolDefinition
from hector_plugins.sdk import serve

BLOCK_BYTES = 64 * 1024
# At most this much writing is made up after the pipe was full (the reader fell behind).
MAX_BACKLOG_SECONDS = 0.1


def write_flood(bytes_per_second: float, line_bytes: int) -> None:
    """Writes numbered lines of `line_bytes` (newline included) to fd 2 at `bytes_per_second`,
    formatting each line, as a plugin that logs that much would."""
    padding = "x" * max(0, line_bytes - 25)  # after "flood line <12 digits> ", before "\n"
    lines_per_block = max(1, BLOCK_BYTES // line_bytes)
    number = 0
    deadline = time.monotonic()
    while True:
        block = "".join([f"flood line {i:012d} {padding}\n" for i in range(number, number + lines_per_block)]).encode()
        number += lines_per_block
        view = memoryview(block)
        while view:
            view = view[os.write(2, view) :]
        deadline = max(deadline + len(block) / bytes_per_second, time.monotonic() - MAX_BACKLOG_SECONDS)
        pause = deadline - time.monotonic()
        if pause > 0:
            time.sleep(pause)


class FloodingLLM:
    def __init__(self) -> None:
        self.writer: asyncio.subprocess.Process | None = None
        self.steady: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        if self.writer is not None:
            self.writer.kill()
            await self.writer.wait()
            self.writer = None

    async def log_steadily(self, count: int, per_second: float) -> None:
        for i in range(count):
            sys.stderr.write(f"[WARN] steady line {i}\n")
            sys.stderr.flush()
            await asyncio.sleep(1 / per_second)

    async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        words = messages[-1].content.split()
        if words[:1] == ["flood"]:
            await self.stop()
            line_bytes = words[2] if len(words) > 2 else "100"
            self.writer = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--write",
                words[1],
                line_bytes,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
            )
            return GenerateResponse(text=str(self.writer.pid))
        if words == ["stop"]:
            await self.stop()
            return GenerateResponse(text="stopped")
        if words[:1] == ["log"]:
            self.steady = asyncio.ensure_future(self.log_steadily(int(words[1]), float(words[2])))
            return GenerateResponse(text="logging")
        return GenerateResponse(text=f"Echo: {messages[-1].content}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        write_flood(float(sys.argv[2]), int(sys.argv[3]))
    else:
        serve(FloodingLLM())
