"""hector_plugins.sdk: Python plugins served by the Rust SDK, loaded and called through the
host as any plugin, for every plugin type; the protocol work the SDK does for the author
(cookie, handshake, health, controller, signals, logs); failures that must not kill the plugin."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import sys
from pathlib import Path

import pytest
from hector_plugins import (
    CallTimeoutError,
    Message,
    PluginCallError,
    PluginManager,
    PluginStartError,
    ReasoningState,
    ToolDefinition,
)
from helpers import ROOT, wait_for_log, write_executable

SDK_PLUGINS = ROOT / "tests" / "plugins" / "sdk"


@pytest.fixture(scope="session")
def sdk_plugin(tmp_path_factory: pytest.TempPathFactory):
    """A launcher for one of tests/plugins/sdk/*.py, run by this interpreter."""
    directory = tmp_path_factory.mktemp("sdk-plugins")

    def launcher(kind: str) -> Path:
        return write_executable(
            directory / f"sdk-{kind}", f'#!/bin/sh\nexec "{sys.executable}" "{SDK_PLUGINS / kind}.py" "$@"\n'
        )

    return launcher


async def answers_eventually(llm, question: str, expected: str) -> None:
    """Asks until the plugin answers `expected` (what it counts changes on its event loop)."""
    answer = ""
    for _ in range(200):
        answer = (await llm.generate([Message.user(question)])).text
        if answer == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the plugin still answers {answer!r} to {question!r}, not {expected!r}")


async def test_llm_plugin_answers_every_rpc_with_the_host_types(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="sdk-llm", type="llm_provider", config={"prefix": "Hi"})
        llm = pm.llm("sdk-llm")
        reply = await llm.generate([Message.user("hello")])
        assert (reply.text, reply.tokens_used) == ("Hi: hello", 1)
        call = await llm.generate([Message.user("call weather")], tools=[ToolDefinition("lookup")])
        assert [(c.id, c.name, c.arguments) for c in call.tool_calls] == [("c1", "lookup", {"q": "weather"})]
        chunks = [chunk async for chunk in llm.generate_stream([Message.user("a b")])]
        assert [(c.type, c.text) for c in chunks] == [("text", "Hi: "), ("text", "a "), ("text", "b "), ("done", "")]
        info = await llm.model_info()
        assert (info.model_name, info.max_tokens, info.temperature) == ("sdk-echo", 1024, 0.5)
        assert (await llm.health()).healthy
        # No grpcio in the plugin: the protocol is the Rust SDK's.
        assert (await llm.generate([Message.user("grpc imported?")])).text == "False"


async def test_a_raising_method_is_a_call_error_logged_with_its_traceback_and_the_plugin_serves_on(
    sdk_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="raiser", type="llm_provider")
        llm = pm.llm("raiser")
        pid = (await llm.generate([Message.user("pid")])).text
        with pytest.raises(PluginCallError) as caught:
            await llm.generate([Message.user("raise")])
        assert caught.value.code == "UNKNOWN" and caught.value.method == "Generate"
        assert "RuntimeError: asked to fail" in str(caught.value)
        record = await wait_for_log(caplog, lambda r: "asked to fail" in r.getMessage(), "the plugin's error record")
        assert record.levelno == logging.ERROR
        assert "Traceback" in record.plugin_fields["error"] and "llm.py" in record.plugin_fields["error"]
        assert (await llm.generate([Message.user("pid")])).text == pid, "the same process serves on"


async def test_a_plugin_chooses_the_status_code_by_raising_plugin_call_error(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="coded", type="llm_provider")
        with pytest.raises(PluginCallError) as caught:
            await pm.llm("coded").generate([Message.user("unknown model")])  # raised `from` a KeyError
        assert caught.value.code == "NOT_FOUND" and str(caught.value).endswith("no such model")


def tool_request(name: str, arguments_json: str) -> bytes:
    """A `ToolRequest` encoded by hand (fields 1 and 2, short strings)."""
    encoded = b""
    for number, text in ((1, name), (2, arguments_json)):
        data = text.encode()
        encoded += bytes([number << 3 | 2, len(data)]) + data
    return encoded


async def test_malformed_tool_arguments_are_refused_before_the_plugin_sees_them(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("tools"), name="strict", type="tool_provider")
        raw = pm.raw("strict")
        for method in ("ExecuteTool", "ExecuteToolStreaming"):
            with pytest.raises(PluginCallError) as caught:
                request = tool_request("add", "{not json")
                if method == "ExecuteTool":
                    await raw.call(f"/hector.plugin.ToolProvider/{method}", request)
                else:
                    [item async for item in raw.stream(f"/hector.plugin.ToolProvider/{method}", request)]
            assert caught.value.code == "INVALID_ARGUMENT", method
            assert "arguments_json is not a JSON object" in str(caught.value), method


async def test_a_stream_that_fails_midway_ends_with_the_error(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="midway", type="llm_provider")
        chunks = [c async for c in pm.llm("midway").generate_stream([Message.user("fail midway")])]
        # An ERROR chunk, as Hector's protocol ends a failed stream; nothing after it.
        assert [(c.type, c.text) for c in chunks[:-1]] == [("text", "Echo: "), ("text", "fail "), ("text", "midway ")]
        assert (chunks[-1].type, chunks[-1].error) == ("error", "ValueError: stream broke")


async def test_initialize_refuses_a_bad_config_with_the_plugins_message(sdk_plugin) -> None:
    async with PluginManager() as pm:
        with pytest.raises(PluginStartError, match="config key 'prefix' must not be empty"):
            await pm.load(sdk_plugin("llm"), name="picky", type="llm_provider", config={"prefix": ""})


async def test_calls_run_concurrently_on_the_event_loop(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="busy", type="llm_provider")
        llm = pm.llm("busy")
        # 50 calls that each sleep 1 s finish together only if they run concurrently; the check is
        # on their answers (all correct), the sleep makes any serialization a 50 s test timeout.
        slow = [llm.generate([Message.user("sleep 1")], timeout=20) for _ in range(50)]
        fast = [llm.generate([Message.user(f"n{i}")]) for i in range(200)]
        replies = await asyncio.gather(*slow, *fast)
        assert [r.text for r in replies[50:]] == [f"Echo: n{i}" for i in range(200)]


async def test_an_abandoned_call_cancels_its_task_in_the_plugin(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="abandoned", type="llm_provider")
        llm = pm.llm("abandoned")
        with pytest.raises(CallTimeoutError):
            await llm.generate([Message.user("sleep 30")], timeout=0.3)

        await answers_eventually(llm, "cancelled?", "cancelled=1")


async def test_closing_a_stream_early_closes_the_plugins_generator(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="endless", type="llm_provider")
        llm = pm.llm("endless")
        stream = llm.generate_stream([Message.user("endless")])
        received = [(await stream.__anext__()).text for _ in range(3)]
        assert received == ["0 ", "1 ", "2 "]
        await stream.aclose()

        await answers_eventually(llm, "cancelled?", "cancelled=1")


async def test_embedder_plugin(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("embedder"), name="sdk-embedder", type="embedder_provider")
        embedder = pm.embedder("sdk-embedder")
        assert (await embedder.info()).dimension == 4
        assert list(await embedder.embed("a cat")) == [5.0, 2.0, 1.0, 1.0]
        batch = await embedder.embed_batch(["a", "be it"])
        assert [list(row) for row in batch] == [[1.0, 1.0, 0.0, 1.0], [5.0, 2.0, 1.0, 1.0]]
        with pytest.raises(PluginCallError, match="ValueError: cannot embed 'raise'"):
            await embedder.embed("raise")


async def test_tool_plugin(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("tools"), name="sdk-tools", type="tool_provider")
        tools = pm.tools("sdk-tools")
        assert [t.name for t in await tools.list_tools()] == ["add", "fail", "crash"]
        result = await tools.call("add", {"numbers": [1, 2, 3.5]}, call_id="c7")
        assert (result.success, result.content, result.call_id) == (True, "6.5", "c7")
        failed = await tools.call("fail", {})
        assert (failed.success, failed.error) == (False, "this tool always fails")
        with pytest.raises(PluginCallError, match="RuntimeError: the tool raised"):
            await tools.call("crash", {})
        progress = [p async for p in tools.call_stream("add", {"numbers": [1, 2]}, call_id="s1")]
        assert [(p.message, p.fraction, p.done) for p in progress[:2]] == [
            ("adding 1", 0.5, False),
            ("adding 2", 1.0, False),
        ]
        assert progress[-1].done and progress[-1].result.content == "3" and progress[-1].result.call_id == "s1"


async def test_reasoning_plugin(sdk_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("reasoning"), name="sdk-reasoning", type="reasoning_strategy")
        strategy = pm.reasoning("sdk-reasoning")
        info = await strategy.info()
        assert (info.name, info.required_tools) == ("three-steps", ["search"])
        state = ReasoningState(2, "why?", tool_calls=[{"id": "1", "name": "search", "arguments": {}}])
        plan = await strategy.prepare_iteration(state)
        assert [m.content for m in plan.inject_messages] == ["iteration 2"]
        assert not (await strategy.should_stop(state)).stop
        assert (await strategy.should_stop(ReasoningState(3, "why?"))).stop
        assert await strategy.after_iteration(state) == '{"iterations": 1}'
        assert await strategy.context_injection(state) == "Query: why?"
        assert (await strategy.prompt_slots()).system_role == "a careful planner"


async def test_the_sdk_and_the_grpcio_twin_of_the_vector_database_answer_alike(
    vectordb_plugin: Path, vectordb_sdk_plugin: Path
) -> None:
    async def session(pm: PluginManager, name: str) -> list[object]:
        db = pm.database(name)
        seen: list[object] = [(await db.info()).name.replace("-sdk", "")]
        await db.create_collection("docs", 3)
        await db.upsert("docs", "a", [1.0, 0.0, 0.0], {"content": "alpha", "lang": "en"})
        await db.upsert("docs", "b", [0.7, 0.7, 0.0], {"content": "beta", "lang": "de"})
        await db.upsert("docs", "c", [0.0, 0.0, 1.0], {"content": "gamma", "lang": "en"})
        hits = await db.search("docs", [1.0, 0.1, 0.0], top_k=2)
        seen.append([(h.id, round(h.score, 5), h.content, dict(h.metadata)) for h in hits])
        filtered = await db.search("docs", [1.0, 0.1, 0.0], top_k=5, filter={"lang": "en"})
        seen.append([h.id for h in filtered])
        await db.delete("docs", "a")
        seen.append([h.id for h in await db.search("docs", [1.0, 0.0, 0.0], top_k=5)])
        for bad in (
            db.upsert("nope", "x", [1.0, 0.0, 0.0]),
            db.upsert("docs", "x", [1.0, 0.0]),
            db.search("docs", [0.0, 0.0, 0.0]),
            db.delete("docs", "missing"),
        ):
            with pytest.raises(PluginCallError) as caught:
                await bad
            seen.append((caught.value.code, str(caught.value).split("): ", 1)[1]))
        seen.append((await db.health()).message)
        return seen

    async with PluginManager() as pm:
        await pm.load(vectordb_plugin, name="grpcio", type="database_provider")
        await pm.load(vectordb_sdk_plugin, name="sdk", type="database_provider")
        grpcio, sdk = await session(pm, "grpcio"), await session(pm, "sdk")
    assert sdk == grpcio
    assert grpcio[1][0][:3] == ("a", pytest.approx(0.99504, abs=1e-5), "alpha")


def test_run_by_hand_it_prints_go_plugins_message_and_exits_1(sdk_plugin) -> None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "HECTOR_PLUGIN"}
    for cookie in (None, "wrong"):
        if cookie:
            env["HECTOR_PLUGIN"] = cookie
        done = subprocess.run([sdk_plugin("llm")], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and done.stdout == ""
        assert "This binary is a plugin" in done.stderr


def is_socket(path: str) -> bool:
    return os.path.exists(path) and stat.S_ISSOCK(os.stat(path).st_mode)


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_plugin_gracefully(sdk_plugin, tmp_path: Path, stop: str) -> None:
    env = {**os.environ, "HECTOR_PLUGIN": "hector_plugin_v1", "PLUGIN_UNIX_SOCKET_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sdk_plugin("llm"), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        core, version, network, address, protocol = line.strip().split("|")[:5]
        assert (core, version, network, protocol) == ("1", "1", "unix", "grpc")
        assert is_socket(address) and os.path.dirname(address) == str(tmp_path)
        process.send_signal(getattr(signal, stop))
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert not is_socket(address), "the socket file is removed"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_hosts_shutdown_stops_it_at_once_without_a_kill(sdk_plugin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    pm = PluginManager()
    await pm.load(sdk_plugin("llm"), name="stopper", type="llm_provider")
    await pm.llm("stopper").generate([Message.user("print")])  # the host's GRPCStdio stream is open
    # Less than the plugin's own 1 s grace: an open stream must not hold the stop back.
    await pm.shutdown(grace=0.5)
    (info,) = pm.plugins
    assert (info.state, info.killed, info.exit_code) == ("stopped", False, 0)
    assert not [r for r in caplog.records if "grace period" in r.getMessage()]


async def test_its_logs_arrive_as_records_with_their_fields(sdk_plugin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="logger", type="llm_provider", config={"prefix": "P", "x": "1"})
        record = await wait_for_log(caplog, lambda r: r.getMessage() == "initialized", "'initialized'")
    assert record.levelno == logging.INFO and record.name == "hector_plugins.plugin.logger"
    assert record.plugin_fields["config_keys"] == "prefix,x"


async def test_stdout_after_the_handshake_reaches_the_host_over_grpc_stdio(
    sdk_plugin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="printer", type="llm_provider")
        assert (await pm.llm("printer").generate([Message.user("print")])).text == "printed"
        record = await wait_for_log(caplog, lambda r: r.getMessage() == "printed by the plugin", "the printed line")
    assert record.plugin_stream == "grpc_stdio"


async def test_signals_the_plugin_handles_do_not_break_its_stdout(sdk_plugin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        await pm.load(sdk_plugin("llm"), name="signalled", type="llm_provider")
        llm = pm.llm("signalled")
        assert (await llm.generate([Message.user("signals")])).text == "signalled"
        assert (await llm.generate([Message.user("print")])).text == "printed"
        await wait_for_log(caplog, lambda r: r.getMessage() == "printed by the plugin", "the printed line")


def test_serve_refuses_an_object_of_no_plugin_type() -> None:
    from hector_plugins.sdk import serve

    with pytest.raises(TypeError, match="has the methods of no plugin type"):
        serve(object())
    with pytest.raises(ValueError, match="type='llms' is not a plugin type"):
        serve(object(), type="llms")
    with pytest.raises(TypeError, match="cannot serve as a llm_provider: it has no generate"):
        serve(object(), type="llm")
