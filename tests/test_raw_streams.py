"""Raw client-streaming and bidirectional calls: go-plugin's own streaming example writes a file
through a client stream; the kv example stores a client stream of pairs and echoes a
bidirectional stream. Requests come from iterables and async iterables, one at a time; a call
that fails or is cancelled resets them, so the plugin never takes them for complete."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import wrappers_pb2
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    PluginCallError,
    PluginClosedError,
    PluginCrashedError,
    PluginInfo,
    PluginManager,
    RawClient,
)
from helpers import KV, STREAMER, wait_for_log, wait_until

CONFIGURE, WRITE, READ = (f"/proto.StreamerService/{method}" for method in ("Configure", "Write", "Read"))
PUT_MANY, GET, ECHO = "/kv.KV/PutMany", "/kv.KV/Get", "/kv.KV/Echo"
# Larger than one request chunk and one read chunk, so a cut-short stream shows.
CONTENT = bytes(range(256)) * 1000
WRITE_CHUNK = 4096


@dataclass
class Streamer:
    raw: RawClient
    info: PluginInfo
    path: Path
    pb2: ModuleType

    def chunks(self, data: bytes) -> list[bytes]:
        return [
            self.pb2.Write.RequestChunk(bytes_to_write=data[i : i + WRITE_CHUNK]).SerializeToString()
            for i in range(0, len(data), WRITE_CHUNK)
        ]

    async def write(self, data: bytes) -> None:
        """Writes `data` whole. The example's Write returns without a response message, which
        gRPC clients report as INTERNAL (grpc-go's own host too: "cardinality violation"), after
        the plugin has written the file."""
        with pytest.raises(PluginCallError, match=r"\(INTERNAL\): Missing response message") as caught:
            await self.raw.client_stream(WRITE, self.chunks(data))
        assert caught.value.method == WRITE

    async def read(self) -> bytes:
        request = self.pb2.Read.Request().SerializeToString()
        return b"".join(
            [self.pb2.Read.ResponseChunk.FromString(c).read_bytes async for c in self.raw.stream(READ, request)]
        )


@pytest.fixture
async def streamer(streamer_plugin: Path, streamer_pb2: ModuleType, tmp_path: Path) -> AsyncIterator[Streamer]:
    """go-plugin's streaming example, writing to a file of the test's own directory."""
    async with PluginManager() as pm:
        info = await pm.load(streamer_plugin, name="streamer", **STREAMER)
        raw = pm.raw("streamer")
        path = tmp_path / "streamed"
        configure = streamer_pb2.Configure.Request(path=str(path), chunk_size=10_000)
        await raw.call(CONFIGURE, configure.SerializeToString())
        yield Streamer(raw, info, path, streamer_pb2)


@pytest.fixture
async def kv(kv_plugin: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[tuple[RawClient, PluginInfo]]:
    caplog.set_level(logging.INFO, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        info = await pm.load(kv_plugin, name="kv", protocol_versions=[3], **KV)
        yield pm.raw("kv"), info


def pair(text: str) -> bytes:
    return wrappers_pb2.StringValue(value=text).SerializeToString()


def message(value: bytes) -> bytes:
    return wrappers_pb2.BytesValue(value=value).SerializeToString()


def value(reply: bytes) -> bytes:
    return wrappers_pb2.BytesValue.FromString(reply).value


async def from_async(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def then_wait_forever(items: Iterable[Any]) -> AsyncIterator[Any]:
    """Yields `items`, then neither ends nor yields again: only the call can end the stream."""
    for item in items:
        yield item
    await asyncio.Event().wait()


async def echo_ended(caplog: pytest.LogCaptureFixture, cancelled: bool) -> dict[str, Any]:
    """The fields of the kv plugin's "echo ended" record: with an error when the host reset
    the requests, without one when it ended them."""
    record = await wait_for_log(caplog, lambda r: r.getMessage() == "echo ended", "'echo ended'", timeout=10)
    fields: dict[str, Any] = record.plugin_fields  # type: ignore[attr-defined]
    assert ("Canceled" in fields.get("error", "")) == cancelled, fields
    return fields


async def assert_echoes(raw: RawClient) -> None:
    assert [value(r) async for r in raw.bidi_stream(ECHO, [message(b"still serving")])] == [b"still serving"]


# Client streams: go-plugin's streaming example.


@pytest.mark.parametrize("kind", ["list of bytearrays", "generator", "async generator"])
async def test_a_client_stream_sends_every_request_then_returns_the_answer(
    kv: tuple[RawClient, PluginInfo], kind: str
) -> None:
    raw, _ = kv
    pairs = [pair(f"k{i}={i}") for i in range(200)]
    requests = {
        "list of bytearrays": lambda: [bytearray(p) for p in pairs],
        "generator": lambda: (p for p in pairs),
        "async generator": lambda: from_async(pairs),
    }[kind]()
    assert wrappers_pb2.Int32Value.FromString(await raw.client_stream(PUT_MANY, requests)).value == 200
    assert wrappers_pb2.StringValue.FromString(await raw.call(GET, pair("k199"))).value == "199"
    assert wrappers_pb2.Int32Value.FromString(await raw.client_stream(PUT_MANY, [])).value == 0


async def test_a_plugin_error_ends_a_client_stream_before_its_requests_do(kv: tuple[RawClient, PluginInfo]) -> None:
    raw, _ = kv
    endless = itertools.chain([pair("k=v"), pair("no equals sign")], itertools.repeat(pair("k=v")))
    with pytest.raises(PluginCallError, match="expects") as caught:
        await asyncio.wait_for(raw.client_stream(PUT_MANY, endless), 30)
    assert caught.value.code == "INVALID_ARGUMENT" and caught.value.method == PUT_MANY
    await assert_echoes(raw)


async def test_go_plugins_streaming_example_writes_a_whole_file_through_a_client_stream(streamer: Streamer) -> None:
    # A unary call could send one chunk only: the plugin wrote that chunk alone.
    await streamer.write(CONTENT)
    assert streamer.path.read_bytes() == CONTENT
    assert await streamer.read() == CONTENT


async def test_requests_that_fail_reach_the_caller_and_leave_the_file_as_it_was(streamer: Streamer) -> None:
    await streamer.write(CONTENT)
    partial = streamer.chunks(b"partial" * 1000)
    boom = ValueError("the caller's iterator failed")

    def failing() -> Iterable[bytes]:
        yield from partial
        raise boom

    with pytest.raises(ValueError) as caught:
        await streamer.raw.client_stream(WRITE, failing())
    assert caught.value is boom
    with pytest.raises(
        TypeError, match=r'"streamer": request 2 of /proto.StreamerService/Write must be bytes-like.*not str'
    ):
        await streamer.raw.client_stream(WRITE, [*partial, "not a message"])
    # The plugin saw both request streams reset, not ended: it wrote neither.
    assert await streamer.read() == CONTENT
    assert streamer.path.read_bytes() == CONTENT


async def test_requests_that_are_not_an_iterable_of_messages_are_refused_at_once(streamer: Streamer) -> None:
    with pytest.raises(
        TypeError, match=r'"streamer": the requests of .*Write must be an iterable.*not bytes: pass a list'
    ):
        streamer.raw.client_stream(WRITE, b"one message")
    with pytest.raises(TypeError, match=r"iterable or async iterable of bytes-like messages, not int$"):
        streamer.raw.client_stream(WRITE, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"/kv.KV/Echo must be an iterable.*not str"):
        streamer.raw.bidi_stream(ECHO, "text")
    with pytest.raises(ConfigError, match="full gRPC path"):
        await streamer.raw.client_stream("Write", [])


async def test_a_client_stream_times_out_as_a_whole(streamer: Streamer) -> None:
    chunks = streamer.chunks(CONTENT)
    call = streamer.raw.client_stream(WRITE, then_wait_forever(chunks[:2]), timeout=0.3)
    with pytest.raises(CallTimeoutError, match=r"no answer within 0\.300s \(its timeout\)") as caught:
        await asyncio.wait_for(call, 30)
    assert caught.value.method == WRITE
    await streamer.write(CONTENT)
    assert await streamer.read() == CONTENT


async def test_cancelling_a_client_stream_resets_its_requests(streamer: Streamer) -> None:
    await streamer.write(CONTENT)
    sent = asyncio.Event()

    async def some_then_wait() -> AsyncIterator[bytes]:
        for chunk in streamer.chunks(b"partial" * 1000):
            yield chunk
        sent.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(streamer.raw.client_stream(WRITE, some_then_wait()))
    await asyncio.wait_for(sent.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await streamer.read() == CONTENT


async def test_a_crash_under_a_client_stream_raises_crashed(streamer: Streamer) -> None:
    async def one_then_crash() -> AsyncIterator[bytes]:
        yield streamer.chunks(CONTENT)[0]
        os.kill(streamer.info.pid, signal.SIGKILL)
        await asyncio.Event().wait()  # the crash alone must end the call

    with pytest.raises(PluginCrashedError) as caught:
        await asyncio.wait_for(streamer.raw.client_stream(WRITE, one_then_crash()), 30)
    assert caught.value.method == WRITE


async def test_an_unimplemented_method_ends_the_call_without_reading_every_request(
    kv: tuple[RawClient, PluginInfo],
) -> None:
    raw, _ = kv
    endless = itertools.repeat(message(b"x"))  # read for ever unless the call's end stops it
    with pytest.raises(PluginCallError) as caught:
        await asyncio.wait_for(raw.client_stream("/kv.KV/NoSuchMethod", endless), 30)
    assert caught.value.code == "UNIMPLEMENTED"
    with pytest.raises(PluginCallError) as caught:
        async for _ in raw.bidi_stream("/kv.KV/NoSuchMethod", endless):
            pass
    assert caught.value.code == "UNIMPLEMENTED"
    await assert_echoes(raw)


# Bidirectional streams: the kv example's Echo.


async def test_a_bidi_stream_echoes_its_requests_and_ends_them(
    kv: tuple[RawClient, PluginInfo], caplog: pytest.LogCaptureFixture
) -> None:
    raw, _ = kv
    sent = [message(m) for m in (b"a", b"", b"c" * 100_000)]
    assert [value(r) async for r in raw.bidi_stream(ECHO, sent)] == [b"a", b"", b"c" * 100_000]
    assert (await echo_ended(caplog, cancelled=False))["messages"] == 3


async def test_bidi_requests_can_follow_the_responses(kv: tuple[RawClient, PluginInfo]) -> None:
    # Each request is made only once the response to the one before has come back: the two
    # directions interleave, neither waits for the other to end.
    raw, _ = kv
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def requests() -> AsyncIterator[bytes]:
        while (item := await queue.get()) is not None:
            yield message(item)

    await queue.put(b"0")
    seen: list[bytes] = []
    async for reply in raw.bidi_stream(ECHO, requests()):
        seen.append(value(reply))
        await queue.put(str(len(seen)).encode() if len(seen) < 5 else None)
    assert seen == [b"0", b"1", b"2", b"3", b"4"]


async def test_bidi_request_failures_reach_the_reader_and_reset_the_call(
    kv: tuple[RawClient, PluginInfo], caplog: pytest.LogCaptureFixture
) -> None:
    raw, _ = kv
    boom = ValueError("the caller's iterator failed")
    echoed = asyncio.Event()

    async def failing() -> AsyncIterator[bytes]:
        yield message(b"a")
        await echoed.wait()  # the plugin has the call: its end is what is checked
        raise boom

    with pytest.raises(ValueError) as caught:
        async for _ in raw.bidi_stream(ECHO, failing()):
            echoed.set()
    assert caught.value is boom
    await echo_ended(caplog, cancelled=True)
    caplog.clear()

    # A bad request found at once may stop the call before it reaches the plugin; if it did
    # reach it, the plugin saw it cancelled, never ended.
    stream = raw.bidi_stream(ECHO, [message(b"a"), 3])
    with pytest.raises(TypeError, match=r'"kv": request 1 of /kv.KV/Echo must be bytes-like.*not int'):
        async for _ in stream:
            pass
    await assert_echoes(raw)
    await wait_for_log(  # assert_echoes' own call; the plugin's logs come in order
        caplog, lambda r: r.getMessage() == "echo ended" and "error" not in r.plugin_fields, "of a normal end"
    )
    ended = [r.plugin_fields for r in caplog.records if r.getMessage() == "echo ended"]  # type: ignore[attr-defined]
    assert all("Canceled" in fields.get("error", "") for fields in ended[:-1]), ended


async def test_a_bidi_stream_times_out_between_responses(
    kv: tuple[RawClient, PluginInfo], caplog: pytest.LogCaptureFixture
) -> None:
    raw, _ = kv
    stream = raw.bidi_stream(ECHO, then_wait_forever([message(b"a")]), timeout=0.3)
    assert value(await asyncio.wait_for(stream.__anext__(), 30)) == b"a"
    with pytest.raises(CallTimeoutError, match=r"no item after the previous one within 0\.300s") as caught:
        await asyncio.wait_for(stream.__anext__(), 30)
    assert caught.value.method == ECHO
    await echo_ended(caplog, cancelled=True)
    await assert_echoes(raw)


async def test_a_crash_under_a_bidi_stream_raises_crashed(kv: tuple[RawClient, PluginInfo]) -> None:
    raw, info = kv
    stream = raw.bidi_stream(ECHO, then_wait_forever([message(b"a")]))
    assert value(await asyncio.wait_for(stream.__anext__(), 30)) == b"a"
    os.kill(info.pid, signal.SIGKILL)
    with pytest.raises(PluginCrashedError) as caught:
        await asyncio.wait_for(stream.__anext__(), 30)
    assert caught.value.method == ECHO


async def test_breaking_out_of_a_bidi_stream_cancels_it(
    kv: tuple[RawClient, PluginInfo], caplog: pytest.LogCaptureFixture
) -> None:
    raw, _ = kv
    async for reply in raw.bidi_stream(ECHO, then_wait_forever([message(b"a")])):
        assert value(reply) == b"a"
        break
    await echo_ended(caplog, cancelled=True)
    await assert_echoes(raw)


async def test_cancelling_a_bidi_read_cancels_the_call(
    kv: tuple[RawClient, PluginInfo], caplog: pytest.LogCaptureFixture
) -> None:
    raw, _ = kv
    stream = raw.bidi_stream(ECHO, then_wait_forever([message(b"a")]))
    assert value(await asyncio.wait_for(stream.__anext__(), 30)) == b"a"
    read = asyncio.ensure_future(stream.__anext__())
    await asyncio.wait([read], timeout=0.2)  # let the read start waiting
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    await echo_ended(caplog, cancelled=True)
    with pytest.raises(PluginClosedError):
        await stream.__anext__()
    await assert_echoes(raw)


async def test_requests_are_read_only_as_the_plugin_takes_them(kv: tuple[RawClient, PluginInfo]) -> None:
    # A frozen plugin takes nothing: what the host reads of an endless iterable is what HTTP/2
    # flow control lets through (grpc-go's window grows to 16 MiB at most: 256 of these
    # messages) plus the host's small request buffer, not the whole iterable.
    raw, info = kv
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        big = message(b"x" * 65536)
        while True:
            pulled += 1
            yield big
            await asyncio.sleep(0)

    os.kill(info.pid, signal.SIGSTOP)
    try:
        stream = raw.bidi_stream(ECHO, endless())
        read = asyncio.ensure_future(stream.__anext__())
        await wait_until(lambda: pulled >= 10, timeout=10)
        await asyncio.wait([read], timeout=0.5)  # time for an iterable read ahead to run away
        assert pulled < 400, pulled
        read.cancel()
    finally:
        os.kill(info.pid, signal.SIGCONT)
    await assert_echoes(raw)
