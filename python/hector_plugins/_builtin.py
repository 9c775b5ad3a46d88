"""Calls into in-process providers registered with ``PluginManager.register``.

LLM providers are served here; the other types in ``_inprocess_<type>.py`` (re-exported at the
end of this module), with the same conversions of failures and timeouts (``_invoke``).

An in-process provider is any object with the methods of its service (the protocols of
``hector_plugins.providers``); ``LLMClient`` routes a call here instead of to a plugin process
when the name (or the fallback chain's serving member) is such a provider. Results are
converted to the same types a plugin's answer gets, and failures to the same errors, so callers
cannot tell the two apart:

* ``generate(messages, tools)`` (required) returns a ``GenerateResponse``, a ``str`` or a dict
  with ``text``, ``tool_calls``, ``tokens_used``; it may be ``async def`` or plain ``def``.
* ``generate_stream(messages, tools)`` (optional) is an async or plain iterable of
  ``StreamChunk``, ``str`` (a text chunk) or ``ToolCall``; without it, streaming is emulated
  from ``generate``, as for plugins whose manifest says ``streaming: false``.
* ``model_info()`` and ``health()`` (optional) return ``ModelInfo`` (or a dict) and
  ``HealthStatus`` (or a bool); without them the provider reports its name and healthy.

Any other exception a provider raises, and a result that cannot be converted, reaches the caller
as ``PluginCallError`` (code ``UNKNOWN``, the original as ``__cause__``); the caller's ``timeout``
as ``CallTimeoutError``. Errors name the RPC (``Generate``, ``GenerateStreaming``,
``GetModelInfo``, ``Health``) as a plugin's would.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any, Callable

from ._core import GenerateResponse, HealthStatus, Message, ModelInfo, StreamChunk, ToolCall, ToolDefinition
from .errors import CallTimeoutError, PluginCallError, PluginError

# What each type of in-process provider must be able to do.
REQUIRED_METHODS = {
    "llm_provider": ("generate",),
    "database_provider": ("upsert", "search", "delete", "create_collection", "delete_collection"),
    "embedder_provider": ("embed",),
    "tool_provider": ("list_tools", "call_tool"),
    "reasoning_strategy": ("should_stop",),
}


def check_provider(name: str, kind: str, provider: object) -> None:
    """Refuses, at registration, an object that cannot serve as a provider of ``kind``."""
    required = REQUIRED_METHODS.get(kind)
    if required is None:
        supported = ", ".join(sorted(REQUIRED_METHODS))
        raise PluginError(
            f"cannot register {name!r}: a {kind!r} plugin is called with raw bytes, which no "
            f"in-process object can serve (in-process types: {supported})",
            plugin=name,
        )
    missing = [method for method in required if not callable(getattr(provider, method, None))]
    if missing:
        raise PluginError(
            f"cannot register {name!r} as a {kind}: {type(provider).__name__} has no method{'s' if len(missing) > 1 else ''} "
            f"{', '.join(m + '()' for m in missing)}",
            plugin=name,
        )


async def _settle(value: Any) -> Any:
    """Lets provider methods be ``async def`` or plain functions."""
    return await value if inspect.isawaitable(value) else value


async def _invoke(
    name: str, method: str, call: Callable[[], Any], convert: Callable[[Any], Any], timeout: float | None
) -> Any:
    """Calls the provider and converts its result; every failure inside becomes a PluginError,
    so the only TimeoutError that can reach the outer handler is the caller's own limit."""

    async def guarded() -> Any:
        try:
            return convert(await _settle(call()))
        except PluginError:
            raise
        except Exception as error:
            raise _call_error(name, method, error) from error

    if timeout is None:
        return await guarded()
    try:
        return await asyncio.wait_for(guarded(), timeout)
    except asyncio.TimeoutError:
        raise CallTimeoutError(
            f"{name}: {method} did not answer within {timeout:g} s",
            plugin=name,
            method=method,
            code="DEADLINE_EXCEEDED",
        ) from None


def _call_error(name: str, method: str, error: BaseException, context: str = "") -> PluginCallError:
    """``context`` says which part of a batch failed (``"entry 3 (id 'a')"``)."""
    where = f"{context}: " if context else ""
    return PluginCallError(
        f"{name}: {where}the in-process provider's {method} failed: {type(error).__name__}: {error}",
        plugin=name,
        method=method,
        code="UNKNOWN",
        _wraps_provider_error=True,  # hector_plugins.sdk reports the wrapped exception itself
    )


def _response(value: Any) -> GenerateResponse:
    if isinstance(value, GenerateResponse):
        return value
    if isinstance(value, str):
        return GenerateResponse(text=value)
    if isinstance(value, dict):
        return GenerateResponse(
            text=value.get("text", ""),
            tool_calls=value.get("tool_calls"),
            tokens_used=value.get("tokens_used", 0),
        )
    raise TypeError(f"generate returned {type(value).__name__}; expected GenerateResponse, str or dict")


def _chunk(value: Any) -> StreamChunk:
    if isinstance(value, StreamChunk):
        return value
    if isinstance(value, str):
        return StreamChunk("text", text=value)
    if isinstance(value, ToolCall):
        return StreamChunk("tool_call", tool_call=value)
    raise TypeError(f"generate_stream yielded {type(value).__name__}; expected StreamChunk, str or ToolCall")


