"""The plugin's logging, on stderr as the JSON lines the host reads as log records (go-plugin's
hclog format: ``@level``, ``@message``, ``@timestamp``, ``@module`` and extra fields;
docs/protocol.md, "Logs")."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone

_LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error"}

# Attributes every LogRecord has; the others were passed with ``extra=`` and become fields.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def level_name(level: int) -> str:
    if level < logging.DEBUG:
        return "trace"
    if level >= logging.ERROR:
        return "error"
    return _LEVEL_NAMES.get(level - level % 10, "info")


class HostLogFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "@level": level_name(record.levelno),
            "@message": record.getMessage(),
            "@timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="microseconds"),
            "@module": record.name,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False)


def install_log_handler(level: int) -> None:
    """Routes the root logger to stderr in the host's format, unless the plugin configured
    logging itself."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(HostLogFormatter())
    root.addHandler(handler)
    root.setLevel(level)
