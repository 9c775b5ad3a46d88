"""A conformance kit for plugin authors: one class per plugin type, whose tests check a plugin
against the wire contract (docs/protocol.md), each failure saying which rule failed and what the
plugin did instead. ::

    from hector_plugins.testing import LLMConformance

    class TestMyLlm(LLMConformance):
        plugin = "path/to/my-llm"          # the executable, or its <exe>.plugin.yaml manifest
        config = {"prefix": "Echo"}        # a config Initialize accepts (default {})
        bad_config = {"temperature": "hot"}  # one it must refuse; None: that rule is skipped, saying why

Run it with pytest: every rule is a plain ``def test_<rule>(self)`` that starts the plugin itself
(through ``PluginManager``, or for the handshake rules as a bare process) and always stops it; no
pytest-asyncio needed. The classes are ``LLMConformance``, ``EmbedderConformance``,
``DatabaseConformance``, ``ToolsConformance`` and ``ReasoningConformance``; the rules they share
are ``PluginConformance``'s. Optional attributes (``start_timeout``, ``shutdown_grace``,
``call_timeout``, ``env``, ``concurrency``, ``sample_messages``, ``sample_text``, ``vector_size``,
``tool_call``, ...) are documented on the classes. A failed rule raises ``ConformanceFailure``
(an ``AssertionError``) whose message starts with the rule's name.

The pytest fixtures ``plugin_manager`` and ``load_plugin`` come with the package (entry point
``pytest11``, ``hector_plugins.testing.pytest_plugin``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._failure import ConformanceFailure

if TYPE_CHECKING:
    from ._base import PluginConformance
    from ._database import DatabaseConformance
    from ._embedder import EmbedderConformance
    from ._llm import LLMConformance
    from ._reasoning import ReasoningConformance
    from ._tools import ToolsConformance

# Imported on first use: the pytest plugin lives in this package, and every pytest session of
# anyone who installs it imports that.
_LAZY = {
    "PluginConformance": "._base",
    "LLMConformance": "._llm",
    "EmbedderConformance": "._embedder",
    "DatabaseConformance": "._database",
    "ToolsConformance": "._tools",
    "ReasoningConformance": "._reasoning",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ConformanceFailure",
    "DatabaseConformance",
    "EmbedderConformance",
    "LLMConformance",
    "PluginConformance",
    "ReasoningConformance",
    "ToolsConformance",
]
