"""Fixtures: real example plugins (built once per session) and the Python grpcio test plugin.
What tests share besides fixtures is in helpers.py."""

from __future__ import annotations

import importlib
import importlib.util
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest
from helpers import GENERATED, PY_PLUGIN, ROOT, skip_unless_ci, write_executable, write_manifest

sys.path.insert(0, str(ROOT / "examples"))

import build_plugins  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # The package's fixtures (plugin_manager, load_plugin) reach pytest through its pytest11 entry
    # point; an install made before the entry point existed gets them here, under the same name.
    if not config.pluginmanager.has_plugin("hector_plugins"):
        plugin = importlib.import_module("hector_plugins.testing.pytest_plugin")
        config.pluginmanager.register(plugin, "hector_plugins")


@pytest.fixture(scope="session")
def rust_plugin() -> Path:
    return build_plugins.build_rust(release=True)


@pytest.fixture(scope="session")
def rust_embedder() -> Path:
    """The Rust example embedder, with EmbedBatch."""
    return build_plugins.build_rust_embedder(release=True)


@pytest.fixture(scope="session")
def go_plugins() -> list[Path]:
    # In CI Go must be there: a missing toolchain fails the run instead of skipping tests.
    return build_plugins.build_go()


@pytest.fixture(scope="session")
def go_plugin(go_plugins: list[Path]) -> Path:
    return build_plugins.GO_PLUGIN


@pytest.fixture(scope="session")
def kv_plugin(go_plugins: list[Path]) -> Path:
    return build_plugins.GO_KV_PLUGIN


@pytest.fixture(scope="session")
def vectordb_plugin() -> Path:
    """The Python vector database example (plain grpcio), run by this interpreter."""
    return build_plugins.build_python_vectordb()


@pytest.fixture(scope="session")
def vectordb_sdk_plugin() -> Path:
    """The same vector database on hector_plugins.sdk (no grpcio), run by this interpreter."""
    return build_plugins.build_python_vectordb_sdk()


@pytest.fixture(scope="session")
def tools_plugin(go_plugins: list[Path]) -> Path:
    """The Go tool provider example (calculator, read_file, slow)."""
    return build_plugins.GO_TOOLS_PLUGIN


@pytest.fixture(scope="session")
def reasoning_plugin() -> Path:
    """The Python grpcio chain-of-thought reasoning strategy example."""
    return build_plugins.build_python_reasoning()


@pytest.fixture(scope="session")
def go_embedder(go_plugins: list[Path]) -> Path:
    """The Go example embedder, without EmbedBatch."""
    return build_plugins.GO_EMBEDDER


@pytest.fixture(scope="session")
def streamer_plugin(go_plugins: list[Path]) -> Path:
    return build_plugins.GO_STREAMER_PLUGIN


@pytest.fixture(scope="session")
def streamer_pb2(go_plugins: list[Path]) -> ModuleType:
    """The message classes of go-plugin's streaming example (generated from its own .proto)."""
    sys.path.insert(0, str(build_plugins.generate_streamer_stubs(GENERATED / "streamer")))
    return importlib.import_module("streamer_pb2")


@pytest.fixture(scope="session")
def rmcp_server() -> Path:
    """The MCP test server built with rmcp (tests/rmcp-server; its flags and tools are in
    src/main.rs). A debug build: the tests check its behaviour, not its speed."""
    return build_plugins.build_rmcp_test_server(release=False)


@pytest.fixture(scope="session")
def mcp_notes_server() -> Path:
    """The Python MCP example server (examples/python-mcp/notes_server.py), to run with this
    interpreter; it needs the `mcp` SDK (the dev extra installs it on Python >= 3.10)."""
    if sys.version_info < (3, 10):
        pytest.skip("the `mcp` SDK needs Python >= 3.10")
    if importlib.util.find_spec("mcp") is None:
        skip_unless_ci("the `mcp` package is not installed: pip install 'mcp>=2.3' (or the dev extra)")
    return build_plugins.PY_MCP_SERVER


@pytest.fixture(scope="session", params=["go", "rust"])
def echo_plugin(request: pytest.FixtureRequest) -> Path:
    """Each echo LLM example, Go (hashicorp/go-plugin) and Rust (our SDK)."""
    return request.getfixturevalue(f"{request.param}_plugin")


@pytest.fixture(scope="session")
def proto_dir() -> Path:
    """Python stubs of proto/ generated with grpcio-tools (for the Python test plugin)."""
    return build_plugins.generate_python_stubs(GENERATED)


@pytest.fixture
def py_plugin(tmp_path: Path, proto_dir: Path) -> Callable[..., Path]:
    """Makes an executable that runs the Python test plugin with the given HECTOR_TEST_* settings."""

    counter = iter(range(1000))

    def make(**settings: object) -> Path:
        env = {
            "HECTOR_TEST_PROTO_DIR": proto_dir,
            **{f"HECTOR_TEST_{key.upper()}": value for key, value in settings.items()},
        }
        exports = "".join(f"export {name}={shlex.quote(str(value))}\n" for name, value in env.items())
        command = shlex.join([sys.executable, str(PY_PLUGIN)])
        return write_executable(tmp_path / f"py-llm-{next(counter)}", f"#!/bin/sh\n{exports}exec {command}\n")

    return make


BROKEN_PLUGINS = ROOT / "tests" / "plugins" / "broken"
# What the broken database declares: it applies search filters (docs/protocol.md §7.4).
BROKEN_DATABASE_MANIFEST = """plugin:
  name: broken-database
  version: 0.1.0
  type: database_provider
  protocol: grpc
  hector_version: ">=0.1.0"
  capabilities: {filter: true}
"""


@pytest.fixture
def broken_plugin(tmp_path: Path, proto_dir: Path) -> Callable[..., Path]:
    """Makes an executable that runs one of the deliberately broken plugins of
    tests/plugins/broken (`llm`, `embedder`, `database`, `tools`, `reasoning`), with `env`."""

    def make(kind: str, **env: str) -> Path:
        exports = "".join(
            f"export {name}={shlex.quote(str(value))}\n"
            for name, value in {"HECTOR_TEST_PROTO_DIR": proto_dir, **env}.items()
        )
        command = shlex.join([sys.executable, str(BROKEN_PLUGINS / f"{kind}.py")])
        executable = write_executable(tmp_path / f"broken-{kind}", f"#!/bin/sh\n{exports}exec {command}\n")
        if kind == "database":
            write_manifest(executable, BROKEN_DATABASE_MANIFEST)
        return executable

    return make
