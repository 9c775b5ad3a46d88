"""Any go-plugin gRPC plugin, not only Hector services: own cookie, negotiated version, raw bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import empty_pb2, wrappers_pb2
from hector_plugins import ConfigError, PluginCallError, PluginManager
from helpers import KV


@pytest.mark.parametrize("offered,expected", [([2, 3], 3), ([2], 2), ([3], 3)])
async def test_negotiated_version_is_read_back(kv_plugin: Path, offered: list[int], expected: int) -> None:
    async with PluginManager() as pm:
        info = await pm.load(kv_plugin, name="kv", protocol_versions=offered, **KV)
        assert info.protocol_version == expected and info.type == "grpc"
        raw = pm.raw("kv")
        assert raw.protocol_version == expected
        reply = wrappers_pb2.Int32Value.FromString(
            await raw.call("/kv.KV/Version", empty_pb2.Empty().SerializeToString())
        )
        assert reply.value == expected


async def test_unary_and_streaming_calls_with_raw_bytes(kv_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(kv_plugin, name="kv", protocol_versions=[2, 3], **KV)
        raw = pm.raw("kv")
        await raw.call("/kv.KV/Put", wrappers_pb2.StringValue(value="color=blue").SerializeToString())
        got = await raw.call("/kv.KV/Get", wrappers_pb2.StringValue(value="color").SerializeToString())
        assert wrappers_pb2.StringValue.FromString(got).value == "blue"

        counted = [
            wrappers_pb2.Int32Value.FromString(item).value
            async for item in raw.stream("/kv.KV/Count", wrappers_pb2.Int32Value(value=5).SerializeToString())
        ]
        assert counted == [1, 2, 3, 4, 5]

        with pytest.raises(PluginCallError) as caught:
            await raw.call("/kv.KV/Get", wrappers_pb2.StringValue(value="missing").SerializeToString())
        assert caught.value.code == "NOT_FOUND"
        with pytest.raises(PluginCallError) as caught:
            await raw.call("/kv.KV/NoSuchMethod", b"")
        assert caught.value.code == "UNIMPLEMENTED"
        with pytest.raises(ConfigError, match="full gRPC path"):
            await raw.call("Get", b"")


async def test_hector_plugins_are_callable_raw_too(rust_plugin: Path, proto_dir: Path) -> None:
    import sys

    sys.path.insert(0, str(proto_dir))
    from hector.plugin import llm_pb2

    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="r")
        request = llm_pb2.GenerateRequest(messages=[llm_pb2.Message(role="user", content="raw")])
        reply = llm_pb2.GenerateResponse.FromString(
            await pm.raw("r").call("/hector.plugin.LLMProvider/Generate", request.SerializeToString())
        )
        assert reply.text == "Echo: raw"


async def test_raw_requests_take_any_bytes_like_object(kv_plugin: Path) -> None:
    # The extension is built for the stable ABI (abi3), which lacks PyBuffer: every buffer kind
    # must still reach the plugin byte for byte, and anything else must be refused by name.
    import array

    def put(value: str) -> bytes:
        return wrappers_pb2.StringValue(value=f"k={value}").SerializeToString()

    requests = {
        "bytearray": bytearray(put("bytearray")),
        "memoryview": memoryview(put("memoryview")),
        "sliced memoryview": memoryview(b"xx" + put("sliced memoryview"))[2:],
        "array": array.array("B", put("array")),
    }
    get = memoryview(bytearray(wrappers_pb2.StringValue(value="k").SerializeToString()))
    count = bytearray(wrappers_pb2.Int32Value(value=2).SerializeToString())
    async with PluginManager() as pm:
        await pm.load(kv_plugin, name="kv", protocol_versions=[2, 3], **KV)
        raw = pm.raw("kv")
        for kind, request in requests.items():
            await raw.call("/kv.KV/Put", request)
            assert wrappers_pb2.StringValue.FromString(await raw.call("/kv.KV/Get", get)).value == kind
        assert len([item async for item in raw.stream("/kv.KV/Count", count)]) == 2

        for wrong in ("k=v", 3, [1, 2]):
            with pytest.raises(TypeError, match=r'"kv".*/kv.KV/Put.*bytes-like.*SerializeToString'):
                await raw.call("/kv.KV/Put", wrong)
        with pytest.raises(TypeError, match=r"/kv.KV/Count.*not str"):
            raw.stream("/kv.KV/Count", "2")
