"""Builds the example plugins into examples/plugins/ (next to their .plugin.yaml manifests).

    python examples/build_plugins.py          # Rust and Go echo LLMs and embedders, Go kv and tools plugins,
                                              # go-plugin's streamer, Python vector DB and reasoning strategy
    python examples/build_plugins.py --debug  # the Rust plugins without optimizations

cargo and go only rebuild what changed, so running this again is cheap. The MCP test server
(tests/rmcp-server) is not built here: the tests build it on demand (build_rmcp_test_server).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "examples" / "plugins"
GO_MODULE = ROOT / "examples" / "go"

RUST_PLUGIN = PLUGINS / "echo-llm-rust"
RUST_EMBEDDER = PLUGINS / "embedder-rust"
GO_PLUGIN = PLUGINS / "echo-llm-go"
GO_KV_PLUGIN = PLUGINS / "kv-go"
PY_VECTORDB_DIR = ROOT / "examples" / "python-vectordb"
PY_VECTORDB_PLUGIN = PLUGINS / "vectordb-py"
PY_VECTORDB_SDK_PLUGIN = PLUGINS / "vectordb-sdk-py"
GO_TOOLS_PLUGIN = PLUGINS / "tools-go"
GO_EMBEDDER = PLUGINS / "embedder-go"
PY_REASONING_PLUGIN = PLUGINS / "cot-reasoning-py"
PY_EXAMPLES = ROOT / "examples" / "python"
# go-plugin's own streaming example, built unchanged from the module cache (examples/go/go.mod
# pins go-plugin): a client stream writes a file, a server stream reads it back.
GO_STREAMER_PLUGIN = PLUGINS / "streamer-go"
GO_STREAMER_PACKAGE = "github.com/hashicorp/go-plugin/examples/streaming"
# MCP servers run as tool providers: the Python SDK example (needs the `mcp` package, Python >= 3.10),
# run with an interpreter, and rmcp's test server (a workspace crate), built by the tests.
PY_MCP_SERVER = ROOT / "examples" / "python-mcp" / "notes_server.py"
RMCP_TEST_SERVER_PACKAGE = "rmcp-test-server"


def _run(command: list[str], cwd: Path) -> None:
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, cwd=cwd, check=True)


def build_rust(release: bool = True) -> Path:
    """The Rust echo LLM."""
    return _build_rust_package("echo-llm-rust", RUST_PLUGIN, release)


def build_rust_embedder(release: bool = True) -> Path:
    """The Rust embedder (with EmbedBatch)."""
    return _build_rust_package("embedder-rust", RUST_EMBEDDER, release)


def build_rmcp_test_server(release: bool) -> Path:
    """The MCP server of the host's MCP tests (tests/rmcp-server, built with rmcp's server side).
    Not an example plugin: its path in the cargo target directory is returned, nothing is copied."""
    return _cargo_build(RMCP_TEST_SERVER_PACKAGE, release)


def _cargo_build(package: str, release: bool) -> Path:
    """Builds a workspace binary whose name is its package's; returns its path under target/."""
    profile = "release" if release else "debug"
    command = ["cargo", "build", "--quiet", "-p", package]
    if release:
        command.append("--release")
    _run(command, ROOT)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / profile / package


def _build_rust_package(package: str, destination: Path, release: bool) -> Path:
    built = _cargo_build(package, release)
    if not destination.exists() or built.stat().st_mtime > destination.stat().st_mtime:
        # Copied beside it, then renamed over it: a running plugin keeps its old file (writing
        # into an executable that runs fails with "text file busy"), and hot reload sees one
        # complete new file.
        staging = destination.with_name(destination.name + ".new")
        shutil.copy2(built, staging)
        staging.replace(destination)
    return destination


def build_go() -> list[Path]:
    if shutil.which("go") is None:
        raise RuntimeError("Go is not installed: the Go example plugins need it (https://go.dev/dl/)")
    _run(["go", "build", "-o", str(GO_PLUGIN), "./echo-llm"], GO_MODULE)
    _run(["go", "build", "-o", str(GO_KV_PLUGIN), "./kv"], GO_MODULE)
    _run(["go", "build", "-o", str(GO_TOOLS_PLUGIN), "./tools"], GO_MODULE)
    _run(["go", "build", "-o", str(GO_EMBEDDER), "./embedder"], GO_MODULE)
    _run(["go", "build", "-o", str(GO_STREAMER_PLUGIN), f"{GO_STREAMER_PACKAGE}/plugin"], GO_MODULE)
    return [GO_PLUGIN, GO_KV_PLUGIN, GO_TOOLS_PLUGIN, GO_EMBEDDER, GO_STREAMER_PLUGIN]


