"""The embedder workload: `embed_batch` of 10,000 texts at dimension 384 into one float32 numpy
array, against a loop of `embed` calls and against grpc.aio doing the same `EmbedBatch` (with its
conversion to numpy), on one Rust embedder process; and the same batch from the Go embedder,
which has no `EmbedBatch` (the host's per-text fallback). Measures and reports; asserts no time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable
from typing import Any, Callable

import numpy as np
import peers
from report import Goal, divide, fmt, median, ratio, table

TEXTS = 10_000
DIMENSION = 384
RUST_EMBEDDER = peers.build_plugins.RUST_EMBEDDER
GO_EMBEDDER = peers.build_plugins.GO_EMBEDDER

BATCH = "hector embed_batch"
GRPC = "grpc.aio EmbedBatch + numpy"
LOOP = "hector loop of embed"
FALLBACK = "hector embed_batch, Go plugin (per-text Embed)"


def texts(count: int) -> list[str]:
    return [f"document {i}: a few words about topic {i % 97} and more" for i in range(count)]


async def embed_loop(embedder: Any, batch: list[str]) -> np.ndarray:
    """What a caller without `embed_batch` writes: one awaited `embed` per text, into one array."""
    out = np.empty((len(batch), DIMENSION), dtype=np.float32)
    for i, text in enumerate(batch):
        out[i] = await embedder.embed(text)
    return out


async def embedder_workloads(args: argparse.Namespace) -> dict[str, Any]:
    """Vectors/s of each client, per round, in alternating order; every result checked."""
    from hector_plugins import PluginManager

    batch = texts(TEXTS)
    # The loop is timed per vector; a quick run loops over fewer texts.
    looped = batch[: 1_000 if args.quick else TEXTS]
    config = {"dimension": DIMENSION}
    async with PluginManager() as pm:
        # The default mtls (auto) leaves the unix socket plaintext: a gRPC client calls the same socket.
        info = await pm.load(RUST_EMBEDDER, name="embed-rust", type="embedder", config=config)
        await pm.load(GO_EMBEDDER, name="embed-go", type="embedder", config=config)
        rust, go = pm.embedder("embed-rust"), pm.embedder("embed-go")
        grpc_client = peers.GrpcAioEmbedder(info.address)
        clients: dict[str, tuple[int, Callable[[], Awaitable[np.ndarray]]]] = {
            BATCH: (TEXTS, lambda: rust.embed_batch(batch)),
            GRPC: (TEXTS, lambda: grpc_client.embed_batch(batch)),
            LOOP: (len(looped), lambda: embed_loop(rust, looped)),
            FALLBACK: (TEXTS, lambda: go.embed_batch(batch)),
        }
        rates: dict[str, list[float]] = {name: [] for name in clients}
        try:
            reference = await rust.embed_batch(batch)  # also the warm-up
            for name, (rows, call) in clients.items():
                check(name, await call(), reference[:rows])
            for r in range(args.rounds):
                order = list(clients) if r % 2 == 0 else list(clients)[::-1]
                print(f"  embedder round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
                for name in order:
                    rows, call = clients[name]
                    start = time.perf_counter()
                    await call()
                    rates[name].append(rows / (time.perf_counter() - start))
        finally:
            await grpc_client.close()
    return {"rates": rates, "loop_texts": len(looped)}


def check(name: str, got: np.ndarray, expected: np.ndarray) -> None:
    if got.dtype != np.float32 or got.shape != expected.shape or not np.array_equal(got, expected):
        raise RuntimeError(f"{name} returned {got.dtype} {got.shape}, not the reference vectors")


def megabytes_per_second(vectors_per_second: float | None) -> float | None:
    return vectors_per_second * DIMENSION * 4 / 1e6 if vectors_per_second else None


def section(embed: dict[str, Any]) -> list[str]:
    rates = {name: median(values) for name, values in embed["rates"].items()}
    batch = rates.get(BATCH)
    rows = [
        [
            name,
            fmt(rate),
            fmt(megabytes_per_second(rate), ",.1f"),
            ratio(True, batch, rate) if name != BATCH else "–",
        ]
        for name, rate in rates.items()
    ]
    return [
        "",
        f"## Embeddings: {TEXTS:,} texts at dimension {DIMENSION} into one float32 numpy array",
        "",
        *table(["client", "vectors/s", "MB/s", "embed_batch is"], rows),
        "",
        f"Rust embedder (examples/rust-embedder) for the first three; each result is checked against the same "
        f"({TEXTS:,}, {DIMENSION}) float32 array. grpc.aio: generated stubs, `EmbedBatch`, then "
        "`numpy.fromiter(response.vectors, float32)`. The loop awaits one `embed` per text "
        f"({embed['loop_texts']:,} texts) into a preallocated array. The Go embedder has no `EmbedBatch`: "
        "the host sends 16 `Embed` calls at a time. MB/s counts the float32 payload.",
    ]


def goals(embed: dict[str, Any]) -> list[Goal]:
    rates = {name: median(values) for name, values in embed["rates"].items()}
    batch, loop, grpc = rates.get(BATCH), rates.get(LOOP), rates.get(GRPC)
    return [
        Goal(
            "`embed_batch` at least 10× a loop of `embed`",
            divide(batch, loop),
            10.0,
            True,
            f"{fmt(batch)} vs {fmt(loop)} vectors/s",
        ),
        Goal(
            "`embed_batch` at least 3× grpc.aio (`EmbedBatch` into numpy)",
            divide(batch, grpc),
            3.0,
            True,
            f"{fmt(batch)} vs {fmt(grpc)} vectors/s",
        ),
    ]
