"""Hooks: callables that observe and steer an agent run at named points (docs/agents.md).

A hook receives the context of its point, may change it (the run goes on with what the hook
left), and may veto by raising ``Veto``. Hooks run one after another in registration order:
first the manager's (``pm.hooks``: installed packages' entry points, then hector.yaml's
top-level ``hooks``, then those registered in code), then the agent's own. A hook that raises
anything else, or outlives its timeout, fails the run with a ``HookError`` naming it.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, Callable, Literal, Union, cast, get_args

from ..errors import ConfigError, HookError, HookVetoError, PluginError

HookPoint = Literal[
    "pre_workflow_execution",
    "before_iteration",
    "before_generate",
    "after_generate",
    "before_tool_call",
    "after_tool_call",
    "after_iteration",
    "post_workflow_execution",
    "on_error",
]
"""Where a hook runs, in the order a run reaches them (``on_error`` when a run fails)."""

HOOK_POINTS: tuple[HookPoint, ...] = get_args(HookPoint)

Hook = Callable[[Any], Union[None, Awaitable[None]]]
"""A hook: a function (or coroutine function) of the point's context."""

ENTRY_POINT_GROUP = "hector_plugins.hooks"
"""Installed packages register hooks through this entry-point group: each entry point names a
function that receives the manager's ``HookRegistry`` and registers on it."""


class Veto(Exception):
    """Raised by a hook to refuse the step it sees, with the reason."""


@dataclass(frozen=True)
class RegisteredHook:
    """One hook in a registry."""

    point: HookPoint
    fn: Hook
    name: str
    timeout: float | None


def hook_name(fn: Any) -> str:
    """``module:qualname`` of a function, the repr of anything else."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    return f"{module}:{qualname}" if module and qualname else repr(fn)


def check_point(point: str) -> HookPoint:
    if point not in HOOK_POINTS:
        raise ConfigError(f"unknown hook point {point!r}; the points are: {', '.join(HOOK_POINTS)}", key=point)
    return cast(HookPoint, point)


class HookRegistry:
    """The hooks of a manager (``pm.hooks``, for every agent it builds) or of one agent
    (``agent.hooks``)."""

    def __init__(self) -> None:
        self._hooks: dict[HookPoint, list[RegisteredHook]] = {}

    def register(self, point: HookPoint, fn: Hook, *, name: str | None = None, timeout: float | None = None) -> Hook:
        """Runs ``fn(context)`` at ``point`` after the hooks registered before it. ``name``
        (default ``module:qualname``) is how errors and the trace call it; ``timeout`` (seconds)
        bounds an async hook. Returns ``fn``."""
        point = check_point(point)
        if not callable(fn):
            raise ConfigError(f"a hook must be callable, not {fn!r}", key=point)
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ConfigError(f"a hook's timeout must be more than 0 seconds, not {timeout!r}", key="timeout")
        hook = RegisteredHook(point, fn, name or hook_name(fn), timeout)
        self._hooks.setdefault(point, []).append(hook)
        return fn

    def on(self, point: HookPoint, *, name: str | None = None, timeout: float | None = None) -> Callable[[Hook], Hook]:
        """Decorator form of ``register``: ``@pm.hooks.on("before_tool_call")``."""
        check_point(point)
        return lambda fn: self.register(point, fn, name=name, timeout=timeout)

    def unregister(self, fn_or_name: Hook | str) -> int:
        """Removes a hook (by function or name) from every point; returns how many went."""
        removed = 0
        for point, hooks in self._hooks.items():
            kept = [h for h in hooks if h.fn is not fn_or_name and h.name != fn_or_name]
            removed += len(hooks) - len(kept)
            self._hooks[point] = kept
        return removed

    def clear(self) -> None:
        """Removes every hook."""
        self._hooks.clear()

    @property
    def points(self) -> frozenset[HookPoint]:
        """The points that have hooks (the loop builds no context for the others)."""
        return frozenset(point for point, hooks in self._hooks.items() if hooks)

    def lists(self, then: HookRegistry | None = None) -> dict[HookPoint, list[RegisteredHook]]:
        """A copy of the hooks by point, only points that have some; ``then``'s hooks run
        after this registry's (a run takes this once: registering during it applies from the
        next run)."""
        lists = {point: list(hooks) for point, hooks in self._hooks.items() if hooks}
        for point, hooks in then._hooks.items() if then is not None else ():
            if hooks:
                lists[point] = lists.get(point, []) + hooks
        return lists

    def at(self, point: HookPoint) -> list[RegisteredHook]:
        """The hooks of ``point``, in the order they run."""
        return list(self._hooks.get(point, ()))

    def __len__(self) -> int:
        return sum(len(hooks) for hooks in self._hooks.values())

    def __repr__(self) -> str:
        counts = ", ".join(f"{p}={len(h)}" for p, h in self._hooks.items() if h)
        return f"HookRegistry({counts})"

    def load_dotted(self, section: dict[str, Any], *, origin: str, key: str) -> None:
        """Registers the hooks of a hector.yaml ``hooks`` mapping (point → dotted paths)."""
        for point, paths in section.items():
            if point not in HOOK_POINTS:
                raise ConfigError(
                    f"{origin}: {key}.{point}: unknown hook point; the points are: {', '.join(HOOK_POINTS)}",
                    file=origin,
                    key=f"{key}.{point}",
                )
            for i, path in enumerate([paths] if isinstance(paths, str) else paths):
                at = f"{key}.{point}[{i}]"
                self.register(cast(HookPoint, point), import_dotted(path, origin=origin, key=at), name=path)

    def load_entry_points(self) -> None:
        """Lets every installed package's ``hector_plugins.hooks`` entry point register its
        hooks, in the order of the entry points' names."""
        from importlib.metadata import entry_points

        found: Any = entry_points()  # a dict of groups before Python 3.10
        group = found.select(group=ENTRY_POINT_GROUP) if hasattr(found, "select") else found.get(ENTRY_POINT_GROUP, [])
        # Python 3.9 lists a distribution found twice on sys.path twice.
        unique = {(entry.name, entry.value): entry for entry in group}
        for entry in sorted(unique.values(), key=lambda e: e.name):
            where = f"entry point {entry.name!r} ({entry.value}) of group {ENTRY_POINT_GROUP!r}"
            try:
                setup = entry.load()
            except Exception as error:
                raise ConfigError(f"{where}: cannot be loaded: {type(error).__name__}: {error}") from error
            if not callable(setup):
                raise ConfigError(f"{where}: must name a function that takes the HookRegistry, not {setup!r}")
            try:
                setup(self)
            except Exception as error:  # e.g. a hook at an unknown point: say which package did it
                raise ConfigError(f"{where}: failed to register its hooks: {type(error).__name__}: {error}") from error


