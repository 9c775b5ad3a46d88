"""The sandbox (docs/security.md, "Sandbox"): Landlock keeps a plugin to the paths and TCP ports
it was given, and `network: false` gives it no network at all while its unix socket still
serves. This kernel has Landlock (ABI 4 or later is needed for ports); CI's too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hector_plugins import PluginManager

from .hostile import PYTHON_READ_ONLY, hostile_plugin, neighbour_answers, order


@pytest.fixture
async def two_ports() -> AsyncIterator[tuple[int, int]]:
    """Two TCP servers on the host's loopback: a plugin may be granted one and not the other."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    servers = [await asyncio.start_server(accept, "127.0.0.1", 0) for _ in range(2)]
    granted, other = (server.sockets[0].getsockname()[1] for server in servers)
    yield granted, other
    for server in servers:
        server.close()


def sandbox(**settings: object) -> dict[str, object]:
    return {"sandbox": {"read_only": PYTHON_READ_ONLY, **settings}}


async def test_a_file_outside_the_allowed_paths_cannot_be_read(tmp_path: Path, rust_plugin: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret\n")
    shared, bin_dir = tmp_path / "shared", tmp_path / "bin"
    shared.mkdir()
    bin_dir.mkdir()
    (shared / "notes.txt").write_text("shared notes\n")
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(bin_dir), name="hostile", security=sandbox(), grants={"read": [str(shared)]})
        assert await order(pm, "hostile", f"read {shared / 'notes.txt'}") == "shared notes"
        assert "Permission denied" in await order(pm, "hostile", f"read {secret}")
        await neighbour_answers(pm)


async def test_a_tcp_port_not_granted_cannot_be_reached(
    tmp_path: Path, rust_plugin: Path, two_ports: tuple[int, int]
) -> None:
    granted, other = two_ports
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(hostile_plugin(tmp_path), name="hostile", security=sandbox(tcp_connect=[granted]))
        assert await order(pm, "hostile", f"connect {granted}") == "connected"
        assert "Permission denied" in await order(pm, "hostile", f"connect {other}")
        await neighbour_answers(pm)


async def test_without_network_nothing_is_reachable_and_the_plugin_still_serves(
    tmp_path: Path, two_ports: tuple[int, int]
) -> None:
    granted, _ = two_ports
    async with PluginManager() as pm:
        await pm.load(hostile_plugin(tmp_path), name="hostile", security={"sandbox": {"network": False}})
        assert await order(pm, "hostile", f"connect {granted}") == "error: [Errno 101] Network is unreachable"
        # Unsandboxed otherwise: it reads what it likes.
        assert (await order(pm, "hostile", f"read {Path(__file__)}")).startswith('"""')
