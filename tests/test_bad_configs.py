"""A table of bad configurations and manifests: each gets its own precise message naming the
file and the place, and nothing is launched."""

from __future__ import annotations

from pathlib import Path

import pytest

from hector_plugins import ConfigError, PluginManager, PluginStartError

ENTRY = "plugins:\n  llm_providers:\n    x: {{{}}}\n"

CONFIGS: dict[str, tuple[str, str]] = {
    "unclosed flow mapping": ("plugins: {llm_providers: {x: {path: ./x}\n", "invalid YAML"),
    "bad indentation": ("plugins:\n  llm_providers:\n    x:\n      path: ./x\n     enabled: true\n", "invalid YAML"),
    "top level is a list": ("- plugins\n", "the top level must be a mapping"),
    "plugins is a list": ("plugins: [a, b]\n", "`plugins` must be a mapping"),
    "section is a list": ("plugins:\n  llm_providers: [x]\n", "`plugins.llm_providers` must map plugin names to entries"),
    "unknown section": ("plugins:\n  llm_provider: {}\n", "plugins.llm_provider: unknown section"),
    "entry without path": (ENTRY.format("type: grpc"), "plugins.llm_providers.x: give exactly one of `path`, `alias` and `fallbacks`"),
    "unknown entry field": (ENTRY.format("path: ./x, confg: {}"), "plugins.llm_providers.x: unknown field `confg`"),
    "path is a list": (ENTRY.format("path: [a]"), "plugins.llm_providers.x: invalid type"),
    "enabled is a string": (ENTRY.format("path: ./x, enabled: 'sometimes'"), "plugins.llm_providers.x: invalid type"),
    "netrpc plugin": (ENTRY.format("path: ./x, type: netrpc"), 'plugins.llm_providers.x.type: must be "grpc" (a plugin process) or "builtin"'),
    "builtin with a path": (ENTRY.format("path: ./x, type: builtin"), "plugins.llm_providers.x.path: a built-in provider is created and configured in code"),
    "negative start timeout": (ENTRY.format("path: ./x, start_timeout: -1"), "plugins.llm_providers.x.start_timeout"),
    "start timeout is text": (ENTRY.format("path: ./x, start_timeout: soon"), "plugins.llm_providers.x: invalid type"),
    "zero shutdown grace": (ENTRY.format("path: ./x, shutdown_grace: 0"), "plugins.llm_providers.x.shutdown_grace"),
    "env is a list": (ENTRY.format("path: ./x, env: [A]"), "plugins.llm_providers.x: invalid type"),
    "empty cookie key": (ENTRY.format("path: ./x, magic_cookie_key: ''"), "magic cookie key"),
    "no protocol versions": (ENTRY.format("path: ./x, protocol_versions: []"), "at least one version"),
    "protocol versions are text": (ENTRY.format("path: ./x, protocol_versions: [one]"), "plugins.llm_providers.x: invalid type"),
    "name used twice": (
        "plugins:\n  llm_providers: {x: {path: ./x}}\n  embedder_providers: {x: {path: ./y}}\n",
        'plugins.embedder_providers.x: the name "x" is used twice',
    ),
    "unset variable": (ENTRY.format("path: '${HECTOR_TEST_UNSET_VAR}'"), "plugins.llm_providers.x.path: environment variable HECTOR_TEST_UNSET_VAR is not set"),
    "unclosed variable": (ENTRY.format("path: '${HOME'"), "unclosed"),
    "bad variable name": (ENTRY.format("path: '${1ABC}'"), "bad variable name"),
    "discovery twice": ("plugin_discovery: {}\nplugins: {plugin_discovery: {}}\n", "both at the top level and under plugins"),
    "discovery unknown field": ("plugin_discovery: {path: [./p]}\n", "plugin_discovery: unknown field `path`"),
    "discovery paths not a list": ("plugin_discovery: {paths: ./p}\n", "plugin_discovery: invalid type"),
    "security unknown field": ("plugin_security: {max_memory: 5}\n", "plugin_security: unknown field `max_memory`"),
    "security zero memory": ("plugin_security: {max_memory_mb: 0}\n", "plugin_security: max_memory_mb must be at least 1"),
    "security negative cpu": ("plugin_security: {max_cpu_percent: -5}\n", "plugin_security: max_cpu_percent must be a positive percentage"),
    "agents not a mapping": ("agents: [a]\n", "`agents` must map agent names to agents"),
    "agent names a missing llm": ("agents:\n  main: {llm: ghost}\n", 'agents.main.llm: no llm_provider plugin named "ghost" is configured'),
    "agent llm of the wrong type": (
        "plugins:\n  database_providers: {db: {path: ./db}}\nagents:\n  main: {llm: db}\n",
        'agents.main.llm: plugin "db" is a database_provider, not a llm_provider',
    ),
    "agent plugin tool without provider": ("agents:\n  main: {tools: [{type: plugin}]}\n", "agents.main.tools[0]: a plugin tool needs a provider"),
    "agent tool provider missing": ("agents:\n  main: {tools: [{type: plugin, provider: t}]}\n", 'agents.main.tools[0].provider: no tool_provider plugin named "t"'),
    "agent tools not a list": ("agents:\n  main: {tools: web}\n", "agents.main.tools: must be a list"),
    "path and alias": (ENTRY.format("path: ./x, alias: other"), "plugins.llm_providers.x: give exactly one of `path`, `alias` and `fallbacks`"),
    "alias to nothing": (ENTRY.format("alias: ghost"), 'plugins.llm_providers.x.alias: no llm_provider plugin named "ghost"'),
    "alias cycle": (
        "plugins:\n  llm_providers:\n    a: {alias: b}\n    b: {alias: c}\n    c: {alias: a}\n",
        "plugins.llm_providers.a.alias: alias cycle a -> b -> c -> a",
    ),
    "alias across types": (
        "plugins:\n  embedder_providers: {e: {path: ./e}}\n  llm_providers: {x: {alias: e}}\n",
        'plugins.llm_providers.x.alias: plugin "e" is a embedder_provider, not a llm_provider',
    ),
    "empty fallback chain": (ENTRY.format("fallbacks: []"), "plugins.llm_providers.x.fallbacks: the chain is empty"),
    "fallback to nothing": (ENTRY.format("fallbacks: [ghost]"), 'plugins.llm_providers.x.fallbacks[0]: no llm_provider plugin named "ghost"'),
    "nested fallback chains": (
        "plugins:\n  llm_providers:\n    a: {path: ./a}\n    x: {fallbacks: [a]}\n    y: {fallbacks: [x, a]}\n",
        'plugins.llm_providers.y.fallbacks[0]: "x" is itself a fallback chain; chains cannot nest',
    ),
    "fallback cycle": (
        "plugins:\n  llm_providers:\n    x: {fallbacks: [x]}\n",
        'plugins.llm_providers.x.fallbacks[0]: "x" is itself a fallback chain',
    ),
}


