"""MCP tool calls over stdio: hector against the official `mcp` Python SDK's client.

The `add` tool is called one call after another and from 16 concurrent tasks, through hector
(`pm.tools(name).call`) and through the SDK's `ClientSession` over `stdio_client`. Each client
launches its own copy of the server.

    python benchmarks/mcp_calls.py                          # 5000 calls, 5 rounds; updates its RESULTS.md section and goal
    python benchmarks/mcp_calls.py --calls 1000 --rounds 3  # scaled down (the section says what ran)

Servers: the rmcp test server (tests/rmcp-server, release build), whose `add` answers
`{"sum": a + b}`, and the Python SDK example (examples/python-mcp/notes_server.py), whose `add`
answers `{"result": a + b}`. Every answer is checked against the sum, so a broken call cannot
count. `run.py` runs this as part of the full harness. Nothing here asserts on times.

Not named `mcp.py`: scripts run from this directory would import it in place of the `mcp` package.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
import report  # noqa: E402
from measure import Call, UnarySamples, measure_unary  # noqa: E402
from report import Goal, divide, fmt, median, ratio, table  # noqa: E402

HEADING = "## MCP tool calls over stdio: hector vs. the `mcp` Python SDK's client"
HECTOR = "hector"
SDK = "mcp SDK client"
CONCURRENCY = (16,)
# The Python server spends ≈2 ms of its own per call: it gets a fifth of the calls.
PYTHON_SERVER_SHARE = 5
GOAL = "MCP tool calls at least 2× the `mcp` SDK client's calls/s (rmcp server, stdio; sequential calls/s)"
ROOT_RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()

# add(i, 1) through one client: the tool's structured result, or a description of what came instead.
Adder = Callable[[int], Awaitable[object]]


@dataclass(frozen=True)
class Server:
    key: str
    label: str  # as the table's rows name it
    command: str
    args: list[str]
    calls: int
    expected: Callable[[int], object]  # the structured result of add(i, 1)


def servers(rmcp_server: Path, calls: int, with_python_server: bool) -> list[Server]:
    rmcp = Server("rmcp", "rmcp server", str(rmcp_server), [], calls, lambda i: {"sum": i + 1})
    if not with_python_server:
        return [rmcp]
    notes = str(peers.build_plugins.PY_MCP_SERVER)
    python_calls = max(1, calls // PYTHON_SERVER_SHARE)
    return [rmcp, Server("python", "Python server", sys.executable, [notes], python_calls, lambda i: {"result": i + 1})]


def sdk_missing() -> str | None:
    """Why the `mcp` SDK cannot be measured here, or None when it can."""
    if sys.version_info < (3, 10):
        return f"the `mcp` package needs Python >= 3.10, this is {sys.version.split()[0]}"
    try:
        import mcp.client.stdio  # noqa: F401
    except ImportError as error:
        return f"the `mcp` package cannot be imported ({error}); `pip install 'mcp>=2.3'` installs it"
    return None


async def hector_adder(stack: AsyncExitStack, server: Server) -> Adder:
    from hector_plugins import PluginManager

    pm = await stack.enter_async_context(PluginManager())
    await pm.load_mcp(server.key, server.command, server.args)
    tools = pm.tools(server.key)

    async def add(i: int) -> object:
        result = await tools.call("add", {"a": i, "b": 1})
        return result.output if result.success else f"a tool error: {result.error}"

    return add


async def sdk_adder(stack: AsyncExitStack, server: Server) -> Adder:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    parameters = StdioServerParameters(command=server.command, args=server.args)
    read, write = await stack.enter_async_context(stdio_client(parameters))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()

    async def add(i: int) -> object:
        result = await session.call_tool("add", {"a": i, "b": 1})
        return f"a tool error: {result.content}" if result.is_error else result.structured_content

    return add


def checked(add: Adder, expected: Callable[[int], object], who: str) -> Call:
    """Calls add(0, 1), add(1, 1), ... and raises on any answer but the sum."""
    numbers = itertools.count()

    async def call() -> object:
        i = next(numbers)  # taken before the await: concurrent callers get distinct numbers
        got = await add(i)
        if got != expected(i):
            raise RuntimeError(f"{who}: add({i}, 1) answered {got!r}, expected {expected(i)!r}")
        return got

    return call


async def measure(rmcp_server: Path, calls: int, rounds: int) -> dict[str, Any]:
    """Per server and client: p50, p99, sequential calls/s, host CPU and c16 calls/s of each round."""
    missing = sdk_missing()
    openers: dict[str, Callable[[AsyncExitStack, Server], Awaitable[Adder]]] = {HECTOR: hector_adder}
    if missing is None:
        openers[SDK] = sdk_adder
    else:
        print(f"  MCP: the SDK client is not measured: {missing}", file=sys.stderr, flush=True)
    measured: dict[str, Any] = {}
    for server in servers(rmcp_server, calls, with_python_server=missing is None):
        samples = {name: UnarySamples() for name in openers}
        warm = max(50, server.calls // 10)
        async with AsyncExitStack() as stack:
            clients = {
                name: checked(await open_client(stack, server), server.expected, f"{name}, {server.label}")
                for name, open_client in openers.items()
            }
            for r in range(rounds):
                order = list(clients) if r % 2 == 0 else list(clients)[::-1]
                print(f"  MCP {server.label} round {r + 1}/{rounds} ({' / '.join(order)})", file=sys.stderr, flush=True)
                for name in order:
                    await measure_unary(clients[name], server.calls, warm, samples[name], concurrency=CONCURRENCY)
        measured[server.key] = {"label": server.label, "calls": server.calls, "warm": warm, "samples": samples}
    return {"missing": missing, "rounds": rounds, "servers": measured}


# --------------------------------------------------------------------------- report


def figure(m: dict[str, Any], server: str, client: str, metric: str) -> float | None:
    samples = m["servers"].get(server, {}).get("samples", {}).get(client)
    if samples is None:
        return None
    return median(samples.conc_rate[16]) if metric == "c16" else samples.median(metric)


def ratios(m: dict[str, Any], server: str) -> str:
    """How many times better hector is than the SDK client on `server` (above 1× = better)."""

    def both(metric: str) -> tuple[float | None, float | None]:
        return figure(m, server, HECTOR, metric), figure(m, server, SDK, metric)

    return (
        f"p50 {ratio(False, *both('p50_us'))}, p99 {ratio(False, *both('p99_us'))}, "
        f"sequential {ratio(True, *both('seq_rate'))}, c16 {ratio(True, *both('c16'))}"
    )


def section(m: dict[str, Any]) -> list[str]:
    rows, per_round = [], []
    for server in m["servers"].values():
        for name, s in server["samples"].items():
            rows.append(
                [
                    f"{name}, {server['label']}",
                    fmt(s.median("p50_us"), ".1f"),
                    fmt(s.median("p99_us"), ".1f"),
                    fmt(s.median("seq_rate")),
                    fmt(median(s.conc_rate[16])),
                    fmt(s.median("cpu_us"), ".1f"),
                ]
            )
            per_round.append(f"{name}, {server['label']}: {[round(x) for x in s.seq_rate]}")
    rmcp, python = m["servers"]["rmcp"], m["servers"].get("python")
    lines = [
        "",
        HEADING,
        "",
        *table(["client, server", "p50 µs", "p99 µs", "sequential calls/s", "c16 calls/s", "host CPU µs/call"], rows),
        "",
    ]
    if m["missing"]:
        lines.append(
            f"The `mcp` SDK client (and the Python server, which runs on it) were not measured: {m['missing']}."
        )
    else:
        compared = "; ".join(f"{server['label']}: {ratios(m, key)}" for key, server in m["servers"].items())
        lines.append(f"hector / mcp SDK client (above 1× = hector better): {compared}.")
    lines += [
        "",
        'The tool `add` called with `{"a": i, "b": 1}`, i counting up; every answer\'s structured result is '
        "checked against the sum. hector: `pm.load_mcp(name, command, args)`, then `pm.tools(name).call`. "
        "mcp SDK client: the official `mcp` Python package's `ClientSession` over `mcp.client.stdio.stdio_client`, "
        "`session.call_tool`. Each client launches its own server process and talks to it over stdio. "
        f"rmcp server: tests/rmcp-server (rmcp's server side, {'release' if peers.RELEASE else 'DEV'} build), "
        f"{rmcp['calls']:,} sequential "
        "calls, then as many from 16 concurrent tasks (`asyncio.gather`), per round after a warm-up of "
        f"{rmcp['warm']:,} calls of each kind.",
    ]
    if python:
        lines.append(
            f"Python server: examples/python-mcp/notes_server.py on the SDK's `MCPServer`, {python['calls']:,} calls "
            "of each kind. It is much slower, and the server dominates there: its own Python work per call takes "
            "more CPU than either client's, and each sequential call waits for it, so those rows mostly measure "
            "the server (what is left between the clients is their own CPU per call)."
        )
    rounds = m["rounds"]
    lines += [
        f"Rounds alternate the clients; medians across {rounds} round{'s' if rounds != 1 else ''}. Host CPU: this "
        "process's CPU time (all threads) per sequential call; the server's is not included.",
        "",
        f"Per round, sequential calls/s: {'; '.join(per_round)}.",
    ]
    return lines


def goals(m: dict[str, Any]) -> list[Goal]:
    ours, theirs = figure(m, "rmcp", HECTOR, "seq_rate"), figure(m, "rmcp", SDK, "seq_rate")
    if m["missing"]:
        detail = f"not measured: {m['missing']}"
    else:
        c16 = figure(m, "rmcp", HECTOR, "c16"), figure(m, "rmcp", SDK, "c16")
        detail = (
            f"{fmt(ours)} vs {fmt(theirs)} sequential calls/s; at concurrency 16 {fmt(c16[0])} vs "
            f"{fmt(c16[1])} calls/s ({ratio(True, *c16)})"
        )
    return [Goal(GOAL, divide(ours, theirs), 2.0, True, detail)]


# --------------------------------------------------------------------------- on its own


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls per measurement on the rmcp server")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="do not build the rmcp server")
    report.add_output_arguments(parser, ROOT_RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not report.extension_is_release():
        print(
            "warning: hector_plugins is a debug build; run `maturin develop --release` for real figures",
            file=sys.stderr,
        )
    if not args.no_build:
        peers.build_plugins.build_rmcp_test_server(release=True)
    m = asyncio.run(measure(peers.rmcp_server(), args.calls, args.rounds))
    report.update_alone(args, HEADING, section(m), goals(m), LOAD_AT_START)


if __name__ == "__main__":
    main()
