"""Vector database workload: upsert N vectors, then search them, through `pm.database(name)` and
through a Python grpc.aio client with generated stubs, on the same plugin process (the Python
example examples/python-vectordb, plain grpcio and numpy).

    python benchmarks/database.py                  # 100,000 vectors of 384 floats; updates its RESULTS.md section
    python benchmarks/database.py --vectors 20000  # scaled down (state it: the section says what ran)

`run.py` runs it as part of the full harness. Both clients start from the same float64 numpy
block and end with float32 numpy arrays (search results' vectors), so each pays its own
conversions: hector converts the block once in the core, grpc.aio goes through `tolist()` and
`numpy.array` per vector. Both keep 16 upserts in flight (hector's `upsert_many` bound). Nothing
here asserts on times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
import report  # noqa: E402
from report import fmt, median, ratio, table  # noqa: E402

HEADING = "## Vector database: upsert and search, Python vectordb example plugin"
IN_FLIGHT = 16  # hector's upsert_many bound (crates/host/src/clients/database.rs)
BATCH = 10_000  # vectors per upsert_many call (and per grpc.aio gather)
ROOT_RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()


class GrpcAioDatabase:
    """What a Python caller writes without this package: generated stubs over grpc.aio."""

    def __init__(self, address: str) -> None:
        import grpc
        from hector.plugin import database_pb2, database_pb2_grpc

        self.pb = database_pb2
        self.channel = grpc.aio.insecure_channel(
            "unix:" + address.removeprefix("unix:"),
            options=[("grpc.default_authority", "localhost"), ("grpc.max_receive_message_length", 64 << 20)],
        )
        self.stub = database_pb2_grpc.DatabaseProviderStub(self.channel)

    async def upsert_all(self, collection: str, ids: list[str], vectors: Any) -> None:
        limit = asyncio.Semaphore(IN_FLIGHT)

        async def one(id: str, row: Any) -> None:
            async with limit:
                reply = await self.stub.Upsert(self.pb.UpsertRequest(collection=collection, id=id, vector=row.tolist()))
            if not reply.success:
                raise RuntimeError(reply.error)

        for start in range(0, len(ids), BATCH):
            await asyncio.gather(*(one(ids[i], vectors[i]) for i in range(start, min(start + BATCH, len(ids)))))

    async def search(self, collection: str, query: Any, top_k: int) -> list[tuple[str, Any]]:
        import numpy as np

        request = self.pb.SearchRequest(collection=collection, vector=query.tolist(), top_k=top_k)
        reply = await self.stub.Search(request)
        if reply.error:
            raise RuntimeError(reply.error)
        return [(r.id, np.array(r.vector, dtype=np.float32)) for r in reply.results]

    async def close(self) -> None:
        await self.channel.close()


async def measure(plugin: Path, vectors: int, dim: int, searches: int, top_k: int, rounds: int) -> dict[str, Any]:
    """Per client: upserts/s and searches/s of each round, and the bytes of vectors each moved."""
    import numpy as np
    from hector_plugins import PluginManager

    rng = np.random.default_rng(384)
    block = rng.standard_normal((vectors, dim))
    queries = rng.standard_normal((searches, dim))
    ids = [f"v{i}" for i in range(vectors)]
    upserts: dict[str, list[float]] = {"hector": [], "grpc.aio": []}
    lookups: dict[str, list[float]] = {"hector": [], "grpc.aio": []}
    async with PluginManager() as pm:
        # The default mtls (auto) leaves the unix socket plaintext: a gRPC client calls the same socket.
        info = await pm.load(plugin, name="vectordb", type="database", call_timeout=None)
        db = pm.database("vectordb")
        grpc_db = GrpcAioDatabase(info.address)

        async def hector_upsert(collection: str) -> None:
            for start in range(0, vectors, BATCH):
                await db.upsert_many(collection, ids[start : start + BATCH], block[start : start + BATCH])

        async def hector_search(collection: str, query: Any) -> Any:
            return [(r.id, r.vector) for r in await db.search(collection, query, top_k)]

        upsert_with: dict[str, Callable[[str], Any]] = {
            "hector": hector_upsert,
            "grpc.aio": lambda c: grpc_db.upsert_all(c, ids, block),
        }
        search_with: dict[str, Callable[[str, Any], Any]] = {
            "hector": hector_search,
            "grpc.aio": lambda c, q: grpc_db.search(c, q, top_k),
        }
        try:
            # Both clients search the same collection; it is refilled each round.
            for r in range(rounds):
                order = ["hector", "grpc.aio"] if r % 2 == 0 else ["grpc.aio", "hector"]
                print(f"  database round {r + 1}/{rounds} ({' / '.join(order)})", file=sys.stderr, flush=True)
                for name in order:
                    await db.create_collection("bench", dim)
                    start = time.perf_counter()
                    await upsert_with[name]("bench")
                    upserts[name].append(vectors / (time.perf_counter() - start))
                    if name != order[-1]:
                        await db.delete_collection("bench")  # one collection in the plugin at a time
                same = [await search_with[name]("bench", queries[0]) for name in order]
                assert [i for i, _ in same[0]] == [i for i, _ in same[1]], "the clients disagree"
                for name in order:
                    start = time.perf_counter()
                    for query in queries:
                        await search_with[name]("bench", query)
                    lookups[name].append(searches / (time.perf_counter() - start))
                await db.delete_collection("bench")
        finally:
            await grpc_db.close()
    return {
        "vectors": vectors,
        "dim": dim,
        "searches": searches,
        "top_k": top_k,
        "rounds": rounds,
        "upserts": upserts,
        "searches_per_s": lookups,
    }


def section(m: dict[str, Any]) -> list[str]:
    """The RESULTS.md section: medians across rounds, and the data each rate moves."""
    upsert_mb = m["dim"] * 4 / 1e6  # one vector, as float32 on the wire
    search_mb = (m["top_k"] + 1) * m["dim"] * 4 / 1e6  # the query and the vectors of its results
    rows = []
    for name in ("hector", "grpc.aio"):
        up, look = median(m["upserts"][name]), median(m["searches_per_s"][name])
        rows.append(
            [
                name,
                fmt(up),
                fmt(up * upsert_mb if up else None, ".1f"),
                fmt(look),
                fmt(look * search_mb if look else None, ".2f"),
            ]
        )
    hector, other = m["upserts"]["hector"], m["upserts"]["grpc.aio"]
    rows.append(
        [
            "hector / grpc.aio",
            ratio(True, median(hector), median(other)),
            "",
            ratio(True, median(m["searches_per_s"]["hector"]), median(m["searches_per_s"]["grpc.aio"])),
            "",
        ]
    )
    per_round = ", ".join(
        f"{name}: upserts/s {[round(x) for x in m['upserts'][name]]}, searches/s "
        f"{[round(x, 1) for x in m['searches_per_s'][name]]}"
        for name in ("hector", "grpc.aio")
    )
    return [
        "",
        HEADING,
        "",
        f"{m['vectors']:,} vectors of {m['dim']} floats upserted (16 calls in flight, one `Upsert` per vector: "
        f"the protocol carries one id per call), then {m['searches']} sequential searches (top {m['top_k']}, "
        f"results with their vectors) over all of them; {m['rounds']} rounds, medians. MB/s counts float32 "
        "vectors on the wire. Both clients call the same plugin process, a single-threaded Python grpc.aio "
        "server doing numpy work per call, so both mostly wait on the plugin: this compares what each "
        "client adds, not a fast database.",
        "",
        *table(["client", "upserts/s", "upsert MB/s", "searches/s", "search MB/s"], rows),
        "",
        f"Per round: {per_round}.",
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--vectors", type=int, default=100_000, help="vectors upserted per client and round")
    parser.add_argument("--dim", type=int, default=384, help="floats per vector")
    parser.add_argument("--searches", type=int, default=200, help="searches per client and round")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    report.add_output_arguments(parser, ROOT_RESULTS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    plugin = peers.build_plugins.build_python_vectordb()
    peers.generate_stubs()
    m = asyncio.run(measure(plugin, args.vectors, args.dim, args.searches, args.top_k, args.rounds))
    report.update_alone(args, HEADING, section(m), [], LOAD_AT_START)


if __name__ == "__main__":
    main()
