"""Agent hooks (hector_plugins.agents) over real plugin processes: every hook point in order with
its context; hooks that change what the plugins receive, checked in the plugins' own answers;
vetoes; failing and slow hooks; hooks from hector.yaml's dotted paths and from installed
packages' entry points; the HookRegistry API.

The Go echo LLM decides by its input (examples/go/echo-llm/main.go): `call <tool> <json>` lines
are tool calls, a trailing tool result is answered "Done: <results>", anything else
"Echo: <last user message>". The Go tool provider (examples/go/tools/main.go) computes
`calculator` itself and offers `crash`, which kills its process, with crash_tool = "true"."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import (
    ConfigError,
    HookError,
    HookVetoError,
    Message,
    PluginManager,
    ToolCall,
    ToolResult,
)
from hector_plugins.agents import (
    HOOK_POINTS,
    Agent,
    AgentResult,
    ErrorContext,
    ErrorEvent,
    FinalEvent,
    GenerateContext,
    HookRegistry,
    IterationContext,
    RegisteredHook,
    ToolCallContext,
    Veto,
    WorkflowContext,
)

ADD = 'call calculator {"expression": "2+3"}'
"""The echo LLM asks for one calculator call, then answers with its result: two iterations."""
OFFERED = ["calculator", "read_file", "slow", "crash"]


def config(go_plugin: Path, tools_plugin: Path, **agent: Any) -> dict[str, Any]:
    """The echo LLM, the Go tools (with `crash`) and the agent `solver` that uses both."""
    return {
        "plugins": {
            "llm_providers": {"echo": {"path": str(go_plugin)}},
            "tool_providers": {"calc": {"path": str(tools_plugin), "config": {"crash_tool": "true"}}},
        },
        "agents": {"solver": {"llm": "echo", "tools": [{"type": "plugin", "provider": "calc"}], **agent}},
    }


@pytest.fixture
async def pm(go_plugin: Path, tools_plugin: Path) -> AsyncIterator[PluginManager]:
    async with PluginManager(config(go_plugin, tools_plugin)) as manager:
        await manager.load_all(strict=True)
        yield manager


async def finish(agent: Agent, task: str, how: str = "run") -> AgentResult:
    """The run's result, from ``run`` or from the last event of ``stream``."""
    if how == "run":
        return await agent.run(task)
    events = [event async for event in agent.stream(task)]
    assert isinstance(events[-1], FinalEvent)
    return events[-1].result


def said(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in messages]


def calls_of(calls: list[ToolCall]) -> list[tuple[str, str, Any]]:
    return [(c.id, c.name, c.arguments) for c in calls]


def observe(context: Any) -> tuple[Any, ...]:
    """What a hook saw, copied at the time (contexts are live: the run changes them later)."""
    kind = type(context).__name__
    if isinstance(context, WorkflowContext):
        result = context.result
        final = None if result is None else (result.answer, result.stop_reason, len(result.iterations))
        return (context.point, kind, said(context.messages), final)
    if isinstance(context, IterationContext):
        step = context.step
        done = None if step is None else (step.iteration, step.text, [t.call.name for t in step.tool_calls])
        return (context.point, kind, context.iteration, said(context.messages), done)
    if isinstance(context, GenerateContext):
        return (
            context.point,
            kind,
            context.iteration,
            said(context.messages),
            [t.name for t in context.tools],
            context.text,
            calls_of(context.tool_calls),
            context.tokens_used,
        )
    if isinstance(context, ToolCallContext):
        outcome = None if context.result is None else (context.result.success, context.result.content)
        return (
            context.point,
            kind,
            context.iteration,
            context.call_id,
            context.name,
            context.arguments,
            context.provider,
            outcome,
            context.error,
        )
    assert isinstance(context, ErrorContext)
    return (context.point, kind, context.iteration, context.error)


# ---- every point, in order -------------------------------------------------------------

