"""pytest fixtures for plugin authors, registered through the ``pytest11`` entry point:

* ``plugin_manager``: a fresh ``PluginManager``, shut down after the test, even when it failed;
* ``load_plugin``: ``await load_plugin(path, name=None, config=None, **options)`` loads a plugin
  into that manager (``PluginManager.load``'s options) and returns its ``PluginInfo``; every
  plugin it loaded is stopped after the test.

Both are async fixtures, which need pytest-asyncio (``pip install 'hector-plugins[testing]'``).

Every pytest session of anyone who installs the package imports this module: it imports nothing
of the package at import time, and nothing else when pytest-asyncio is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from hector_plugins import PluginInfo, PluginManager

MISSING_PYTEST_ASYNCIO = (
    "the hector_plugins fixtures {name!r} are async and need pytest-asyncio: "
    "pip install 'hector-plugins[testing]' (or pytest-asyncio>=0.24)"
)

try:
    import pytest_asyncio
except ImportError:  # the fixtures then say what to install
    pytest_asyncio = None  # type: ignore[assignment]


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def plugin_manager() -> AsyncIterator[PluginManager]:
        """A fresh ``PluginManager``; shut down (every plugin stopped) after the test."""
        from hector_plugins import PluginManager

        pm = PluginManager()
        try:
            yield pm
        finally:
            await pm.shutdown()

    @pytest_asyncio.fixture
    async def load_plugin(plugin_manager: PluginManager) -> AsyncIterator[Callable[..., Awaitable[PluginInfo]]]:
        """``await load_plugin(path, name=None, config=None, **options)``: loads a plugin into
        ``plugin_manager`` and returns its ``PluginInfo``; it is stopped after the test."""

        async def load(path: Any, name: str | None = None, config: Any = None, **options: Any) -> PluginInfo:
            return await plugin_manager.load(path, name=name, config=config, **options)

        # plugin_manager's teardown stops every plugin this loaded.
        yield load

else:

    @pytest.fixture
    def plugin_manager() -> None:
        """Needs pytest-asyncio (``pip install 'hector-plugins[testing]'``)."""
        pytest.fail(MISSING_PYTEST_ASYNCIO.format(name="plugin_manager"), pytrace=False)

    @pytest.fixture
    def load_plugin() -> None:
        """Needs pytest-asyncio (``pip install 'hector-plugins[testing]'``)."""
        pytest.fail(MISSING_PYTEST_ASYNCIO.format(name="load_plugin"), pytrace=False)
