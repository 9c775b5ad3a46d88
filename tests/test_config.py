"""Explicit plugins from a dict or hector.yaml, loaded concurrently with a per-plugin report."""

from __future__ import annotations

from pathlib import Path

import pytest
from hector_plugins import ConfigError, Message, PluginManager, PluginNotFoundError, PluginStartError
from helpers import write_manifest


async def test_dict_config_and_load_all_report(rust_plugin: Path, go_plugin: Path, tmp_path: Path) -> None:
    config = {
        "plugins": {
            "llm_providers": {
                "rust": {"type": "grpc", "path": str(rust_plugin), "config": {"stream_delay_ms": 0}},
                "go": {"type": "grpc", "path": str(go_plugin), "enabled": True},
                "off": {"type": "grpc", "path": "/nonexistent", "enabled": False},
                "broken": {"type": "grpc", "path": str(tmp_path / "missing")},
            }
        }
    }
    async with PluginManager(config) as pm:
        report = {r.name: r for r in await pm.load_all()}
        assert set(report) == {"rust", "go", "broken"}
        assert report["rust"].ok and report["go"].ok
        assert not report["broken"].ok
        assert isinstance(report["broken"].error, PluginStartError)
        assert "missing" in str(report["broken"].error)
        assert (await pm.llm("go").generate([Message.user("cfg")])).text == "Echo: cfg"
        with pytest.raises(PluginNotFoundError) as caught:
            pm.llm("broken")
        assert "go" in str(caught.value) and "rust" in str(caught.value)


async def test_yaml_file_with_relative_paths_and_strict_mode(rust_plugin: Path, tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "echo").symlink_to(rust_plugin)
    yaml_file = tmp_path / "hector.yaml"
    yaml_file.write_text(
        "plugins:\n"
        "  llm_providers:\n"
        "    echo: {type: grpc, path: ./plugins/echo, config: {stream_delay_ms: 0}}\n"
        "    ghost: {type: grpc, path: ./plugins/ghost}\n"
    )
    async with PluginManager(yaml_file) as pm:
        with pytest.raises(PluginStartError) as caught:
            await pm.load_all(strict=True)
        assert "1 of 2 configured entries failed to load" in str(caught.value) and "ghost" in str(caught.value)
        assert caught.value.plugin is None
        assert {r.name: r.ok for r in caught.value.results} == {"echo": True, "ghost": False}
        assert (await pm.llm("echo").generate([Message.user("yaml")])).text == "Echo: yaml"