USER = ("user", ADD)
ASKED = ("assistant", "")
FIVE = ("tool", "5")
DONE = ("assistant", "Done: 5")
ARGS = {"expression": "2+3"}
CALL = [("call_1", "calculator", ARGS)]
A_TOOL_RUN = [
    ("pre_workflow_execution", "WorkflowContext", [USER], None),
    ("before_iteration", "IterationContext", 1, [USER], None),
    ("before_generate", "GenerateContext", 1, [USER], OFFERED, "", [], 0),
    ("after_generate", "GenerateContext", 1, [USER], OFFERED, "", CALL, 0),
    ("before_tool_call", "ToolCallContext", 1, "call_1", "calculator", ARGS, "calc", None, None),
    ("after_tool_call", "ToolCallContext", 1, "call_1", "calculator", ARGS, "calc", (True, "5"), None),
    ("after_iteration", "IterationContext", 1, [USER, ASKED, FIVE], (1, "", ["calculator"])),
    ("before_iteration", "IterationContext", 2, [USER, ASKED, FIVE], None),
    ("before_generate", "GenerateContext", 2, [USER, ASKED, FIVE], OFFERED, "", [], 0),
    ("after_generate", "GenerateContext", 2, [USER, ASKED, FIVE], OFFERED, "Done: 5", [], 2),
    ("after_iteration", "IterationContext", 2, [USER, ASKED, FIVE, DONE], (2, "Done: 5", [])),
    ("post_workflow_execution", "WorkflowContext", [USER, ASKED, FIVE, DONE], ("Done: 5", "model_done", 2)),
]
"""What a hook sees at each point of the run of ADD: the context's type and fields."""


@pytest.mark.parametrize("how", ["run", "stream"])
async def test_every_point_fires_in_order_with_its_context_manager_hooks_first(pm: PluginManager, how: str) -> None:
    agent = pm.agent("solver")
    seen: list[tuple[str, tuple[Any, ...]]] = []
    runs: list[Any] = []

    def sync_hook(label: str) -> Any:
        def hook(context: Any) -> None:
            seen.append((label, observe(context)))
            runs.append(context.run)

        return hook

    def async_hook(label: str) -> Any:
        async def hook(context: Any) -> None:
            await asyncio.sleep(0)  # a real suspension: the run must await the hook
            seen.append((label, observe(context)))

        return hook

    # The agent's own hooks are registered first, the manager's after the agent was built:
    # the manager's still run first, each registry in its own registration order.
    for point in HOOK_POINTS:
        agent.hooks.register(point, async_hook("agent-async"))
        agent.hooks.register(point, sync_hook("agent-sync"))
    for point in HOOK_POINTS:
        pm.hooks.register(point, sync_hook("pm-sync"))
        pm.hooks.register(point, async_hook("pm-async"))

    result = await finish(agent, ADD, how)

    assert result.answer == "Done: 5" and result.stop_reason == "model_done"
    order = ["pm-sync", "pm-async", "agent-async", "agent-sync"]
    assert seen == [(label, observed) for observed in A_TOOL_RUN for label in order]
    assert all(run is runs[0] for run in runs), "every hook of a run shares its RunInfo"
    info = runs[0]
    assert (info.agent, info.task, info.run_id, info.result) == ("solver", ADD, result.run_id, result)


