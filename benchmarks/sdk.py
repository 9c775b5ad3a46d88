"""A Python plugin on hector_plugins.sdk against the same plugin on grpcio's asyncio server: one
handler (`plugins/echo_handler.py`, an echo `Generate`), two ways of serving it, both called
from hector with `LLMClient.generate`. Reports per way: sequential p50, calls/s at concurrency
16, the plugin process's CPU per call (user + system, over the concurrent phase) and its
resident memory after the run. Goal: the SDK plugin serves at least 2x grpcio's calls/s at
concurrency 16 with at most half its CPU per call. Every answer is checked; no time is asserted.

    python benchmarks/sdk.py [--calls N] [--rounds R]   # on its own: updates its RESULTS.md section
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
import report  # noqa: E402
from measure import UnarySamples, concurrent, measure_unary, process_cpu_seconds, rss_bytes  # noqa: E402
from report import Goal, divide, fmt, median, table  # noqa: E402

HEADING = "## Python plugins: hector_plugins.sdk against grpcio"
CONCURRENCY = 16
SDK, GRPCIO = "hector_plugins.sdk", "grpcio asyncio server"
PLUGINS = Path(__file__).resolve().parent / "plugins"
RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()


def launchers(directory: Path) -> dict[str, Path]:
    """Shell launchers for the two plugins, run by this interpreter."""
    stubs = peers.build_plugins.generate_python_stubs(peers.GENERATED / "python")
    scripts = {SDK: ("echo_sdk.py", ""), GRPCIO: ("echo_grpcio.py", f"HECTOR_PROTO_STUBS={stubs} ")}
    paths = {}
    for way, (script, env) in scripts.items():
        path = directory / script.replace(".py", "")
        path.write_text(f'#!/bin/sh\n{env}exec "{sys.executable}" "{PLUGINS / script}" "$@"\n')
        path.chmod(0o755)
        paths[way] = path
    return paths


def generate(llm: Any) -> Callable[[], Any]:
    from hector_plugins import Message

    messages = [Message.user("hello")]

    async def call() -> None:
        if (await llm.generate(messages)).text != "Echo: hello":
            raise RuntimeError("wrong answer")

    return call


async def measure(calls: int, rounds: int) -> dict[str, Any]:
    from hector_plugins import PluginManager

    directory = peers.GENERATED / "sdk-bench"
    directory.mkdir(parents=True, exist_ok=True)
    paths = launchers(directory)
    samples = {way: UnarySamples() for way in paths}
    cpu_per_call: dict[str, list[float]] = {way: [] for way in paths}
    rss: dict[str, list[float]] = {way: [] for way in paths}
    async with PluginManager() as pm:
        for way, path in paths.items():
            await pm.load(path, name=way, type="llm_provider")
        pids = {info.name: info.pid for info in pm.plugins}
        warm = max(20, calls // 10)
        for r in range(rounds):
            print(f"  sdk round {r + 1}/{rounds}", file=sys.stderr, flush=True)
            for way in paths if r % 2 == 0 else list(paths)[::-1]:
                call = generate(pm.llm(way))
                await measure_unary(call, calls, warm, samples[way], concurrency=(CONCURRENCY,))
                before = process_cpu_seconds(pids[way])
                await concurrent(call, calls, CONCURRENCY)
                cpu_per_call[way].append((process_cpu_seconds(pids[way]) - before) / calls * 1e6)
                rss[way].append(rss_bytes(pids[way]) / 2**20)
    return {"samples": samples, "cpu": cpu_per_call, "rss": rss, "calls": calls, "rounds": rounds}


def section(m: dict[str, Any]) -> list[str]:
    rows = []
    for way, s in m["samples"].items():
        rows.append(
            [
                way,
                fmt(s.median("p50_us"), ",.0f"),
                fmt(median(s.conc_rate[CONCURRENCY])),
                fmt(median(m["cpu"][way]), ",.0f"),
                fmt(median(m["rss"][way]), ",.1f"),
            ]
        )
    return [
        "",
        HEADING,
        "",
        "One handler (an echo `Generate`) served two ways, both called from hector with `LLMClient.generate`: "
        "the Python SDK (the protocol in the Rust core, calls as tasks on the plugin's event loop) and grpcio's "
        f"asyncio server with generated stubs. {m['calls']} calls per measurement, {m['rounds']} rounds, medians. "
        f"Plugin CPU per call: the plugin process's user + system time over {m['calls']} calls at concurrency "
        f"{CONCURRENCY}; RSS after the run.",
        "",
        *table(["plugin", "p50 µs", f"calls/s c{CONCURRENCY}", "plugin CPU µs/call", "plugin RSS MiB"], rows),
    ]


def goals(m: dict[str, Any]) -> list[Goal]:
    sdk, grpcio = m["samples"][SDK], m["samples"][GRPCIO]
    rate_sdk, rate_grpcio = median(sdk.conc_rate[CONCURRENCY]), median(grpcio.conc_rate[CONCURRENCY])
    cpu_sdk, cpu_grpcio = median(m["cpu"][SDK]), median(m["cpu"][GRPCIO])
    return [
        Goal(
            f"Python SDK plugin at least 2x a grpcio plugin's calls/s (c{CONCURRENCY})",
            divide(rate_sdk, rate_grpcio),
            2.0,
            True,
            f"{fmt(rate_sdk)} vs {fmt(rate_grpcio)} calls/s",
        ),
        Goal(
            "Python SDK plugin at most half a grpcio plugin's CPU per call",
            divide(cpu_grpcio, cpu_sdk),
            2.0,
            True,
            f"{fmt(cpu_sdk)} vs {fmt(cpu_grpcio)} µs",
        ),
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    report.add_output_arguments(parser, RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    m = asyncio.run(measure(args.calls, args.rounds))
    report.update_alone(args, HEADING, section(m), goals(m), LOAD_AT_START)


if __name__ == "__main__":
    main()
