"""Settings that are read but not enforced yet are never ignored silently: each is logged when
the configuration is read, listed by the manager, and reported by `hector-plugins validate`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hector_plugins import PluginManager
from helpers import cli

SECURITY_KEYS = ["verify_signatures", "trusted_directories", "max_memory_mb", "max_cpu_percent"]


def secured_config(tmp_path: Path, plugin: Path) -> Path:
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    path = tmp_path / "hector.yaml"
    path.write_text(
        "plugin_security:\n"
        "  verify_signatures: true\n"
        f"  trusted_directories: [{trusted}]\n"
        "  max_memory_mb: 64\n"
        "  max_cpu_percent: 50\n"
        "plugins:\n  llm_providers:\n"
        f"    loose: {{path: {plugin}}}\n"
    )
    return path


async def test_unenforced_security_settings_are_logged_listed_and_the_plugin_still_loads(
    py_plugin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The case: a world-writable binary outside the trusted directories.
    plugin = py_plugin()
    plugin.chmod(0o777)
    path = secured_config(tmp_path, plugin)
    with caplog.at_level(logging.WARNING, logger="hector_plugins"):
        pm = PluginManager(path)
    logged = [r.getMessage() for r in caplog.records if r.name == "hector_plugins" and r.levelno == logging.WARNING]
    for key in SECURITY_KEYS:
        [message] = [m for m in logged if f"plugin_security.{key}:" in m]
        assert message.startswith(f"{path}: ") and "does not enforce plugin_security yet" in message, message
    assert pm.unenforced_settings == [f"plugin_security.{key}" for key in SECURITY_KEYS]
    assert len(pm.config_warnings) == 4 and all("not enforce" in w for w in pm.config_warnings)
    async with pm:
        [report] = await pm.load_all()
        # Still loaded (enforcement is a later issue): what changed is that nobody is misled.
        assert report.ok, report.error


def test_no_warning_when_nothing_unenforced_is_set(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hector_plugins"):
        pm = PluginManager({"plugin_security": {"verify_signatures": False, "trusted_directories": []}})
    assert pm.unenforced_settings == [] and pm.config_warnings == []
    assert not [r for r in caplog.records if r.name == "hector_plugins"]


def test_a_top_level_typo_is_a_warning_that_names_the_key_it_resembles(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hector_plugins"):
        pm = PluginManager({"plugin": {"llm_providers": {"x": {"path": "./x"}}}, "llms": {}})
    [warning] = pm.config_warnings
    assert "`plugin:`; did you mean `plugins:`?" in warning, warning
    assert pm.unenforced_settings == [] and pm.validate() == []
    assert any("did you mean `plugins:`" in r.getMessage() for r in caplog.records)


def test_validate_reports_unenforced_settings_and_strict_fails(py_plugin, tmp_path: Path) -> None:
    path = secured_config(tmp_path, py_plugin())
    relaxed = cli("-c", str(path), "validate")
    assert relaxed.returncode == 0, relaxed.stderr
    for key in SECURITY_KEYS:
        assert f"warning: {path}: plugin_security.{key}:" in relaxed.stderr, relaxed.stderr
    assert "1 plugin valid, with 4 warnings" in relaxed.stderr
    strict = cli("-c", str(path), "validate", "--strict", "--json")
    assert strict.returncode == 1
    report = json.loads(strict.stdout)
    assert report["ok"] is False and report["plugins"][0]["ok"]
    assert report["unenforced_settings"] == [f"plugin_security.{key}" for key in SECURITY_KEYS]
    assert len(report["warnings"]) == 4