async def test_run_metadata_carries_state_from_one_hook_to_a_later_one(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    timeline: list[str] = []

    @agent.hooks.on("before_tool_call")
    def stamp(context: ToolCallContext) -> None:
        context.run.metadata.setdefault("tools", []).append(context.name)

    @agent.hooks.on("post_workflow_execution")
    def report(context: WorkflowContext) -> None:
        timeline.extend(context.run.metadata.get("tools", []))

    await agent.run(ADD)
    assert timeline == ["calculator"]
    await agent.run("no tools this time")
    assert timeline == ["calculator"], "metadata belongs to one run"


# ---- hooks that change what the plugins receive ------------------------------------------


async def test_before_generate_redaction_reaches_the_model(pm: PluginManager) -> None:
    agent = pm.agent("solver")

    @agent.hooks.on("before_generate")
    def redact(context: GenerateContext) -> None:
        context.messages = [
            Message.user(m.content.replace("hunter2", "[redacted]")) if m.role == "user" else m
            for m in context.messages
        ]

    result = await agent.run("my password is hunter2")
    assert result.answer == "Echo: my password is [redacted]"  # the echo LLM's own words
    assert said(result.iterations[0].request) == [("user", "my password is [redacted]")]


async def test_before_generate_can_withdraw_the_tools(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    agent.hooks.register("before_generate", lambda context: setattr(context, "tools", []))

    result = await agent.run(ADD)
    # Offered no tools, the echo LLM echoes instead of calling one.
    assert result.answer == f"Echo: {ADD}" and result.tool_calls == []
    assert result.iterations[0].tools_offered == []


async def test_before_tool_call_rewrites_the_arguments_the_tool_computes(pm: PluginManager) -> None:
    agent = pm.agent("solver")

    @agent.hooks.on("before_tool_call")
    def rewrite(context: ToolCallContext) -> None:
        assert context.arguments == ARGS
        context.arguments = {"expression": "6*7"}

    result = await agent.run(ADD)
    (call,) = result.tool_calls
    assert call.call.arguments == {"expression": "6*7"}
    assert call.result.success and call.result.content == "42"  # computed by the Go plugin
    assert result.answer == "Done: 42"


async def test_before_tool_call_renames_the_tool_and_the_provider_follows(pm: PluginManager) -> None:
    agent = pm.agent("solver")

    @agent.hooks.on("before_tool_call")
    def alias(context: ToolCallContext) -> None:
        assert context.provider == "", "no provider has a tool named 'calc'"
        context.name = "calculator"

    result = await agent.run('call calc {"expression": "10-4"}')
    (call,) = result.tool_calls
    assert (call.call.name, call.provider, call.result.content) == ("calculator", "calc", "6")
    assert result.answer == "Done: 6"


async def test_after_generate_can_add_a_tool_call_the_run_then_makes(pm: PluginManager) -> None:
    agent = pm.agent("solver")

    @agent.hooks.on("after_generate")
    def insist(context: GenerateContext) -> None:
        if context.iteration == 1:
            assert context.text == "Echo: just chatting" and not context.tool_calls
            context.tool_calls = [ToolCall("extra", "calculator", {"expression": "3*3"})]

    result = await agent.run("just chatting")
    assert [(t.call.id, t.result.content) for t in result.tool_calls] == [("extra", "9")]
    assert result.answer == "Done: 9" and len(result.iterations) == 2


async def test_after_tool_call_replaces_the_result_the_model_gets(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    originals: list[str] = []

    @agent.hooks.on("after_tool_call")
    def replace(context: ToolCallContext) -> None:
        assert context.result is not None
        originals.append(context.result.content)
        context.result = ToolResult(True, "five, in words", call_id=context.call_id)

    result = await agent.run(ADD)
    assert originals == ["5"]  # the hook saw the plugin's own result
    assert result.tool_calls[0].result.content == "five, in words"
    assert result.answer == "Done: five, in words"  # the model was given the replacement


async def test_post_workflow_execution_changes_the_answer_run_returns(pm: PluginManager) -> None:
    agent = pm.agent("solver")

    @agent.hooks.on("post_workflow_execution")
    def sign(context: WorkflowContext) -> None:
        assert context.result is not None
        context.result.answer += " (checked)"

    assert (await agent.run(ADD)).answer == "Done: 5 (checked)"
    events = [event async for event in agent.stream(ADD)]
    assert isinstance(events[-1], FinalEvent) and events[-1].result.answer == "Done: 5 (checked)"


async def test_pre_workflow_execution_adds_a_message_the_model_answers(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    agent.hooks.register(
        "pre_workflow_execution", lambda context: context.messages.append(Message.user("second thought"))
    )

    result = await agent.run("first thought")
    assert result.answer == "Echo: second thought"
    assert said(result.messages)[:2] == [("user", "first thought"), ("user", "second thought")]


# ---- vetoes ------------------------------------------------------------------------------


async def test_a_veto_at_before_tool_call_refuses_that_call_only(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    calc_before = next(p for p in pm.plugins if p.name == "calc")
    failures: list[BaseException] = []
    after: list[tuple[Any, ...]] = []
    agent.hooks.register("on_error", lambda context: failures.append(context.error))
    agent.hooks.register("after_tool_call", lambda context: after.append(observe(context)))

    @agent.hooks.on("before_tool_call", name="guard")
    def guard(context: ToolCallContext) -> None:
        if context.name == "crash":
            raise Veto("crashing is not allowed")

    result = await agent.run('call crash {}\ncall calculator {"expression": "2+3"}')

    refused = "refused by hook 'guard': crashing is not allowed"
    crash, calculator = result.tool_calls
    assert (crash.call.name, crash.vetoed_by, crash.error) == ("crash", "guard", refused)
    assert not crash.result.success and crash.result.error == refused
    assert (calculator.vetoed_by, calculator.result.content) == (None, "5")
    assert result.answer == f"Done: error: {refused}; 5"  # the model was told which hook refused
    assert [(name, result) for _, _, _, _, name, _, _, result, _ in after] == [
        ("crash", (False, "")),
        ("calculator", (True, "5")),
    ]
    assert failures == []
    # The plugin never ran `crash`: its process is the same one, alive and serving.
    calc_after = next(p for p in pm.plugins if p.name == "calc")
    assert (calc_after.pid, calc_after.state, calc_after.exit_code) == (calc_before.pid, "ready", None)
    assert (await pm.tools("calc").call("calculator", {"expression": "1+1"})).content == "2"


@pytest.mark.parametrize(
    "point",
    [
        "pre_workflow_execution",
        "before_iteration",
        "before_generate",
        "after_generate",
        "after_tool_call",
        "after_iteration",
        "post_workflow_execution",
    ],
)
async def test_a_veto_elsewhere_stops_the_run_naming_hook_and_point(pm: PluginManager, point: str) -> None:
    agent = pm.agent("solver")
    failures: list[ErrorContext] = []
    agent.hooks.register("on_error", failures.append)

    def refuse(context: Any) -> None:
        raise Veto("not today")

    agent.hooks.register(point, refuse, name="gatekeeper")  # type: ignore[arg-type]
    with pytest.raises(HookVetoError) as caught:
        await agent.run(ADD)

    error = caught.value
    assert (error.hook, error.point, error.reason, error.agent) == ("gatekeeper", point, "not today", "solver")
    assert "'gatekeeper'" in str(error) and point in str(error) and "not today" in str(error)
    assert isinstance(error.__cause__, Veto)
    assert isinstance(error.result, AgentResult)
    assert [(f.point, f.error) for f in failures] == [("on_error", error)]


async def test_a_veto_at_before_generate_means_the_model_is_not_asked(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    agent.hooks.register("before_generate", _veto_secrets, name="no-secrets")
    failures: list[ErrorContext] = []
    agent.hooks.register("on_error", failures.append)

    with pytest.raises(HookVetoError, match="hook 'no-secrets' vetoed before_generate: the task mentions a secret"):
        await agent.run("tell me the secret")
    error = failures[0].error
    assert isinstance(error, HookVetoError) and failures[0].iteration == 1
    assert error.result is not None and error.result.stop_reason is None
    (step,) = error.result.iterations
    assert (step.request, step.text, step.tokens_used) == ([], "", 0)
    # The next run, without the secret, goes through to the model.
    assert (await agent.run("tell me a joke")).answer == "Echo: tell me a joke"


def _veto_secrets(context: GenerateContext) -> None:
    if any("secret" in m.content for m in context.messages):
        raise Veto("the task mentions a secret")


# ---- failing and slow hooks --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_raising_hook_fails_the_run_with_a_hook_error(pm: PluginManager, kind: str) -> None:
    agent = pm.agent("solver")
    original = ValueError("no spare fives")
    failures: list[ErrorContext] = []
    pm.hooks.register("on_error", failures.append)

    def explode(context: ToolCallContext) -> None:
        raise original

    async def explode_later(context: ToolCallContext) -> None:
        await asyncio.sleep(0)
        raise original

    agent.hooks.register("after_tool_call", explode if kind == "sync" else explode_later, name="exploder")
    with pytest.raises(HookError) as caught:
        await agent.run(ADD)

    error = caught.value
    assert not isinstance(error, HookVetoError)
    assert (error.hook, error.point, error.agent) == ("exploder", "after_tool_call", "solver")
    assert error.__cause__ is original
    assert str(error) == "agent 'solver': hook 'exploder' at after_tool_call raised ValueError: no spare fives"
    # The trace so far: the tool ran (the Go plugin's answer is in it), the run did not finish.
    assert isinstance(error.result, AgentResult) and error.result.stop_reason is None
    assert [(t.call.name, t.result.content) for t in error.result.tool_calls] == [("calculator", "5")]
    assert len(error.result.iterations) == 1
    assert [(f.point, f.iteration, f.error, f.run.result) for f in failures] == [("on_error", 1, error, error.result)]


async def test_a_failed_stream_yields_the_error_event_then_raises(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    agent.hooks.register("after_iteration", _raise_lookup, name="picky")
    events: list[Any] = []
    with pytest.raises(HookError, match="hook 'picky' at after_iteration raised LookupError") as caught:
        async for event in agent.stream(ADD):
            events.append(event)
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].error is caught.value and events[-1].result is caught.value.result


def _raise_lookup(context: IterationContext) -> None:
    raise LookupError("nothing to see")


async def test_a_hook_past_its_timeout_fails_with_timed_out(pm: PluginManager) -> None:
    agent = pm.agent("solver")
    cancelled: list[bool] = []

    async def dawdle(context: GenerateContext) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    agent.hooks.register("before_generate", dawdle, name="dawdler", timeout=0.2)
    with pytest.raises(HookError, match="timed out") as caught:
        await agent.run(ADD)
    error = caught.value
    assert (error.hook, error.point) == ("dawdler", "before_generate")
    assert "hook 'dawdler' at before_generate timed out after 0.2 s" in str(error)
    assert isinstance(error.__cause__, asyncio.TimeoutError)
    assert cancelled == [True], "the hook is cancelled, not left running"


# ---- hooks from hector.yaml ----------------------------------------------------------------

HOOK_MODULE = """
from hector_plugins import Message

CALLS = []


def manager_first(context):
    CALLS.append(("manager", context.point, context.run.agent))


def agent_own(context):
    CALLS.append(("agent", context.point, context.run.agent))


async def redact(context):
    context.messages = [Message.user(m.content.replace("hunter2", "***")) if m.role == "user" else m
                        for m in context.messages]


def explode(context):
    raise RuntimeError("from hector.yaml")


not_callable = 42
"""


@pytest.fixture
def hook_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A module of hooks in tmp_path, importable for this test only: its name is unique, its
    directory comes off sys.path and the module out of sys.modules afterwards."""
    name = f"hooks_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(HOOK_MODULE)
    (tmp_path / "broken_hooks.py").write_text("raise RuntimeError('half-written module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in (name, "broken_hooks"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return name


def write_yaml(path: Path, go_plugin: Path, tools_plugin: Path, body: str) -> Path:
    path.write_text(
        "plugins:\n"
        "  llm_providers:\n"
        f"    echo: {{path: {go_plugin}}}\n"
        "  tool_providers:\n"
        f"    calc: {{path: {tools_plugin}}}\n" + body
    )
    return path


async def test_dotted_paths_in_hector_yaml_run_manager_hooks_first(
    tmp_path: Path, go_plugin: Path, tools_plugin: Path, hook_module: str
) -> None:
    mod = hook_module
    yaml_file = write_yaml(
        tmp_path / "hector.yaml",
        go_plugin,
        tools_plugin,
        f"""
hooks:
  before_generate: [{mod}:manager_first]
  after_iteration: {mod}.manager_first
agents:
  x:
    llm: echo
    tools: [{{type: plugin, provider: calc}}]
    hooks:
      before_generate: [{mod}:agent_own, {mod}:redact]
      post_workflow_execution: {mod}.agent_own
  y:
    llm: echo
  z:
    llm: echo
    hooks:
      before_iteration: [{mod}:explode]
""",
    )
    async with PluginManager(yaml_file) as pm:
        await pm.load_all(strict=True)
        calls = sys.modules[mod].CALLS
        assert [h.name for h in pm.hooks.at("before_generate")] == [f"{mod}:manager_first"]
        x = pm.agent("x")
        assert [h.name for h in x.hooks.at("before_generate")] == [f"{mod}:agent_own", f"{mod}:redact"]
        assert pm.agent("x") is x

        result = await x.run('call calculator {"expression": "1+1"}')
        assert result.answer == "Done: 2"
        one_iteration = [("manager", "before_generate", "x"), ("agent", "before_generate", "x")]
        after = [("manager", "after_iteration", "x")]
        assert calls == one_iteration + after + one_iteration + after + [("agent", "post_workflow_execution", "x")]

        # The agent's own redact hook (async, from hector.yaml) changes what the model is sent.
        assert (await x.run("my password is hunter2")).answer == "Echo: my password is ***"

        # Another agent of the manager runs the manager's hooks, not x's.
        calls.clear()
        assert (await pm.agent("y").run("hi")).answer == "Echo: hi"
        assert calls == [("manager", "before_generate", "y"), ("manager", "after_iteration", "y")]

        # A hook from hector.yaml is named by its dotted path when it fails.
        with pytest.raises(HookError) as caught:
            await pm.agent("z").run("hi")
        assert (caught.value.hook, caught.value.point) == (f"{mod}:explode", "before_iteration")
        assert isinstance(caught.value.__cause__, RuntimeError)


BAD_PATHS = [
    ("before_generate", ["no_such_module_for_hooks:fn"], "before_generate[0]", "No module named"),
    ("before_generate", ["{mod}:manager_first", "{mod}:missing"], "before_generate[1]", "has no attribute 'missing'"),
    ("on_error", ["{mod}.not_callable"], "on_error[0]", "is not callable"),
    ("after_generate", "no_module_or_attribute", "after_generate[0]", "not a dotted path"),
    ("before_iteration", ["broken_hooks:fn"], "before_iteration[0]", "half-written module"),
    ("before_lunch", ["{mod}:manager_first"], "before_lunch", "unknown hook point"),
]


def _bad_section(point: str, paths: Any, mod: str) -> str:
    listed = paths if isinstance(paths, str) else "[" + ", ".join(p.format(mod=mod) for p in paths) + "]"
    return f"{point}: {listed}"


@pytest.mark.parametrize(("point", "paths", "key", "why"), BAD_PATHS)
def test_a_bad_top_level_hook_fails_the_manager_naming_file_and_key(
    tmp_path: Path, hook_module: str, point: str, paths: Any, key: str, why: str
) -> None:
    yaml_file = tmp_path / "hector.yaml"
    yaml_file.write_text(f"hooks:\n  {_bad_section(point, paths, hook_module)}\n")
    with pytest.raises(ConfigError) as caught:
        PluginManager(yaml_file)
    message = str(caught.value)
    assert message.startswith(f"{yaml_file}: hooks.{key}: ") and why in message
    assert (caught.value.file, caught.value.key) == (str(yaml_file), f"hooks.{key}")


@pytest.mark.parametrize(("point", "paths", "key", "why"), BAD_PATHS)
async def test_a_bad_agent_hook_fails_pm_agent_naming_file_and_key(
    tmp_path: Path, go_plugin: Path, tools_plugin: Path, hook_module: str, point: str, paths: Any, key: str, why: str
) -> None:
    body = f"agents:\n  x:\n    llm: echo\n    hooks:\n      {_bad_section(point, paths, hook_module)}\n"
    yaml_file = write_yaml(tmp_path / "hector.yaml", go_plugin, tools_plugin, body)
    async with PluginManager(yaml_file) as pm:  # the manager itself is fine
        await pm.load_all(strict=True, only=["echo"])
        with pytest.raises(ConfigError) as caught:
            pm.agent("x")
        message = str(caught.value)
        assert message.startswith(f"{yaml_file}: agents.x.hooks.{key}: ") and why in message
        assert (caught.value.file, caught.value.key) == (str(yaml_file), f"agents.x.hooks.{key}")


async def test_dict_config_hooks_name_the_config_dict(go_plugin: Path, tools_plugin: Path, hook_module: str) -> None:
    with pytest.raises(ConfigError, match=r"^config dict: hooks\.on_error\[0\]: .*is not callable"):
        PluginManager({"hooks": {"on_error": [f"{hook_module}:not_callable"]}})
    settings = config(go_plugin, tools_plugin, hooks={"before_generate": f"{hook_module}:redact"})
    async with PluginManager(settings) as pm:
        await pm.load_all(strict=True)
        assert (await pm.agent("solver").run("hunter2 again")).answer == "Echo: *** again"


# ---- hooks of installed packages (entry points) --------------------------------------------


def install_fake_distribution(site: Path, entry_points: str, modules: dict[str, str]) -> None:
    """A distribution as pip leaves it: a dist-info directory (METADATA, entry_points.txt) next
    to its modules. importlib.metadata finds it once `site` is on sys.path."""
    dist_info = site / "myhooks-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: myhooks\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[hector_plugins.hooks]\n{entry_points}")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source)


MYHOOKS = """
def setup(registry):
    registry.register("before_generate", audit, name="myhooks.audit")


def audit(context):
    last = context.messages[-1]
    context.messages[-1] = type(last).user(last.content + " (audited)")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site directory on sys.path for this test only (with its modules out of sys.modules
    afterwards), so no other test's manager sees the distributions installed in it."""
    directory = tmp_path / "site"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    for module in ("myhooks", "myhooks_setup_fails"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return directory


async def test_an_installed_package_registers_hooks_through_its_entry_point(
    site: Path, go_plugin: Path, tools_plugin: Path, hook_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_distribution(site, "audit = myhooks:setup\n", {"myhooks": MYHOOKS})
    settings = {**config(go_plugin, tools_plugin), "hooks": {"before_generate": [f"{hook_module}:manager_first"]}}
    async with PluginManager(settings) as pm:
        await pm.load_all(strict=True)
        pm.hooks.register("before_generate", lambda context: None, name="in code")
        # Installed packages' hooks first, then hector.yaml's, then those registered in code.
        assert [h.name for h in pm.hooks.at("before_generate")] == [
            "myhooks.audit",
            f"{hook_module}:manager_first",
            "in code",
        ]
        assert (await pm.agent("solver").run("hello")).answer == "Echo: hello (audited)"

        another = PluginManager()  # each manager has its own registry
        assert another.hooks is not pm.hooks and [h.name for h in another.hooks.at("before_generate")] == [
            "myhooks.audit"
        ]
        another.hooks.clear()
        assert len(pm.hooks) == 3

    monkeypatch.undo()  # the distribution off sys.path: a new manager no longer finds it
    assert len(PluginManager().hooks) == 0


@pytest.mark.parametrize(
    ("entry", "module", "why", "cause"),
    [
        ("broken = myhooks_not_installed:setup", None, "cannot be loaded: ModuleNotFoundError", ImportError),
        ("broken = myhooks:nowhere", MYHOOKS, "cannot be loaded: AttributeError", AttributeError),
        ("broken = myhooks:CONSTANT", "CONSTANT = 1\n", "must name a function that takes the HookRegistry", None),
        (
            "broken = myhooks:setup",
            "def setup(registry):\n    registry.register('lunch', print)\n",
            "failed to register its hooks: ConfigError: unknown hook point 'lunch'",
            ConfigError,
        ),
    ],
)
def test_a_broken_entry_point_is_a_config_error_naming_it(
    site: Path, entry: str, module: str | None, why: str, cause: type[BaseException] | None
) -> None:
    install_fake_distribution(site, entry + "\n", {"myhooks": module} if module else {})
    with pytest.raises(ConfigError) as caught:
        PluginManager()
    message = str(caught.value)
    assert message.startswith(f"entry point 'broken' ({entry.split(' = ')[1]}) of group 'hector_plugins.hooks': ")
    assert why in message
    if cause is None:
        assert caught.value.__cause__ is None
    else:
        assert isinstance(caught.value.__cause__, cause)


# ---- the registry --------------------------------------------------------------------------


def test_register_on_unregister_len_and_at() -> None:
    registry = HookRegistry()

    def first(context: Any) -> None: ...

    async def second(context: Any) -> None: ...

    assert registry.register("before_generate", first) is first
    decorated = registry.on("before_generate", name="second", timeout=1.5)(second)
    assert decorated is second
    registry.register("after_generate", first, name="first again")
    assert len(registry) == 3

    hooks = registry.at("before_generate")
    assert hooks == [
        RegisteredHook(
            "before_generate", first, f"{__name__}:test_register_on_unregister_len_and_at.<locals>.first", None
        ),
        RegisteredHook("before_generate", second, "second", 1.5),
    ]
    hooks.clear()  # `at` gives a copy
    assert len(registry.at("before_generate")) == 2
    assert registry.at("on_error") == []
    assert repr(registry) == "HookRegistry(before_generate=2, after_generate=1)"

    assert registry.unregister(first) == 2  # from every point it was at
    assert [h.name for h in registry.at("before_generate")] == ["second"] and registry.at("after_generate") == []
    assert registry.unregister("second") == 1 and len(registry) == 0
    assert registry.unregister("second") == 0

    registry.register("on_error", first)
    registry.clear()
    assert len(registry) == 0


def test_registry_refuses_bad_points_hooks_and_timeouts() -> None:
    registry = HookRegistry()
    with pytest.raises(ConfigError, match="unknown hook point 'before_lunch'; the points are: pre_workflow_execution"):
        registry.register("before_lunch", print)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown hook point 'after_lunch'"):
        registry.on("after_lunch")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="a hook must be callable, not 'print'") as caught:
        registry.register("before_generate", "print")  # type: ignore[arg-type]
    assert caught.value.key == "before_generate"
    for timeout in (0, -1.5, "1"):
        with pytest.raises(ConfigError, match="timeout") as caught:
            registry.register("before_generate", print, timeout=timeout)  # type: ignore[arg-type]
        assert caught.value.key == "timeout"
    assert len(registry) == 0


def test_points_are_the_documented_ones_in_run_order() -> None:
    assert HOOK_POINTS == (
        "pre_workflow_execution",
        "before_iteration",
        "before_generate",
        "after_generate",
        "before_tool_call",
        "after_tool_call",
        "after_iteration",
        "post_workflow_execution",
        "on_error",
    )
