"""The requests of ``RawClient.client_stream`` and ``RawClient.bidi_stream``, pumped from the
caller's iterable into the call on the caller's event loop.

The Rust side owns the call and a bounded channel of requests (``RequestSender``); this module
only iterates. The next item is read once the previous one is queued, so a plugin that reads
slowly slows the iterable down instead of the host reading it ahead. When the iterable raises
(or yields something that is not bytes-like), the exception reaches the caller and the call is
cancelled: the plugin sees its request stream reset, never ended (docs/protocol.md §4.2).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterable, Awaitable, Iterable
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from ._core import AsyncStream, RequestSender

Requests = Union[Iterable[Any], AsyncIterable[Any]]


async def _send_all(sender: RequestSender, requests: Requests) -> None:
    """Sends every item, then ends the requests; stops early once the call takes no more."""
    if isinstance(requests, AsyncIterable):
        async for item in requests:
            if not await _send(sender, item):
                return
    else:
        for item in requests:
            if not await _send(sender, item):
                return
    sender.finish()


async def _send(sender: RequestSender, item: Any) -> bool:
    """Queues one request; False when the call is over (its own outcome is what the caller sees)."""
    if sender.closed:
        return False
    queued = sender.send(item)
    if queued is not None:
        await queued
    return True


def client_stream(sender: RequestSender, reply: Awaitable[bytes], requests: Requests) -> Awaitable[bytes]:
    """The coroutine of ``RawClient.client_stream``; nothing starts until it is awaited."""
    return _client_stream(sender, reply, requests)


async def _client_stream(sender: RequestSender, reply: Awaitable[bytes], requests: Requests) -> bytes:
    call = asyncio.ensure_future(reply)
    pump = asyncio.ensure_future(_send_all(sender, requests))
    try:
        # The call can end before the requests do (an error, a crash, its deadline), and
        # the requests can fail before the call ends: whichever comes first decides.
        await asyncio.wait((call, pump), return_when=asyncio.FIRST_COMPLETED)
        if not call.done():
            pump.result()  # raises what the iterable raised; else every request was sent
        return await call
    finally:
        call.cancel()
        pump.cancel()
        if pump.done() and not pump.cancelled():
            pump.exception()  # a failure after the call ended is not the caller's concern


class BidiStream:
    """The responses of ``RawClient.bidi_stream`` (an async iterator of bytes). The requests are
    sent by a task started on the first read. Breaking out of ``async for``, ``aclose()`` or
    cancelling a read cancels the call and stops reading the requests."""

    __slots__ = ("_sender", "_responses", "_requests", "_pump", "_failure", "__weakref__")

    def __init__(self, sender: RequestSender, responses: AsyncStream, requests: Requests) -> None:
        self._sender: RequestSender | None = sender
        self._responses = responses
        self._requests: Requests | None = requests
        self._pump: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    def __aiter__(self) -> BidiStream:
        return self

    async def __anext__(self) -> bytes:
        if self._sender is not None and self._requests is not None:
            self._start_pump(self._sender, self._requests)
        try:
            item: bytes = await self._responses.__anext__()
            return item
        except StopAsyncIteration:
            self._stop_pump()
            failure, self._failure = self._failure, None
            if failure is not None:
                raise failure from None
            raise
        except BaseException:
            self._stop_pump()  # the call failed or the read was cancelled: no more requests
            raise

    async def aclose(self) -> None:
        """Stops the call early; the plugin sees it cancelled."""
        self._stop_pump()
        await self._responses.aclose()

    def _start_pump(self, sender: RequestSender, requests: Requests) -> None:
        self._sender = self._requests = None
        self._pump = asyncio.ensure_future(_send_all(sender, requests))
        # Weak: the pump must not keep this object alive, or breaking out of `async for`
        # would leave the call running.
        self._pump.add_done_callback(_on_pump_done(weakref.ref(self)))

    def _stop_pump(self) -> None:
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()

    def __del__(self) -> None:
        try:
            self._stop_pump()
        except RuntimeError:
            pass  # its event loop is closed: the pump is gone with it


def _on_pump_done(stream: weakref.ref[BidiStream]) -> Any:
    def done(pump: asyncio.Task[None]) -> None:
        if pump.cancelled() or pump.exception() is None:
            return
        owner = stream()
        if owner is not None:
            # The next read ends (the stream's close takes effect at once, before the returned
            # awaitable is awaited) and raises this failure instead of stopping.
            owner._failure = pump.exception()
            owner._responses.aclose()

    return done
