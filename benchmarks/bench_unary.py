"""Unary-call benchmark: hector_plugins vs. Python grpc.aio, side by side, in one run.

    python benchmarks/bench_unary.py            # full run (5000 calls per measurement)
    python benchmarks/bench_unary.py --quick    # a short smoke run

One Rust echo plugin (examples/plugins/echo-llm-rust) is launched through PluginManager. Both
clients call hector.plugin.LLMProvider/Generate on that same process over the same unix socket:

  * hector    - `await llm.generate([Message.user("hi")])`
  * grpc.aio  - generated stubs (grpc_tools.protoc on proto/), `await stub.Generate(request)`

Workloads, each preceded by a warm-up: sequential calls (per-call latency p50/p99 from
perf_counter_ns around each await, and calls/s), and throughput with 16 and 256 concurrent
tasks (asyncio.gather, each task doing sequential calls). Rounds alternate the clients (A/B
then B/A) so machine noise hits both alike; the report gives medians across rounds. The floor is
a no-op `async def` awaited in the same loop: the cost of the measuring itself.

Prints a table and writes benchmarks/RESULTS.md. Nothing here asserts on times.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import statistics
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
GENERATED = BENCH / "_generated"
PLUGIN = ROOT / "examples" / "plugins" / "echo-llm-rust"
RESULTS = BENCH / "RESULTS.md"
CONCURRENCY = (16, 256)
P50_GOAL = 2.0
LOAD_AT_START = os.getloadavg()
HEADER = ("metric", "hector", "grpc.aio", "ratio", "paired ratio")

Call = Callable[[], Awaitable[object]]


# --------------------------------------------------------------------------- setup


def generate_stubs() -> None:
    """grpc_tools.protoc on proto/hector/plugin/*.proto into benchmarks/_generated/."""
    from grpc_tools import protoc

    GENERATED.mkdir(exist_ok=True)
    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto" / "hector" / "plugin").glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    args = ["protoc", f"-I{ROOT / 'proto'}", f"-I{include}", f"--python_out={GENERATED}", f"--grpc_python_out={GENERATED}"]
    if protoc.main(args + protos) != 0:
        sys.exit("grpc_tools.protoc failed")
    for package in (GENERATED / "hector", GENERATED / "hector" / "plugin"):
        (package / "__init__.py").touch()
    sys.path.insert(0, str(GENERATED))


def ensure_plugin(path: Path) -> Path:
    """Builds the Rust echo plugin with examples/build_plugins.py if it is missing."""
    if not path.exists() and path == PLUGIN:
        sys.path.insert(0, str(ROOT / "examples"))
        import build_plugins

        build_plugins.build_rust(release=True)
    if not path.exists():
        sys.exit(f"plugin not found: {path}")
    return path


def hector_call(llm) -> Call:
    from hector_plugins import Message

    def call() -> Awaitable[object]:
        return llm.generate([Message.user("hi")])

    return call


def grpc_call(address: str):
    """Returns (call, channel) for a grpc.aio client on the plugin's unix socket."""
    import grpc
    from hector.plugin import llm_pb2, llm_pb2_grpc

    path = address.removeprefix("unix:")
    # grpcio's default :authority over unix sockets is rejected by hyper servers.
    channel = grpc.aio.insecure_channel("unix:" + path, options=[("grpc.default_authority", "localhost")])
    stub = llm_pb2_grpc.LLMProviderStub(channel)

    def call() -> Awaitable[object]:
        return stub.Generate(llm_pb2.GenerateRequest(messages=[llm_pb2.Message(role="user", content="hi")]))

    return call, channel


def floor_call() -> Call:
    value = object()

    async def noop() -> object:
        return value

    return noop


# --------------------------------------------------------------------------- measuring


async def sequential(call: Call, n: int) -> tuple[list[int], float]:
    """n awaited calls one after another: (per-call latencies in ns, calls/s)."""
    latencies = [0] * n
    clock = time.perf_counter_ns
    start = clock()
    for i in range(n):
        t0 = clock()
        await call()
        latencies[i] = clock() - t0
    elapsed = clock() - start
    return latencies, n * 1e9 / elapsed


async def concurrent(call: Call, n: int, tasks: int) -> float:
    """n calls spread over `tasks` concurrent tasks, each calling sequentially: total calls/s."""
    per_task = [n // tasks + (1 if i < n % tasks else 0) for i in range(tasks)]

    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    start = time.perf_counter_ns()
    await asyncio.gather(*(worker(count) for count in per_task))
    return n * 1e9 / (time.perf_counter_ns() - start)


def percentile(sorted_values: list[int], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return float(sorted_values[index])


@dataclass
class Samples:
    """Per-round results of one client; reported as medians across rounds."""

    p50_us: list[float] = field(default_factory=list)
    p99_us: list[float] = field(default_factory=list)
    seq_rate: list[float] = field(default_factory=list)
    conc_rate: dict[int, list[float]] = field(default_factory=lambda: {c: [] for c in CONCURRENCY})

    def median(self, metric: str) -> float:
        return statistics.median(getattr(self, metric))


async def warm_up(call: Call, n: int) -> None:
    await sequential(call, n)
    await concurrent(call, n, 16)


async def measure_sequential(call: Call, n: int, warm: int, into: Samples) -> None:
    await warm_up(call, warm)
    gc.collect()
    latencies, rate = await sequential(call, n)
    latencies.sort()
    into.p50_us.append(percentile(latencies, 0.50) / 1000)
    into.p99_us.append(percentile(latencies, 0.99) / 1000)
    into.seq_rate.append(rate)


async def measure_concurrent(call: Call, n: int, warm: int, tasks: int, into: Samples) -> None:
    await warm_up(call, warm)
    gc.collect()
    into.conc_rate[tasks].append(await concurrent(call, n, tasks))


async def run_rounds(clients: dict[str, Call], n: int, rounds: int, warm: int) -> dict[str, Samples]:
    """Every workload, client by client, with the client order reversed on odd rounds."""
    samples = {name: Samples() for name in clients}
    names = list(clients)
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        print(f"  round {r + 1}/{rounds} ({' / '.join(order)})", flush=True)
        for name in order:
            await measure_sequential(clients[name], n, warm, samples[name])
        for tasks in CONCURRENCY:
            for name in order:
                await measure_concurrent(clients[name], n, warm, tasks, samples[name])
    return samples


async def measure_floor(n: int, rounds: int) -> float:
    """p50 (µs) of awaiting a no-op coroutine, median across rounds."""
    call = floor_call()
    p50s = []
    for _ in range(rounds):
        await sequential(call, n)
        latencies, _ = await sequential(call, n)
        latencies.sort()
        p50s.append(percentile(latencies, 0.50) / 1000)
    return statistics.median(p50s)


# --------------------------------------------------------------------------- reporting


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def elf_section_names(path: Path) -> set[str]:
    """Section names of a little-endian ELF64 file (empty set if it is something else)."""
    data = path.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return set()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<I20xQQ", data, shoff + i * shentsize) for i in range(shnum)]
    _, strtab, _ = headers[shstrndx]
    return {data[strtab + name:data.index(b"\0", strtab + name)].decode() for name, _, _ in headers}


def extension_build() -> str:
    """Release or debug build of hector_plugins._core (debug builds carry DWARF sections)."""
    from hector_plugins import _core

    has_dwarf = ".debug_info" in elf_section_names(Path(_core.__file__))
    return "debug build (has DWARF)" if has_dwarf else "release build (no DWARF)"


def machine_info(event_loop: str) -> list[tuple[str, str]]:
    import grpc
    import hector_plugins

    info = [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", cpu_model()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("event loop", event_loop),
        ("hector_plugins", f"{hector_plugins.__version__}, {extension_build()}"),
        ("grpcio", grpc.__version__),
        ("tokio workers", os.environ.get("HECTOR_PLUGINS_WORKER_THREADS", "default (2)")),
        ("load average at start (1/5/15 min)", " ".join(f"{x:.2f}" for x in LOAD_AT_START)),
    ]
    return info


def row(label: str, hector: list[float], grpc_aio: list[float], fmt: str, lower_is_better: bool) -> tuple[str, ...]:
    """One table row: medians, ratio of the medians, and the median of the per-round ratios
    (each round's A and B ran back to back, so the paired ratio cancels slow drifts in load).
    Ratios read "how many times better hector is"."""

    def better(h: float, g: float) -> float:
        return g / h if lower_is_better else h / g

    h, g = statistics.median(hector), statistics.median(grpc_aio)
    paired = statistics.median(better(a, b) for a, b in zip(hector, grpc_aio))
    return (label, format(h, fmt), format(g, fmt), f"{better(h, g):.2f}×", f"{paired:.2f}×")


def result_rows(samples: dict[str, Samples], floor_p50: float) -> list[tuple[str, ...]]:
    h, g = samples["hector"], samples["grpc.aio"]
    rows = [
        row("sequential p50 (µs)", h.p50_us, g.p50_us, ".1f", lower_is_better=True),
        row("sequential p99 (µs)", h.p99_us, g.p99_us, ".1f", lower_is_better=True),
        row("sequential calls/s", h.seq_rate, g.seq_rate, ",.0f", lower_is_better=False),
    ]
    for c in CONCURRENCY:
        rows.append(row(f"concurrency {c} calls/s", h.conc_rate[c], g.conc_rate[c], ",.0f", lower_is_better=False))
    rows.append(("floor: no-op coroutine await p50 (µs)", f"{floor_p50:.2f}", "", "", ""))
    return rows


def print_table(rows: list[tuple[str, ...]]) -> None:
    """Plain-text table: first column left-aligned, numbers right-aligned."""
    header = HEADER
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))


def round_rows(samples: dict[str, Samples]) -> list[str]:
    """Markdown rows of every round's raw value, to judge the noise behind the medians."""
    lines = []
    for name, s in samples.items():
        series = [("p50 µs", s.p50_us, ".1f"), ("p99 µs", s.p99_us, ".1f"), ("seq calls/s", s.seq_rate, ",.0f")]
        series += [(f"c{c} calls/s", s.conc_rate[c], ",.0f") for c in CONCURRENCY]
        for label, values, fmt in series:
            lines.append(f"| {name} | {label} | {' | '.join(format(v, fmt) for v in values)} |")
    return lines


def goal_line(samples: dict[str, Samples]) -> str:
    h, g = samples["hector"], samples["grpc.aio"]
    achieved = g.median("p50_us") / h.median("p50_us")
    paired = statistics.median(b / a for a, b in zip(h.p50_us, g.p50_us))
    verdict = "MET" if achieved >= P50_GOAL else "NOT MET"
    return (f"p50 goal (grpc.aio p50 / hector p50 ≥ {P50_GOAL:g}×): **{verdict}** "
            f"({achieved:.2f}× from the medians; paired per-round ratio {paired:.2f}×).")


def display_path(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def write_results(command: str, args: argparse.Namespace, rows, samples: dict[str, Samples]) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Unary call benchmark results",
        "",
        "Generated by `benchmarks/bench_unary.py`; do not edit by hand. See benchmarks/README.md.",
        "",
        f"- date: {now}",
        *(f"- {key}: {value}" for key, value in machine_info(args.event_loop)),
        f"- command: `{command}`",
        f"- {args.calls} calls per measurement, {args.rounds} rounds (clients alternated A/B, B/A), "
        f"{args.warmup} warm-up calls before each; values are medians across rounds",
        f"- plugin: {display_path(args.plugin)}, one process, both clients on its unix socket",
        "",
        f"| {' | '.join(HEADER)} |",
        "|---|---:|---:|---:|---:|",
        *(f"| {' | '.join(row)} |" for row in rows),
        "",
        "Ratios: latency = grpc.aio / hector, throughput = hector / grpc.aio (above 1× means hector is better). "
        "`ratio` compares the medians; `paired ratio` is the median of the per-round ratios.",
        "",
        goal_line(samples),
        "",
        "## Per-round values",
        "",
        f"| client | metric | {' | '.join(f'round {r + 1}' for r in range(args.rounds))} |",
        f"|---|---|{'---:|' * args.rounds}",
        *round_rows(samples),
        "",
    ]
    RESULTS.write_text("\n".join(lines))


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> tuple[dict[str, Samples], float]:
    from hector_plugins import PluginManager

    args.event_loop = type(asyncio.get_running_loop()).__name__
    pm = PluginManager()
    try:
        info = await pm.load(str(args.plugin), name="echo")
        llm = pm.llm("echo")
        grpc_generate, channel = grpc_call(info.address)
        clients = {"hector": hector_call(llm), "grpc.aio": grpc_generate}
        # Sanity check (content, not timing): both clients reach the same echo.
        print(f"plugin at {info.address}: hector -> {(await clients['hector']()).text!r}, "
              f"grpc.aio -> {(await clients['grpc.aio']()).text!r}")
        try:
            samples = await run_rounds(clients, args.calls, args.rounds, args.warmup)
        finally:
            await channel.close()
    finally:
        await pm.shutdown()
    floor = await measure_floor(args.calls, args.rounds)
    return samples, floor


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=None, help="calls per measurement (default 5000, --quick 500)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 5, --quick 2)")
    parser.add_argument("--quick", action="store_true", help="short run: 500 calls, 2 rounds")
    parser.add_argument("--plugin", type=Path, default=PLUGIN, help="echo LLM plugin executable")
    args = parser.parse_args()
    if args.calls is None:
        args.calls = 500 if args.quick else 5000
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    args.warmup = max(50, args.calls // 10)
    return args


def main() -> None:
    args = parse_args()
    command = " ".join(["python", "benchmarks/bench_unary.py", *sys.argv[1:]])
    generate_stubs()
    args.plugin = ensure_plugin(args.plugin.resolve())
    samples, floor = asyncio.run(run(args))
    rows = result_rows(samples, floor)
    print()
    print_table(rows)
    print()
    print(goal_line(samples).replace("**", ""))
    write_results(command, args, rows, samples)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
