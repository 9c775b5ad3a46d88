"""Every error the library raises is a PluginError subclass, and also the built-in class a Python
caller would expect (TypeError for a wrong argument type, ValueError for a bad value,
RuntimeError for a misused awaitable), so both `except` styles work."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hector_plugins import (
    ConfigError,
    Message,
    PluginError,
    PluginManager,
    PluginTypeError,
    PluginUsageError,
    StreamChunk,
    ToolCall,
)


def test_wrong_argument_types_are_plugin_type_errors() -> None:
    with pytest.raises(PluginTypeError, match="give arguments or arguments_json, not both") as both:
        ToolCall("1", "f", {"a": 1}, arguments_json="{}")
    assert isinstance(both.value, TypeError) and isinstance(both.value, PluginError)
    with pytest.raises(PluginTypeError, match=r'tool call\["name"\] must be a str, not int'):
        Message("assistant", tool_calls=[{"id": "1", "name": 2}])


def test_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="a chunk's type is one of") as refused:
        StreamChunk("bogus")  # type: ignore[arg-type]
    assert isinstance(refused.value, ValueError)
    with pytest.raises(ConfigError, match='tool call needs a "name" key'):
        Message("assistant", tool_calls=[{"id": "1"}])


async def test_misused_awaitables_are_plugin_usage_errors(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r")
        llm = pm.llm("r")
        call = llm.generate([Message.user("hi")])
        await call
        with pytest.raises(PluginUsageError, match="cannot reuse already awaited call") as reused:
            await call
        assert isinstance(reused.value, RuntimeError)
        with pytest.raises(PluginTypeError, match="messages\\[0\\] must be a Message or a dict, not int"):
            llm.generate([42])  # type: ignore[list-item]
        with pytest.raises(PluginTypeError, match="bytes-like"):
            pm.raw("r").call("/hector.plugin.LLMProvider/Health", "text")  # type: ignore[arg-type]
        await asyncio.sleep(0)
