"""Collects what a plugin logged (its stderr lines reach ``logging`` under
``hector_plugins.plugin.<name>``, docs/protocol.md §5) and judges the lines that look like JSON."""

from __future__ import annotations

import json
import logging
from types import TracebackType

# The levels the host reads from a JSON line's `@level` (any case; crates/protocol/src/log_level.rs).
KNOWN_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")


class LogCollector(logging.Handler):
    """Every record of one plugin's logger, at every level, while in a ``with`` block."""

    def __init__(self, plugin_name: str) -> None:
        super().__init__(level=1)
        self.logger = logging.getLogger(f"hector_plugins.plugin.{plugin_name}")
        self.records: list[logging.LogRecord] = []
        self._saved_level = self.logger.level

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> LogCollector:
        self.logger.addHandler(self)
        self.logger.setLevel(1)  # below TRACE: the host drops records below the effective level
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self._saved_level)


def json_line_problem(record: logging.LogRecord) -> str | None:
    """What is wrong with a stderr line that starts with ``{``, or None. The host parsed the
    well-formed ones (they carry ``plugin_timestamp``); a line it could not parse arrives as its
    raw text, which is checked here to say why."""
    if getattr(record, "plugin_stream", None) not in ("stderr", "grpc_stdio"):
        return None
    if getattr(record, "plugin_timestamp", None) is not None:
        return None
    line = record.getMessage().strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError as error:
        return f"is not JSON ({error})"
    if not isinstance(value, dict):
        return "is not a JSON object"
    level = value.get("@level")
    if not isinstance(level, str):
        return "has no @level"
    if level.lower() not in KNOWN_LEVELS:
        return f"has @level {level!r}, not one of {', '.join(KNOWN_LEVELS)}"
    if not isinstance(value.get("@message"), str):
        return "has no @message"
    return (
        f"has @timestamp {value.get('@timestamp')!r}, not hclog's layout with six fractional digits "
        "(e.g. 2026-01-02T15:04:05.000000Z), so the host logs the raw line as a warning"
    )
