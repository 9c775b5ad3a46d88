"""The Go (hashicorp/go-plugin) and Rust (our SDK) echo LLM examples, end to end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hector_plugins import Message, PluginManager, ToolDefinition
from helpers import socket_path, wait_gone


async def test_load_generate_stream_info_health_and_graceful_shutdown(echo_plugin: Path) -> None:
    pm = PluginManager()
    info = await pm.load(echo_plugin, name="echo", config={"greeting": "hi", "retries": 3, "nested": {"a": [1]}})
    assert info.state == "ready" and info.type == "llm_provider" and info.pid > 0
    assert info.protocol_version == 1
    sock = socket_path(info.address)
    assert sock is not None and sock.exists()

    llm = pm.llm("echo")
    reply = await llm.generate([Message.system("be brief"), Message.user("hello world")])
    assert reply.text == "Echo: hello world"
    assert reply.tokens_used == 3

    chunks = [chunk async for chunk in llm.generate_stream([{"role": "user", "content": "one two three"}])]
    assert [c.type for c in chunks] == ["text", "text", "text", "text", "done"]
    assert "".join(c.text for c in chunks) == "Echo: one two three"
    assert chunks[-1].tokens_used == 4

    model = await llm.model_info()
    assert (model.model_name, model.max_tokens) == ("echo-llm-v1.0", 4096)
    assert abs(model.temperature - 0.7) < 1e-9
    health = await llm.health()
    assert health.healthy and health

    await pm.shutdown()
    [after] = pm.plugins
    assert after.state == "stopped"
    assert after.killed is False, "the plugin should exit by itself when asked"
    assert after.exit_code == 0
    await wait_gone(info.pid)
    assert not sock.exists()
    assert not sock.parent.exists(), "the private socket directory must be removed"


async def test_tool_calls_cross_both_ways(echo_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(echo_plugin, name="echo")
        llm = pm.llm("echo")
        tools = [
            ToolDefinition(
                "get_weather", "weather by city", {"type": "object", "properties": {"city": {"type": "string"}}}
            ),
            {"name": "noop", "description": "does nothing", "parameters": {"type": "object"}},
        ]
        reply = await llm.generate([Message.user('call get_weather {"city":"Paris"}')], tools=tools)
        assert reply.text == ""
        [call] = reply.tool_calls
        assert (call.id, call.name, call.arguments) == ("call_1", "get_weather", {"city": "Paris"})

        chunks = [c async for c in llm.generate_stream([Message.user('call get_weather {"city":"Oslo"}')], tools=tools)]
        tool_chunks = [c for c in chunks if c.type == "tool_call"]
        assert len(tool_chunks) == 1 and tool_chunks[0].tool_call.arguments == {"city": "Oslo"}
        assert chunks[-1].type == "done"

        # A conversation carrying the assistant's tool call and the tool's answer is accepted.
        history = [
            Message.user('call get_weather {"city":"Rome"}'),
            Message.assistant("", tool_calls=[call]),
            Message.tool(json.dumps({"temp": 21}), tool_call_id=call.id),
            {"role": "user", "content": "thanks"},
        ]
        assert (await llm.generate(history, tools=tools)).text == "Echo: thanks"


async def test_a_thousand_concurrent_calls_get_their_own_answers(echo_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(echo_plugin, name="echo")
        llm = pm.llm("echo")
        replies = await asyncio.gather(*(llm.generate([Message.user(f"message {i}")]) for i in range(1000)))
        assert [r.text for r in replies] == [f"Echo: message {i}" for i in range(1000)]


async def test_leaving_async_with_stops_everything(echo_plugin: Path) -> None:
    async with PluginManager() as pm:
        info = await pm.load(echo_plugin, name="a")
        info2 = await pm.load(echo_plugin, name="b")
    assert all(p.state == "stopped" for p in pm.plugins)
    await wait_gone({"a": info.pid, "b": info2.pid})
