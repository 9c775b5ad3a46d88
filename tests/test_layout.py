"""The shape docs/architecture.md promises: what each crate may depend on, modules without import
cycles, and no hand-written source file over 500 lines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT

CRATES = {
    "protocol": ROOT / "crates/protocol/src",
    "host": ROOT / "crates/host/src",
    "sdk": ROOT / "crates/sdk/src",
    "python": ROOT / "src",
}
MAX_LINES = 500


def hand_written_sources() -> list[Path]:
    sources = [p for root in CRATES.values() for p in root.rglob("*.rs")]
    sources += (ROOT / "python/hector_plugins").glob("*.py")
    sources += (ROOT / "crates/host/tests").rglob("*.rs")
    return sources


def module_graph(src: Path) -> dict[str, set[str]]:
    """Top-level module → the top-level modules it names through `crate::` (doc links aside)."""
    graph: dict[str, set[str]] = {}
    for path in src.rglob("*.rs"):
        top = path.relative_to(src).parts[0].removesuffix(".rs")
        if top in ("lib", "main"):
            continue
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
        graph.setdefault(top, set()).update(set(re.findall(r"\bcrate::([a-z_]+)", code)) - {top})
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue  # a re-export such as crate::proto
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if not state.get(nxt) and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node) and (found := visit(node)):
            return found
    return None


def test_no_hand_written_source_file_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in hand_written_sources()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by concern (at most {MAX_LINES} lines): {long}"


@pytest.mark.parametrize("crate", sorted(CRATES))
def test_modules_do_not_import_each_other_back(crate: str) -> None:
    assert cycle_in(module_graph(CRATES[crate])) is None


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None


def dependency_tree(package: str) -> str:
    """`cargo tree` of a package's normal dependencies, with features (offline: the lock file)."""
    result = subprocess.run(
        ["cargo", "tree", "--offline", "-p", package, "-e", "normal,features", "--prefix", "none"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_host_has_no_python_and_no_grpc_server() -> None:
    tree = dependency_tree("hector-plugins-host")
    assert 'tonic feature "codegen"' in tree, tree  # the listing names features as this test reads them
    assert "pyo3" not in tree
    for server in ('tonic feature "server"', 'tonic feature "transport"', 'hyper feature "server"', "axum"):
        assert server not in tree, f"the host crate must not pull in {server}"


def test_the_sdk_has_no_host_and_launches_nothing() -> None:
    tree = dependency_tree("hector-plugins-sdk")
    assert 'tonic feature "server"' in tree and "hector-plugins-protocol" in tree, tree
    assert "hector-plugins-host" not in tree and "pyo3" not in tree
    code = "\n".join(p.read_text() for p in CRATES["sdk"].rglob("*.rs"))
    assert not re.search(r"process::Command|\bfork\(|execv|posix_spawn", code)
