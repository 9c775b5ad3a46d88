"""Timing primitives shared by the benchmark workloads. Nothing here knows which client it times."""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

Call = Callable[[], Awaitable[object]]
CONCURRENCY = (16, 256)


def percentile(sorted_values: list[int], q: float) -> float:
    """The sample at index round(q·(n−1)) of the sorted values, ties to even (the Go and Rust peers use the same rule)."""
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return float(sorted_values[index])


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process (this one by default), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process so far (its own, not its children's), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def host_cpu_seconds() -> float:
    """CPU time of this whole process (every thread: the event loop and the tokio workers)."""
    return _cpu_seconds(resource.RUSAGE_SELF)


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have exited and been reaped (stopped plugins)."""
    return _cpu_seconds(resource.RUSAGE_CHILDREN)


async def sequential(call: Call, n: int) -> tuple[list[int], float, float]:
    """n awaited calls one after another: (latencies in ns, calls/s, host CPU µs per call)."""
    latencies = [0] * n
    clock = time.perf_counter_ns
    cpu_before = host_cpu_seconds()
    start = clock()
    for i in range(n):
        t0 = clock()
        await call()
        latencies[i] = clock() - t0
    elapsed = clock() - start
    cpu = host_cpu_seconds() - cpu_before
    return latencies, n * 1e9 / elapsed, cpu * 1e6 / n


async def concurrent(call: Call, n: int, tasks: int) -> float:
    """n calls spread over `tasks` asyncio tasks, each calling sequentially: total calls/s."""
    per_task = [n // tasks + (1 if i < n % tasks else 0) for i in range(tasks)]

    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    start = time.perf_counter_ns()
    await asyncio.gather(*(worker(count) for count in per_task))
    return n * 1e9 / (time.perf_counter_ns() - start)


@dataclass
class UnarySamples:
    """Per-round results of one client; reported as medians across rounds."""

    p50_us: list[float] = field(default_factory=list)
    p99_us: list[float] = field(default_factory=list)
    seq_rate: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    conc_rate: dict[int, list[float]] = field(default_factory=lambda: {c: [] for c in CONCURRENCY})
    last_latencies_ns: list[int] = field(default_factory=list)

    def median(self, metric: str) -> float:
        return statistics.median(getattr(self, metric))


async def measure_unary(
    call: Call, n: int, warm: int, into: UnarySamples, *, concurrency: tuple[int, ...] = CONCURRENCY
) -> None:
    """One round for one client: sequential latencies, then each concurrency level (none: `()`)."""
    await sequential(call, warm)
    if concurrency:
        await concurrent(call, warm, concurrency[0])
    gc.collect()
    latencies, rate, cpu = await sequential(call, n)
    latencies.sort()
    into.p50_us.append(percentile(latencies, 0.50) / 1000)
    into.p99_us.append(percentile(latencies, 0.99) / 1000)
    into.seq_rate.append(rate)
    into.cpu_us.append(cpu)
    into.last_latencies_ns = latencies
    for tasks in concurrency:
        await concurrent(call, warm, tasks)
        gc.collect()
        into.conc_rate[tasks].append(await concurrent(call, n, tasks))


async def chunks_per_second(
    open_stream: Callable[[], object], expected: int, is_text: Callable[[object], bool]
) -> float:
    """Consumes one stream; checks it carried `expected` text chunks; returns chunks/s."""
    start = time.perf_counter_ns()
    count = 0
    async for chunk in open_stream():  # type: ignore[attr-defined]
        if is_text(chunk):
            count += 1
    elapsed = time.perf_counter_ns() - start
    if count != expected:
        raise RuntimeError(f"the stream carried {count} text chunks, expected {expected}")
    return count * 1e9 / elapsed
