"""A pip-installed package that ships a plugin makes it discoverable (entry point group
`hector_plugins`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import write_manifest

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "hector-test-echo-plugin"
version = "0.0.1"

[project.entry-points.hector_plugins]
echo = "hector_test_echo:plugin_path"

[tool.setuptools]
packages = ["hector_test_echo"]

[tool.setuptools.package-data]
hector_test_echo = ["bin/*"]
"""

PACKAGE = """\
import os
import stat


def plugin_path():
    path = os.path.join(os.path.dirname(__file__), "bin", "echo-llm-rust")
    # Wheels do not always keep the executable bit of package data.
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path
"""

HOST = textwrap.dedent(
    """
    import asyncio, json
    from hector_plugins import PluginManager

    async def main():
        async with PluginManager({"plugin_discovery": {"paths": []}}) as pm:
            report = {r.name: (r.ok, str(r.error)) for r in await pm.load_all()}
            text = (await pm.llm("pip-echo").generate([{"role": "user", "content": "installed"}])).text
            without = PluginManager({"plugin_discovery": {"paths": [], "entry_points": False}}).validate()
        print(json.dumps({"report": report, "text": text, "without": [p.name for p in without]}))

    asyncio.run(main())
    """
)


def test_pip_installed_package_is_discovered(rust_plugin: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    package = source / "hector_test_echo"
    (package / "bin").mkdir(parents=True)
    (source / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text(PACKAGE)
    shutil.copy(rust_plugin, package / "bin" / "echo-llm-rust")
    write_manifest(
        package / "bin" / "echo-llm-rust",
        "plugin: {name: pip-echo, version: 0.0.1, type: llm_provider, protocol: grpc}\n",
    )
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", HOST], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["report"] == {"pip-echo": [True, "None"]}
    assert result["text"] == "Echo: installed"
    assert result["without"] == []
