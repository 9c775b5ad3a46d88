"""``serve`` and ``serve_async``: check the environment, set up logging and signals, run the
Rust plugin server on the event loop until the host stops it."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Literal

from .. import _core
from .._builtin import REQUIRED_METHODS
from ..errors import PluginError
from ._dispatch import manifest_of
from ._log import install_log_handler

PluginType = Literal["llm_provider", "embedder_provider", "database_provider", "tool_provider", "reasoning_strategy"]

_SHORT_NAMES = {
    "llm": "llm_provider",
    "embedder": "embedder_provider",
    "database": "database_provider",
    "tools": "tool_provider",
    "reasoning": "reasoning_strategy",
}


def serve(
    plugin: object,
    *,
    type: PluginType | str | None = None,
    name: str | None = None,
    shutdown_grace: float = 1.0,
    log_level: int = logging.INFO,
) -> None:
    """Serves ``plugin`` until the host stops it, then returns (the process exits 0 when
    ``serve`` is the last thing the script does). Run by hand (without the host's cookie) it
    prints why on stderr and exits with status 1. ``type`` is inferred from the methods when
    omitted; ``name`` (default: the class name) appears in the plugin's log records."""
    asyncio.run(serve_async(plugin, type=type, name=name, shutdown_grace=shutdown_grace, log_level=log_level))


async def serve_async(
    plugin: object,
    *,
    type: PluginType | str | None = None,
    name: str | None = None,
    shutdown_grace: float = 1.0,
    log_level: int = logging.INFO,
) -> None:
    """``serve`` on the running event loop, for a program that owns its loop."""
    kind = plugin_type(plugin, type)
    try:
        version = _core._sdk_check_environment()
    except PluginError as error:
        print(error, file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    install_log_handler(log_level)
    server = _core.PluginServer(kind, plugin, name or _class_name(plugin), manifest_of(plugin))
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, server.shutdown)
    try:
        await server.serve(version, shutdown_grace)
    finally:
        server.close()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(stop_signal)


def plugin_type(plugin: object, given: str | None) -> str:
    """The plugin's type: ``given`` (a section name or its short form), else the one type
    whose required methods ``plugin`` has."""
    if given is not None:
        kind = _SHORT_NAMES.get(given, given)
        if kind not in REQUIRED_METHODS:
            names = ", ".join(sorted(set(REQUIRED_METHODS) | set(_SHORT_NAMES)))
            raise ValueError(f"type={given!r} is not a plugin type; use one of {names}")
        missing = [m for m in REQUIRED_METHODS[kind] if not callable(getattr(plugin, m, None))]
        if missing:
            raise TypeError(f"{_class_name(plugin)} cannot serve as a {kind}: it has no {', '.join(missing)}()")
        return kind
    matches = [
        kind
        for kind, methods in REQUIRED_METHODS.items()
        if all(callable(getattr(plugin, method, None)) for method in methods)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        wanted = "; ".join(
            f"{kind}: {', '.join(m + '()' for m in methods)}" for kind, methods in REQUIRED_METHODS.items()
        )
        raise TypeError(f"{_class_name(plugin)} has the methods of no plugin type ({wanted})")
    raise TypeError(f"{_class_name(plugin)} has the methods of {' and '.join(matches)}; pass type= to choose")


def _class_name(plugin: object) -> str:
    return type(plugin).__name__
