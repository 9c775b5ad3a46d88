"""Per-agent policies (docs/agents.md, "Policies") over real plugin processes: a tool the policy
forbids is not offered, and a call the model makes to it anyway is refused naming the policy
without reaching the plugin; an agent built on a plugin outside ``policy.plugins`` fails when it
is built; a policy of the wrong shape in hector.yaml is a ConfigError naming its key.

The Go echo LLM plays the model (examples/go/echo-llm/main.go): `call <tool> <json>` lines are
tool calls (made only when the request offers tools), a trailing tool result is answered
"Done: <results>", anything else "Echo: <last user message>". The Go tool provider
(examples/go/tools/main.go) offers `crash` with crash_tool = "true": its process exits when the
call reaches it, so a plugin that is still the same process has never received it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import ConfigError, PluginManager, ToolDefinition, Toolset
from hector_plugins.agents import (
    Agent,
    AgentPolicy,
    GenerateContext,
    ToolCallContext,
    ToolCallEvent,
    ToolResultEvent,
)

CRASH_AND_ADD = 'call crash {}\ncall calculator {"expression": "2+3"}'
DENIED_CRASH = (
    "agent 'solver': policy.deny_tools does not allow tool 'crash' (allowed: calc*, read_*, crash; denied: crash)"
)
POLICY = """
    policy:
      plugins: [echo, calc]
      tools: ["calc*", "read_*", crash]
      deny_tools: [crash]
"""


def write_config(tmp_path: Path, go_plugin: Path, tools_plugin: Path, agent: str) -> Path:
    """hector.yaml with the echo LLM, the Go tools (with `crash`) and the agent `solver`, whose
    further settings are ``agent`` (YAML indented under it)."""
    config = tmp_path / "hector.yaml"
    config.write_text(
        f"""plugins:
  llm_providers:
    echo: {{path: {go_plugin}}}
  tool_providers:
    calc:
      path: {tools_plugin}
      config: {{crash_tool: "true"}}
