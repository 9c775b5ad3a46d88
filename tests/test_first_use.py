"""What a new user meets first, tried through real plugins: the README's snippets run as
written, messages read as sentences, a stuck plugin says what to check, and a closed manager
says so."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import ConfigError, PluginClosedError, PluginManager, PluginNotFoundError, StartTimeoutError
from helpers import ROOT, wait_gone, write_executable


def readme_block(containing: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    [block] = [b for b in blocks if containing in b]
    return textwrap.dedent(block)


async def test_the_readme_raw_snippet_runs_as_written(
    kv_plugin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the clone
    source = "async def snippet(pm):\n" + textwrap.indent(readme_block('pm.raw("kv")'), "    ")
    namespace: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), namespace)
    async with PluginManager() as pm:
        await namespace["snippet"](pm)  # type: ignore[operator]
    assert capsys.readouterr().out.split() == ["3", "blue", "1", "2", "3", "3"]


async def test_the_readme_agent_snippet_runs_as_written(
    go_plugins: object,
    rust_embedder: object,
    vectordb_plugin: object,
    reasoning_plugin: object,
    mcp_notes_server: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(ROOT)  # examples/agent.yaml finds the MCP server from the clone's root
    monkeypatch.setenv("HECTOR_EXAMPLE_PYTHON", sys.executable)
    source = "async def snippet(PluginManager):\n" + textwrap.indent(readme_block("examples/agent.yaml"), "    ")
    namespace: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), namespace)
    await namespace["snippet"](PluginManager)  # type: ignore[operator]
    assert capsys.readouterr().out.splitlines() == [
        "calling calculator",
        "Done: 42 | - The calculator tool evaluates arithmetic expressions",
        "[('calculator', '42')]",
    ]


def readme_sdk_plugin(directory: Path) -> Path:
    """The README's SDK plugin written to a file, with a launcher as the host starts it."""
    (directory / "my_llm.py").write_text(readme_block("from hector_plugins.sdk import serve"))
    return write_executable(directory / "my-llm", f'#!/bin/sh\nexec "{sys.executable}" "{directory / "my_llm.py"}"\n')


async def test_the_readme_sdk_plugin_runs_as_written(tmp_path: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(readme_sdk_plugin(tmp_path), name="my-llm", type="llm_provider", config={"greeting": "Hi"})
        assert (await pm.llm("my-llm").generate([{"role": "user", "content": "there"}])).text == "Hi, there!"


def test_the_readme_conformance_class_passes_on_the_readme_plugin(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(readme_block("LLMConformance"), "README.md", "exec"), namespace)
    kit = namespace["TestMyLLM"]
    kit.plugin = readme_sdk_plugin(tmp_path)
    rules = [name for name in dir(kit) if name.startswith("test_")]
    skipped = []
    for rule in rules:
        try:
            getattr(kit(), rule)()
        except pytest.skip.Exception:
            skipped.append(rule)
    assert len(rules) >= 12 and skipped == ["test_bad_config_refused"]


async def test_not_found_and_closed_messages_read_as_sentences(rust_plugin: Path) -> None:
    pm = PluginManager()
    async with pm:
        await pm.load(rust_plugin, name="echo")
        with pytest.raises(PluginNotFoundError) as caught:
            pm.raw("ecoh")
        assert str(caught.value) == 'no plugin named "ecoh" is loaded (loaded: echo)'
    with pytest.raises(PluginClosedError) as closed:
        pm.llm("echo")
    assert str(closed.value) == 'plugin "echo" is closed: its manager was shut down; it can no longer be called'


async def test_entering_a_closed_manager_again_raises() -> None:
    pm = PluginManager()
    async with pm:
        pass
    with pytest.raises(PluginClosedError, match="was shut down .* cannot be entered again; create a new PluginManager"):
        async with pm:
            pytest.fail("the block must not run")
    await pm.shutdown()  # still allowed: shutting down twice is harmless


async def test_a_plugin_stuck_before_its_handshake_names_start_timeout_and_what_to_check(
    py_plugin, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    stuck = py_plugin(pidfile=pidfile, sleep=3600)
    config = tmp_path / "hector.yaml"
    config.write_text(f"plugins:\n  llm_providers:\n    stuck: {{path: {stuck}, start_timeout: 3}}\n")
    async with PluginManager(config) as pm:
        [report] = await pm.load_all()
    error = report.error
    assert isinstance(error, StartTimeoutError), error
    message = str(error)
    assert 'plugin "stuck" did not complete its handshake within 3s (its start_timeout)' in message, message
    assert "prints its handshake line on stdout" in message and "raise start_timeout" in message, message
    await wait_gone(int(pidfile.read_text()), message="the stuck plugin was not killed")


def test_validate_does_not_claim_a_missing_executable_failed_to_start(tmp_path: Path) -> None:
    pm = PluginManager({"plugins": {"llm_providers": {"gone": {"path": str(tmp_path / "gone")}}}})
    [entry] = pm.validate()
    assert isinstance(entry.error, ConfigError), entry.error
    message = str(entry.error)
    assert message.startswith('plugin "gone": executable ') and "not found" in message, message
    assert "failed to start" not in message
