"""How the kit words what went wrong: an exception in a failure message, the plugin's own words
in a refused Initialize, and a skipped rule."""

from __future__ import annotations

import re
from typing import NoReturn

from ..errors import PluginError


def skip(reason: str) -> NoReturn:
    """Skips the rule under pytest (the kit runs under pytest; imported late to keep it optional)."""
    import pytest

    pytest.skip(reason)
    raise AssertionError("unreachable")  # pytest.skip raises


def describe(error: BaseException) -> str:
    """An exception as the failure message quotes it: its class and its first lines."""
    lines = str(error).splitlines() or [""]
    text = " / ".join(lines[:4]) + (" / ..." if len(lines) > 4 else "")
    return f"{type(error).__name__}: {text}"


def initialize_refusal(error: PluginError) -> str | None:
    """The plugin's own words when ``error`` is its ``Initialize`` refusing the config (in-band
    ``InitializeResponse.error`` or a gRPC status, as crates/host/src/plugin/start.rs words it),
    else None: it never got that far, crashed, or does not serve the service."""
    first = str(error).splitlines()[0] if str(error) else ""
    found = re.search(
        r"Initialize failed \((?!UNIMPLEMENTED)[A-Z_]+\): (?:the plugin refused its configuration: )?(.*)", first
    )
    return None if found is None else found.group(1).strip()