agents:
  solver:
    llm: echo
    tools: [{{type: plugin, provider: calc}}]
{agent.strip(chr(10))}
"""
    )
    return config


@pytest.fixture
async def pm(tmp_path: Path, go_plugin: Path, tools_plugin: Path) -> AsyncIterator[PluginManager]:
    async with PluginManager(write_config(tmp_path, go_plugin, tools_plugin, POLICY)) as manager:
        await manager.load_all(strict=True)
        yield manager


def calc_process(pm: PluginManager) -> tuple[int | None, str, int | None]:
    calc = next(p for p in pm.plugins if p.name == "calc")
    return calc.pid, calc.state, calc.exit_code


# ---- tools -------------------------------------------------------------------------------


async def test_a_forbidden_tool_the_model_calls_is_refused_naming_the_policy_and_never_reaches_the_plugin(
    pm: PluginManager,
) -> None:
    agent = pm.agent("solver")
    assert agent.policy == AgentPolicy(
        plugins=["echo", "calc"], tools=["calc*", "read_*", "crash"], deny_tools=["crash"]
    )
    before = calc_process(pm)

    events = [event async for event in agent.stream(CRASH_AND_ADD)]
    result = events[-1].result  # type: ignore[union-attr]

    crash, calculator = result.tool_calls
    assert (crash.call.name, crash.provider, crash.refused_by, crash.error) == (
        "crash",
        "calc",
        "policy.deny_tools",
        DENIED_CRASH,
    )
    assert not crash.result.success and crash.result.error == DENIED_CRASH
    assert crash.vetoed_by is None and crash.delegated is None
    assert (calculator.refused_by, calculator.error, calculator.result.content) == (None, None, "5")
    # The model saw the refusal as the tool's result, and the run went on.
    assert result.answer == f"Done: error: {DENIED_CRASH}; 5"
    assert result.stop_reason == "model_done"
    refused_event = next(e for e in events if isinstance(e, ToolResultEvent) and e.trace.call.name == "crash")
    assert refused_event.trace.refused_by == "policy.deny_tools"
    assert [e.call.name for e in events if isinstance(e, ToolCallEvent)] == ["crash", "calculator"]

    # The plugin never received `crash`: it is the same process, ready, and serving.
    assert calc_process(pm) == before and before[1] == "ready"
    assert (await pm.tools("calc").call("calculator", {"expression": "1+1"})).content == "2"


async def test_a_tool_outside_policy_tools_is_refused_by_that_rule(pm: PluginManager) -> None:
    result = await pm.agent("solver").run('call slow {"seconds": 30}')
    [slow] = result.tool_calls
    assert slow.refused_by == "policy.tools"
    assert slow.error == (
        "agent 'solver': policy.tools does not allow tool 'slow' (allowed: calc*, read_*, crash; denied: crash)"
    )
    # A name no provider has is refused by the policy too, not listed with the forbidden tools.
    result = await pm.agent("solver").run("call nope {}")
    [nope] = result.tool_calls
    assert (nope.provider, nope.refused_by) == ("", "policy.tools")


async def test_a_hook_cannot_rename_a_call_past_the_policy(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    before = calc_process(pm)

    def to_crash(context: ToolCallContext) -> None:
        context.name = "crash"

    agent.hooks.register("before_tool_call", to_crash)
    result = await agent.run('call calculator {"expression": "2+3"}')
    [renamed] = result.tool_calls
    assert (renamed.call.name, renamed.refused_by, renamed.error) == ("crash", "policy.deny_tools", DENIED_CRASH)
    assert calc_process(pm) == before


async def test_forbidden_tools_are_not_offered_even_by_a_hook(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    assert [t.name for t in await agent.list_tools()] == ["calculator", "read_file"]
    seen: list[list[str]] = []

    def offer_crash(context: GenerateContext) -> None:
        context.tools.append(ToolDefinition("crash", "Exits the plugin.", {"type": "object"}))

    agent.hooks.register("before_generate", offer_crash)
    agent.hooks.register("after_generate", lambda context: seen.append([t.name for t in context.tools]))
    result = await agent.run('call calculator {"expression": "6*7"}')
    assert result.answer == "Done: 42"
    assert [step.tools_offered for step in result.iterations] == [["calculator", "read_file"]] * 2
    assert seen == [["calculator", "read_file"]] * 2


async def test_an_agent_whose_policy_allows_no_tool_offers_none_to_the_model(
    go_plugin: Path, tools_plugin: Path
) -> None:
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="echo")
        await pm.load(tools_plugin, name="calc", type="tools")
        agent = Agent(pm.llm("echo"), [pm.tools("calc")], policy={"tools": []}, name="quiet")
        assert await agent.list_tools() == []
        # The echo LLM makes tool calls only when the request carries tools: it got none.
        result = await agent.run('call calculator {"expression": "6*7"}')
        assert result.tool_calls == [] and result.answer.startswith("Echo: call calculator")


async def test_a_prefixed_tool_is_matched_by_both_its_names(go_plugin: Path, tools_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(go_plugin, name="echo")
        await pm.load(tools_plugin, name="calc", type="tools", config={"crash_tool": "true"})
        before = calc_process(pm)
        policy = AgentPolicy(tools=["math_*"], deny_tools=["crash", "slow"])
        agent = Agent(pm.llm("echo"), [Toolset(pm.tools("calc"), prefix="math_")], policy=policy, name="math")
        # `deny_tools` names the provider's own tools: the prefix does not take them past it.
        assert [t.name for t in await agent.list_tools()] == ["math_calculator", "math_read_file"]
        result = await agent.run('call math_crash {}\ncall math_calculator {"expression": "2*3"}')
        crash, calculator = result.tool_calls
        assert crash.refused_by == "policy.deny_tools"
        assert crash.error == "agent 'math': policy.deny_tools does not allow tool 'math_crash' " + (
            "(allowed: math_*; denied: crash, slow)"
        )
        assert calculator.result.content == "6"
        assert calc_process(pm) == before


async def test_a_delegated_agent_counts_as_a_tool_by_its_tool_name(go_plugin: Path, tools_plugin: Path) -> None:
    config = {
        "plugins": {
            "llm_providers": {"echo": {"path": str(go_plugin)}},
            "tool_providers": {"calc": {"path": str(tools_plugin)}},
        },
        "agents": {
            "lead": {
                "llm": "echo",
                "tools": [{"type": "agent", "agent": "mathematician"}, {"type": "plugin", "provider": "calc"}],
                "policy": {"plugins": ["echo", "calc"], "tools": ["calculator"]},
            },
            "trusting": {
                "llm": "echo",
                "tools": [{"type": "agent", "agent": "mathematician"}],
                "policy": {"plugins": ["echo"], "tools": ["mathematician"]},
            },
            "mathematician": {"llm": "echo", "tools": [{"type": "plugin", "provider": "calc"}]},
        },
    }
    inner = json.dumps({"task": 'call calculator {"expression": "2+2"}'})
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True)
        lead = pm.agent("lead")
        assert [t.name for t in await lead.list_tools()] == ["calculator"]
        result = await lead.run(f"call mathematician {inner}")
        [delegation] = result.tool_calls
        assert delegation.provider == "mathematician" and delegation.refused_by == "policy.tools"
        assert delegation.delegated is None, "the delegated agent never ran"
        assert (
            delegation.error == "agent 'lead': policy.tools does not allow tool 'mathematician' (allowed: calculator)"
        )

        # Allowed by its tool name; the delegated agent is not a plugin, and runs under its own policy.
        result = await pm.agent("trusting").run(f"call mathematician {inner}")
        [delegation] = result.tool_calls
        assert delegation.refused_by is None and result.answer == "Done: Done: 4"


# ---- plugins -----------------------------------------------------------------------------


async def test_an_agent_built_on_a_plugin_outside_policy_plugins_fails_naming_the_policy(
    tmp_path: Path, go_plugin: Path, tools_plugin: Path
) -> None:
    config = write_config(tmp_path, go_plugin, tools_plugin, "    policy: {plugins: [echo]}")
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True)
        with pytest.raises(ConfigError) as from_file:
            pm.agent("solver")
        assert str(from_file.value) == (
            f"{config}: agent 'solver': policy.plugins does not allow the tool provider plugin 'calc' (allowed: echo)"
        )
        assert (from_file.value.key, from_file.value.file) == ("agents.solver.policy.plugins", str(config))

        llm, calc = pm.llm("echo"), pm.tools("calc")
        with pytest.raises(ConfigError) as in_code:
            Agent(llm, [calc], policy=AgentPolicy(plugins=["calc"]), name="coder")
        assert str(in_code.value) == (
            "agent 'coder': policy.plugins does not allow the llm plugin 'echo' (allowed: calc)"
        )
        assert in_code.value.key == "policy.plugins"
        with pytest.raises(ConfigError, match=r"does not allow the llm plugin 'echo' \(allowed: none\)"):
            Agent(llm, policy=AgentPolicy(plugins=[]))

        # In-process parts are not plugins: only the plugin clients are checked.
        class Model:
            def generate(self, messages: Any, tools: Any) -> str:
                return "fine"

        assert (await Agent(Model(), policy=AgentPolicy(plugins=[])).run("hi")).answer == "fine"
        Agent(llm, [calc], policy=AgentPolicy(plugins=["echo", "calc"]))  # granted: builds


def test_a_policy_of_the_wrong_shape_in_code_names_the_key() -> None:
    class Model:
        def generate(self, messages: Any, tools: Any) -> str:
            return ""

    cases: list[tuple[Any, str, str]] = [
        ({"tools": "fs_*"}, "policy.tools", "must be a list of tool names or glob patterns, not 'fs_*'"),
        ({"deny_tool": ["x"]}, "policy.deny_tool", "unknown key; a policy has plugins, tools, deny_tools"),
        ({"plugins": ["echo", ""]}, "policy.plugins[1]", "must be a non-empty string, not ''"),
        (["echo"], "policy", "must be a mapping with any of plugins, tools, deny_tools"),
    ]
    for policy, key, why in cases:
        with pytest.raises(ConfigError) as bad:
            Agent(Model(), policy=policy, name="a")
        assert bad.value.key == key and str(bad.value).startswith(f"agent 'a': {key}: {why}"), str(bad.value)
    with pytest.raises(ConfigError, match=r"^AgentPolicy: policy\.deny_tools\[0\]: must be a non-empty string"):
        AgentPolicy(deny_tools=[3])  # type: ignore[list-item]


def test_deny_wins_and_patterns_are_globs() -> None:
    policy = AgentPolicy(tools=["search", "fs_*"], deny_tools=["fs_write"])
    assert [policy.tool_rule(name) for name in ("search", "fs_read", "fs_write", "FS_read", "shell")] == [
        None,
        None,
        "policy.deny_tools",
        "policy.tools",
        "policy.tools",
    ]
    assert AgentPolicy().allows_tool("anything") and AgentPolicy().allows_plugin("anything")
    assert not AgentPolicy(tools=[]).allows_tool("search")


# ---- hector.yaml shape (checked by the Rust core when the file is read) ---------------------


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ("    policy: [echo]", "agents.solver.policy"),
        ("    policy:\n      deny_tool: [crash]", "agents.solver.policy.deny_tool"),
        ('    policy:\n      tools: "fs_*"', "agents.solver.policy.tools"),
        ("    policy:\n      tools: [calculator, 3]", "agents.solver.policy.tools[1]"),
        ("    policy:\n      plugins: [echo, ghost]", "agents.solver.policy.plugins[1]"),
    ],
    ids=["not-a-mapping", "unknown-key", "lone-string", "not-a-string", "unconfigured-plugin"],
)
def test_a_bad_policy_in_hector_yaml_is_a_config_error_naming_the_key(
    tmp_path: Path, go_plugin: Path, tools_plugin: Path, policy: str, key: str
) -> None:
    config = write_config(tmp_path, go_plugin, tools_plugin, policy)
    with pytest.raises(ConfigError) as bad:
        PluginManager(config)  # refused as the file is read, before any plugin runs
    assert (bad.value.key, bad.value.file) == (key, str(config))
    assert key in str(bad.value) and str(config) in str(bad.value)
    if key.endswith("plugins[1]"):
        assert 'no plugin named "ghost" is configured' in str(bad.value)
