"""A plugin that floods its stderr (~64 MB/s of log lines) while it serves: what its output costs
the host, against what writing it costs the plugin (docs/protocol.md §5.2).

The plugin is tests/plugins/sdk/flood.py: an SDK echo LLM whose flood comes from a writer process
sharing its stderr, so the plugin's event loop is not slowed by it. Python logging writes every
record it gets to a file at WARNING (the flood's untagged lines are warnings), as an application
that keeps its logs would. Per phase (quiet, then flooding):

* CPU over a window of `--seconds` with no calls: the host process (per thread: tokio workers,
  the log forwarder, the rest) against the plugin's two processes, from /proc;
* the host's resident memory (the highest of samples taken every 50 ms over the window);
* the p50 and p99 of `--calls` sequential `generate` calls, made after the window, still under
  the flood.

Goal: under the flood the host spends at most half the plugin's CPU. No time is asserted.
run.py runs it too; on its own it rewrites only its RESULTS.md section and goal:

    python benchmarks/log_flood.py [--seconds S] [--rate BYTES_PER_S] [--calls N] [--log-budget unlimited]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
import report  # noqa: E402
from measure import host_cpu_seconds, percentile, process_cpu_seconds, rss_bytes, sequential  # noqa: E402
from report import Goal, divide, fmt, table  # noqa: E402

HEADING = "## Log floods: a plugin writing 64 MB/s to stderr"
FLOOD_PLUGIN = peers.ROOT / "tests" / "plugins" / "sdk" / "flood.py"
RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()
RATE = 64e6
LINE_BYTES = 100
# Between the flood's start and the window: the lines of the budget's burst (20,000 by default)
# are through Python by then, and the window sees the steady state.
SETTLE_SECONDS = 3.0


def thread_cpu_seconds() -> dict[str, float]:
    """CPU time of this process's threads so far, summed by thread name (tokio workers share one)."""
    by_name: dict[str, float] = collections.defaultdict(float)
    ticks = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a thread that ended meanwhile
        by_name[name] += (int(fields[11]) + int(fields[12])) / ticks
    return dict(by_name)


def written_bytes(pid: int) -> int:
    """Bytes a process wrote so far (all descriptors), from /proc/<pid>/io."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def file_bytes(path: Path) -> int:
    return path.stat().st_size


async def window(seconds: float, pids: list[int], log_file: Path) -> dict[str, Any]:
    """CPU of the host (per thread) and of `pids` over `seconds` of no calls, the bytes `pids`
    wrote and those Python logging wrote to `log_file`, and the host's peak resident memory."""
    threads_before, host_before = thread_cpu_seconds(), host_cpu_seconds()
    logged_before = file_bytes(log_file)
    plugin_before = sum(process_cpu_seconds(pid) for pid in pids)
    written_before = sum(written_bytes(pid) for pid in pids)
    peak_rss = rss_bytes()
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        await asyncio.sleep(0.05)
        peak_rss = max(peak_rss, rss_bytes())
    elapsed = time.monotonic() - start
    threads_after = thread_cpu_seconds()
    threads = {name: cpu - threads_before.get(name, 0.0) for name, cpu in threads_after.items()}
    return {
        "elapsed": elapsed,
        "host": host_cpu_seconds() - host_before,
        "threads": threads,
        "plugin": sum(process_cpu_seconds(pid) for pid in pids) - plugin_before,
        "written_mb_s": (sum(written_bytes(pid) for pid in pids) - written_before) / elapsed / 1e6,
        "logged_mb_s": (file_bytes(log_file) - logged_before) / elapsed / 1e6,
        "peak_rss_mib": peak_rss / 2**20,
    }


def thread_group(name: str) -> str:
    """Linux keeps 15 characters of a thread's name: "hector-plugins" are the tokio workers (the
    core's runtime), "hector-plugins-" the log forwarder ("hector-plugins-logs")."""
    return {"hector-plugins": "tokio workers", "hector-plugins-": "log forwarder"}.get(name, "other threads")


