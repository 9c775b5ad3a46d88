"""Agents from the ``agents:`` section of hector.yaml (``pm.agent(name)``). The Rust core has
checked the section's shape and the plugins it names; this builds the ``Agent``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigError, PluginNotFoundError
from ._agent import Agent
from ._hooks import HookRegistry
from ._parts import Memory, Toolset
from ._policy import AgentPolicy

if TYPE_CHECKING:
    from .._core import PluginManager


def build_agent(
    pm: PluginManager,
    name: str,
    settings: dict[str, Any],
    *,
    origin: str,
    manager_hooks: HookRegistry,
    agent: Callable[[str], Agent],
) -> Agent:
    """The agent ``name`` configured by ``settings``; ``agent`` builds the agents it
    delegates to."""
    at = f"agents.{name}"

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{origin}: {at}.{key}: {why}", file=origin, key=f"{at}.{key}")

    def client(role: str, get: Callable[[str], Any]) -> Any:
        plugin = settings.get(role)
        if plugin is None:
            return None
        try:
            return get(plugin)
        except PluginNotFoundError as error:
            raise fail(role, f"{plugin!r} is not loaded or registered ({error})") from error

    llm = client("llm", pm.llm)
    if llm is None:
        raise fail("llm", "an agent needs an llm (a configured LLM plugin, builtin or fallback chain)")
    tools = [_toolset(pm, tool, f"tools[{i}]", fail, agent) for i, tool in enumerate(settings.get("tools") or [])]
    memory: Memory | None = None
    if settings.get("memory") is not None:
        memory_settings = settings["memory"]
        memory = Memory(
            client("database", pm.database),
            client("embedder", pm.embedder),
            memory_settings.get("collection", name),
            top_k=memory_settings.get("top_k", 3),
        )
    hooks = HookRegistry()
    hooks.load_dotted(settings.get("hooks") or {}, origin=origin, key=f"{at}.hooks")
    policy = None if settings.get("policy") is None else AgentPolicy.from_config(settings["policy"], fail)
    reasoning = client("reasoning_strategy", pm.reasoning)
    try:
        return Agent(
            llm,
            tools,
            reasoning=reasoning,
            memory=memory,
            name=name,
            description=settings.get("description") or "",
            system_prompt=settings.get("system_prompt"),
            max_iterations=settings.get("max_iterations") or 10,
            max_tokens=settings.get("max_tokens"),
            timeout=settings.get("timeout"),
            tool_timeout=settings.get("tool_timeout"),
            max_concurrent_tools=settings.get("max_concurrent_tools") or 8,
            streaming=bool(settings.get("streaming", False)),
            hooks=hooks,
            manager_hooks=manager_hooks,
            policy=policy,
        )
    except ConfigError as error:
        if not (error.key or "").startswith("policy."):
            raise
        # A plugin outside policy.plugins: the message names the agent and the policy; add the file.
        raise ConfigError(f"{origin}: {error}", file=origin, key=f"{at}.{error.key}") from error


def _toolset(
    pm: PluginManager, tool: Any, at: str, fail: Callable[[str, str], ConfigError], agent: Callable[[str], Agent]
) -> Toolset:
    if not isinstance(tool, dict):
        raise fail(at, f"must be a mapping such as {{type: plugin, provider: <name>}}, not {tool!r}")
    kind = tool.get("type", "plugin")
    prefix, only = str(tool.get("prefix") or ""), tool.get("only")
    if kind == "plugin":
        provider = str(tool.get("provider"))
        try:
            return Toolset(pm.tools(provider), prefix=prefix, only=only)
        except PluginNotFoundError as error:
            raise fail(f"{at}.provider", f"{provider!r} is not loaded or registered ({error})") from error
    if kind == "agent":
        delegate = agent(tool["agent"])
        return Toolset(delegate.as_tool(tool.get("name"), tool.get("description")), prefix=prefix, only=only)
    raise fail(f"{at}.type", f"an agent's tools are `type: plugin` (a tool provider) or `type: agent`, not {kind!r}")
