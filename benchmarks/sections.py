"""The sections of RESULTS.md, one function each, from the figures `run.py` measured.

`Figures` gathers what several sections need (medians of the main clients, the Rust floors, the
go-plugin host's rounds); each section function returns its Markdown lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import agents
import embeddings
import mcp_calls
from measure import CONCURRENCY, UnarySamples
from report import Goal, divide, fmt, goals_table, median, ratio, table

import sdk

GO_KEYS = ("p50_us", "p99_us", "seq_calls_per_s", "c16_calls_per_s", "c256_calls_per_s")


@dataclass
class Figures:
    """Everything measured in one run."""

    chunks: int
    rounds: int
    startup_counts: list[int]
    startup_reps: int
    idle_plugins: int
    rust: dict[str, Any]  # unary: {client: UnarySamples}, streams: {client: [chunks/s]}, floors: bench-floor medians
    go: dict[
        str, Any
    ]  # hector: UnarySamples, hector_streams, go: [go-host round JSON], floors: bench-floor on the Go plugin
    startup: dict[str, dict[int, dict[str, float]]]
    memory: dict[str, float]
    embed: dict[str, Any]  # rates: {client: [vectors/s per round]}, loop_texts (embeddings.py)
    mcp: dict[str, Any]  # missing, rounds, servers: {server: {label, calls, warm, samples}} (mcp_calls.py)
    agents: dict[str, Any]  # samples: {way: UnarySamples}, calls, rounds, missing (agents.py)
    sdk: dict[str, Any]  # samples, cpu, rss per way (sdk.py)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def unary(self) -> dict[str, UnarySamples]:
        return self.rust["unary"]

    def floor(self, client: str, key: str) -> float | None:
        value = self.rust["floors"].get(client, {}).get(key)
        return float(value) if value is not None else None

    def p50(self, client: str) -> float | None:
        return self.unary[client].median("p50_us") if client in self.unary else None

    def stream(self, client: str) -> float | None:
        return median(self.rust["streams"].get(client, []))

    def go_host(self, key: str) -> float | None:
        return median([r["unary"][key] for r in self.go["go"]])

    def go_host_rounds(self, key: str) -> list[float]:
        return [r["unary"][key] for r in self.go["go"]]

    @property
    def most(self) -> int:
        return max(self.startup_counts)


def unary_section(f: Figures) -> list[str]:
    rows = []
    for name, s in f.unary.items():
        rows.append(
            [
                name,
                fmt(s.median("p50_us"), ".1f"),
                fmt(s.median("p99_us"), ".1f"),
                fmt(s.median("seq_rate")),
                fmt(median(s.conc_rate[16])),
                fmt(median(s.conc_rate[256])),
                fmt(s.median("cpu_us"), ".1f"),
            ]
        )
    for name in ("hector-core", "tonic", "raw-socket"):
        if name in f.rust["floors"]:
            rows.append(
                [
                    f"{name} (Rust)",
                    fmt(f.floor(name, "p50_us"), ".1f"),
                    fmt(f.floor(name, "p99_us"), ".1f"),
                    fmt(f.floor(name, "seq_calls_per_s")),
                    fmt(f.floor(name, "c16_calls_per_s")),
                    fmt(f.floor(name, "c256_calls_per_s")),
                    "–",
                ]
            )
    for name in ("hector-core", "tonic"):
        one = f.rust.get("floors_one_thread", {}).get(name)
        if one:
            rows.append(
                [
                    f"{name}, one thread (Rust)",
                    fmt(one.get("p50_us"), ".1f"),
                    fmt(one.get("p99_us"), ".1f"),
                    fmt(one.get("seq_calls_per_s")),
                    fmt(one.get("c16_calls_per_s")),
                    fmt(one.get("c256_calls_per_s")),
                    "–",
                ]
            )
    if f.floor("raw-socket", "cross_cpu_p50_us") is not None:
        # The same round trip with its two ends on different CPUs: what waking the other CPU costs.
        rows.append(
            [
                "raw-socket across CPUs (Rust)",
                fmt(f.floor("raw-socket", "cross_cpu_p50_us"), ".1f"),
                fmt(f.floor("raw-socket", "cross_cpu_p99_us"), ".1f"),
                fmt(f.floor("raw-socket", "cross_cpu_calls_per_s")),
                "–",
                "–",
                "–",
            ]
        )
    h, g = f.unary["hector"], f.unary["grpc.aio"]
    hector_vs_grpc = [
        ratio(False, h.median("p50_us"), g.median("p50_us")),
        ratio(False, h.median("p99_us"), g.median("p99_us")),
        ratio(True, h.median("seq_rate"), g.median("seq_rate")),
        ratio(True, median(h.conc_rate[16]), median(g.conc_rate[16])),
        ratio(True, median(h.conc_rate[256]), median(g.conc_rate[256])),
        ratio(False, h.median("cpu_us"), g.median("cpu_us")),
    ]
    hector_vs_tonic = [
        ratio(False, h.median("p50_us"), f.floor("tonic", "p50_us")),
        ratio(False, h.median("p99_us"), f.floor("tonic", "p99_us")),
        ratio(True, h.median("seq_rate"), f.floor("tonic", "seq_calls_per_s")),
        ratio(True, median(h.conc_rate[16]), f.floor("tonic", "c16_calls_per_s")),
        ratio(True, median(h.conc_rate[256]), f.floor("tonic", "c256_calls_per_s")),
        "–",
    ]
    return [
        "",
        "## Unary `Generate`, Rust echo plugin (one process; every client on its unix socket)",
        "",
        *table(
            ["client", "p50 µs", "p99 µs", "sequential calls/s", "c16 calls/s", "c256 calls/s", "host CPU µs/call"],
            rows,
        ),
        "",
        *table(
            ["hector compared with", "p50", "p99", "sequential", "c16", "c256", "host CPU"],
            [["grpc.aio", *hector_vs_grpc], ["tonic (Rust floor)", *hector_vs_tonic]],
        ),
        "",
        "Ratios say how many times better hector is (below 1× = worse). Host CPU is this process's CPU time",
        "(all threads) per sequential call; the plugin's CPU is not included.",
    ]


def stream_section(f: Figures) -> list[str]:
    rows = [[name, fmt(median(rates))] for name, rates in f.rust["streams"].items()]
    rows += [
        [f"{name} (Rust)", fmt(f.floor(name, "stream_chunks_per_s"))]
        for name in ("hector-core", "tonic")
        if name in f.rust["floors"]
    ]
    hector = f.stream("hector")
    return [
        "",
        f"## Streaming: one `GenerateStreaming` of {f.chunks:,} chunks, Rust echo plugin",
        "",
        *table(["client", "chunks/s"], rows),
        "",
        f"hector / grpc.aio: {ratio(True, hector, f.stream('grpc.aio'))}; hector / tonic: {ratio(True, hector, f.floor('tonic', 'stream_chunks_per_s'))}.",
    ]


def go_section(f: Figures) -> list[str]:
    gh: UnarySamples = f.go["hector"]
    go_stream = median([r["stream"]["chunks_per_s"] for r in f.go["go"]])
    rows = [
        [
            "p50 µs",
            fmt(gh.median("p50_us"), ".1f"),
            fmt(f.go_host("p50_us"), ".1f"),
            ratio(False, gh.median("p50_us"), f.go_host("p50_us")),
        ],
        [
            "p99 µs",
            fmt(gh.median("p99_us"), ".1f"),
            fmt(f.go_host("p99_us"), ".1f"),
            ratio(False, gh.median("p99_us"), f.go_host("p99_us")),
        ],
        [
            "sequential calls/s",
            fmt(gh.median("seq_rate")),
            fmt(f.go_host("seq_calls_per_s")),
            ratio(True, gh.median("seq_rate"), f.go_host("seq_calls_per_s")),
        ],
    ]
    for c in CONCURRENCY:
        ours, theirs = median(gh.conc_rate[c]), f.go_host(f"c{c}_calls_per_s")
        rows.append([f"c{c} calls/s", fmt(ours), fmt(theirs), ratio(True, ours, theirs)])
    ours_stream = median(f.go["hector_streams"])
    rows.append(
        [f"stream chunks/s ({f.chunks:,})", fmt(ours_stream), fmt(go_stream), ratio(True, ours_stream, go_stream)]
    )
    core, tonic = f.go["floors"].get("hector-core", {}), f.go["floors"].get("tonic", {})
    return [
        "",
        "## Go echo plugin: hector (Python) vs. go-plugin's own Go host",
        "",
        "The same plugin binary (examples/go/echo-llm); each host launches its own process. Rounds alternate.",
        "",
        *table(["metric", "hector", "go-plugin host", "ratio"], rows),
        "",
        f"Rust clients without Python on hector's Go plugin process: hector-core p50 {fmt(core.get('p50_us'), '.1f')} µs, "
        f"tonic p50 {fmt(tonic.get('p50_us'), '.1f')} µs.",
    ]


def startup_bound_ms(f: Figures, label: str) -> float | None:
    """The least wall time the most plugins can start in: their own CPU spread over every core."""
    cpu = f.startup.get(label, {}).get(f.most, {}).get("plugin_cpu_ms")
    return f.most * cpu / f.cores if cpu else None


def startup_section(f: Figures) -> list[str]:
    rows = []
    for label, figures in f.startup.items():
        one, most = figures.get(1, {}).get("ms"), figures.get(f.most, {}).get("ms")
        cells = [fmt(figures.get(k, {}).get("ms"), ".1f") for k in f.startup_counts]
        host = figures.get(f.most, {}).get("host_cpu_ms")
        cpu = figures.get(f.most, {}).get("plugin_cpu_ms")
        rows.append(
            [
                label,
                *cells,
                f"{most / one:.1f}×" if one and most else "–",
                fmt(host, ".2f"),
                fmt(cpu, ".1f"),
                fmt(startup_bound_ms(f, label), ".0f"),
            ]
        )
    counts = [f"{k} plugin{'s' if k > 1 else ''} ms" for k in f.startup_counts]
    return [
        "",
        f"## Startup: K plugins launched at once, until all are ready (median of {f.startup_reps} for hector, of up to 3 for go-plugin)",
        "",
        *table(
            [
                "host / plugin",
                *counts,
                f"{f.most} / 1",
                "host CPU ms per start",
                "plugin CPU ms per start",
                f"CPU bound for {f.most} ms",
            ],
            rows,
        ),
        "",
        '"Ready" = handshake, connection and `Initialize` done. Host CPU per start: this process\'s CPU (all',
        "threads) during `load_all`, per plugin. Plugin CPU per start: the plugins' own CPU",
        f"time from launch to exit (reaped children), per plugin. CPU bound: {f.most} starts need at least",
        f"{f.most} × that / {f.cores} cores of wall time, whatever the host does.",
    ]


def memory_section(f: Figures) -> list[str]:
    m = f.memory
    return [
        "",
        f"## Host memory per idle plugin ({f.idle_plugins} Rust echo plugins, fresh interpreter)",
        "",
        f"RSS {m['before_mib']:.1f} MiB before, {m['after_mib']:.1f} MiB with {f.idle_plugins} plugins loaded and idle: "
        f"**{m['per_plugin_kib']:.0f} KiB per plugin** (the plugins' own memory is not the host's).",
    ]


def bounds_section(f: Figures) -> list[str]:
    """What bounds the call latency, computed from the figures above."""
    hector, core, tonic = f.p50("hector"), f.floor("hector-core", "p50_us"), f.floor("tonic", "p50_us")
    raw_same, raw_cross = f.floor("raw-socket", "p50_us"), f.floor("raw-socket", "cross_cpu_p50_us")
    asyncio_floor = f.p50("raw-socket from asyncio")
    go_core = f.go["floors"].get("hector-core", {}).get("p50_us")
    return [
        "",
        "## What bounds the call latency",
        "",
        f"- Python's share: hector p50 {fmt(hector, '.1f')} µs − hector-core (the same Rust client, no Python) "
        f"{fmt(core, '.1f')} µs = **{fmt(hector - core if hector and core else None, '.1f')} µs** per call for the asyncio ⇄ tokio "
        "hand-offs and the Python objects.",
        f"- What a hand-off between threads costs here: a raw socket round trip takes {fmt(raw_same, '.1f')} µs with both ends on "
        f"one CPU and {fmt(raw_cross, '.1f')} µs across CPUs, ≈{fmt((raw_cross - raw_same) / 2 if raw_same and raw_cross else None, '.0f')} µs "
        "per wake-up of the other CPU. A call from Python makes two such hand-offs (event loop → tokio worker, worker → event loop).",
        "- The floor of any out-of-process call from asyncio: 64 bytes to an echo process and back on the event loop's own "
        f"socket (no HTTP/2, no protobuf, no other thread) takes {fmt(asyncio_floor, '.1f')} µs p50, "
        f"{fmt(asyncio_floor / tonic if asyncio_floor and tonic else None, '.2f')}× the Rust tonic client's whole gRPC call.",
        f"- Without the hand-offs: the same Rust client with IO, connection and calls on one thread (what a transport driven "
        f"by the event loop itself would do) takes {fmt(f.rust.get('floors_one_thread', {}).get('hector-core', {}).get('p50_us'), '.1f')} µs p50, "
        f"against {fmt(core, '.1f')} µs on two workers.",
        f"- The Go plugin, without Python: our Rust client (hector-core) {fmt(go_core, '.1f')} µs p50 "
        f"(on the Rust plugin: {fmt(core, '.1f')} µs); go-plugin's Go host {fmt(f.go_host('p50_us'), '.1f')} µs.",
    ]


def goals(f: Figures) -> list[Goal]:
    hector, grpc, tonic = f.p50("hector"), f.p50("grpc.aio"), f.floor("tonic", "p50_us")
    go_hector, go_host = f.go["hector"].median("p50_us"), f.go_host("p50_us")
    rust_startup = f.startup.get("hector, Rust plugin", {})
    one, most = rust_startup.get(1, {}).get("ms"), rust_startup.get(f.most, {}).get("ms")
    bound = startup_bound_ms(f, "hector, Rust plugin")
    stream_ours, stream_grpc = f.stream("hector"), f.stream("grpc.aio")
    per_plugin_kib = f.memory["per_plugin_kib"]

    return [
        Goal(
            "p50 unary at least 2× faster than grpc.aio",
            divide(grpc, hector),
            2.0,
            True,
            f"{fmt(hector, '.1f')} vs {fmt(grpc, '.1f')} µs",
        ),
        Goal(
            "async call from Python ≤ 1.3× the native Rust tonic floor (p50)",
            divide(hector, tonic),
            1.3,
            False,
            f"{fmt(hector, '.1f')} vs {fmt(tonic, '.1f')} µs; a bare asyncio socket round trip alone takes "
            f"{fmt(f.p50('raw-socket from asyncio'), '.1f')} µs",
        ),
        Goal(
            "no slower than go-plugin's Go host on the same Go plugin (p50)",
            divide(go_host, go_hector),
            1.0,
            True,
            f"{fmt(go_hector, '.1f')} vs {fmt(go_host, '.1f')} µs",
        ),
        Goal(
            f"{f.most} plugins ready in under 3× the time of one",
            divide(most, one),
            3.0,
            False,
            f"{fmt(most, '.1f')} vs {fmt(one, '.1f')} ms (Rust plugin); the plugins' own CPU alone allows no better than "
            f"{fmt(divide(bound, one), '.0f')}× on {f.cores} cores",
        ),
        Goal(
            "streaming at least 5× grpc.aio chunks/s",
            divide(stream_ours, stream_grpc),
            5.0,
            True,
            f"{fmt(stream_ours)} vs {fmt(stream_grpc)} chunks/s",
        ),
        *embeddings.goals(f.embed),
        *mcp_calls.goals(f.mcp),
        *agents.goals(f.agents),
        *sdk.goals(f.sdk),
        Goal(
            "under 2 MiB of host memory per idle plugin",
            per_plugin_kib / 1024,
            2.0,
            False,
            f"{per_plugin_kib:.0f} KiB",
            unit=" MiB",
        ),
    ]


def rounds_section(f: Figures, chart_name: str) -> list[str]:
    rows = []
    for name, s in f.unary.items():
        for label, values, spec in (
            ("p50 µs", s.p50_us, ".1f"),
            ("p99 µs", s.p99_us, ".1f"),
            ("c256 calls/s", s.conc_rate[256], ",.0f"),
        ):
            if values:
                rows.append(f"| {name} | {label} | {' | '.join(format(v, spec) for v in values)} |")
    for name, rates in f.rust["streams"].items():
        rows.append(f"| {name} | stream chunks/s | {' | '.join(format(v, ',.0f') for v in rates)} |")
    for name, rates in f.embed["rates"].items():
        rows.append(f"| {name} | vectors/s | {' | '.join(format(v, ',.0f') for v in rates)} |")
    rows.append(f"| hector (Go plugin) | p50 µs | {' | '.join(format(v, '.1f') for v in f.go['hector'].p50_us)} |")
    rows.append(f"| go-plugin host | p50 µs | {' | '.join(format(v, '.1f') for v in f.go_host_rounds('p50_us'))} |")
    return [
        "",
        "## Per-round values",
        "",
        "Rust echo plugin unless the client says otherwise.",
        "",
        f"| client | metric | {' | '.join(f'round {r + 1}' for r in range(f.rounds))} |",
        f"|---|---|{'---:|' * f.rounds}",
        *rows,
        "",
        f"![latency distributions]({chart_name})",
    ]


def build(f: Figures, chart_name: str) -> tuple[list[str], list[Goal]]:
    """Every section, in order, and the goals with their verdicts."""
    measured = goals(f)
    lines = (
        unary_section(f)
        + stream_section(f)
        + go_section(f)
        + startup_section(f)
        + memory_section(f)
        + embeddings.section(f.embed)
        + mcp_calls.section(f.mcp)
        + agents.section(f.agents)
        + sdk.section(f.sdk)
        + bounds_section(f)
        + goals_table(measured)
        + rounds_section(f, chart_name)
    )
    return lines, measured