async def latencies(llm: Any, calls: int) -> tuple[float, float]:
    from hector_plugins import Message

    messages = [Message.user("hi")]

    async def call() -> None:
        if (await llm.generate(messages)).text != "Echo: hi":
            raise RuntimeError("wrong answer")

    await sequential(call, max(20, calls // 10))
    samples, _, _ = await sequential(call, calls)
    samples.sort()
    return percentile(samples, 0.5) / 1000, percentile(samples, 0.99) / 1000


async def measure(
    seconds: float, rate: float, line_bytes: int, calls: int, log_budget: object | None = None
) -> dict[str, Any]:
    from hector_plugins import PluginManager

    directory = Path(tempfile.mkdtemp(prefix="log-flood-"))
    launcher = directory / "flood-llm"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FLOOD_PLUGIN}" "$@"\n')
    launcher.chmod(0o755)
    # Every record Python gets is written, as by an application that keeps its logs.
    log_file = directory / "host.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    root_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    options: dict[str, Any] = {} if log_budget is None else {"log_budget": log_budget}
    results: dict[str, Any] = {
        "seconds": seconds,
        "rate": rate,
        "line_bytes": line_bytes,
        "calls": calls,
        "log_budget": log_budget,
    }
    try:
        async with PluginManager() as pm:
            info = await pm.load(launcher, name="flood", type="llm_provider", **options)
            llm = pm.llm("flood")
            results["quiet"] = await window(seconds, [info.pid], log_file)
            results["quiet"]["p50"], results["quiet"]["p99"] = await latencies(llm, calls)
            flood = f"flood {rate:.0f} {line_bytes}"
            writer = int((await llm.generate([{"role": "user", "content": flood}])).text)
            await asyncio.sleep(SETTLE_SECONDS)
            results["flood"] = await window(seconds, [info.pid, writer], log_file)
            results["flood"]["p50"], results["flood"]["p99"] = await latencies(llm, calls)
            await llm.generate([{"role": "user", "content": "stop"}])
            status = next(p for p in pm.plugins if p.name == "flood")
            # The core counts them (PluginStatus::dropped_log_lines); shown once PluginInfo has it.
            results["dropped_log_lines"] = getattr(status, "dropped_log_lines", None)
    finally:
        root.removeHandler(handler)
        root.setLevel(root_level)
        handler.close()
        # What is still on its way from the flood goes nowhere, not to logging's last resort.
        logging.getLogger("hector_plugins.plugin.flood").setLevel(logging.CRITICAL)
    results["logged_mb"] = log_file.stat().st_size / 1e6
    return results


def section(m: dict[str, Any]) -> list[str]:
    budget = "the default" if m["log_budget"] is None else f"`{json.dumps(m['log_budget'])}`"
    dropped = "" if m["dropped_log_lines"] is None else f"; lines dropped: {m['dropped_log_lines']:,}"
    rows = []
    for phase in ("quiet", "flood"):
        w = m[phase]
        groups: dict[str, float] = collections.defaultdict(float)
        for name, cpu in w["threads"].items():
            groups[thread_group(name)] += cpu
        per_s = 1 / w["elapsed"]
        rows.append(
            [
                phase,
                fmt(w["written_mb_s"], ",.1f"),
                fmt(w["logged_mb_s"], ",.2f"),
                fmt(w["plugin"] * per_s, ".3f"),
                fmt(w["host"] * per_s, ".3f"),
                fmt(groups["tokio workers"] * per_s, ".3f"),
                fmt(groups["log forwarder"] * per_s, ".3f"),
                fmt(divide(w["host"], w["plugin"]), ".2f"),
                fmt(w["peak_rss_mib"], ",.1f"),
                fmt(w["p50"], ",.0f"),
                fmt(w["p99"], ",.0f"),
            ]
        )
    return [
        "",
        HEADING,
        "",
        f"The SDK plugin tests/plugins/sdk/flood.py; a writer process sharing its stderr writes "
        f"{m['line_bytes']}-byte untagged lines (WARNING) at {m['rate'] / 1e6:,.0f} MB/s; Python logging writes what "
        f"it gets to a file. CPU in seconds per second over {m['seconds']:g} s without calls ({SETTLE_SECONDS:g} s after "
        f"the flood began); host RSS: the highest sample; then {m['calls']} sequential `generate` calls.",
        "",
        *table(
            [
                "phase",
                "plugin wrote MB/s",
                "host logged MB/s",
                "plugin CPU",
                "host CPU",
                "tokio workers",
                "log forwarder",
                "host / plugin",
                "host RSS MiB",
                "p50 µs",
                "p99 µs",
            ],
            rows,
        ),
        "",
        f"Log budget: {budget}. Written to the log file over the run: {m['logged_mb']:,.1f} MB{dropped}.",
    ]


def goals(m: dict[str, Any]) -> list[Goal]:
    flood = m["flood"]
    return [
        Goal(
            "Log flood: the host spends at most half the plugin's CPU on its output",
            divide(flood["host"], flood["plugin"]),
            0.5,
            False,
            f"{flood['host'] / flood['elapsed']:.3f} vs {flood['plugin'] / flood['elapsed']:.3f} CPU s/s",
        )
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each CPU window")
    parser.add_argument("--rate", type=float, default=RATE, help="bytes per second the plugin writes")
    parser.add_argument("--line-bytes", type=int, default=LINE_BYTES, help="length of each line, newline included")
    parser.add_argument("--calls", type=int, default=2000, help="sequential calls per phase")
    parser.add_argument(
        "--log-budget",
        type=lambda text: text if text == "unlimited" else json.loads(text),
        help="the plugin's log_budget: unlimited, or JSON such as '{\"lines_per_second\": 2000}' (default: the default)",
    )
    report.add_output_arguments(parser, RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    m = asyncio.run(measure(args.seconds, args.rate, args.line_bytes, args.calls, args.log_budget))
    report.update_alone(args, HEADING, section(m), goals(m), LOAD_AT_START)


if __name__ == "__main__":
    main()
