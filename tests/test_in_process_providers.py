"""In-process providers: Python objects registered with ``pm.register`` and called like plugins,
alone or as members of a fallback chain (declared ``type: builtin`` in the configuration)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

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
        with pytest.raises(PluginError, match="3 of 3 plugins failed"):
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
        with pytest.raises(PluginCallError, match="generate raised RuntimeError: model file missing") as caught:
            await llm.generate([Message.user("boom")])
        assert caught.value.code == "UNKNOWN" and caught.value.plugin == "faulty"
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
    config = {
        "plugins": {
            "llm_providers": {"local": {"type": "builtin"}},
            "embedder_providers": {"vectors": {"type": "builtin"}},
        }
    }
    async with PluginManager(config) as pm:
        with pytest.raises(PluginError, match="has no method generate"):
            pm.register("local", object())
        with pytest.raises(ConfigError, match="unknown plugin type"):
            pm.register("x", LocalLLM(), type="spaceship")
        with pytest.raises(PluginError, match="in-process providers of type 'embedder_provider' are not supported yet"):
            pm.register("vectors", LocalLLM(), type="embedder_provider")
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
        with pytest.raises(ConfigError, match="already the name of an in-process provider"):
            await pm.load(rust_plugin, name="local")
        await pm.load_all(strict=True)
        assert [p.name for p in pm.plugins] == ["echo"]


def test_builtin_entries_are_validated() -> None:
    def refused(entry: dict, match: str) -> None:
        with pytest.raises(ConfigError, match=match):
            PluginManager({"plugins": {"llm_providers": {"local": entry}}})

    refused({"type": "builtin", "path": "./x"}, r"plugins.llm_providers.local.path: a built-in provider .* takes no `path`")
    refused({"type": "builtin", "config": {"k": "v"}}, r"local.config: a built-in provider is created and configured in code")
    refused({"type": "openai"}, r'local.type: must be "grpc" \(a plugin process\) or "builtin"')
    with pytest.raises(ConfigError, match=r'plugin "vec" is a embedder_provider, not a llm_provider'):
        PluginManager({"plugins": {
            "embedder_providers": {"vec": {"type": "builtin"}},
            "llm_providers": {"chain": {"fallbacks": ["vec"]}},
        }})
    # An agent may name a built-in provider.
    PluginManager({"plugins": {"llm_providers": {"local": {"type": "builtin"}}}, "agents": {"a": {"llm": "local"}}})
