"""What a broken rule raises, and the one shape of its message."""

from __future__ import annotations

import os
from typing import NoReturn, Union

_Path = Union[str, "os.PathLike[str]"]


class ConformanceFailure(AssertionError):
    """A conformance rule failed. The message starts with the rule's name, then says what the rule
    expected and what the plugin did instead, and names the plugin."""

    rule: str
    """The rule's name, e.g. ``"handshake_line"``."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def fail(rule: str, plugin: _Path, expected: str, instead: str) -> NoReturn:
    """Raises ``ConformanceFailure("<rule>: expected <expected>; the plugin <instead> (plugin: <path>)")``."""
    raise ConformanceFailure(rule, f"{rule}: expected {expected}; the plugin {instead} (plugin: {os.fspath(plugin)})")
