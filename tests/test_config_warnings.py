"""What the configuration says that is valid but deserves a word is never silent: a setting this
system cannot enforce (docs/security.md) or a likely typo is logged when the configuration is read,
listed by the manager, and reported by `hector-plugins validate` (whose --strict fails on it)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from hector_plugins import PluginManager
from helpers import IN_CI, cli


def secured_config(tmp_path: Path, plugin: Path) -> Path:
    trusted = tmp_path / "trusted"
    trusted.mkdir(exist_ok=True)
    path = tmp_path / "hector.yaml"
    path.write_text(
        "plugin_security:\n"
        f"  trusted_directories: [{trusted}]\n"
        "  max_memory_mb: 64\n"
        "  max_cpu_percent: 50\n"
        "  max_processes: 64\n"
        "plugins:\n  llm_providers:\n"
        f"    loose: {{path: {plugin}}}\n"
    )
    return path


async def test_plugin_security_is_enforced_a_world_writable_plugin_outside_the_trusted_directories_is_refused(
    py_plugin, tmp_path: Path
) -> None:
    # The case that used to load with a warning only.
    plugin = py_plugin()
    plugin.chmod(0o777)
    async with PluginManager(secured_config(tmp_path, plugin)) as pm:
        [report] = await pm.load_all()
    assert not report.ok and "refused by the world-writable rule" in str(report.error), report.error
    plugin.chmod(0o755)
    async with PluginManager(secured_config(tmp_path, plugin)) as pm:
        [report] = await pm.load_all()
    assert not report.ok and "refused by the trusted_directories rule" in str(report.error), report.error


def test_no_warning_when_nothing_unenforced_is_set(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hector_plugins"):
        pm = PluginManager({"plugin_security": {"verify_signatures": False, "max_open_files": 64}})
    assert pm.unenforced_settings == [] and pm.config_warnings == []
    assert not [r for r in caplog.records if r.name == "hector_plugins"]


def test_a_top_level_typo_is_a_warning_that_names_the_key_it_resembles(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hector_plugins"):
        pm = PluginManager({"plugin": {"llm_providers": {"x": {"path": "./x"}}}, "llms": {}})
    [warning] = pm.config_warnings
    assert "`plugin:`; did you mean `plugins:`?" in warning, warning
    assert pm.unenforced_settings == [] and pm.validate() == []
    assert any("did you mean `plugins:`" in r.getMessage() for r in caplog.records)


def test_validate_strict_passes_where_every_limit_is_enforced(py_plugin, tmp_path: Path) -> None:
    """CI runs as root on a kernel with Landlock and cgroup controllers (v2 or v1): nothing of
    `plugin_security` is left unenforced there, so --strict passes and lists nothing."""
    if os.geteuid() != 0 and not IN_CI:
        pytest.skip("cgroups need root (or a delegated subtree) here")
    plugin = py_plugin()
    path = secured_config(tmp_path, plugin)
    path.write_text(path.read_text().replace(f"[{tmp_path / 'trusted'}]", f"[{plugin.parent}]"))
    strict = cli("-c", str(path), "validate", "--strict", "--json")
    report = json.loads(strict.stdout)
    assert report["unenforced_settings"] == [], report
    assert strict.returncode == 0, strict.stdout
