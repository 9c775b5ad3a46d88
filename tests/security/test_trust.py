"""Only trusted executables run (docs/security.md, "Trusted executables"): a tampered binary, an
unsigned one when signatures are required, one outside the trusted directories (or reached
through a symlink out of them) and a world-writable one are refused before they run, each with
an error naming the rule; a symlink into a trusted directory is followed. The neighbour keeps
serving throughout."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from hector_plugins import ConfigError, PluginManager, PluginStartError

from .hostile import neighbour_answers
from .minisign import Signer


def copy_of(plugin: Path, directory: Path, name: str = "echo") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / name
    shutil.copy(plugin, copy)
    copy.chmod(0o755)
    return copy


def with_manifest(plugin: Path, original: Path, sha256: str) -> None:
    """The original's manifest next to `plugin`, with a `sha256`."""
    manifest = Path(f"{original}.plugin.yaml").read_text()
    Path(f"{plugin}.plugin.yaml").write_text(manifest.replace("plugin:\n", f"plugin:\n  sha256: {sha256}\n", 1))


def tampered_copy(plugin: Path) -> Path:
    """The plugin with one byte more, beside it (the original may be running)."""
    tampered = plugin.with_name(f"{plugin.name}-tampered")
    tampered.write_bytes(plugin.read_bytes() + b"\0")
    tampered.chmod(0o755)
    return tampered


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_tampered_binary_is_refused_naming_both_digests(tmp_path: Path, rust_plugin: Path) -> None:
    plugin = copy_of(rust_plugin, tmp_path)
    expected = sha256_of(plugin)
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(plugin, name="checked", sha256=f"sha256:{expected}")
        tampered = tampered_copy(plugin)
        with pytest.raises(PluginStartError, match="sha256 checksum rule") as refused:
            await pm.load(tampered, name="tampered", sha256=expected)
        assert expected in str(refused.value) and sha256_of(tampered) in str(refused.value)
        await neighbour_answers(pm)


async def test_a_manifests_checksum_counts_and_a_bad_one_is_a_config_error(tmp_path: Path, rust_plugin: Path) -> None:
    plugin = copy_of(rust_plugin, tmp_path)
    with_manifest(plugin, rust_plugin, sha256="0" * 64)
    async with PluginManager() as pm:
        with pytest.raises(PluginStartError, match="sha256 checksum rule"):
            await pm.load(plugin, name="by-manifest")
        # The entry's checksum wins over the manifest's.
        await pm.load(plugin, name="by-entry", sha256=sha256_of(plugin))
    with pytest.raises(ConfigError, match=r"plugins\.llm_providers\.x\.sha256"):
        PluginManager({"plugins": {"llm_providers": {"x": {"path": str(plugin), "sha256": "sha256:xyz"}}}})


async def test_an_mcp_server_is_verified_like_a_plugin(tmp_path: Path, rmcp_server: Path) -> None:
    server = copy_of(rmcp_server, tmp_path, "mcp-server")
    async with PluginManager() as pm:
        with pytest.raises(PluginStartError, match="sha256 checksum rule"):
            await pm.load_mcp("notes", command=server, sha256="0" * 64)
        await pm.load_mcp("notes", command=server, sha256=sha256_of(server))
        # A server at a url is no process of the host's: nothing to verify, said rather than ignored.
        with pytest.raises(ConfigError, match="sha256 concern a process the host launches"):
            await pm.load_mcp("remote", url="http://127.0.0.1:9/mcp", sha256="0" * 64)


async def test_signatures_are_required_when_configured(tmp_path: Path, rust_plugin: Path) -> None:
    signer, stranger = Signer(), Signer()
    key_file = signer.write_public_key(tmp_path / "plugins.pub")
    names = ("signed", "unsigned", "foreign", "neighbour")
    signed, unsigned, foreign, neighbour = (copy_of(rust_plugin, tmp_path / n) for n in names)
    signer.sign(signed)
    signer.sign(neighbour)
    stranger.sign(foreign)
    config = {"plugin_security": {"verify_signatures": True, "trusted_keys": [str(key_file)]}}
    async with PluginManager(config) as pm:
        await pm.load(neighbour, name="neighbour")
        await pm.load(signed, name="signed")
        with pytest.raises(PluginStartError, match="minisign signature rule") as refused:
            await pm.load(unsigned, name="unsigned")
        assert f"{unsigned}.minisig" in str(refused.value)
        with pytest.raises(PluginStartError, match="minisign signature rule"):
            await pm.load(foreign, name="foreign")
        # A valid signature of other bytes.
        tampered = tampered_copy(signed)
        shutil.copy(f"{signed}.minisig", f"{tampered}.minisig")
        with pytest.raises(PluginStartError, match="minisign signature rule"):
            await pm.load(tampered, name="tampered")
        await neighbour_answers(pm)
    with pytest.raises(ConfigError, match=r"plugin_security\.verify_signatures"):
        PluginManager({"plugin_security": {"verify_signatures": True}})
    with pytest.raises(ConfigError, match=r"plugin_security\.trusted_keys\[0\]"):
        PluginManager({"plugin_security": {"trusted_keys": ["not a key"]}})


async def test_trusted_directories_follow_symlinks_both_ways(tmp_path: Path, rust_plugin: Path) -> None:
    trusted, elsewhere = tmp_path / "trusted", tmp_path / "elsewhere"
    inside, outside = copy_of(rust_plugin, trusted), copy_of(rust_plugin, elsewhere)
    link_in = elsewhere / "link-in"
    link_in.symlink_to(inside)
    link_out = trusted / "link-out"
    link_out.symlink_to(outside)
    config = {"plugin_security": {"trusted_directories": [str(trusted), str(rust_plugin.parent)]}}
    async with PluginManager(config) as pm:
        await pm.load(rust_plugin, name="neighbour")
        await pm.load(inside, name="inside")
        await pm.load(link_in, name="link-in")
        for path, name in ((outside, "outside"), (link_out, "link-out")):
            with pytest.raises(PluginStartError, match="trusted_directories rule") as refused:
                await pm.load(path, name=name)
            assert str(outside) in str(refused.value), refused.value
        await neighbour_answers(pm)


async def test_a_world_writable_binary_or_directory_is_refused(tmp_path: Path, rust_plugin: Path) -> None:
    plugin = copy_of(rust_plugin, tmp_path / "bin")
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="neighbour")
        plugin.chmod(0o757)
        with pytest.raises(PluginStartError, match="world-writable rule") as refused:
            await pm.load(plugin, name="writable")
        assert str(plugin) in str(refused.value)
        plugin.chmod(0o755)
        (tmp_path / "bin").chmod(0o777)
        with pytest.raises(PluginStartError, match="world-writable rule"):
            await pm.load(plugin, name="in-writable-dir")
        (tmp_path / "bin").chmod(0o755)
        await pm.load(plugin, name="fixed")
        await neighbour_answers(pm)