def import_dotted(path: str, *, origin: str, key: str) -> Hook:
    """The object at ``package.module:attr`` (or ``package.module.attr``)."""
    module_name, _, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    where = f"{origin}: {key}: {path!r}"
    if not module_name or not attribute:
        raise ConfigError(f"{where}: not a dotted path such as `package.module:function`", file=origin, key=key)
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except Exception as error:  # a module that fails as it is imported is as bad as a missing one
        raise ConfigError(
            f"{where}: cannot be imported: {type(error).__name__}: {error}", file=origin, key=key
        ) from error
    if not callable(found):
        raise ConfigError(f"{where}: is not callable", file=origin, key=key)
    return cast(Hook, found)


async def run_hooks(hooks: Iterable[RegisteredHook], context: Any, *, agent: str) -> None:
    """Runs ``hooks`` on ``context`` in order; a veto or a failure raises, naming the hook."""
    for hook in hooks:
        details = {"agent": agent, "hook": hook.name, "point": hook.point, "result": None}
        try:
            outcome = hook.fn(context)
            if inspect.isawaitable(outcome):
                await (outcome if hook.timeout is None else _within(outcome, hook))
        except Veto as veto:
            reason = str(veto) or "no reason given"
            message = f"agent {agent!r}: hook {hook.name!r} vetoed {hook.point}: {reason}"
            raise HookVetoError(message, reason=reason, **details) from veto
        except HookError:
            raise
        except _HookTimedOut as error:
            message = f"agent {agent!r}: hook {hook.name!r} at {hook.point} timed out after {hook.timeout} s"
            raise HookError(message, **details) from error.__cause__
        except Exception as error:
            message = f"agent {agent!r}: hook {hook.name!r} at {hook.point} raised {type(error).__name__}: {error}"
            raise HookError(message, **details) from error


class _HookTimedOut(Exception):
    pass


async def _within(outcome: Awaitable[None], hook: RegisteredHook) -> None:
    try:
        await asyncio.wait_for(outcome, hook.timeout)
    except asyncio.TimeoutError as error:
        if isinstance(error, PluginError):  # a plugin call inside the hook timed out, not the hook
            raise
        raise _HookTimedOut(f"it timed out after {hook.timeout} s") from error
