"""Delivers plugin log records to :mod:`logging` (called from the Rust log forwarder thread).

Each plugin logs under ``hector_plugins.plugin.<name>``. A record's ``extra`` carries
``plugin`` (the name), ``plugin_fields`` (the structured fields of an hclog JSON line),
``plugin_timestamp`` (the plugin's own timestamp, if any) and ``plugin_stream``
(``stderr``, ``stdout``, ``grpc_stdio``, or ``host``: the host's report of lines dropped over
the plugin's log budget, docs/protocol.md §5.2).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Optional

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}

Record = tuple[str, str, str, Optional[str], Optional[str], str]


def _watch_level_changes() -> None:
    """Tells the Rust forwarder whenever logging's levels change. `Logger.setLevel` and
    `logging.disable` clear logging's own level caches through `Manager._clear_cache`; the
    forwarder's cache (which spares a GIL round trip per disabled record) must be cleared with
    them, or records at a newly enabled level would be lost for up to a second."""
    from ._core import _log_levels_changed

    clear_cache = getattr(logging.Manager, "_clear_cache", None)
    if clear_cache is None or getattr(clear_cache, "_hector_plugins", False):
        return  # an interpreter without it: the forwarder's cache expires within a second

    def clear_and_tell(self: logging.Manager) -> None:
        clear_cache(self)
        _log_levels_changed()

    clear_and_tell._hector_plugins = True  # type: ignore[attr-defined]
    logging.Manager._clear_cache = clear_and_tell  # type: ignore[attr-defined,method-assign]


_watch_level_changes()


def emit(records: Sequence[Record]) -> dict[str, int]:
    """Logs each record; returns each plugin logger's effective level, which the Rust side
    caches briefly to drop disabled records without taking the GIL."""
    effective: dict[str, int] = {}
    loggers: dict[str, logging.Logger] = {}  # looked up once a batch, not once a record
    for plugin, level_name, message, fields, timestamp, stream in records:
        logger = loggers.get(plugin)
        if logger is None:
            logger = loggers[plugin] = logging.getLogger(f"hector_plugins.plugin.{plugin}")
            effective[plugin] = logger.getEffectiveLevel()
        level = _LEVELS.get(level_name, logging.DEBUG)
        if not logger.isEnabledFor(level):
            continue
        extra = {
            "plugin": plugin,
            "plugin_fields": json.loads(fields) if fields else {},
            "plugin_timestamp": timestamp,
            "plugin_stream": stream,
        }
        logger.log(level, message, extra=extra)
    return effective