@pytest.mark.parametrize("text,expected", CONFIGS.values(), ids=list(CONFIGS))
def test_bad_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str) -> None:
    monkeypatch.delenv("HECTOR_TEST_UNSET_VAR", raising=False)
    path = tmp_path / "hector.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        PluginManager(path)
    assert expected in str(caught.value), str(caught.value)
    assert str(path) in str(caught.value) and caught.value.file == str(path)


def test_hostile_and_missing_files(tmp_path: Path) -> None:
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    cases = {
        "bomb.yaml": ("\n".join(bomb) + "\n", "budget breached"),
        "deep.yaml": ("x: " + "[" * 5000 + "]" * 5000 + "\n", "recursion limit"),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError, match=expected):
            PluginManager(tmp_path / name)
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    with pytest.raises(ConfigError, match="a configuration may be at most"):
        PluginManager(huge)
    with pytest.raises(ConfigError, match="cannot read"):
        PluginManager(tmp_path / "absent.yaml")


GOOD_MANIFEST = {"name": "m", "version": "1.0.0", "type": "llm_provider", "protocol": "grpc", "hector_version": ">=0.1"}


class Raw(str):
    """A manifest value written as YAML, not quoted."""


def manifest_text(**changes: object) -> str:
    fields = {**GOOD_MANIFEST, **changes}
    body = "".join(f"  {k}: {v if isinstance(v, Raw) else repr(v)}\n" for k, v in fields.items() if v is not None)
    return "plugin:\n" + body


MANIFESTS: dict[str, tuple[str, str]] = {
    "unknown type": (manifest_text(type="llm_thing"), "plugin.type: unknown plugin type"),
    "netrpc": (manifest_text(protocol="netrpc"), 'plugin.protocol is "netrpc"'),
    "unsatisfied hector_version": (manifest_text(hector_version=">=9.0.0"), 'needs hector_version ">=9.0.0"'),
    "not semver": (manifest_text(hector_version="latest"), "is not a semver requirement"),
    "missing required key": (manifest_text(config_schema=Raw("{required: [api_key]}")), "required config key(s) missing: api_key"),
    "wrong type for the load": (manifest_text(type="embedder_provider"), "is a embedder_provider, but it is being loaded as a llm_provider"),
    "no name": (manifest_text(name=None), "missing field `name`"),
    "not yaml": ("plugin: {name: [\n", "x.plugin.yaml"),
    "too big": ("plugin: {}\n#" + "x" * (2 << 20) + "\n", "a manifest may be at most"),
}


@pytest.mark.parametrize("text,expected", MANIFESTS.values(), ids=list(MANIFESTS))
async def test_bad_manifest_fails_before_launch(py_plugin, tmp_path: Path, text: str, expected: str) -> None:
    pidfile = tmp_path / "pid"
    plugin = py_plugin(pidfile=pidfile)
    Path(f"{plugin}.plugin.yaml").write_text(text.replace("x.plugin.yaml", ""))
    with pytest.raises(ConfigError) as caught:
        await PluginManager().load(plugin, name="x")
    message = str(caught.value)
    assert expected.replace("x.plugin.yaml", ".plugin.yaml") in message, message
    assert f"{plugin}.plugin.yaml" in message
    assert not pidfile.exists(), "nothing may be launched"


async def test_missing_and_non_executable_binaries_from_config(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("#!/bin/sh\n")
    path = tmp_path / "hector.yaml"
    path.write_text("plugins:\n  llm_providers:\n    gone: {path: ./gone}\n    plain: {path: ./plain}\n")
    async with PluginManager(path) as pm:
        report = {r.name: r for r in await pm.load_all()}
    assert isinstance(report["gone"].error, PluginStartError) and "not found" in str(report["gone"].error)
    assert "not executable" in str(report["plain"].error)
    assert pm.plugins == []


def test_errors_point_at_the_line_and_column_of_the_key(tmp_path: Path) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text("plugins:\n  llm_providers:\n    ok: {path: ./ok}\n    x:\n      path: ./x\n      start_timeout: -3\n")
    with pytest.raises(ConfigError) as caught:
        PluginManager(path)
    assert (caught.value.line, caught.value.column) == (6, 7)
    assert str(caught.value).startswith(f"{path}:6:7: plugins.llm_providers.x.start_timeout")
