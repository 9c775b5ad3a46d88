"""The README's examples, run as a user runs them: a fresh interpreter, real plugins, their
output checked line by line where it is deterministic."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from helpers import ROOT


def run_example(name: str) -> list[str]:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"examples/{name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.splitlines()


def test_the_agent_example(
    go_plugins: object,
    rust_embedder: object,
    vectordb_plugin: object,
    reasoning_plugin: object,
    mcp_notes_server: object,
) -> None:
    lines = run_example("agent.py")
    answer = "Done: 42; 5.0 | - The calculator tool evaluates arithmetic expressions"
    assert lines[:3] == [
        "run:",
        "  hook: calculator({'expression': '6*7'}) on calc",
        "  hook: add({'a': 2, 'b': 3}) on notes",
    ]
    assert lines[3].startswith("  iteration 1: memory ['calc'], tools [('calculator', '42'), ('add', '5.0')], ")
    assert lines[5:7] == [f"  answer: {answer}", "  2 iterations, 11 tokens, stopped by the strategy"]
    stream = lines[lines.index("stream:") + 1 :]
    # The run is a task of its own: its (sync) hooks print before the loop below reads its events.
    assert stream[:6] == [
        "  hook: calculator({'expression': '6*7'}) on calc",
        "  hook: add({'a': 2, 'b': 3}) on notes",
        "  tool call calculator -> calc",
        "  tool call add -> notes",
        "  tool result 42",
        "  tool result 5.0",
    ]
    assert stream[-1] == f"  final: {answer}"
    assert "".join(ast.literal_eval(line.removeprefix("  text ")) for line in stream[6:-1]) == answer


@pytest.mark.parametrize("name", ["quickstart.py"])
def test_the_quickstart(name: str, go_plugins: object, rust_plugin: object) -> None:
    lines = run_example(name)
    assert "echo-go generate -> 'Echo: Hello, plugins!' (3 tokens)" in lines
    assert "echo-rust generate -> 'Echo: Hello, plugins!' (3 tokens)" in lines
    assert sum(line.endswith(": stopped, exit code 0") for line in lines) == 2, lines
