"""A table of bad configurations and manifests: each gets its own precise message naming the
file and the place, and nothing is launched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hector_plugins import ConfigError, PluginManager, PluginStartError, StartTimeoutError
from helpers import write_manifest

ENTRY = "plugins:\n  llm_providers:\n    x: {{{}}}\n"

CONFIGS: dict[str, tuple[str, str]] = {
    "unclosed flow mapping": ("plugins: {llm_providers: {x: {path: ./x}\n", "invalid YAML"),
    "bad indentation": ("plugins:\n  llm_providers:\n    x:\n      path: ./x\n     enabled: true\n", "invalid YAML"),
    "top level is a list": ("- plugins\n", "the top level must be a mapping"),
    "plugins is a list": ("plugins: [a, b]\n", "`plugins` must be a mapping"),
    "section is a list": (
        "plugins:\n  llm_providers: [x]\n",
        "`plugins.llm_providers` must map plugin names to entries",
    ),
    "unknown section": ("plugins:\n  llm_provider: {}\n", "plugins.llm_provider: unknown section"),
    "entry without path": (
        ENTRY.format("type: grpc"),
        "plugins.llm_providers.x: give exactly one of `path`, `alias` and `fallbacks`",
    ),
    "unknown entry field": (ENTRY.format("path: ./x, confg: {}"), "plugins.llm_providers.x: unknown field `confg`"),
    "path is a list": (ENTRY.format("path: [a]"), "plugins.llm_providers.x.path: must be a string, not a list"),
    "enabled is a string": (
        ENTRY.format("path: ./x, enabled: 'sometimes'"),
        'plugins.llm_providers.x.enabled: must be true or false, not the string "sometimes"',
    ),
    "enabled: maybe": (
        ENTRY.format("path: ./x, enabled: maybe"),
        'plugins.llm_providers.x.enabled: must be true or false, not the string "maybe"',
    ),
    "netrpc plugin": (
        ENTRY.format("path: ./x, type: netrpc"),
        'plugins.llm_providers.x.type: must be "grpc" (a plugin process), "builtin" (registered in-process) or "mcp"',
    ),
    "builtin with a path": (
        ENTRY.format("path: ./x, type: builtin"),
        "plugins.llm_providers.x.path: a built-in provider is created and configured in code",
    ),
    "negative start timeout": (ENTRY.format("path: ./x, start_timeout: -1"), "plugins.llm_providers.x.start_timeout"),
    "start timeout is text": (
        ENTRY.format("path: ./x, start_timeout: soon"),
        'plugins.llm_providers.x.start_timeout: must be a number, not the string "soon"',
    ),
    "absurdly small start timeout": (
        ENTRY.format("path: ./x, start_timeout: 1e-300"),
        "plugins.llm_providers.x.start_timeout: must be a finite number of seconds, at least 0.001 (1 ms), not 1e-300",
    ),
    "zero shutdown grace": (ENTRY.format("path: ./x, shutdown_grace: 0"), "plugins.llm_providers.x.shutdown_grace"),
    "env is a list": (
        ENTRY.format("path: ./x, env: [A]"),
        "plugins.llm_providers.x.env: must be a mapping, not a list",
    ),
    "NUL in an env value": (
        ENTRY.format('path: ./x, env: {A: "x\\0y"}'),
        "plugins.llm_providers.x: env.A: the value contains a NUL byte",
    ),
    "empty cookie key": (ENTRY.format("path: ./x, magic_cookie_key: ''"), "magic cookie key"),
    "no protocol versions": (ENTRY.format("path: ./x, protocol_versions: []"), "at least one version"),
    "protocol versions are text": (
        ENTRY.format("path: ./x, protocol_versions: [one]"),
        'plugins.llm_providers.x.protocol_versions: must be a whole number, 0 or more, not the string "one"',
    ),
    "empty name": ('plugins:\n  llm_providers:\n    "": {path: ./x}\n', "a plugin name may not be empty"),
    "name with a slash": (
        'plugins:\n  llm_providers:\n    "a/b": {path: ./x}\n',
        "the plugin name \"a/b\" contains '/', a path separator",
    ),
    "name with ..": ('plugins:\n  llm_providers:\n    "..": {path: ./x}\n', 'the plugin name ".." contains ".."'),
    "name with a control character": (
        'plugins:\n  llm_providers:\n    "a\\tb": {path: ./x}\n',
        "control character U+0009",
    ),
    "name with a bidi override": (
        'plugins:\n  llm_providers:\n    "evil\\u202Etxt": {path: ./x}\n',
        "bidirectional-text control U+202E",
    ),
    "duplicated key": (
        "plugins:\n  llm_providers: {}\n  llm_providers: {}\n",
        ':3:3: invalid YAML: the key "llm_providers" appears twice in the same mapping',
    ),
    "name used twice": (
        "plugins:\n  llm_providers: {x: {path: ./x}}\n  embedder_providers: {x: {path: ./y}}\n",
        'plugins.embedder_providers.x: the name "x" is used twice',
    ),
    "unset variable": (
        ENTRY.format("path: '${HECTOR_TEST_UNSET_VAR}'"),
        "plugins.llm_providers.x.path: environment variable HECTOR_TEST_UNSET_VAR is not set",
    ),
    "unclosed variable": (ENTRY.format("path: '${HOME'"), "unclosed"),
    "bad variable name": (ENTRY.format("path: '${1ABC}'"), "bad variable name"),
    "discovery twice": (
        "plugin_discovery: {}\nplugins: {plugin_discovery: {}}\n",
        "both at the top level and under plugins",
    ),
    "discovery unknown field": ("plugin_discovery: {path: [./p]}\n", "plugin_discovery: unknown field `path`"),
    "discovery paths not a list": (
        "plugin_discovery: {paths: ./p}\n",
        'plugin_discovery.paths: must be a list, not the string "./p"',
    ),
    "idempotent names no RPC": (
        ENTRY.format("path: ./x, idempotent: [Generate, generate]"),
        'plugins.llm_providers.x.idempotent[1]: "generate" is not an RPC of an llm_provider '
        "(hector.plugin.LLMProvider); its RPCs are: ",
    ),
    "security unknown field": ("plugin_security: {max_memory: 5}\n", "plugin_security: unknown field `max_memory`"),
    "security zero memory": (
        "plugin_security: {max_memory_mb: 0}\n",
        "plugin_security.max_memory_mb: must be at least 1",
    ),
    "security negative memory": (
        "plugin_security: {max_memory_mb: -5}\n",
        "plugin_security.max_memory_mb: must be a whole number, 0 or more, not the integer -5",
    ),
    "security negative cpu": (
        "plugin_security: {max_cpu_percent: -5}\n",
        "plugin_security.max_cpu_percent: must be a positive percentage",
    ),
    "agents not a mapping": ("agents: [a]\n", "`agents` must map agent names to agents"),
    "agent names a missing llm": (
        "agents:\n  main: {llm: ghost}\n",
        'agents.main.llm: no llm_provider plugin named "ghost" is configured',
    ),
    "agent llm of the wrong type": (
        "plugins:\n  database_providers: {db: {path: ./db}}\nagents:\n  main: {llm: db}\n",
        'agents.main.llm: plugin "db" is a database_provider, not an llm_provider',
    ),
    "agent plugin tool without provider": (
        "agents:\n  main: {tools: [{type: plugin}]}\n",
        "agents.main.tools[0]: a plugin tool needs a provider",
    ),
    "agent tool provider missing": (
        "agents:\n  main: {tools: [{type: plugin, provider: t}]}\n",
        'agents.main.tools[0].provider: no tool_provider plugin named "t"',
    ),
    "agent tools not a list": ("agents:\n  main: {tools: web}\n", "agents.main.tools: must be a list"),
    "path and alias": (
        ENTRY.format("path: ./x, alias: other"),
        "plugins.llm_providers.x: give exactly one of `path`, `alias` and `fallbacks`",
    ),
    "alias to nothing": (
        ENTRY.format("alias: ghost"),
        'plugins.llm_providers.x.alias: no llm_provider plugin named "ghost"',
    ),
    "alias cycle": (
        "plugins:\n  llm_providers:\n    a: {alias: b}\n    b: {alias: c}\n    c: {alias: a}\n",
        "plugins.llm_providers.a.alias: alias cycle a -> b -> c -> a",
    ),
    "alias across types": (
        "plugins:\n  embedder_providers: {e: {path: ./e}}\n  llm_providers: {x: {alias: e}}\n",
        'plugins.llm_providers.x.alias: plugin "e" is an embedder_provider, not an llm_provider',
    ),
    "empty fallback chain": (ENTRY.format("fallbacks: []"), "plugins.llm_providers.x.fallbacks: the chain is empty"),
    "fallback to nothing": (
        ENTRY.format("fallbacks: [ghost]"),
        'plugins.llm_providers.x.fallbacks[0]: no llm_provider plugin named "ghost"',
    ),
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


KEYS: dict[str, tuple[str, str | None]] = {
    "bad call_timeout": (ENTRY.format("path: ./x, call_timeout: -1"), "plugins.llm_providers.x.call_timeout"),
    "unknown type": (ENTRY.format("path: ./x, type: netrpc"), "plugins.llm_providers.x.type"),
    "bad fallback member": (ENTRY.format("fallbacks: [ghost]"), "plugins.llm_providers.x.fallbacks[0]"),
    "bad security setting": ("plugin_security: {max_memory_mb: 0}\n", "plugin_security.max_memory_mb"),
    "plugins is a list": ("plugins: [a, b]\n", "plugins"),
    "top level is a list": ("- plugins\n", None),
}


@pytest.mark.parametrize("text,key", KEYS.values(), ids=list(KEYS))
def test_config_errors_carry_the_key_they_concern(tmp_path: Path, text: str, key: str | None) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        PluginManager(path)
    assert caught.value.key == key, str(caught.value)
    if key is not None:
        assert key in str(caught.value) and caught.value.line is not None, str(caught.value)


async def test_keys_of_dict_configs_and_keyword_arguments(py_plugin, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        PluginManager({"plugins": {"llm_providers": {"x": {"path": "./x", "max_message_size": 10}}}})
    assert caught.value.key == "plugins.llm_providers.x.max_message_size", str(caught.value)
    assert (caught.value.file, caught.value.line) == ("config dict", None)
    pidfile = tmp_path / "pid"
    plugin = py_plugin(pidfile=pidfile)
    pm = PluginManager()
    for field, value in {"call_timeout": -1.0, "max_message_size": 10, "start_timeout": 1e-300}.items():
        with pytest.raises(ConfigError) as caught:
            await pm.load(plugin, name="x", **{field: value})
        assert caught.value.key == field, str(caught.value)
        assert str(caught.value).startswith(f"{field}: must be"), str(caught.value)
    assert not pidfile.exists(), "nothing may be launched"


def test_hostile_and_missing_files(tmp_path: Path) -> None:
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    cases = {
        "bomb.yaml": ("\n".join(bomb) + "\n", "invalid YAML: the document expands to more than 250000 values"),
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
    "missing required key": (
        manifest_text(config_schema=Raw("{required: [api_key]}")),
        "required config key(s) missing: api_key",
    ),
    "wrong type for the load": (
        manifest_text(type="embedder_provider"),
        "is an embedder_provider, but it is being loaded as an llm_provider",
    ),
    "name with a slash": (manifest_text(name="../m"), 'plugin.name: the plugin name "../m" contains'),
    "no name": (manifest_text(name=None), "missing field `name`"),
    "not yaml": ("plugin: {name: [\n", "x.plugin.yaml"),
    "too big": ("plugin: {}\n#" + "x" * (2 << 20) + "\n", "a manifest may be at most"),
}


@pytest.mark.parametrize("text,expected", MANIFESTS.values(), ids=list(MANIFESTS))
async def test_bad_manifest_fails_before_launch(py_plugin, tmp_path: Path, text: str, expected: str) -> None:
    pidfile = tmp_path / "pid"
    plugin = py_plugin(pidfile=pidfile)
    write_manifest(plugin, text.replace("x.plugin.yaml", ""))
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
    path.write_text(
        "plugins:\n  llm_providers:\n    ok: {path: ./ok}\n    x:\n      path: ./x\n      start_timeout: -3\n"
    )
    with pytest.raises(ConfigError) as caught:
        PluginManager(path)
    assert (caught.value.line, caught.value.column) == (6, 7)
    assert str(caught.value).startswith(f"{path}:6:7: plugins.llm_providers.x.start_timeout")


BAD_NAMES = {
    "empty": "",
    "slash": "a/b",
    "dot-dot": "..",
    "NUL": "x\0y",
    "newline": "a\nb",
    "bidi override": "evil\u202etxt",
}


class Provider:
    async def generate(self, messages, tools):  # noqa: ANN001, ANN201
        return "never called"


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=list(BAD_NAMES))
async def test_bad_names_are_refused_wherever_a_name_enters(py_plugin, tmp_path: Path, name: str) -> None:
    pidfile = tmp_path / "pid"
    plugin = py_plugin(pidfile=pidfile)
    pm = PluginManager()
    with pytest.raises(ConfigError, match="plugin name"):
        await pm.load(plugin, name=name)
    with pytest.raises(ConfigError, match="plugin name"):
        pm.register(name, Provider())
    discovered = tmp_path / "discovered"
    discovered.mkdir()
    (discovered / "p").symlink_to(plugin)
    # JSON strings are YAML double-quoted strings, escapes included.
    manifest = write_manifest(
        discovered / "p", f"plugin: {{name: {json.dumps(name)}, version: 1.0.0, type: llm_provider, protocol: grpc}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        PluginManager({"plugin_discovery": {"paths": [str(discovered)]}})
    assert f"manifest {manifest}: plugin.name:" in str(caught.value), str(caught.value)
    assert not pidfile.exists(), "nothing may be launched"


async def test_load_refuses_nul_in_env_and_absurd_durations_before_launching(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    plugin = py_plugin(pidfile=pidfile)
    pm = PluginManager()
    with pytest.raises(ConfigError) as caught:
        await pm.load(plugin, name="x", env={"API_KEY": "abc\0def"})
    assert "env.API_KEY: the value contains a NUL byte" in str(caught.value)
    assert str(plugin) not in str(caught.value), "the executable is not to blame"
    for field in ("start_timeout", "shutdown_grace"):
        with pytest.raises(ConfigError, match=f"{field}: must be a finite number of seconds, at least 0.001"):
            await pm.load(plugin, name="x", **{field: 1e-300})
    assert not pidfile.exists(), "nothing may be launched"


async def test_a_small_start_timeout_is_printed_as_it_was_given(py_plugin, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    hanging = py_plugin(pidfile=pidfile, sleep=30)
    async with PluginManager() as pm:
        with pytest.raises(StartTimeoutError) as caught:
            await pm.load(hanging, name="slow", start_timeout=0.05)
    assert "within 50ms (its start_timeout)" in str(caught.value), str(caught.value)
    assert caught.value.timeout == pytest.approx(0.05)