async def generate(
    name: str, provider: Any, messages: list[Message], tools: list[ToolDefinition], timeout: float | None
) -> GenerateResponse:
    """``LLMClient.generate`` served by ``provider`` (``LLMProvider.generate``)."""
    response: GenerateResponse = await _invoke(
        name, "Generate", lambda: provider.generate(messages, tools), _response, timeout
    )
    return response


async def generate_stream(
    name: str,
    provider: Any,
    messages: list[Message],
    tools: list[ToolDefinition],
    timeout: float | None = None,
) -> AsyncIterator[StreamChunk]:
    """``LLMClient.generate_stream`` served by ``provider``, emulated from ``generate`` without
    ``generate_stream``. ``timeout`` bounds the wait for the first chunk and between chunks, as
    for a plugin (a plain, synchronous iterable cannot be interrupted: it is not bounded)."""
    stream_method = getattr(provider, "generate_stream", None)
    if not callable(stream_method):
        async for chunk in _emulated_stream(name, provider, messages, tools, timeout):
            yield chunk
        return
    done = False
    source: Any = None
    try:
        source = stream_method(messages, tools)
        if inspect.isawaitable(source):  # `async def` returning a list of chunks
            source = await _within(name, source, timeout)
        if hasattr(source, "__aiter__"):
            items = source.__aiter__()
            while True:
                try:
                    item = await _within(name, items.__anext__(), timeout)
                except StopAsyncIteration:
                    break
                chunk = _chunk(item)
                done = chunk.type == "done"
                yield chunk
        else:
            for item in source:
                chunk = _chunk(item)
                done = chunk.type == "done"
                yield chunk
    except (PluginError, GeneratorExit):
        raise
    except Exception as error:
        raise _call_error(name, "GenerateStreaming", error) from error
    finally:
        # A consumer that stops early closes the provider's generator now, not at GC time.
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()
    # A plugin's stream always ends with DONE; so does a provider's that forgot it.
    if not done:
        yield StreamChunk("done")


async def _within(name: str, awaitable: Any, timeout: float | None, method: str = "GenerateStreaming") -> Any:
    """One wait of a stream, bounded like a plugin stream's first item and idle time."""
    if timeout is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise CallTimeoutError(
            f"{name}: {method} sent no chunk within {timeout:g} s",
            plugin=name,
            method=method,
            code="DEADLINE_EXCEEDED",
        ) from None


async def _emulated_stream(
    name: str, provider: Any, messages: list[Message], tools: list[ToolDefinition], timeout: float | None
) -> AsyncIterator[StreamChunk]:
    response = await generate(name, provider, messages, tools, timeout)
    for chunk in response.chunks():  # the host's one emulation rule
        yield chunk


async def model_info(name: str, provider: Any, timeout: float | None) -> ModelInfo:
    """``LLMClient.model_info`` served by ``provider``; its registered name without ``model_info``."""
    info: ModelInfo = await _optional(
        name, provider, "model_info", "GetModelInfo", _fields_of(ModelInfo, "model_info"), ModelInfo(name), timeout
    )
    return info


async def health(name: str, provider: Any, timeout: float | None) -> HealthStatus:
    """``health()`` of every typed client, served by ``provider``; healthy without ``health``."""
    default = HealthStatus(True, "in-process provider")
    status: HealthStatus = await _optional(name, provider, "health", "Health", _health, default, timeout)
    return status


def _health(value: Any) -> HealthStatus:
    if isinstance(value, HealthStatus):
        return value
    if isinstance(value, bool):
        return HealthStatus(value)
    raise TypeError(f"health returned {type(value).__name__}; expected HealthStatus or bool")


async def _optional(
    name: str,
    provider: Any,
    attribute: str,
    method: str,
    convert: Callable[[Any], Any],
    default: Any,
    timeout: float | None,
    args: tuple[Any, ...] = (),
) -> Any:
    """The provider's optional method ``attribute`` (the RPC ``method``) called with ``args``
    like any other; ``default`` when the provider has no such method."""
    call: Callable[..., Any] | None = getattr(provider, attribute, None)
    if not callable(call):
        return default
    return await _invoke(name, method, lambda: call(*args), convert, timeout)


def _fields_of(cls: type, attribute: str) -> Callable[[Any], Any]:
    """What ``attribute`` returned, as a ``cls``: one already, or a dict of its fields."""

    def convert(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(f"{attribute} returned {type(value).__name__}; expected {cls.__name__} or dict")

    return convert


# The other types' in-process calls (they use the helpers above, so they come last; names are
# unique across types, `health` above is shared).
from ._inprocess_database import (  # noqa: E402
    create_collection,
    database_info,
    delete,
    delete_collection,
    search,
    upsert,
    upsert_many,
)
from ._inprocess_embedder import embed, embed_batch, embedder_info  # noqa: E402
from ._inprocess_reasoning import (  # noqa: E402
    after_iteration,
    context_injection,
    prepare_iteration,
    prompt_slots,
    should_stop,
    strategy_info,
)
from ._inprocess_tools import call_tool, call_tool_stream, list_tools  # noqa: E402

__all__ = [
    "after_iteration",
    "call_tool",
    "call_tool_stream",
    "check_provider",
    "context_injection",
    "create_collection",
    "database_info",
    "delete",
    "delete_collection",
    "embed",
    "embed_batch",
    "embedder_info",
    "generate",
    "generate_stream",
    "health",
    "list_tools",
    "model_info",
    "prepare_iteration",
    "prompt_slots",
    "search",
    "should_stop",
    "strategy_info",
    "upsert",
    "upsert_many",
]
