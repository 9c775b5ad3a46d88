"""The connection to a plugin and the calls on it: who may serve the handshake address, call and
stream deadlines on a frozen plugin, what a wrong server or an oversized answer is reported as."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import wrappers_pb2
from hector_plugins import (
    CallTimeoutError,
    HandshakeError,
    Message,
    PluginCallError,
    PluginManager,
    PluginStartError,
)
from helpers import KV, KV_COOKIE, NO_RESTART, PY_PLUGIN, freeze, socket_path, wait_for_state, wait_gone


class Victim:
    """Another gRPC server on this machine (the Python test plugin run by the test itself, not
    by the host), which records on stderr whether Initialize or Shutdown reached it."""

    def __init__(self, proto_dir: Path, tmp_path: Path, network: str) -> None:
        self.network = network
        self.log = tmp_path / f"victim-{network}.log"
        env = dict(
            os.environ,
            HECTOR_PLUGIN="hector_plugin_v1",
            HECTOR_TEST_PROTO_DIR=str(proto_dir),
            HECTOR_TEST_NETWORK=network,
            PLUGIN_UNIX_SOCKET_DIR=str(tmp_path),
        )
        self.process = subprocess.Popen(
            [sys.executable, str(PY_PLUGIN)], env=env, stdout=subprocess.PIPE, stderr=self.log.open("w"), text=True
        )
        assert self.process.stdout is not None
        self.address = self.process.stdout.readline().strip().split("|")[3]

    @property
    def pid(self) -> int:
        return self.process.pid

    def reached(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def victim(proto_dir: Path, tmp_path: Path) -> Iterator[Victim]:
    server = Victim(proto_dir, tmp_path, "unix")
    yield server
    server.stop()


@pytest.fixture
def tcp_victim(proto_dir: Path, tmp_path: Path) -> Iterator[Victim]:
    server = Victim(proto_dir, tmp_path, "tcp")
    yield server
    server.stop()


def assert_untouched(victim: Victim) -> None:
    assert victim.process.poll() is None, "the other server must still run"
    reached = victim.reached()
    assert "initialized" not in reached and "shutdown requested" not in reached, reached
    if victim.network == "unix":
        assert Path(victim.address).is_socket(), "the other server's socket must not be deleted"


async def test_a_handshake_naming_another_process_socket_is_refused(py_plugin, victim: Victim, tmp_path: Path) -> None:
    pidfile = tmp_path / "hostile.pid"
    hostile = py_plugin(handshake=f"1|1|unix|{victim.address}|grpc|", pidfile=pidfile)
    with pytest.raises(PluginStartError) as caught:
        await PluginManager().load(hostile, name="hostile", config={"api_key": "secret"})
    message = str(caught.value)
    assert f"unix:{victim.address}" in message and f"process {victim.pid}" in message, message
    assert "not by the plugin" in message, message
    assert_untouched(victim)
    await wait_gone(int(pidfile.read_text()))


async def test_a_handshake_naming_another_process_tcp_port_is_refused(py_plugin, tcp_victim: Victim) -> None:
    hostile = py_plugin(handshake=f"1|1|tcp|{tcp_victim.address}|grpc|")
    with pytest.raises(PluginStartError) as caught:
        # mtls="off": the peer check is what refuses here, not the rule against plain TCP.
        await PluginManager().load(hostile, name="hostile", config={"api_key": "secret"}, mtls="off")
    message = str(caught.value)
    assert f"tcp:{tcp_victim.address}" in message and f"process {tcp_victim.pid}" in message, message
    assert_untouched(tcp_victim)


def non_loopback_addresses() -> list[str]:
    """0.0.0.0 (which Linux connects to this machine), plus this machine's own address if it has one."""
    found = ["0.0.0.0"]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            ip = str(info[4][0])
            if not ip.startswith("127.") and ip not in found:
                found.append(ip)
    except OSError:
        pass
    return found


@pytest.mark.parametrize("host", non_loopback_addresses())
async def test_a_non_loopback_tcp_address_is_refused_unless_allowed(py_plugin, tcp_victim: Victim, host: str) -> None:
    port = tcp_victim.address.rsplit(":", 1)[1]
    hostile = py_plugin(handshake=f"1|1|tcp|{host}:{port}|grpc|")
    with pytest.raises(PluginStartError, match=r"not a loopback address.*allow_non_loopback") as caught:
        await PluginManager().load(hostile, name="remote", mtls="off")
    assert f"tcp:{host}:{port}" in str(caught.value)
    assert_untouched(tcp_victim)


async def test_allow_non_loopback_accepts_a_plugin_listening_on_every_interface(py_plugin) -> None:
    plugin = py_plugin(network="tcp", tcp_host="0.0.0.0")
    with pytest.raises(PluginStartError, match="not a loopback address"):
        await PluginManager().load(plugin, name="wide", mtls="off")
    async with PluginManager() as pm:
        info = await pm.load(plugin, name="wide", allow_non_loopback=True, mtls="off")
        assert info.address.startswith("tcp:0.0.0.0:")
        assert (await pm.llm("wide").generate([Message.user("hi")])).text == "Echo: hi"


