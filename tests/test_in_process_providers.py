"""In-process providers: Python objects registered with ``pm.register`` and called like plugins,
alone or as members of a fallback chain (declared ``type: builtin`` in the configuration)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    GenerateResponse,
    HealthStatus,
    Message,
    ModelInfo,
    PluginCallError,
    PluginClosedError,
    PluginError,
    PluginManager,
    PluginNotFoundError,
    StreamChunk,
    ToolCall,
    ToolDefinition,
)


class LocalLLM:
    """A complete in-process LLM: async generate and stream, model info, health."""

    def __init__(self) -> None:
        self.seen: list[tuple[list[Message], list[ToolDefinition]]] = []

    async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        self.seen.append((messages, tools))
        if tools:
            return GenerateResponse(tool_calls=[ToolCall("c1", tools[0].name, {"q": 1})], tokens_used=2)
        return GenerateResponse(text="local: " + messages[-1].content, tokens_used=3)

    async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> AsyncIterator[Any]:
        for word in messages[-1].content.split():
            yield word  # plain strings become text chunks
        yield StreamChunk("done", tokens_used=7)

    async def model_info(self) -> ModelInfo:
        return ModelInfo("local-model", max_tokens=2048, temperature=0.5)

    def health(self) -> bool:  # plain functions are fine too
        return True


class MinimalLLM:
    """Only ``generate``, and not even async."""

    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
        return "minimal: " + messages[-1].content


def chain_config(primary: Path | str, **primary_options: object) -> dict:
    return {
        "plugins": {
            "llm_providers": {
                "remote": {"path": str(primary), **primary_options},
                "local": {"type": "builtin"},
                "resilient": {"fallbacks": ["remote", "local"]},
            }
        }
    }


async def test_a_registered_object_is_called_like_a_plugin() -> None:
    async with PluginManager() as pm:
        local = LocalLLM()
        pm.register("local", local)
        llm = pm.llm("local")
        assert llm.name == "local"
        reply = await llm.generate([{"role": "user", "content": "hi"}])
        assert (reply.text, reply.tokens_used) == ("local: hi", 3)
        # The provider receives the same value classes users build.
        messages, tools = local.seen[0]
        assert messages == [Message.user("hi")] and tools == []

        with_tools = await llm.generate([Message.user("look it up")], tools=[{"name": "search"}])
        assert with_tools.tool_calls[0].name == "search" and with_tools.tool_calls[0].arguments == {"q": 1}

        chunks = [c async for c in llm.generate_stream([Message.user("a b c")])]
        assert [(c.type, c.text) for c in chunks] == [("text", "a"), ("text", "b"), ("text", "c"), ("done", "")]
        assert chunks[-1].tokens_used == 7

        info = await llm.model_info()
        assert (info.model_name, info.max_tokens, info.temperature) == ("local-model", 2048, 0.5)
        assert (await llm.health()).healthy
        assert pm.plugins == []  # nothing was launched


async def test_defaults_for_a_provider_with_only_generate() -> None:
    async with PluginManager() as pm:
        pm.register("mini", MinimalLLM())
        llm = pm.llm("mini")
        assert (await llm.generate([Message.user("x")])).text == "minimal: x"
        # Streaming is emulated from generate, as for plugins with `streaming: false`.
        chunks = [c async for c in llm.generate_stream([Message.user("y")])]
        assert [(c.type, c.text) for c in chunks] == [("text", "minimal: y"), ("done", "")]
        assert (await llm.model_info()).model_name == "mini"
        health = await llm.health()
        assert isinstance(health, HealthStatus) and health.healthy


def test_a_response_as_the_stream_that_carries_it() -> None:
    """The one emulation rule (the host's), for plugins with `streaming: false` and in-process
    providers alike: text (if any), each tool call, then done with the tokens."""
    call = ToolCall("c1", "search", {"q": "x"})
    chunks = GenerateResponse(text="hi", tool_calls=[call], tokens_used=7).chunks()
    assert [(c.type, c.text, c.tool_call, c.tokens_used) for c in chunks] == [
        ("text", "hi", None, 0),
        ("tool_call", "", call, 0),
        ("done", "", None, 7),
    ]
    assert [c.type for c in GenerateResponse(tool_calls=[call]).chunks()] == ["tool_call", "done"]


async def test_the_first_member_crashes_at_start_and_the_in_process_provider_serves(py_plugin) -> None:
    broken = py_plugin(exit="3", stderr="remote: no GPU available")
    async with PluginManager(chain_config(broken)) as pm:
        pm.register("local", LocalLLM())
        report = {r.name: r for r in await pm.load_all()}
        assert not report["remote"].ok and "no GPU available" in str(report["remote"].error)
        assert report["local"].ok and report["local"].in_process and report["local"].plugin is None
        chain = report["resilient"]
        assert chain.ok and chain.served_by == "local" and chain.in_process
        assert (await pm.llm("resilient").generate([Message.user("hi")])).text == "local: hi"


async def test_a_chain_prefers_the_plugin_and_falls_back_when_it_crashes(py_plugin) -> None:
    async with PluginManager(chain_config(py_plugin())) as pm:
        pm.register("local", LocalLLM())
        report = {r.name: r for r in await pm.load_all(strict=True)}
        assert report["resilient"].served_by == "remote" and not report["resilient"].in_process
        llm = pm.llm("resilient")
        assert (await llm.generate([Message.user("one")])).text == "Echo: one"  # the plugin
        with pytest.raises(PluginError):
            await llm.generate([Message.user("crash")])  # the plugin dies during this call
        assert (await llm.generate([Message.user("two")])).text == "local: two"
        chunks = [c.text async for c in llm.generate_stream([Message.user("p q")]) if c.type == "text"]
        assert chunks == ["p", "q"]


async def test_unregistering_takes_the_provider_out_of_the_chain(tmp_path: Path) -> None:
    async with PluginManager(chain_config(tmp_path / "missing")) as pm:
        pm.register("local", LocalLLM())
        await pm.load_all()
        llm = pm.llm("resilient")
        assert (await llm.generate([Message.user("a")])).text == "local: a"
        assert pm.unregister("local") and not pm.unregister("local")
        with pytest.raises(PluginClosedError, match=r"local \(in-process\) is not registered"):
            await llm.generate([Message.user("b")])


async def test_a_declared_provider_that_nobody_registered_is_reported(tmp_path: Path) -> None:
    async with PluginManager(chain_config(tmp_path / "missing")) as pm:
        report = {r.name: r for r in await pm.load_all()}
        assert not report["local"].ok
        assert "declared `type: builtin` but no in-process provider was registered" in str(report["local"].error)
        assert not report["resilient"].ok and report["resilient"].served_by is None
        with pytest.raises(PluginError, match="3 of 3 configured entries failed to load"):
            await pm.load_all(strict=True)


async def test_provider_errors_and_timeouts_become_call_errors() -> None:
    class Faulty:
        async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> Any:
            content = messages[-1].content
            if content == "slow":
                await asyncio.sleep(5)
            if content == "wrong type":
                return 42
            raise RuntimeError("model file missing")

    async with PluginManager() as pm:
        pm.register("faulty", Faulty())
        llm = pm.llm("faulty")
        with pytest.raises(
            PluginCallError, match="faulty: the in-process provider's Generate failed: RuntimeError: model file missing"
        ) as caught:
            await llm.generate([Message.user("boom")])
        assert (caught.value.code, caught.value.plugin, caught.value.method) == ("UNKNOWN", "faulty", "Generate")
        assert isinstance(caught.value.__cause__, RuntimeError)
        with pytest.raises(PluginCallError, match="generate returned int"):
            await llm.generate([Message.user("wrong type")])
        with pytest.raises(CallTimeoutError, match="did not answer within 0.05 s") as timed_out:
            await llm.generate([Message.user("slow")], timeout=0.05)
        assert isinstance(timed_out.value, TimeoutError)
        # Emulated streaming reports the same failure.
        with pytest.raises(PluginCallError, match="model file missing"):
            [c async for c in llm.generate_stream([Message.user("boom")])]


async def test_registration_is_checked() -> None:
    config = {"plugins": {"llm_providers": {"local": {"type": "builtin"}}}}
    async with PluginManager(config) as pm:
        with pytest.raises(PluginError, match="has no method generate"):
            pm.register("local", object())
        with pytest.raises(ConfigError, match="unknown plugin type"):
            pm.register("x", LocalLLM(), type="spaceship")
        with pytest.raises(PluginError, match=r"has no methods list_tools\(\), call_tool\(\)"):
            pm.register("tools", LocalLLM(), type="tool_provider")
        with pytest.raises(PluginError, match="called with raw bytes, which no in-process object can serve"):
            pm.register("raw", LocalLLM(), type="grpc")
        pm.register("local", LocalLLM())
        with pytest.raises(ConfigError, match="already registered"):
            pm.register("local", LocalLLM())
        with pytest.raises(PluginNotFoundError):
            pm.llm("nobody")
        with pytest.raises(ConfigError, match="in-process provider"):
            pm.raw("local")


async def test_names_cannot_clash_with_plugins(rust_plugin: Path) -> None:
    config = {"plugins": {"llm_providers": {"echo": {"path": str(rust_plugin)}}}}
    async with PluginManager(config) as pm:
        with pytest.raises(ConfigError, match="the name is a plugin"):
            pm.register("echo", LocalLLM())
        pm.register("local", LocalLLM())
        with pytest.raises(ConfigError, match="is the name of an in-process provider"):
            await pm.load(rust_plugin, name="local")
        await pm.load_all(strict=True)
        assert [p.name for p in pm.plugins] == ["echo"]


def test_builtin_entries_are_validated() -> None:
    def refused(entry: dict, match: str) -> None:
        with pytest.raises(ConfigError, match=match):
            PluginManager({"plugins": {"llm_providers": {"local": entry}}})

    refused(
        {"type": "builtin", "path": "./x"}, r"plugins.llm_providers.local.path: a built-in provider .* takes no `path`"
    )
    refused(
        {"type": "builtin", "config": {"k": "v"}},
        r"local.config: a built-in provider is created and configured in code",
    )
    refused({"type": "openai"}, r'local.type: must be "grpc" \(a plugin process\), "builtin" .* or "mcp"')
    refused(
        {"type": "builtin", "magic_cookie_key": "K"},
        r"local.magic_cookie_key: a built-in provider .* takes no `magic_cookie_key`",
    )
    # Every section's entries may be built in: each type has a client that calls objects.
    sections = ["llm_providers", "database_providers", "embedder_providers", "tool_providers", "reasoning_strategies"]
    for index, section in enumerate(sections):
        PluginManager({"plugins": {section: {f"b{index}": {"type": "builtin"}}}})
    # An agent may name a built-in provider.
    PluginManager({"plugins": {"llm_providers": {"local": {"type": "builtin"}}}, "agents": {"a": {"llm": "local"}}})


async def test_a_kept_client_follows_unregister_and_shutdown() -> None:
    pm = PluginManager()
    pm.register("local", LocalLLM())
    llm = pm.llm("local")
    assert (await llm.generate([Message.user("a")])).text == "local: a"
    pm.unregister("local")
    with pytest.raises(PluginNotFoundError):
        await llm.generate([Message.user("b")])
    pm.register("local", MinimalLLM())  # a new object under the same name serves the same client
    assert (await llm.generate([Message.user("c")])).text == "minimal: c"
    await pm.shutdown()
    with pytest.raises(PluginClosedError):
        await llm.generate([Message.user("d")])
    with pytest.raises(PluginClosedError, match="shut down"):
        pm.llm("local")


async def test_load_cannot_take_a_declared_name(rust_plugin: Path, tmp_path: Path) -> None:
    async with PluginManager(chain_config(tmp_path / "missing")) as pm:
        with pytest.raises(ConfigError, match='"local" is the name of an in-process provider'):
            await pm.load(rust_plugin, name="local", type="embedder_provider")
        with pytest.raises(ConfigError, match='"resilient" is the name of a fallback chain'):
            await pm.load(rust_plugin, name="resilient")
        assert pm.plugins == []


async def test_a_consumer_that_stops_early_closes_the_provider_stream() -> None:
    closed = []

    class Endless:
        def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
            return ""

        async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> AsyncIterator[str]:
            try:
                while True:
                    yield "tick"
                    await asyncio.sleep(0)
            finally:
                closed.append(True)

    class ListStream:
        def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
            return ""

        async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> list[Any]:
            return ["x", "y"]

    async with PluginManager() as pm:
        pm.register("endless", Endless())
        pm.register("listed", ListStream())
        stream = pm.llm("endless").generate_stream([Message.user("go")])
        async for chunk in stream:
            assert chunk.text == "tick"
            break
        await stream.aclose()
        assert closed == [True]
        chunks = [c async for c in pm.llm("listed").generate_stream([Message.user("go")])]
        assert [(c.type, c.text) for c in chunks] == [("text", "x"), ("text", "y"), ("done", "")]


async def test_unconvertible_results_and_the_providers_own_timeouts_are_call_errors() -> None:
    class Odd:
        async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> Any:
            if messages[-1].content == "own timeout":
                raise TimeoutError("upstream model server timed out")
            return {"text": None}

        def model_info(self) -> dict:
            return {"name": "not a field"}

    async with PluginManager() as pm:
        pm.register("odd", Odd())
        llm = pm.llm("odd")
        with pytest.raises(PluginCallError, match="Generate failed: TypeError") as bad_dict:
            await llm.generate([Message.user("x")])
        assert not isinstance(bad_dict.value, TimeoutError)
        # The provider's own TimeoutError is its failure, not the caller's limit.
        for timeout in (None, 5.0):
            with pytest.raises(
                PluginCallError, match="Generate failed: TimeoutError: upstream model server timed out"
            ) as own:
                await llm.generate([Message.user("own timeout")], timeout=timeout)
            assert not isinstance(own.value, CallTimeoutError)
        with pytest.raises(PluginCallError, match="GetModelInfo failed: TypeError"):
            await llm.model_info()


def test_a_provider_that_holds_its_manager_is_collected() -> None:
    import gc
    import weakref

    class Router:
        """Delegates to plugins of its own manager: a reference cycle through the manager."""

        def __init__(self, pm: PluginManager) -> None:
            self.pm = pm

        def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
            return "routed"

    pm = PluginManager()
    router = Router(pm)
    pm.register("router", router)
    gone = weakref.ref(router)
    del pm, router
    gc.collect()
    assert gone() is None


async def test_stream_timeout_bounds_the_first_chunk_and_each_gap_of_an_in_process_stream() -> None:
    class Stalling:
        async def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> str:
            await asyncio.sleep(5)
            return "late"

        async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> Any:
            if messages[-1].content == "stall later":
                yield "first"
            await asyncio.sleep(5)
            yield "never"

    async with PluginManager() as pm:
        pm.register("stalling", Stalling())
        llm = pm.llm("stalling")
        with pytest.raises(CallTimeoutError, match="GenerateStreaming sent no chunk within 0.1 s"):
            [c async for c in llm.generate_stream([Message.user("stall")], timeout=0.1)]
        received = []
        with pytest.raises(CallTimeoutError):
            async for chunk in llm.generate_stream([Message.user("stall later")], timeout=0.1):
                received.append(chunk.text)
        assert received == ["first"]
        # Without generate_stream, the emulated stream is bounded by the same timeout.
        del Stalling.generate_stream
        with pytest.raises(CallTimeoutError, match="did not answer within 0.1 s"):
            [c async for c in llm.generate_stream([Message.user("x")], timeout=0.1)]
