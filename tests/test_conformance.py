"""The conformance kit (hector_plugins.testing) on every example plugin, in every language: each
passes every rule of its type. The classes are what a plugin author writes; the autouse fixture
builds the example first (class attributes cannot use fixtures)."""

from __future__ import annotations

import pytest
from conftest import build_plugins
from hector_plugins.testing import (
    DatabaseConformance,
    EmbedderConformance,
    LLMConformance,
    ReasoningConformance,
    ToolsConformance,
)
from helpers import ROOT


@pytest.fixture(autouse=True)
def _built(request: pytest.FixtureRequest) -> None:
    """Builds the class's example plugin (session fixtures of conftest.py: once per run)."""
    request.getfixturevalue(request.cls.build_fixture)


class TestEchoLlmGo(LLMConformance):
    build_fixture = "go_plugins"
    plugin = f"{build_plugins.GO_PLUGIN}.plugin.yaml"  # a manifest names its executable
    config = {"greeting": "hi"}
    bad_config = {"flood_bytes": "lots"}
    require_grpc_health = True  # go-plugin serves grpc.health.v1


class TestEchoLlmRust(LLMConformance):
    build_fixture = "rust_plugin"
    plugin = build_plugins.RUST_PLUGIN
    bad_config = {"flood_bytes": "lots"}
    require_grpc_health = True  # so does the Rust SDK


class TestEmbedderGo(EmbedderConformance):
    build_fixture = "go_plugins"
    plugin = build_plugins.GO_EMBEDDER
    config = {"dimension": "64"}
    bad_config = {"dimension": "zero"}


class TestEmbedderRust(EmbedderConformance):
    build_fixture = "rust_embedder"
    plugin = f"{build_plugins.RUST_EMBEDDER}.plugin.yaml"
    config = {"dimension": "64"}
    bad_config = {"dimension": "-3"}


class TestVectordbPy(DatabaseConformance):
    build_fixture = "vectordb_plugin"
    plugin = build_plugins.PY_VECTORDB_PLUGIN
    config = {"slow_seconds": "5"}
    bad_config = {"slow_seconds": "soon"}


class TestVectordbSdkPy(DatabaseConformance):
    build_fixture = "vectordb_sdk_plugin"  # the same database served by hector_plugins.sdk
    plugin = build_plugins.PY_VECTORDB_SDK_PLUGIN
    config = {"slow_seconds": "5"}
    bad_config = {"slow_seconds": "soon"}


class TestToolsGo(ToolsConformance):
    build_fixture = "go_plugins"
    plugin = build_plugins.GO_TOOLS_PLUGIN
    config = {"root": str(ROOT / "examples")}
    bad_config = {"root": str(ROOT / "no-such-directory")}
    tool_call = ("calculator", {"expression": "6*7"})


class TestCotReasoningPy(ReasoningConformance):
    build_fixture = "reasoning_plugin"
    plugin = build_plugins.PY_REASONING_PLUGIN
    config = {"max_iterations": "3"}
    bad_config = {"max_iterations": "many"}
