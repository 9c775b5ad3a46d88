"""The sync methods of the LangChain adapters: a plugin call run to completion on a loop of its own.

A client's awaitables run on any event loop, not only the one its manager was made on
(docs/python-api.md, "Awaitables, threads and processes"), so a sync method called where no loop
runs awaits the call with ``asyncio.run``. A thread that runs a loop must not block it: there the
sync method raises ``PluginUsageError`` naming the async method to await instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Callable, TypeVar, cast

from ..errors import PluginUsageError

T = TypeVar("T")


def refuse_in_running_loop(what: str, instead: str) -> None:
    """Raises ``PluginUsageError`` when this thread runs an event loop, which ``what`` would block."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise PluginUsageError(
        f"{what} was called from a thread that runs an event loop, which it would block while the "
        f"plugin answers; await {instead} instead"
    )


def run_sync(make: Callable[[], Awaitable[T]], what: str, instead: str) -> T:
    """The result of the awaitable ``make()`` returns, awaited on a new event loop."""
    refuse_in_running_loop(what, instead)

    async def run() -> T:
        return await make()

    return asyncio.run(run())


def iterate_sync(make: Callable[[], AsyncIterator[T]], what: str, instead: str) -> Iterator[T]:
    """The items of the async iterator ``make()`` returns, each read on one event loop kept for the
    whole iteration; stopping early closes the iterator (which cancels a plugin stream)."""
    refuse_in_running_loop(what, instead)
    loop = asyncio.new_event_loop()
    try:
        items = make()
        try:
            while True:
                more, item = loop.run_until_complete(_next(items))
                if not more:
                    return
                yield cast(T, item)
        finally:
            close = getattr(items, "aclose", None)
            if close is not None:
                loop.run_until_complete(close())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _next(items: AsyncIterator[T]) -> tuple[bool, T | None]:
    # StopAsyncIteration is turned into a flag: it must not escape a coroutine run by a loop.
    try:
        return True, await items.__anext__()
    except StopAsyncIteration:
        return False, None
