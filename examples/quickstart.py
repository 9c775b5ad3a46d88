"""Quickstart: load the Go and Rust echo LLM plugins, generate, stream, and shut down.

    python examples/quickstart.py

Builds the example plugins first if needed (cargo and go), then runs them as real plugin
processes. Nothing is left running afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_plugins  # noqa: E402
from hector_plugins import Message, PluginManager  # noqa: E402


async def main() -> None:
    build_plugins.build_all()
    # Plugin logs arrive under the "hector_plugins.plugin.<name>" loggers.
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")

    async with PluginManager() as pm:
        await asyncio.gather(
            pm.load(build_plugins.GO_PLUGIN, name="echo-go"),
            pm.load(build_plugins.RUST_PLUGIN, name="echo-rust", config={"stream_delay_ms": 50}),
        )
        for info in pm.plugins:
            print(f"loaded {info.name}: pid {info.pid}, {info.address}")

        for name in ("echo-go", "echo-rust"):
            llm = pm.llm(name)
            reply = await llm.generate([Message.user("Hello, plugins!")])
            print(f"{name} generate -> {reply.text!r} ({reply.tokens_used} tokens)")

            print(f"{name} stream   -> ", end="", flush=True)
            async for chunk in llm.generate_stream([{"role": "user", "content": "streamed word by word"}]):
                if chunk.type == "text":
                    print(chunk.text, end="", flush=True)
                elif chunk.type == "done":
                    print(f"  [done, {chunk.tokens_used} tokens]")

            model = await llm.model_info()
            print(f"{name} model    -> {model.model_name} (max_tokens={model.max_tokens})")

    for info in pm.plugins:
        print(f"{info.name}: {info.state}, exit code {info.exit_code}")


if __name__ == "__main__":
    asyncio.run(main())
