"""Automatic mTLS (docs/protocol.md §3.5) through the Python API, with real plugin processes: the
Go echo plugin (go-plugin) and a Python SDK plugin over mTLS when it is on, and the refusals: `on` without a
certificate, plain TCP under `auto`, a printed certificate the plugin does not hold, bad values."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hector_plugins import ConfigError, HandshakeError, Message, PluginManager, PluginStartError
from helpers import write_executable

ROOT = Path(__file__).resolve().parents[2]
SDK_LLM = ROOT / "tests" / "plugins" / "sdk" / "llm.py"
IMPOSTOR = ROOT / "tests" / "plugins" / "cert_impostor.py"


async def test_the_go_plugin_is_called_over_mtls_when_on(go_plugin: Path) -> None:
    async with PluginManager() as pm:
        # "on" loads only a plugin that answered with a certificate; the call then goes over TLS.
        await pm.load(go_plugin, name="go", mtls="on")
        assert (await pm.llm("go").generate([Message.user("tls")])).text == "Echo: tls"


async def test_a_python_sdk_plugin_does_mtls(tmp_path: Path) -> None:
    plugin = write_executable(tmp_path / "sdk-llm", f'#!/bin/sh\nexec "{sys.executable}" "{SDK_LLM}"\n')
    async with PluginManager() as pm:
        await pm.load(plugin, name="sdk", mtls="on")
        reply = await pm.llm("sdk").generate([Message.user("tls")])
        assert "tls" in reply.text


async def test_on_refuses_a_plugin_without_a_certificate(py_plugin: Callable[..., Path]) -> None:
    with pytest.raises(HandshakeError, match="mtls is on for it") as caught:
        await PluginManager().load(py_plugin(), name="plain", mtls="on")
    assert caught.value.plugin == "plain"


async def test_auto_refuses_plain_tcp(py_plugin: Callable[..., Path]) -> None:
    plugin = py_plugin(network="tcp", handshake="1|1|tcp|{address}|grpc")
    with pytest.raises(
        HandshakeError, match=r"serves plain TCP .*set mtls: on for it if it does automatic mTLS.* or mtls: off"
    ) as caught:
        await PluginManager().load(plugin, name="tcp")
    assert caught.value.plugin == "tcp"


@pytest.fixture
def other_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate and its key (PEM files) that are neither the host's nor printed by anyone."""
    cert, key = tmp_path / "other.pem", tmp_path / "other.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_a_certificate_the_plugin_does_not_hold_is_refused(
    tmp_path: Path, other_certificate: tuple[Path, Path]
) -> None:
    # It prints the host's own certificate (it cannot hold the host's key) and serves TLS with another.
    cert, key = other_certificate
    plugin = write_executable(
        tmp_path / "impostor",
        f"#!/bin/sh\nexport HECTOR_TEST_TLS_CERT={cert} HECTOR_TEST_TLS_KEY={key}\n"
        f'exec "{sys.executable}" "{IMPOSTOR}"\n',
    )
    with pytest.raises(PluginStartError) as caught:
        await PluginManager().load(plugin, name="impostor", mtls="on")
    message = str(caught.value)
    assert "impostor" in message and "automatic mTLS with unix:" in message, message
    assert "not the certificate the plugin printed on its handshake line" in message, message


async def test_bad_values_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mtls: must be auto, on or off"):
        await PluginManager().load(tmp_path / "any", mtls="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"plugins\.llm_providers\.x\.mtls: must be auto, on or off"):
        PluginManager({"plugins": {"llm_providers": {"x": {"path": "x", "mtls": "yes"}}}})
    with pytest.raises(ConfigError, match=r"plugins\.tool_providers\.m\.mtls: not for `type: mcp`"):
        PluginManager({"plugins": {"tool_providers": {"m": {"type": "mcp", "command": "x", "mtls": "on"}}}})
