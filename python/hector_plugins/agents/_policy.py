"""Per-agent policies (docs/agents.md, "Policies"): the plugins an agent may be built on and the
tools it may call. The plugins are checked when the agent is built; the tools are filtered out
of what the model is offered and refused, naming the policy, when the model calls them anyway."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any, Callable

from ..errors import ConfigError

POLICY_KEYS = ("plugins", "tools", "deny_tools")
"""The keys of a policy, in hector.yaml and as ``AgentPolicy``'s arguments."""

Fail = Callable[[str, str], ConfigError]
"""Builds the error for a bad policy value: (key path under the agent, what is wrong)."""


def _in_code(key: str, why: str) -> ConfigError:
    return ConfigError(f"AgentPolicy: {key}: {why}", key=key)


class AgentPolicy:
    """What one agent may call. ``plugins``: the names of the plugins it may be built on, in any
    role (llm, tool provider, database, embedder, reasoning strategy); ``tools``: glob patterns
    (``fnmatch``, case-sensitive: ``fs_*``) of the tools it may call, over all its tool
    providers and delegated agents; ``deny_tools``: patterns refused even when ``tools`` allows
    them. ``None`` (the default) leaves that part open; an empty list allows nothing."""

    __slots__ = ("deny_tools", "plugins", "tools")

    plugins: tuple[str, ...] | None
    tools: tuple[str, ...] | None
    deny_tools: tuple[str, ...]

    def __init__(
        self,
        plugins: Iterable[str] | None = None,
        tools: Iterable[str] | None = None,
        deny_tools: Iterable[str] | None = None,
    ) -> None:
        self._fill(plugins, tools, deny_tools, _in_code)

    def _fill(self, plugins: Any, tools: Any, deny_tools: Any, fail: Fail) -> None:
        self.plugins = _names(plugins, "policy.plugins", "plugin names", fail)
        self.tools = _names(tools, "policy.tools", "tool names or glob patterns", fail)
        self.deny_tools = _names(deny_tools, "policy.deny_tools", "tool names or glob patterns", fail) or ()

    @classmethod
    def from_config(cls, value: Any, fail: Fail = _in_code) -> AgentPolicy:
        """The policy of an agent's ``policy:`` mapping (or ``value`` itself, if already one);
        ``fail(key, why)`` builds the error for a bad shape, ``key`` under the agent."""
        if isinstance(value, AgentPolicy):
            return value
        if not isinstance(value, Mapping):
            raise fail("policy", f"must be a mapping with any of {', '.join(POLICY_KEYS)}, not {value!r}")
        for key in value:
            if key not in POLICY_KEYS:
                raise fail(f"policy.{key}", f"unknown key; a policy has {', '.join(POLICY_KEYS)}")
        policy = cls.__new__(cls)
        policy._fill(value.get("plugins"), value.get("tools"), value.get("deny_tools"), fail)
        return policy

    def __repr__(self) -> str:
        return f"AgentPolicy(plugins={self.plugins!r}, tools={self.tools!r}, deny_tools={self.deny_tools!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentPolicy):
            return NotImplemented
        return (self.plugins, self.tools, self.deny_tools) == (other.plugins, other.tools, other.deny_tools)

    def __hash__(self) -> int:
        return hash((self.plugins, self.tools, self.deny_tools))

    # -- plugins

    def allows_plugin(self, name: str) -> bool:
        return self.plugins is None or name in self.plugins

    def plugin_refusal(self, agent: str, role: str, plugin: str) -> str:
        allowed = ", ".join(self.plugins or ()) or "none"
        return f"agent {agent!r}: policy.plugins does not allow the {role} plugin {plugin!r} (allowed: {allowed})"

    # -- tools

    def tool_rule(self, *names: str) -> str | None:
        """The rule that refuses a tool known by ``names`` (the name the model calls it and the
        provider's own, when a prefix tells them apart): ``"policy.deny_tools"`` when any name
        matches a denied pattern, ``"policy.tools"`` when none matches an allowed one, else
        None (allowed)."""
        if any(fnmatchcase(name, pattern) for name in names for pattern in self.deny_tools):
            return "policy.deny_tools"
        if self.tools is not None and not any(fnmatchcase(name, pattern) for name in names for pattern in self.tools):
            return "policy.tools"
        return None

    def allows_tool(self, *names: str) -> bool:
        return self.tool_rule(*names) is None

    def tool_refusal(self, agent: str, tool: str, rule: str) -> str:
        """The error a refused call gets (the model reads it as the tool's result)."""
        allowed = "any" if self.tools is None else ", ".join(self.tools) or "none"
        denied = f"; denied: {', '.join(self.deny_tools)}" if self.deny_tools else ""
        return f"agent {agent!r}: {rule} does not allow tool {tool!r} (allowed: {allowed}{denied})"


def _names(value: Any, key: str, what: str, fail: Fail) -> tuple[str, ...] | None:
    """A list of non-empty strings as a tuple; None stays None."""
    if value is None:
        return None
    # A lone string is a list of its characters to Python: the usual slip, refused by name.
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise fail(key, f"must be a list of {what}, not {value!r}")
    names = tuple(value)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise fail(f"{key}[{i}]", f"must be a non-empty string, not {name!r}")
    return names