async def test_the_host_removes_only_its_own_socket_directory(py_plugin, tmp_path: Path) -> None:
    # The plugin puts its socket outside the directory the host made for it; when it dies, the
    # host must not delete a file it did not create (it could be anybody's).
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    async with PluginManager() as pm:
        info = await pm.load(
            py_plugin(), name="out", env={"PLUGIN_UNIX_SOCKET_DIR": str(outside)}, supervision=NO_RESTART
        )
        sock = socket_path(info.address)
        assert sock is not None and sock.parent == outside
        os.kill(info.pid, signal.SIGKILL)
        await wait_gone(info.pid)
        await wait_for_state(pm, "out", "crashed")
        # Time for a wrong clean-up after the crash to happen.
        await asyncio.sleep(0.2)
    assert sock.exists(), "a socket outside the host's own directory was deleted"


@pytest.fixture
async def frozen(py_plugin):
    """A loaded plugin with a short call_timeout, then SIGSTOPped; continued and shut down after."""
    pm = PluginManager()
    info = await pm.load(py_plugin(), name="frozen", call_timeout=0.5, config={"stream_delay_ms": "300"})
    try:
        yield pm, info
    finally:
        os.kill(info.pid, signal.SIGCONT)
        await pm.shutdown()


async def test_a_call_on_a_frozen_plugin_times_out_after_call_timeout(frozen) -> None:
    pm, info = frozen
    llm = pm.llm("frozen")
    assert (await llm.generate([Message.user("warm")])).text == "Echo: warm"
    await freeze(info.pid)
    with pytest.raises(CallTimeoutError) as caught:
        await asyncio.wait_for(llm.generate([Message.user("hello")]), 30)
    assert isinstance(caught.value, TimeoutError)
    assert "call_timeout" in str(caught.value) and "0.500s" in str(caught.value), caught.value
    with pytest.raises(CallTimeoutError, match=r"within 0\.500s"):
        await asyncio.wait_for(llm.health(), 30)


async def test_a_stream_on_a_frozen_plugin_times_out_waiting_for_its_first_chunk(frozen) -> None:
    pm, info = frozen
    await freeze(info.pid)
    stream = pm.llm("frozen").generate_stream([Message.user("a b c")], timeout=0.4)
    with pytest.raises(CallTimeoutError, match=r"no first item within 0\.400s") as caught:
        await asyncio.wait_for(stream.__anext__(), 30)
    assert caught.value.method == "GenerateStreaming"


async def test_a_stream_that_goes_idle_times_out(frozen) -> None:
    pm, info = frozen
    stream = pm.llm("frozen").generate_stream([Message.user("one two three four")], timeout=2.0)
    first = await asyncio.wait_for(stream.__anext__(), 30)
    assert first.text == "Echo: "
    await freeze(info.pid)
    with pytest.raises(CallTimeoutError, match=r"no item after the previous one within 2\.000s"):
        async for _ in stream:
            pass


async def test_raw_stream_timeout_on_a_frozen_go_plugin(kv_plugin: Path) -> None:
    async with PluginManager() as pm:
        info = await pm.load(kv_plugin, name="kv", protocol_versions=[2, 3], **KV)
        raw = pm.raw("kv")
        await freeze(info.pid)
        try:
            request = wrappers_pb2.Int32Value(value=3).SerializeToString()
            with pytest.raises(CallTimeoutError, match="no first item"):
                async for _ in raw.stream("/kv.KV/Count", request, timeout=0.3):
                    pass
        finally:
            os.kill(info.pid, signal.SIGCONT)


async def test_call_timeout_zero_disables_the_default_deadline(py_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(py_plugin(), name="patient", call_timeout=0)
        reply = await pm.llm("patient").generate([Message.user("sleep 0.3")])
        assert reply.text == "Echo: sleep 0.3"
    async with PluginManager() as pm:
        await pm.load(py_plugin(), name="hasty", call_timeout=0.1)
        with pytest.raises(CallTimeoutError):
            await pm.llm("hasty").generate([Message.user("sleep 1")])


async def test_an_http1_server_behind_the_address_is_named(py_plugin) -> None:
    with pytest.raises(PluginStartError) as caught:
        await PluginManager().load(py_plugin(http1="1"), name="web", start_timeout=10)
    message = str(caught.value)
    assert "does not speak HTTP/2 gRPC" in message and "HTTP/1" in message, message
    assert "crashed" not in message, message


async def test_a_response_over_max_message_size_names_the_limit_and_the_setting(py_plugin) -> None:
    async with PluginManager() as pm:
        await pm.load(py_plugin(), name="small", max_message_size=4096)
        llm = pm.llm("small")
        assert len((await llm.generate([Message.user("big 3000")])).text) == 3000
        with pytest.raises(PluginCallError) as caught:
            await llm.generate([Message.user("big 10000")])
        message = str(caught.value)
        assert "max_message_size of 4096 bytes" in message and "pm.load(" in message, message
        assert (await llm.generate([Message.user("still here")])).text == "Echo: still here"


async def test_a_generic_go_plugin_loaded_as_an_llm_gets_a_hint(kv_plugin: Path) -> None:
    with pytest.raises(PluginStartError) as caught:
        # Without type="grpc": loaded as an LLM provider.
        await PluginManager().load(kv_plugin, name="kv", protocol_versions=[2, 3], **KV_COOKIE)
    message = str(caught.value)
    assert "does not serve the Hector hector.plugin.LLMProvider service" in message, message
    assert 'type="grpc"' in message, message


async def test_a_huge_handshake_line_gives_a_short_error(py_plugin) -> None:
    with pytest.raises(HandshakeError) as caught:
        await PluginManager().load(py_plugin(long_line=10 * 1024 * 1024), name="long")
    message = str(caught.value)
    assert len(message) < 2000 and "more characters not shown" in message, len(message)
