"""The benchmark harness runs end to end (tiny workloads) and writes its report and chart.

Checks structure and sanity only: never a time. The real figures come from
`python benchmarks/run.py` on a quiet machine (benchmarks/README.md).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

# The `mcp` SDK's client is the MCP workload's peer; it and the Python MCP server need Python >= 3.10.
SDK_PRESENT = sys.version_info >= (3, 10) and importlib.util.find_spec("mcp") is not None
MCP_SDK_ROWS = (
    ("mcp SDK client, rmcp server", "hector, Python server", "mcp SDK client, Python server") if SDK_PRESENT else ()
)
# The agent workload's LangChain path needs langchain-core (the dev extra installs it on Python >= 3.10).
LANGCHAIN_ROWS = ("LangChain adapter",) if importlib.util.find_spec("langchain_core") is not None else ()


@pytest.mark.slow
def test_harness_writes_every_section_and_the_chart(tmp_path: Path) -> None:
    before = _launched_pids()
    output = tmp_path / "RESULTS.md"
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        "--quick",
        # The floors and the rmcp server as `cargo test` built them: a release build of each
        # would cost the suite minutes, and no figure is checked.
        "--dev-builds",
        "--calls",
        "200",
        "--chunks",
        "300",
        "--output",
        str(output),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    report = output.read_text()
    for heading in (
        "## Unary `Generate`, Rust echo plugin",
        "## Streaming: one `GenerateStreaming` of 300 chunks",
        "## Go echo plugin: hector (Python) vs. go-plugin's own Go host",
        "## Startup: K plugins launched at once",
        "## Host memory per idle plugin",
        "## Embeddings: 10,000 texts at dimension 384 into one float32 numpy array",
        "## MCP tool calls over stdio: hector vs. the `mcp` Python SDK's client",
        "## Agents: one task with one tool call",
        "## Python plugins: hector_plugins.sdk against grpcio",
        "## What bounds the call latency",
        "## Vector database: upsert and search, Python vectordb example plugin",
        "## Log floods: a plugin writing 64 MB/s to stderr",
        "## Security: the cost of every protection",
        "## Goals",
        "## Per-round values",
    ):
        assert heading in report, heading
    # Every peer produced figures (a missing one would show as "–" in its row).
    for client in (
        "hector",
        "grpc.aio",
        "in-process Python",
        "raw-socket from asyncio",
        "hector-core (Rust)",
        "tonic (Rust)",
        "raw-socket (Rust)",
        "hector embed_batch",
        "grpc.aio EmbedBatch + numpy",
        "hector loop of embed",
        "hector embed_batch, Go plugin (per-text Embed)",
        "hector, rmcp server",
        *MCP_SDK_ROWS,
        "hector Agent",
        "by hand with the clients",
        *LANGCHAIN_ROWS,
        "hector_plugins.sdk",
        "grpcio asyncio server",
    ):
        row = next(line for line in report.splitlines() if line.startswith(f"| {client} |"))
        assert "–" not in row.split("|")[2], row
    go_row = next(line for line in report.splitlines() if line.startswith("| p50 µs |"))
    assert re.fullmatch(r"\| p50 µs \| [\d.]+ \| [\d.]+ \| [\d.]+× \|", go_row), go_row
    # Each goal has a verdict, all measured (the MCP one needs the `mcp` SDK; without it, the
    # report says why).
    verdicts = re.findall(r"\*\*(MET|NOT MET|not measured)\*\*", report)
    assert len(verdicts) == 14, verdicts
    if MCP_SDK_ROWS:
        assert "not measured" not in verdicts, verdicts
    else:
        assert verdicts.count("not measured") == 1, verdicts
        assert "not measured: the `mcp` package" in report
    chart = tmp_path / "latency.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing the harness launched is left running.
    assert _launched_pids() - before == set()


def _launched_pids() -> set[str]:
    # The echo and embedder examples, the MCP workload's servers, and the flooding plugin.
    pattern = (
        r"examples/plugins/(echo-llm|embedder)-|release/rmcp-test-server|python-mcp/notes_server\.py"
        r"|benchmarks/plugins/echo_(sdk|grpcio)\.py|tests/plugins/sdk/flood\.py"
    )
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return set(found.split())