def test_bad_configs_name_the_file_and_entry(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("plugins:\n  llm_providers: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        PluginManager(bad_yaml)
    assert str(bad_yaml) in str(caught.value)

    with pytest.raises(ConfigError, match=r"plugins\.llm_providers\.x.*unknown field `pth`"):
        PluginManager({"plugins": {"llm_providers": {"x": {"pth": "typo"}}}})
    with pytest.raises(ConfigError, match="cannot read"):
        PluginManager(tmp_path / "nope.yaml")


async def test_duplicate_names_and_unknown_types_are_refused(rust_plugin: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_plugin, name="one")
        with pytest.raises(ConfigError, match="already loaded"):
            await pm.load(rust_plugin, name="one")
        with pytest.raises(ConfigError, match="unknown plugin type"):
            await pm.load(rust_plugin, name="two", type="llm_providerz")
        with pytest.raises(PluginNotFoundError):
            pm.llm("nope")


async def test_environment_variables_expand_in_yaml(
    rust_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECHO_DIR", str(rust_plugin.parent))
    monkeypatch.delenv("ECHO_DELAY", raising=False)
    yaml_file = tmp_path / "hector.yaml"
    yaml_file.write_text(
        "plugins:\n"
        "  llm_providers:\n"
        "    echo: {path: '${ECHO_DIR}/echo-llm-rust', config: {stream_delay_ms: '${ECHO_DELAY:-0}', label: '$ECHO_DIR'}}\n"
    )
    async with PluginManager(yaml_file) as pm:
        [report] = await pm.load_all()
        assert report.ok, report.error
        assert report.plugin.path == str(rust_plugin)


def test_an_unset_variable_is_an_error_naming_it_and_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    yaml_file = tmp_path / "hector.yaml"
    yaml_file.write_text("plugins:\n  llm_providers:\n    x: {path: ./x, config: {api_key: '${NO_SUCH_KEY_VAR}'}}\n")
    with pytest.raises(ConfigError) as caught:
        PluginManager(yaml_file)
    message = str(caught.value)
    assert "NO_SUCH_KEY_VAR is not set" in message
    assert "plugins.llm_providers.x.config.api_key" in message
    assert str(yaml_file) in message


def _install(plugin: Path, directory: Path, manifest: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / plugin.name
    target.symlink_to(plugin)
    write_manifest(target, manifest)
    return target


ECHO_MANIFEST = "plugin: {{name: {name}, version: 1.0.0, type: llm_provider, protocol: grpc}}\n"


@pytest.mark.parametrize("placement", ["top level", "under plugins"])
async def test_discovery_finds_manifests_and_explicit_entries_win(
    rust_plugin: Path, tmp_path: Path, placement: str
) -> None:
    plugins_dir = tmp_path / "plugins"
    _install(rust_plugin, plugins_dir, ECHO_MANIFEST.format(name="top"))
    _install(rust_plugin, plugins_dir / "nested" / "deeper", ECHO_MANIFEST.format(name="nested"))
    _install(rust_plugin, tmp_path / "elsewhere", ECHO_MANIFEST.format(name="explicit-wins"))
    write_manifest(plugins_dir / "ghost", ECHO_MANIFEST.format(name="ghost"))
    discovery = {
        "enabled": True,
        "paths": [str(plugins_dir), str(tmp_path / "elsewhere"), "./missing-dir"],
        "scan_subdirectories": True,
    }
    explicit = {"llm_providers": {"explicit-wins": {"path": str(rust_plugin), "config": {"stream_delay_ms": 0}}}}
    config = (
        {"plugins": {**explicit, "plugin_discovery": discovery}}
        if placement == "under plugins"
        else {"plugins": explicit, "plugin_discovery": discovery}
    )
    async with PluginManager(config) as pm:
        report = {r.name: r for r in await pm.load_all()}
        assert set(report) == {"top", "nested", "explicit-wins", "ghost"}
        assert report["top"].ok and report["nested"].ok and report["explicit-wins"].ok
        assert report["explicit-wins"].plugin.path == str(rust_plugin), "the explicit entry wins"
        assert not report["ghost"].ok and "not found" in str(report["ghost"].error)
        assert (await pm.llm("nested").generate([Message.user("found")])).text == "Echo: found"


async def test_discovery_without_subdirectories_and_disabled(rust_plugin: Path, tmp_path: Path) -> None:
    _install(rust_plugin, tmp_path / "p" / "sub", ECHO_MANIFEST.format(name="deep"))
    async with PluginManager({"plugin_discovery": {"paths": [str(tmp_path / "p")]}}) as pm:
        assert await pm.load_all() == []
    async with PluginManager(
        {"plugin_discovery": {"enabled": False, "paths": [str(tmp_path / "p")], "scan_subdirectories": True}}
    ) as pm:
        assert await pm.load_all() == []


def test_discovery_errors(rust_plugin: Path, tmp_path: Path) -> None:
    _install(rust_plugin, tmp_path / "a", ECHO_MANIFEST.format(name="same"))
    _install(rust_plugin, tmp_path / "b", ECHO_MANIFEST.format(name="same"))
    with pytest.raises(ConfigError, match='two discovered plugins are named "same"'):
        PluginManager({"plugin_discovery": {"paths": [str(tmp_path / "a"), str(tmp_path / "b")]}})
    with pytest.raises(ConfigError, match="both at the top level and under plugins"):
        PluginManager({"plugin_discovery": {}, "plugins": {"plugin_discovery": {}}})
    with pytest.raises(ConfigError, match="unknown section"):
        PluginManager({"plugins": {"llm_provider": {}}})
    bad = tmp_path / "bad"
    bad.mkdir()
    write_manifest(bad / "x", "plugin: {name: x, type: llm_provider}\n")
    with pytest.raises(ConfigError, match=r"x\.plugin\.yaml"):
        PluginManager({"plugin_discovery": {"paths": [str(bad)]}})


def test_syntax_errors_carry_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text("plugins:\n  llm_providers:\n    x: {path: ./x\n")
    with pytest.raises(ConfigError) as caught:
        PluginManager(path)
    assert caught.value.line is not None and caught.value.line >= 3
    assert caught.value.column is not None


async def test_variables_outside_plugin_sections_and_disabled_entries(
    rust_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_FOR_OTHERS", raising=False)
    _install(rust_plugin, tmp_path / "found", ECHO_MANIFEST.format(name="off"))
    config = {
        "llms": {"openai": {"api_key": "${UNSET_FOR_OTHERS}"}},  # the orchestrator's, not ours
        "agents": {"a": {"llm": "openai", "prompt": "Price is $UNSET_FOR_OTHERS"}},
        "plugins": {
            "plugin_discovery": {"paths": [str(tmp_path / "found")]},
            "llm_providers": {"off": {"path": "${UNSET_FOR_OTHERS}", "enabled": False}},
        },
    }
    async with PluginManager(config) as pm:
        # The disabled entry keeps its name: the discovered plugin of that name is not loaded.
        assert await pm.load_all() == []
