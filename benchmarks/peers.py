"""The peers hector_plugins is measured against: a Python grpc.aio client, go-plugin's own Go host
(benchmarks/go-host) and the native Rust floors (benchmarks/rust-floor). Builds them and runs them.
(The `mcp` SDK's client, the MCP workload's peer, is in mcp_calls.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "benchmarks" / "_generated"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
GO_HOST = TARGET / "bench-go-host"
# The Rust peers (the floors and the rmcp MCP server) are release builds, except in a smoke run
# (`run.py --dev-builds`, which the test suite uses): there they are the dev builds `cargo test`
# compiled already, and their figures mean nothing.
RELEASE = True

sys.path.insert(0, str(ROOT / "examples"))
import build_plugins  # noqa: E402  (examples/ is not a package)


def rust_floor_binary() -> Path:
    return TARGET / ("release" if RELEASE else "debug") / "bench-floor"


def rmcp_server() -> Path:
    """The MCP workload's server (tests/rmcp-server)."""
    return TARGET / ("release" if RELEASE else "debug") / build_plugins.RMCP_TEST_SERVER_PACKAGE


def run(command: list[str], cwd: Path = ROOT) -> None:
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, cwd=cwd, check=True)


def build_all() -> None:
    """The example plugins (release), the rmcp MCP server, the Go host and the Rust floor.
    Incremental: cheap when built."""
    build_plugins.build_all(release=True)
    build_plugins.build_rmcp_test_server(release=RELEASE)
    if shutil.which("go") is None:
        sys.exit("the go-plugin host benchmark needs Go (https://go.dev/dl/)")
    run(["go", "build", "-o", str(GO_HOST), "."], cwd=ROOT / "benchmarks" / "go-host")
    run(["cargo", "build", "--quiet", *(["--release"] if RELEASE else []), "-p", "bench-floor"])


# --------------------------------------------------------------------------- grpc.aio


def generate_stubs() -> None:
    """The grpc.aio client's stubs, generated into benchmarks/_generated/ (gitignored)."""
    build_plugins.generate_python_stubs(GENERATED)
    sys.path.insert(0, str(GENERATED))


class GrpcAioClient:
    """A Python grpc.aio client with generated stubs on a plugin's unix socket."""

    def __init__(self, address: str) -> None:
        import grpc
        from hector.plugin import llm_pb2, llm_pb2_grpc

        self._pb = llm_pb2
        # grpcio's default :authority over unix sockets is rejected by hyper servers.
        self.channel = grpc.aio.insecure_channel(
            "unix:" + address.removeprefix("unix:"), options=[("grpc.default_authority", "localhost")]
        )
        self.stub = llm_pb2_grpc.LLMProviderStub(self.channel)

    def request(self, content: str) -> Any:
        return self._pb.GenerateRequest(messages=[self._pb.Message(role="user", content=content)])

    def generate(self) -> Callable[[], Awaitable[object]]:
        request = self.request("hi")
        return lambda: self.stub.Generate(request)

    def stream(self, content: str) -> Callable[[], AsyncIterator[Any]]:
        request = self.request(content)
        return lambda: self.stub.GenerateStreaming(request)

    def is_text(self, chunk: Any) -> bool:
        return bool(chunk.type == self._pb.StreamChunk.TEXT)

    async def close(self) -> None:
        await self.channel.close()


class GrpcAioEmbedder:
    """A Python grpc.aio client of an embedder plugin: `EmbedBatch`, then the vectors into numpy."""

    def __init__(self, address: str) -> None:
        import grpc
        from hector.plugin import embedder_pb2, embedder_pb2_grpc

        self._pb = embedder_pb2
        self.channel = grpc.aio.insecure_channel(
            "unix:" + address.removeprefix("unix:"),
            # grpcio refuses answers over 4 MiB unless told; a 10,000 x 384 batch is 15 MB.
            options=[("grpc.default_authority", "localhost"), ("grpc.max_receive_message_length", -1)],
        )
        self.stub = embedder_pb2_grpc.EmbedderProviderStub(self.channel)

    async def embed_batch(self, texts: list[str]) -> Any:
        import numpy as np

        response = await self.stub.EmbedBatch(self._pb.EmbedBatchRequest(texts=texts))
        vectors = np.fromiter(response.vectors, dtype=np.float32, count=len(response.vectors))
        return vectors.reshape(len(texts), response.dimension)

    async def close(self) -> None:
        await self.channel.close()


# --------------------------------------------------------------------------- asyncio socket floor


class AsyncioEcho:
    """The floor of any out-of-process call from asyncio: 64 bytes to an echo process
    (`bench-floor --serve-echo`) and back, on the event loop's own selector. No HTTP/2, no
    protobuf, no thread but the loop's."""

    SIZE = 64

    def __init__(self, directory: Path) -> None:
        import socket
        import time

        path = directory / "echo.sock"
        self.server = subprocess.Popen([str(rust_floor_binary()), "--serve-echo", str(path)])
        deadline = time.monotonic() + 10
        while not path.exists():
            if self.server.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"bench-floor --serve-echo did not start on {path}")
            time.sleep(0.01)
        self.socket = socket.socket(socket.AF_UNIX)
        self.socket.connect(str(path))
        self.socket.setblocking(False)
        self.buffer = bytearray(self.SIZE)

    def round_trip(self) -> Callable[[], Awaitable[object]]:
        import asyncio

        loop = asyncio.get_running_loop()
        request = b"x" * self.SIZE
        view = memoryview(self.buffer)

        async def call() -> object:
            await loop.sock_sendall(self.socket, request)
            received = 0
            while received < self.SIZE:
                received += await loop.sock_recv_into(self.socket, view[received:])
            return received

        return call

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        self.server.kill()
        self.server.wait()


# --------------------------------------------------------------------------- external hosts


def _json_from(command: list[str]) -> dict[str, Any]:
    print("+", " ".join(command), file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, check=True)
    return json.loads(done.stdout)


def go_host(
    plugin: Path, *, calls: int, rounds: int, chunks: int, startup: str | None, samples: Path | None
) -> dict[str, Any]:
    """go-plugin's Go host launching and calling `plugin` (see benchmarks/go-host/README.md)."""
    command = [
        str(GO_HOST),
        "-plugin",
        str(plugin),
        "-calls",
        str(calls),
        "-rounds",
        str(rounds),
        "-stream-chunks",
        str(chunks),
    ]
    command += ["-startup", startup] if startup else ["-skip-startup"]
    if samples:
        command += ["-samples", str(samples)]
    return _json_from(command)


def rust_floor(
    address: str, *, calls: int, rounds: int, chunks: int, samples_dir: Path | None, one_thread: bool = False
) -> dict[str, Any]:
    """Raw socket, tonic and hector's own Rust client on the plugin at `address`; on a runtime
    like the Python host's, or (`one_thread`) with IO, connection and calls on one thread."""
    workers = os.environ.get("HECTOR_PLUGINS_WORKER_THREADS") or "2"  # the same as the Python host's runtime
    command = [
        str(rust_floor_binary()),
        "--address",
        address,
        "--calls",
        str(calls),
        "--rounds",
        str(rounds),
        "--stream-chunks",
        str(chunks),
    ]
    command += ["--current-thread"] if one_thread else ["--workers", workers]
    if samples_dir:
        command += ["--samples-dir", str(samples_dir)]
    return _json_from(command)


def read_samples(path: Path) -> list[int]:
    """Per-call latencies in ns, one per line, as the peers write them."""
    return sorted(int(line) for line in path.read_text().split())
