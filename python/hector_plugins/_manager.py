"""``hector_plugins.PluginManager``: the Rust core's manager plus what lives in Python, the
agents of hector.yaml and the hooks every agent runs."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Optional, get_args

from . import _core
from .agents import Agent, HookRegistry
from .agents._config import build_agent
from .errors import ConfigError, PluginNotFoundError
from .literals import LifecycleEventName

LIFECYCLE_EVENTS: tuple[str, ...] = get_args(LifecycleEventName)
EventCallback = Callable[["_core.LifecycleEvent"], Optional[Awaitable[None]]]
_events_logger = logging.getLogger("hector_plugins.events")


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
        self._listeners: list[tuple[str, EventCallback]] = []
        self._event_task: asyncio.Task[None] | None = None

    def on(self, event: str, callback: EventCallback) -> None:
        """Calls ``callback(event)`` (async or plain) for every lifecycle event named ``event``
        from now on: ``loaded``, ``unhealthy``, ``crashed``, ``restarting``, ``restarted``,
        ``failed``, ``reloaded``, ``reload_failed``, ``stopped``, or ``"*"`` for all. Callbacks run
        one after the other on this event loop, in registration order; one that raises is logged
        (logger ``hector_plugins.events``) and the others still run. Call it from async code:
        events are read by a task of the running loop."""
        if event != "*" and event not in LIFECYCLE_EVENTS:
            raise ValueError(f"unknown lifecycle event {event!r}; expected one of {', '.join(LIFECYCLE_EVENTS)} or '*'")
        if not callable(callback):
            raise TypeError(f"pm.on({event!r}, ...): the callback must be callable, not {type(callback).__name__}")
        self._listeners.append((event, callback))
        if self._event_task is None:
            loop = asyncio.get_running_loop()
            # Subscribed now, so that nothing between this call and the task's start is missed.
            first = self._next_event()
            self._event_task = loop.create_task(self._deliver_events(first), name="hector_plugins events")

    async def _deliver_events(self, first: Awaitable[_core.LifecycleEvent | None]) -> None:
        event = await first
        while event is not None:
            for callback in [callback for name, callback in self._listeners if name in (event.event, "*")]:
                try:
                    outcome = callback(event)
                    if inspect.isawaitable(outcome):
                        await outcome
                except Exception:
                    _events_logger.exception("pm.on(%r) callback %r failed on %r", event.event, callback, event)
            event = await self._next_event()

    def shutdown_on_signals(self, *signals: int, timeout: float | None = None) -> None:
        """When this process gets one of ``signals`` (default: SIGTERM and SIGINT), shut every
        plugin down gracefully (``shutdown(timeout=timeout)``), then let the signal end the
        program as it would have without this. Call it from async code: the handlers belong to
        the running loop (``loop.add_signal_handler``, Unix)."""
        loop = asyncio.get_running_loop()
        chosen = signals or (signal.SIGTERM, signal.SIGINT)

        def received(number: int) -> None:
            for each in chosen:
                loop.remove_signal_handler(each)
            loop.create_task(self._shut_down_then_resend(number, timeout), name="hector_plugins signal shutdown")

        for number in chosen:
            loop.add_signal_handler(number, received, number)

    async def _shut_down_then_resend(self, number: int, timeout: float | None) -> None:
        try:
            await self.shutdown(timeout=timeout)
        finally:
            # SIGINT's own handler raises KeyboardInterrupt (finally blocks and atexit run);
            # the others end the process as the signal does.
            signal.signal(number, signal.default_int_handler if number == signal.SIGINT else signal.SIG_DFL)
            os.kill(os.getpid(), number)

    async def shutdown(self, grace: float | None = None, timeout: float | None = None) -> None:
        """Stops every plugin (see the core's ``shutdown``), then delivers the ``stopped``
        events to ``pm.on`` callbacks before returning."""
        await super().shutdown(grace, timeout)
        # (A callback that itself shuts the manager down must not wait for its own task.)
        if self._event_task is not None and self._event_task is not asyncio.current_task():
            await self._event_task

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

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
