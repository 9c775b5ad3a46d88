"""The benchmark harness: hector_plugins against its peers, side by side, in one run.

    python benchmarks/run.py            # full run (~8 minutes on 2 cores); writes RESULTS.md + latency.png
    python benchmarks/run.py --quick    # a short smoke run (same workloads, fewer calls)

Peers, on the same plugin process where it applies:
  * hector       `await llm.generate(...)` from Python (this package)
  * grpc.aio     a Python grpc.aio client with generated stubs, on the same plugin's socket
  * go-host      go-plugin's own Go host (benchmarks/go-host) on the Go echo plugin
  * floors       Rust (benchmarks/rust-floor, on the same plugin): a raw unix-socket round
                 trip, a tonic client, hector's own Rust client; and an in-process Python call
  * mcp SDK      the official `mcp` Python package's client, on an MCP server of its own

Workloads: tiny unary Generate (p50/p99, calls/s at concurrency 1, 16, 256, host CPU per call),
a 10,000-chunk stream (chunks/s), startup of 1, 10 and 50 plugins, host memory per idle plugin,
`embed_batch` of 10,000 texts at dimension 384 (vectors/s, MB/s; embeddings.py), MCP tool calls
over stdio against the `mcp` SDK's client (mcp_calls.py), an agent task with one tool call against
the same steps by hand and through the LangChain adapter (agents.py), a Python plugin on
hector_plugins.sdk against the same handler on grpcio's server (sdk.py), a vector database's
upserts and searches (benchmarks/database.py, against grpc.aio), and a plugin flooding its stderr
at 64 MB/s (host CPU against the plugin's, call latency; log_flood.py), and the start and call p50
of a plugin with every protection of docs/security.md on against none (security.py).
Rounds alternate the clients so machine noise hits them alike; tables show medians across
rounds. Nothing here asserts on times; the goals are reported, met or not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import agents  # noqa: E402
import database  # noqa: E402
import embeddings  # noqa: E402
import log_flood  # noqa: E402
import mcp_calls  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
import sections  # noqa: E402
import security  # noqa: E402
from measure import (  # noqa: E402
    CONCURRENCY,
    UnarySamples,
    children_cpu_seconds,
    chunks_per_second,
    host_cpu_seconds,
    measure_unary,
    rss_bytes,
)

import sdk  # noqa: E402

ROOT = peers.ROOT
PLUGINS = ROOT / "examples" / "plugins"
RUST_PLUGIN = PLUGINS / "echo-llm-rust"
GO_PLUGIN = PLUGINS / "echo-llm-go"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CHART = ROOT / "benchmarks" / "latency.png"
LOAD_AT_START = os.getloadavg()
IDLE_PLUGINS = 50


def words(chunks: int) -> str:
    """A message the echo plugins answer with exactly `chunks` TEXT chunks ("Echo: " + one per word)."""
    return " ".join(["w"] * (chunks - 1))


class InProcessEcho:
    """The in-process floor: the same echo, as a plain Python object awaited in the same loop."""

    async def generate(self, messages: list[Any]) -> Any:
        from hector_plugins import GenerateResponse

        return GenerateResponse(text="Echo: " + messages[-1].content, tokens_used=2)


def hector_generate(llm: Any) -> Callable[[], Any]:
    from hector_plugins import Message

    return lambda: llm.generate([Message.user("hi")])


def hector_stream(llm: Any, content: str) -> Callable[[], Any]:
    from hector_plugins import Message

    return lambda: llm.generate_stream([Message.user(content)])


def is_text(chunk: Any) -> bool:
    return bool(chunk.type == "text")


# --------------------------------------------------------------------------- workloads


Streams = dict[str, tuple[Callable[[], Any], Callable[[Any], bool]]]


# One socket, one request at a time: no concurrency workload for this floor.
SEQUENTIAL_ONLY = {"raw-socket from asyncio"}


async def python_round(
    r: int,
    clients: dict[str, Callable[[], Any]],
    streams: Streams,
    args: argparse.Namespace,
    unary: dict[str, UnarySamples],
    rates: dict[str, list[float]],
) -> None:
    """One round of every Python client: unary, then one stream each; order reversed on odd rounds."""
    order = list(clients) if r % 2 == 0 else list(clients)[::-1]
    print(f"  round {r + 1}/{args.rounds} ({' / '.join(order)})", file=sys.stderr, flush=True)
    for name in order:
        levels = () if name in SEQUENTIAL_ONLY else CONCURRENCY
        await measure_unary(clients[name], args.calls, args.warmup, unary[name], concurrency=levels)
    for name in streams if r % 2 == 0 else list(streams)[::-1]:
        open_stream, text = streams[name]
        rates[name].append(await chunks_per_second(open_stream, args.chunks, text))


def merge_floor_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """bench-floor run once per round → per client: the median of every figure across rounds."""
    merged: dict[str, Any] = {}
    for client in ("raw-socket", "tonic", "hector-core"):
        per_round = [r[client] for r in rounds if client in r]
        if not per_round:
            continue
        keys = [k for k, v in per_round[0].items() if isinstance(v, (int, float))]
        merged[client] = {k: statistics.median(r[k] for r in per_round if k in r) for k in keys}
        merged[client]["rounds"] = {k: [r[k] for r in per_round if k in r] for k in keys}
    return merged


async def rust_plugin_workloads(args: argparse.Namespace) -> dict[str, Any]:
    """Unary and streaming on one Rust echo plugin: hector, grpc.aio, the in-process floor, and
    the Rust floors (one bench-floor run per round, alternating with the Python clients)."""
    from hector_plugins import Message, PluginManager

    async with PluginManager() as pm:
        # The default mtls (auto) leaves the unix socket plaintext, so grpc.aio calls the same socket.
        info = await pm.load(RUST_PLUGIN, name="echo-rust")
        llm = pm.llm("echo-rust")
        grpc_client = peers.GrpcAioClient(info.address)
        local = InProcessEcho()
        message = [Message.user("hi")]
        echo_dir = tempfile.TemporaryDirectory(prefix="hector-bench-echo-")
        echo = peers.AsyncioEcho(Path(echo_dir.name))
        clients = {
            "hector": hector_generate(llm),
            "grpc.aio": grpc_client.generate(),
            "in-process Python": lambda: local.generate(message),
            "raw-socket from asyncio": echo.round_trip(),
        }
        long_message = words(args.chunks)
        streams: Streams = {
            "hector": (hector_stream(llm, long_message), is_text),
            "grpc.aio": (grpc_client.stream(long_message), grpc_client.is_text),
        }
        unary = {name: UnarySamples() for name in clients}
        rates: dict[str, list[float]] = {name: [] for name in streams}
        floor_rounds: list[dict[str, Any]] = []
        with tempfile.TemporaryDirectory(prefix="hector-bench-") as samples:
            samples_dir = Path(samples)

            def floor_round() -> dict[str, Any]:
                return peers.rust_floor(
                    info.address, calls=args.calls, rounds=1, chunks=args.chunks, samples_dir=samples_dir
                )

            try:
                for open_stream, text in streams.values():  # warm-up: one full stream each
                    await chunks_per_second(open_stream, args.chunks, text)
                for r in range(args.rounds):
                    if r % 2 == 1:
                        floor_rounds.append(await asyncio.to_thread(floor_round))
                    await python_round(r, clients, streams, args, unary, rates)
                    if r % 2 == 0:
                        floor_rounds.append(await asyncio.to_thread(floor_round))
            finally:
                await grpc_client.close()
                echo.close()
                echo_dir.cleanup()
            floor_samples = {
                name: peers.read_samples(samples_dir / f"{name}.txt")
                for name in ("raw-socket", "tonic", "hector-core")
                if (samples_dir / f"{name}.txt").exists()
            }
        # What a transport driven by the caller's own thread could reach (no hand-offs).
        one_thread = await asyncio.to_thread(
            peers.rust_floor,
            info.address,
            calls=args.calls,
            rounds=args.rounds,
            chunks=args.chunks,
            samples_dir=None,
            one_thread=True,
        )
    return {
        "unary": unary,
        "streams": rates,
        "floors": merge_floor_rounds(floor_rounds),
        "floor_samples": floor_samples,
        "floors_one_thread": one_thread,
    }


async def go_plugin_workloads(args: argparse.Namespace, samples_file: Path) -> dict[str, Any]:
    """hector and go-plugin's Go host on the Go echo plugin, round by round, alternating."""
    from hector_plugins import PluginManager

    hector = UnarySamples()
    hector_streams: list[float] = []
    go_rounds: list[dict[str, Any]] = []
    async with PluginManager() as pm:
        # Plaintext under the default mtls (auto), as go-host without AutoMTLS: the Rust floor calls the same socket.
        info = await pm.load(GO_PLUGIN, name="echo-go")
        llm = pm.llm("echo-go")
        call, stream = hector_generate(llm), hector_stream(llm, words(args.chunks))
        await chunks_per_second(stream, args.chunks, is_text)  # warm-up
        for r in range(args.rounds):
            print(f"  go plugin round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
            go_first = r % 2 == 1
            if go_first:
                go_rounds.append(await asyncio.to_thread(go_round, args, samples_file))
            await measure_unary(call, args.calls, args.warmup, hector)
            hector_streams.append(await chunks_per_second(stream, args.chunks, is_text))
            if not go_first:
                go_rounds.append(await asyncio.to_thread(go_round, args, samples_file))
        # Our Rust client without Python on the same Go plugin: separates the bridge's cost from
        # the HTTP/2 exchange with a Go server.
        floors = peers.rust_floor(
            info.address, calls=args.calls, rounds=args.rounds, chunks=args.chunks, samples_dir=None
        )
    return {
        "hector": hector,
        "hector_streams": hector_streams,
        "go": go_rounds,
        "go_samples": peers.read_samples(samples_file),
        "floors": floors,
    }


def go_round(args: argparse.Namespace, samples_file: Path) -> dict[str, Any]:
    return peers.go_host(GO_PLUGIN, calls=args.calls, rounds=1, chunks=args.chunks, startup=None, samples=samples_file)


async def hector_startup(plugin: Path, counts: list[int], repetitions: int) -> dict[int, dict[str, float]]:
    """Time until `load_all` has every one of K plugins ready; the plugins' own CPU per start, and
    this process's (the host's) CPU per start."""
    from hector_plugins import PluginManager

    results: dict[int, dict[str, float]] = {}
    for count in counts:
        times, cpu, host_cpu = [], [], []
        for _ in range(repetitions):
            config = {"plugins": {"llm_providers": {f"p{i}": {"path": str(plugin)} for i in range(count)}}}
            children_before = children_cpu_seconds()
            async with PluginManager(config) as pm:
                host_before = host_cpu_seconds()
                start = time.perf_counter()
                await pm.load_all(strict=True)
                times.append((time.perf_counter() - start) * 1000)
                host_cpu.append((host_cpu_seconds() - host_before) * 1000 / count)
            # Reaped plugins' CPU (start to exit): what K starts cost the machine.
            cpu.append((children_cpu_seconds() - children_before) * 1000 / count)
        results[count] = {
            "ms": statistics.median(times),
            "plugin_cpu_ms": statistics.median(cpu),
            "host_cpu_ms": statistics.median(host_cpu),
        }
    return results


async def memory_probe(plugin: Path, count: int) -> dict[str, float]:
    """In a fresh interpreter: host RSS before and after `count` idle plugins are loaded."""
    import gc

    from hector_plugins import PluginManager

    async with PluginManager() as warm:  # the runtime, threads and first-use allocations
        await warm.load(plugin, name="warm-up")
    gc.collect()
    await asyncio.sleep(0.5)
    before = rss_bytes()
    config = {"plugins": {"llm_providers": {f"p{i}": {"path": str(plugin)} for i in range(count)}}}
    async with PluginManager(config) as pm:
        await pm.load_all(strict=True)
        await asyncio.sleep(1.0)  # idle: log readers and connections settled
        gc.collect()
        after = rss_bytes()
    return {"before_mib": before / 2**20, "after_mib": after / 2**20, "per_plugin_kib": (after - before) / count / 1024}


def memory(plugin: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--memory-probe", str(plugin)]
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True)
    return dict(json.loads(done.stdout))


# --------------------------------------------------------------------------- report


# --------------------------------------------------------------------------- main


async def measure_all(
    args: argparse.Namespace,
) -> tuple[
    dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]
]:
    print("unary and streaming, Rust plugin", file=sys.stderr, flush=True)
    rust = await rust_plugin_workloads(args)
    print("unary and streaming, Go plugin (hector and go-plugin's host)", file=sys.stderr, flush=True)
    with tempfile.NamedTemporaryFile(prefix="go-host-samples-") as samples:
        go = await go_plugin_workloads(args, Path(samples.name))
    print("startup", file=sys.stderr, flush=True)
    counts = ",".join(str(k) for k in args.startup)
    go_startup = peers.go_host(GO_PLUGIN, calls=50, rounds=1, chunks=10, startup=counts, samples=None)["startup_ms"]
    startup = {
        "hector, Rust plugin": await hector_startup(RUST_PLUGIN, args.startup, args.startup_reps),
        "hector, Go plugin": await hector_startup(GO_PLUGIN, args.startup, args.startup_reps),
        "go-plugin host, Go plugin": {int(k): {"ms": v} for k, v in go_startup.items()},
    }
    go["startup"] = startup
    print("embeddings", file=sys.stderr, flush=True)
    embed = await embeddings.embedder_workloads(args)
    print("MCP tool calls", file=sys.stderr, flush=True)
    mcp = await mcp_calls.measure(peers.rmcp_server(), args.calls, args.rounds)
    print("agents", file=sys.stderr, flush=True)
    agent = await agents.measure(args.agent_tasks, args.rounds)
    print("Python plugins: SDK and grpcio", file=sys.stderr, flush=True)
    python_plugins = await sdk.measure(args.sdk_calls, args.rounds)
    return rust, go, startup, embed, mcp, agent, python_plugins


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="short run: 500 calls, 2 rounds, 1,000-chunk streams")
    parser.add_argument("--calls", type=int, help="calls per unary measurement (default 5000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 5)")
    parser.add_argument("--chunks", type=int, help="chunks per stream (default 10000)")
    parser.add_argument(
        "--no-build", action="store_true", help="do not build the plugins, the Go host and the Rust floor"
    )
    parser.add_argument(
        "--dev-builds",
        action="store_true",
        help="Rust peers (floors, rmcp server) as dev builds: quick to build, figures meaningless; for smoke runs",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the results (default benchmarks/RESULTS.md)"
    )
    parser.add_argument("--db-vectors", type=int, help="vectors the database workload upserts (default 100000)")
    parser.add_argument("--db-rounds", type=int, help="rounds of the database workload (default 2)")
    parser.add_argument("--memory-probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.calls = args.calls or (500 if args.quick else 5000)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.chunks = args.chunks or (1000 if args.quick else 10_000)
    args.warmup = max(50, args.calls // 10)
    args.startup = [1, 10, 50]
    args.startup_reps = 1 if args.quick else 3
    args.db_vectors = args.db_vectors or (2000 if args.quick else 100_000)
    args.db_rounds = args.db_rounds or (1 if args.quick else 2)
    args.db_searches = 20 if args.quick else 200
    args.agent_tasks = 200 if args.quick else 2000
    args.sdk_calls = 300 if args.quick else 3000
    args.flood_seconds = 2.0 if args.quick else 5.0
    args.flood_calls = 200 if args.quick else 2000
    args.security_rounds = 1 if args.quick else 5
    return args


def main() -> None:
    args = parse_args()
    if args.memory_probe:
        print(json.dumps(asyncio.run(memory_probe(args.memory_probe, IDLE_PLUGINS))))
        return
    command = " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])
    if not report.extension_is_release():
        print(
            "warning: hector_plugins is a debug build; run `maturin develop --release` for real figures",
            file=sys.stderr,
        )
    peers.RELEASE = not args.dev_builds
    if not args.no_build:
        peers.build_all()
    peers.generate_stubs()
    started = time.monotonic()
    rust, go, startup, embed, mcp, agent, python_plugins = asyncio.run(measure_all(args))
    print("memory", file=sys.stderr, flush=True)
    mem = memory(RUST_PLUGIN)
    print("vector database", file=sys.stderr, flush=True)
    vectordb = peers.build_plugins.build_python_vectordb()
    db = asyncio.run(database.measure(vectordb, args.db_vectors, 384, args.db_searches, 10, args.db_rounds))
    print("log flood", file=sys.stderr, flush=True)
    flood = asyncio.run(log_flood.measure(args.flood_seconds, log_flood.RATE, log_flood.LINE_BYTES, args.flood_calls))
    print("security", file=sys.stderr, flush=True)
    protections = asyncio.run(security.measure(args.security_rounds, args.calls))
    figures = sections.Figures(
        chunks=args.chunks,
        rounds=args.rounds,
        startup_counts=args.startup,
        startup_reps=args.startup_reps,
        idle_plugins=IDLE_PLUGINS,
        rust=rust,
        go=go,
        startup=startup,
        memory=mem,
        embed=embed,
        mcp=mcp,
        agents=agent,
        sdk=python_plugins,
    )
    body, goals = sections.build(figures, CHART.name)
    report.insert_before_goals(body, database.section(db))
    report.insert_before_goals(body, log_flood.section(flood))
    report.insert_before_goals(body, security.section(protections))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    chart = args.output.parent / CHART.name
    report.latency_chart(
        chart,
        {
            "Rust echo plugin (same process)": {
                "hector (Python)": rust["unary"]["hector"].last_latencies_ns,
                "grpc.aio (Python)": rust["unary"]["grpc.aio"].last_latencies_ns,
                "in-process Python": rust["unary"]["in-process Python"].last_latencies_ns,
                **{f"{name} (Rust)": samples for name, samples in rust["floor_samples"].items()},
            },
            "Go echo plugin": {
                "hector (Python)": go["hector"].last_latencies_ns,
                "go-plugin Go host": go["go_samples"],
            },
        },
    )
    go_host = f"{go['go'][0]['host']}, {go['go'][0]['go']}" if go["go"] else "?"
    intro = [
        *(f"- {key}: {value}" for key, value in report.machine(LOAD_AT_START, go_host)),
        *(
            ["- Rust floors and rmcp server: DEV builds (`--dev-builds`: their figures mean nothing)"]
            if args.dev_builds
            else []
        ),
        f"- command: `{command}` ({time.monotonic() - started:.0f} s of measuring)",
        f"- {args.calls} calls per unary measurement after {args.warmup} warm-up calls, {args.rounds} rounds, "
        f"{args.chunks:,}-chunk streams; figures are medians across rounds",
        f"- chart: [{chart.name}]({chart.name}), distribution of sequential unary latencies (last round)",
    ]
    report.write(args.output, intro + body)
    for goal in log_flood.goals(flood) + security.goals(protections):
        goals.append(goal)
        report.replace_goal(args.output, goal)
    print(args.output.read_text())
    print("goals: " + ", ".join(f"{g.text}: {g.verdict}" for g in goals), file=sys.stderr)


if __name__ == "__main__":
    main()
