"""``hector_plugins.PluginManager``: the Rust core's manager plus what lives in Python, the
agents of hector.yaml and the hooks every agent runs."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from . import _core
from .agents import Agent, HookRegistry
from .agents._config import build_agent
from .errors import ConfigError, PluginNotFoundError


class PluginManager(_core.PluginManager):
    """Launches, supervises, calls and stops plugins; use it as ``async with PluginManager() as pm``.

    ``hooks`` runs in every agent this manager builds: installed packages' hooks (entry-point
    group ``hector_plugins.hooks``), then hector.yaml's top-level ``hooks``, then those
    registered in code. ``agent(name)`` builds an agent of the ``agents:`` section."""

    hooks: HookRegistry
    """The hooks of every agent built by ``agent()`` (they run before each agent's own)."""

    def __init__(self, config: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> None:
        settings = json.loads(self._agent_settings())
        self._origin: str = settings["origin"] or "config"
        self._agent_configs: dict[str, dict[str, Any]] = settings["agents"]
        self._agents: dict[str, Agent] = {}
        self.hooks = HookRegistry()
        self.hooks.load_entry_points()
        self.hooks.load_dotted(settings["hooks"], origin=self._origin, key="hooks")

    @property
    def agent_names(self) -> list[str]:
        """The agents of the configuration's ``agents:`` section."""
        return list(self._agent_configs)

    def agent(self, name: str) -> Agent:
        """The agent ``name`` of the ``agents:`` section, built on first use (its plugins must be
        loaded or registered by then) and kept: later calls return the same ``Agent``.
        ``PluginNotFoundError`` for a name the section does not have; ``ConfigError`` when a
        plugin it names is not loaded, or a hook's dotted path cannot be imported."""
        if name in self._agents:
            return self._agents[name]
        settings = self._agent_configs.get(name)
        if settings is None:
            known = ", ".join(self._agent_configs) or "none"
            raise PluginNotFoundError(
                f"no agent named {name!r} in the configuration's agents: section (agents: {known})",
                kind="agent",
                known=list(self._agent_configs),
            )
        built = build_agent(
            self, name, settings, origin=self._origin, manager_hooks=self.hooks, agent=self._delegate_to
        )
        self._agents[name] = built
        return built

    def _delegate_to(self, name: str) -> Agent:
        try:
            return self.agent(name)
        except PluginNotFoundError as error:  # the Rust check makes this unreachable from a file
            raise ConfigError(str(error)) from error
