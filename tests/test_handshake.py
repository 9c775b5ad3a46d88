"""The handshake table (docs/protocol.md §2) through real processes: accepted variants load and
serve; each refusal has its own clear error, within its bound, and leaves no process behind."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hector_plugins import (
    HandshakeError,
    Message,
    PluginManager,
    PluginStartError,
    StartTimeoutError,
)
from helpers import wait_gone

ACCEPTED = {
    "4 fields": "1|1|{network}|{address}",
    "5 fields": "1|1|{network}|{address}|grpc",
    "6 fields, trailing bar (Go)": "1|1|{network}|{address}|grpc|",
    "7 fields": "1|1|{network}|{address}|grpc||false",
    "CRLF": "1|1|{network}|{address}|grpc|\r",
    "surrounding spaces": "   1|1|{network}|{address}|grpc|   ",
}


@pytest.mark.parametrize("line", ACCEPTED.values(), ids=list(ACCEPTED))
async def test_accepted_lines_load_and_serve(py_plugin, line: str) -> None:
    async with PluginManager() as pm:
        await pm.load(py_plugin(handshake=line), name="p")
        assert (await pm.llm("p").generate([Message.user("ok")])).text == "Echo: ok"


async def test_tcp_plugins_load(py_plugin) -> None:
    async with PluginManager() as pm:
        # A plain TCP plugin (no automatic mTLS) is accepted only with mtls="off" (docs/protocol.md §3.5).
        info = await pm.load(py_plugin(network="tcp", handshake="1|1|tcp|{address}|grpc"), name="p", mtls="off")
        assert info.address.startswith("tcp:127.0.0.1:")
        assert (await pm.llm("p").generate([Message.user("tcp")])).text == "Echo: tcp"


CERT = base64.b64encode(b"\x01" * 80).decode().rstrip("=")

REFUSED = {
    "core version": ("2|1|{network}|{address}|grpc|", 'core protocol version "2"'),
    "app version not offered": (
        "1|5|{network}|{address}|grpc|",
        'app protocol version "5", but the host offered only [1]',
    ),
    "unknown network": ("1|1|udp|{address}|grpc|", 'unknown network "udp"'),
    "netrpc": ("1|1|{network}|{address}|netrpc|", 'protocol "netrpc"'),
    "malformed certificate": ("1|1|{network}|{address}|grpc|" + CERT, "malformed server certificate"),
    "not a handshake": ("listening on port 1234", "unrecognised handshake line"),
}


@pytest.mark.parametrize("line,expected", REFUSED.values(), ids=list(REFUSED))
async def test_refused_lines(py_plugin, tmp_path: Path, line: str, expected: str) -> None:
    pidfile = tmp_path / "pid"
    pm = PluginManager()
    with pytest.raises(HandshakeError) as caught:
        await pm.load(
            py_plugin(handshake=line, pidfile=pidfile, stderr="booting the test plugin"), name="bad", start_timeout=20
        )
    message = str(caught.value)
    assert expected in message, message
    assert caught.value.plugin == "bad"
    # The offending line is shown, with the address filled in.
    shown = line.split("|")[0]
    assert shown in message
    assert "booting the test plugin" in caught.value.stderr
    assert "booting the test plugin" in message
    await wait_gone(int(pidfile.read_text()))
    assert pm.plugins == []


async def test_garbage_before_the_line_is_shown(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(HandshakeError) as caught:
        await PluginManager().load(py_plugin(stdout_first="Starting my plugin v2...", pidfile=pidfile), name="chatty")
    assert "Starting my plugin v2..." in str(caught.value)
    assert "must print nothing on stdout before it" in str(caught.value)
    await wait_gone(int(pidfile.read_text()))


async def test_plugin_that_prints_nothing_and_exits(py_plugin) -> None:
    with pytest.raises(HandshakeError) as caught:
        await PluginManager().load(py_plugin(exit="4", stderr="error: libfoo.so not found"), name="silent")
    message = str(caught.value)
    assert "without printing a handshake line" in message
    assert "exit status 4" in message
    assert "error: libfoo.so not found" in message


async def test_wrong_cookie_is_refused_by_a_real_go_plugin(go_plugin: Path) -> None:
    with pytest.raises(HandshakeError) as caught:
        await PluginManager().load(go_plugin, name="go", magic_cookie_value="not-the-cookie")
    message = str(caught.value)
    assert "wrong magic cookie" in message
    assert "This binary is a plugin" in message, message


async def test_a_version_the_host_did_not_offer_is_refused(go_plugin: Path) -> None:
    # go-plugin does not refuse an offer it cannot meet: it serves its own version and leaves
    # the refusal to the host.
    with pytest.raises(HandshakeError, match=r'app protocol version "1", but the host offered only \[7\]'):
        await PluginManager().load(go_plugin, name="go", protocol_versions=[7])


async def test_start_timeout_kills_the_plugin(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(StartTimeoutError) as caught:
        await PluginManager().load(
            py_plugin(sleep="60", pidfile=pidfile, stderr="warming up"), name="slow", start_timeout=1.0
        )
    assert isinstance(caught.value, TimeoutError)
    assert "within 1s (its start_timeout)" in str(caught.value)
    assert "warming up" in str(caught.value)
    await wait_gone(int(pidfile.read_text()))


async def test_plugin_that_prints_a_line_but_never_serves(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(PluginStartError) as caught:
        await PluginManager().load(py_plugin(hang="1", pidfile=pidfile), name="hang", start_timeout=2.0)
    assert isinstance(caught.value, StartTimeoutError) and "did not answer Initialize" in str(caught.value)
    await wait_gone(int(pidfile.read_text()))


async def test_missing_and_non_executable_files(tmp_path: Path) -> None:
    with pytest.raises(PluginStartError, match="not found"):
        await PluginManager().load(tmp_path / "nope", name="x")
    script = tmp_path / "plain.txt"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PluginStartError, match="not executable"):
        await PluginManager().load(script, name="y")


async def test_initialize_refusal_and_crash_fail_the_load(py_plugin) -> None:
    pm = PluginManager()
    with pytest.raises(PluginStartError, match="api_key is missing"):
        await pm.load(py_plugin(), name="a", config={"fail_initialize": True})
    with pytest.raises(PluginStartError, match="crash"):
        await pm.load(py_plugin(), name="b", config={"crash_initialize": True})
    assert pm.plugins == []