def streamer_proto() -> Path:
    """The .proto of go-plugin's streaming example, in the module cache."""
    command = ["go", "list", "-f", "{{.Dir}}", f"{GO_STREAMER_PACKAGE}/proto"]
    directory = subprocess.run(command, cwd=GO_MODULE, check=True, capture_output=True, text=True).stdout.strip()
    return Path(directory) / "streamer.proto"


def generate_python_stubs(out: Path) -> Path:
    """grpcio-tools stubs of proto/hector/plugin/*.proto into `out` (an importable `hector.plugin`
    package), for Python gRPC plugins and clients (the test plugin, the grpc.aio benchmark)."""
    from grpc_tools import protoc  # type: ignore[import-untyped]

    out.mkdir(exist_ok=True)
    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto" / "hector" / "plugin").glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    args = ["protoc", f"-I{ROOT / 'proto'}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(args + protos) != 0:
        raise RuntimeError("grpc_tools.protoc failed on proto/hector/plugin")
    for package in (out / "hector", out / "hector" / "plugin"):
        (package / "__init__.py").touch()
    return out


def build_python_vectordb(python: str = sys.executable) -> Path:
    """The Python vector database example: its stubs into examples/python-vectordb/_generated,
    and the launcher examples/plugins/vectordb-py, which runs it with `python` (an interpreter
    with grpcio, protobuf and numpy)."""
    generate_python_stubs(PY_VECTORDB_DIR / "_generated")
    server = PY_VECTORDB_DIR / "vectordb.py"
    launcher = f'#!/bin/sh\nexec "{python}" "{server}" "$@"\n'
    if not PY_VECTORDB_PLUGIN.exists() or PY_VECTORDB_PLUGIN.read_text() != launcher:
        PY_VECTORDB_PLUGIN.write_text(launcher)
        PY_VECTORDB_PLUGIN.chmod(0o755)
    return PY_VECTORDB_PLUGIN


def build_python_vectordb_sdk(python: str = sys.executable) -> Path:
    """The same database on hector_plugins.sdk: the launcher examples/plugins/vectordb-sdk-py,
    which runs it with `python` (an interpreter with hector-plugins and numpy; no grpcio)."""
    return write_launcher(PY_VECTORDB_SDK_PLUGIN, python, PY_VECTORDB_DIR / "vectordb_sdk.py")


def write_launcher(path: Path, python: str, script: Path) -> Path:
    """A shell script that runs `script` with `python`, rewritten only when it changes."""
    launcher = f'#!/bin/sh\nexec {shlex.join([python, str(script)])} "$@"\n'
    if not path.exists() or path.read_text() != launcher:
        path.write_text(launcher)
        path.chmod(0o755)
    return path


def build_python_reasoning() -> Path:
    """A launcher for the Python grpcio reasoning strategy: this interpreter (it needs grpcio),
    the script, and stubs generated next to it."""
    stubs = generate_python_stubs(PY_EXAMPLES / "_generated")
    script = PY_EXAMPLES / "cot_reasoning.py"
    launcher = (
        f"#!/bin/sh\nHECTOR_PROTO_STUBS={shlex.quote(str(stubs))} exec {shlex.join([sys.executable, str(script)])}\n"
    )
    if not PY_REASONING_PLUGIN.exists() or PY_REASONING_PLUGIN.read_text() != launcher:
        PY_REASONING_PLUGIN.write_text(launcher)
        PY_REASONING_PLUGIN.chmod(0o755)
    return PY_REASONING_PLUGIN


def generate_streamer_stubs(out: Path) -> Path:
    """grpcio-tools message classes of go-plugin's streaming example (`streamer_pb2` in `out`),
    for tests that call it with raw bytes."""
    from grpc_tools import protoc  # type: ignore[import-untyped]

    proto = streamer_proto()
    out.mkdir(parents=True, exist_ok=True)
    if protoc.main(["protoc", f"-I{proto.parent}", f"--python_out={out}", str(proto)]) != 0:
        raise RuntimeError(f"grpc_tools.protoc failed on {proto}")
    return out


def build_all(release: bool = True) -> None:
    build_rust(release)
    build_rust_embedder(release)
    build_go()
    build_python_vectordb()
    build_python_vectordb_sdk()
    build_python_reasoning()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="build the Rust plugins without optimizations")
    args = parser.parse_args()
    build_all(release=not args.debug)
