"""``ReasoningConformance``: the ReasoningStrategy contract (docs/protocol.md §7.8)."""

from __future__ import annotations

import json
from typing import ClassVar

from .. import PluginManager
from .._core import IterationPlan, Message, PromptSlots, ReasoningClient, ReasoningState, StopDecision
from ..errors import PluginError
from ..literals import PluginTypeName
from ._base import PluginConformance
from ._errors import describe


class ReasoningConformance(PluginConformance):
    """The common rules, and GetStrategyInfo and every hook on a fresh state."""

    plugin_type: ClassVar[PluginTypeName] = "reasoning_strategy"
    sample_query: str = "What is 6 * 7?"
    """The query of the states the rules send."""

    def _client(self, pm: PluginManager) -> ReasoningClient:
        return pm.reasoning(self.name)

    def _state(self, iteration: int = 1, custom_state: str = "") -> ReasoningState:
        return ReasoningState(
            iteration,
            self.sample_query,
            [Message.user(self.sample_query)],
            assistant_text="42",
            custom_state=custom_state or None,
        )

    def _custom_state_problem(self, hook: str, text: str) -> None:
        if not text:
            return
        try:
            json.loads(text)
        except ValueError as error:
            self._fail(f"{hook}() to return its custom state as JSON text", f"returned {text[:200]!r} ({error})")

    async def _exercise(self, pm: PluginManager) -> None:
        await self._client(pm).info(timeout=self.call_timeout)
        await self._client(pm).prepare_iteration(self._state(), timeout=self.call_timeout)

    async def _one_of_many(self, pm: PluginManager, index: int) -> str | None:
        # A stateless strategy answers the same state the same way, however many calls run.
        state = self._state(iteration=index % 4 + 1)
        together = await self._client(pm).context_injection(state, timeout=self.call_timeout)
        alone = await self._client(pm).context_injection(state, timeout=self.call_timeout)
        return None if together == alone else f"context_injection gave {together!r}, then {alone!r} for the same state"

    def test_strategy_info(self) -> None:
        """info() names the strategy."""
        self._run("strategy_info", self._strategy_info)

    async def _strategy_info(self) -> None:
        async with self._loaded() as (pm, _info):
            try:
                info = await self._client(pm).info(timeout=self.call_timeout)
            except PluginError as error:
                self._fail("info() to answer", f"failed: {describe(error)}")
        if not info.name:
            self._fail("info() to give the strategy a name", "gave an empty name")

    def test_hooks(self) -> None:
        """prepare_iteration, should_stop, after_iteration, context_injection and prompt_slots
        answer a fresh state with their types, and custom states that are JSON."""
        self._run("hooks", self._hooks)

    async def _hooks(self) -> None:
        async with self._loaded() as (pm, _info):
            client = self._client(pm)
            hook = "prepare_iteration"
            try:
                plan = await client.prepare_iteration(self._state(), timeout=self.call_timeout)
                if not isinstance(plan, IterationPlan):
                    self._fail(f"{hook}() to return an IterationPlan", f"returned {type(plan).__name__}")
                self._custom_state_problem(hook, plan.custom_state_json)
                state = self._state(custom_state=plan.custom_state_json)
                hook = "should_stop"
                decision = await client.should_stop(state, timeout=self.call_timeout)
                if not isinstance(decision, StopDecision):
                    self._fail(f"{hook}() to return a StopDecision", f"returned {type(decision).__name__}")
                self._custom_state_problem(hook, decision.custom_state_json)
                hook = "after_iteration"
                custom = await client.after_iteration(state, timeout=self.call_timeout)
                self._custom_state_problem(hook, custom)
                hook = "context_injection"
                text = await client.context_injection(self._state(custom_state=custom), timeout=self.call_timeout)
                if not isinstance(text, str):
                    self._fail(f"{hook}() to return text", f"returned {type(text).__name__}")
                hook = "prompt_slots"
                slots = await client.prompt_slots(timeout=self.call_timeout)
                if not isinstance(slots, PromptSlots):
                    self._fail(f"{hook}() to return PromptSlots", f"returned {type(slots).__name__}")
            except PluginError as error:
                self._fail(f"{hook}() to answer a fresh state (iteration 1)", f"failed: {describe(error)}")
