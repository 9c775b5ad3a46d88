"""The Python half of the plugin side, called by the Rust server on the event loop thread:
lifecycle methods (which in-process providers lack), feeding a stream into its sink, and
reporting a method's exception. The type-specific methods go through ``hector_plugins._builtin``
like an in-process provider's."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from .._builtin import _health, _settle
from .._core import HealthStatus, PluginManifest
from ..errors import PluginError

log = logging.getLogger("hector_plugins.sdk")


async def initialize(plugin: Any, config: dict[str, str]) -> None:
    method = getattr(plugin, "initialize", None)
    if callable(method):
        await _settle(method(config))


async def shutdown(plugin: Any) -> None:
    method = getattr(plugin, "shutdown", None)
    if callable(method):
        await _settle(method())


async def health(plugin: Any) -> HealthStatus:
    """``plugin.health()`` as a ``HealthStatus`` (a bool is accepted); healthy without one."""
    method = getattr(plugin, "health", None)
    if not callable(method):
        return HealthStatus(True)
    return _health(await _settle(method()))


async def get_state(plugin: Any) -> bytes | None:
    """``plugin.get_state()``: the bytes to hand to the next process, or None (also without one)."""
    method = getattr(plugin, "get_state", None)
    if not callable(method):
        return None
    state = await _settle(method())
    if state is not None and not isinstance(state, (bytes, bytearray, memoryview)):
        raise TypeError(f"get_state() returned {type(state).__name__}; expected bytes or None")
    return None if state is None else bytes(state)


async def restore_state(plugin: Any, state: bytes) -> None:
    """``plugin.restore_state(state)``; a plugin without one ignores the state."""
    method = getattr(plugin, "restore_state", None)
    if callable(method):
        await _settle(method(state))


def manifest_of(plugin: Any) -> PluginManifest | None:
    """``plugin.manifest()``, read once when the server starts."""
    method = getattr(plugin, "manifest", None)
    if not callable(method):
        return None
    value = method()
    if isinstance(value, PluginManifest):
        return value
    if isinstance(value, dict):
        return PluginManifest(**value)
    raise TypeError(f"manifest() returned {type(value).__name__}; expected PluginManifest or dict")


async def pump(items: AsyncIterator[Any], sink: Any) -> None:
    """Feeds a streaming method's items into the RPC's stream until it ends, fails or the host
    stops reading."""
    try:
        async for item in items:
            accepted = sink.send(item)
            if accepted is True:
                continue
            if accepted is False or not await accepted:
                break
    except Exception as error:
        sink.fail(error)
    finally:
        sink.close()
        close = getattr(items, "aclose", None)
        if close is not None:
            await close()


def report(plugin: str, method: str, error: BaseException) -> tuple[str, str]:
    """The gRPC code and message the host gets for a method's exception, which is logged with
    its traceback (a cancellation, the host's own doing, is not)."""
    code = "UNKNOWN"
    shown: BaseException = error
    if getattr(error, "_wraps_provider_error", False) and error.__cause__ is not None:
        shown = error.__cause__  # _builtin's wrapper around the method's own exception
    elif isinstance(error, PluginError):
        code = str(getattr(error, "code", "UNKNOWN") or "UNKNOWN")
        return code, str(error)
    if type(shown).__name__ == "CancelledError":
        return "CANCELLED", f"{method} was cancelled"
    message = f"{type(shown).__name__}: {shown}"
    log.error("%s failed: %s", method, message, exc_info=shown, extra={"plugin_method": method, "plugin_name": plugin})
    return code, message
