"""In-process reasoning strategies (``PluginManager.register(name, obj,
type="reasoning_strategy")``), re-exported by ``_builtin``; the methods an object needs are
``providers.ReasoningStrategy``. Each hook gets the whole ``ReasoningState`` (the strategy keeps
none, docs/protocol.md §7.8).

* ``should_stop(state)`` (required): a ``StopDecision`` or a bool.
* ``prepare_iteration(state)``: an ``IterationPlan``; without it, nothing is injected and the
  custom state is kept.
* ``after_iteration(state)``: the new custom state (JSON text, any JSON-able value, or None to
  keep it); without it, the state is kept.
* ``context_injection(state)``: a str; without it, "".
* ``info()`` and ``prompt_slots()``: a ``StrategyInfo`` and ``PromptSlots``; without them, the
  registered name and empty slots.

An exception is the strategy's failure: ``PluginCallError``, as an in-band ``error`` is for a
plugin.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from . import _builtin
from ._core import IterationPlan, PromptSlots, ReasoningState, StopDecision, StrategyInfo


def _typed(kind: type, method: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if not isinstance(value, kind):
            raise TypeError(f"{method} returned {type(value).__name__}; expected {kind.__name__}")
        return value

    return convert


async def strategy_info(name: str, provider: Any, timeout: float | None) -> StrategyInfo:
    """``ReasoningClient.info`` served by ``provider``."""
    convert = _typed(StrategyInfo, "info")
    info: StrategyInfo = await _builtin._optional(
        name, provider, "info", "GetStrategyInfo", convert, StrategyInfo(name), timeout
    )
    return info


async def prepare_iteration(name: str, provider: Any, state: ReasoningState, timeout: float | None) -> IterationPlan:
    """``ReasoningClient.prepare_iteration`` served by ``provider``."""
    default = IterationPlan(custom_state=state.custom_state_json or None)
    convert = _typed(IterationPlan, "prepare_iteration")
    plan: IterationPlan = await _builtin._optional(
        name, provider, "prepare_iteration", "PrepareIteration", convert, default, timeout, args=(state,)
    )
    return plan


def _decision(value: Any) -> StopDecision:
    if isinstance(value, StopDecision):
        return value
    if isinstance(value, bool):
        return StopDecision(value)
    raise TypeError(f"should_stop returned {type(value).__name__}; expected StopDecision or bool")


async def should_stop(name: str, provider: Any, state: ReasoningState, timeout: float | None) -> StopDecision:
    """``ReasoningClient.should_stop`` served by ``provider``."""
    decision: StopDecision = await _builtin._invoke(
        name, "ShouldStop", lambda: provider.should_stop(state), _decision, timeout
    )
    return decision


async def after_iteration(name: str, provider: Any, state: ReasoningState, timeout: float | None) -> str:
    """``ReasoningClient.after_iteration`` served by ``provider``: the new custom state's JSON."""

    def convert(value: Any) -> str:
        if value is None:
            return state.custom_state_json
        return value if isinstance(value, str) else json.dumps(value)

    text: str = await _builtin._optional(
        name, provider, "after_iteration", "AfterIteration", convert, state.custom_state_json, timeout, args=(state,)
    )
    return text


async def context_injection(name: str, provider: Any, state: ReasoningState, timeout: float | None) -> str:
    """``ReasoningClient.context_injection`` served by ``provider``."""
    convert = _typed(str, "context_injection")
    text: str = await _builtin._optional(
        name, provider, "context_injection", "GetContextInjection", convert, "", timeout, args=(state,)
    )
    return text


async def prompt_slots(name: str, provider: Any, timeout: float | None) -> PromptSlots:
    """``ReasoningClient.prompt_slots`` served by ``provider``."""
    convert = _typed(PromptSlots, "prompt_slots")
    slots: PromptSlots = await _builtin._optional(
        name, provider, "prompt_slots", "GetPromptSlots", convert, PromptSlots(), timeout
    )
    return slots
