"""What the protections of docs/security.md cost: the start of a plugin (`pm.load` until ready)
and the p50 of sequential unary calls, with every protection off and with all of them on, for
the Rust and Go echo LLMs, in alternating rounds so that drift of the machine hits both alike.

"All on": a copy of the plugin in a trusted directory, its SHA-256 and a minisign signature
checked on the descriptor that runs, limits (memory through a cgroup, CPU time, open files,
processes), the default environment allowlist, a Landlock sandbox of paths and TCP ports, no
network (its own namespace), and mTLS. "Off": `mtls: off`, `env_allowlist: ["*"]` and nothing
else (as earlier releases ran plugins).

    python benchmarks/security.py [--rounds R] [--calls N] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "security"))

import peers  # noqa: E402
import report  # noqa: E402
from measure import percentile, sequential  # noqa: E402
from minisign import Signer  # noqa: E402
from report import Goal, divide, fmt, table  # noqa: E402

HEADING = "## Security: the cost of every protection"
RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()
PLUGINS = {"rust": "echo-llm-rust", "go": "echo-llm-go"}
MESSAGE = [{"role": "user", "content": "hello"}]


def protected_copy(plugin: Path, directory: Path, signer: Signer) -> Path:
    copy = directory / plugin.name
    shutil.copy(plugin, copy)
    copy.chmod(0o755)
    signer.sign(copy)
    return copy


async def one_round(path: Path, config: dict[str, Any], options: dict[str, Any], calls: int) -> tuple[float, float]:
    """(start ms, call p50 µs) of one fresh plugin."""
    from hector_plugins import PluginManager

    async with PluginManager(config) as pm:
        started = time.perf_counter()
        await pm.load(path, name="echo", **options)
        start_ms = (time.perf_counter() - started) * 1000
        llm = pm.llm("echo")

        async def call() -> None:
            await llm.generate(MESSAGE)

        await sequential(call, max(50, calls // 10))
        samples, _, _ = await sequential(call, calls)
        samples.sort()
        return start_ms, percentile(samples, 0.5) / 1000


async def measure(rounds: int, calls: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="hector-security-bench-"))
    signer = Signer()
    key = signer.write_public_key(directory / "bench.pub")
    trusted = directory / "trusted"
    trusted.mkdir()
    off = {"plugin_security": {"env_allowlist": ["*"]}}
    on = {
        "plugin_security": {
            "verify_signatures": True,
            "trusted_keys": [str(key)],
            "trusted_directories": [str(trusted)],
            "max_memory_mb": 512,
            "max_cpu_seconds": 3600,
            "max_open_files": 1024,
            "max_processes": 128,
            "sandbox": {"read_only": [], "tcp_connect": [], "network": False},
        }
    }
    results: dict[str, Any] = {"rounds": rounds, "calls": calls, "plugins": {}}
    for label, name in PLUGINS.items():
        plugin = peers.ROOT / "examples" / "plugins" / name
        copy = protected_copy(plugin, trusted, signer)
        digest = hashlib.sha256(copy.read_bytes()).hexdigest()
        on_options: dict[str, Any] = {"sha256": digest, "mtls": "on"}
        figures: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
        for _ in range(rounds):
            figures["off"].append(await one_round(plugin, off, {"mtls": "off"}, calls))
            figures["on"].append(await one_round(copy, on, on_options, calls))
        results["plugins"][label] = {
            mode: {
                "start_ms": statistics.median(s for s, _ in rows),
                "p50_us": statistics.median(p for _, p in rows),
            }
            for mode, rows in figures.items()
        }
    shutil.rmtree(directory, ignore_errors=True)
    return results


def section(m: dict[str, Any]) -> list[str]:
    rows = []
    for label, figures in m["plugins"].items():
        off, on = figures["off"], figures["on"]
        rows.append(
            [
                f"{label} echo LLM",
                fmt(off["start_ms"], ",.1f"),
                fmt(on["start_ms"], ",.1f"),
                fmt(divide(on["start_ms"], off["start_ms"]), ".2f") + "×",
                fmt(off["p50_us"], ",.0f"),
                fmt(on["p50_us"], ",.0f"),
                fmt(divide(on["p50_us"], off["p50_us"]), ".2f") + "×",
            ]
        )
    return [
        "",
        HEADING,
        "",
        "All protections on: signature, checksum and trusted directory checked on the descriptor that runs, "
        "a cgroup with memory and process limits, CPU-time and open-file limits, the environment allowlist, a "
        "Landlock sandbox of paths and ports, its own network namespace, mTLS. Off: none of these (mtls off, "
        "the whole environment passed). "
        f"Medians of {m['rounds']} alternating rounds, each a fresh plugin: its start (`pm.load` until ready), "
        f"then the p50 of {m['calls']} sequential `generate` calls.",
        "",
        *table(["plugin", "start off ms", "start on ms", "on / off", "p50 off µs", "p50 on µs", "on / off"], rows),
    ]


def goals(m: dict[str, Any]) -> list[Goal]:
    rust = m["plugins"]["rust"]
    return [
        Goal(
            "Security: every protection on costs at most 10% on a call's p50 (Rust echo)",
            divide(rust["on"]["p50_us"], rust["off"]["p50_us"]),
            1.10,
            False,
            f"{rust['on']['p50_us']:.0f} vs {rust['off']['p50_us']:.0f} µs",
        )
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating off/on rounds per plugin")
    parser.add_argument("--calls", type=int, default=2000, help="sequential calls per round")
    report.add_output_arguments(parser, RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    m = asyncio.run(measure(args.rounds, args.calls))
    report.update_alone(args, HEADING, section(m), goals(m), LOAD_AT_START)


if __name__ == "__main__":
    main()
