"""The `hector-plugins` console script, run as a real subprocess."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import cli


@pytest.fixture
def config(tmp_path: Path, rust_plugin: Path, go_plugin: Path) -> Path:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for plugin in (rust_plugin, go_plugin):
        (plugins / plugin.name).symlink_to(plugin)
        shutil.copy(f"{plugin}.plugin.yaml", plugins / f"{plugin.name}.plugin.yaml")
    path = tmp_path / "hector.yaml"
    path.write_text(
        "plugins:\n  plugin_discovery: {paths: [./plugins]}\n  llm_providers:\n    broken: {path: ./nope}\n"
    )
    return path


def test_list_and_validate(config: Path) -> None:
    listed = cli("-c", str(config), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"broken", "echo-llm-rust", "echo-llm-go"}
    assert rows["echo-llm-go"]["version"] == "1.0.0" and rows["echo-llm-go"]["ok"]
    assert not rows["broken"]["ok"] and "not found" in rows["broken"]["error"]

    validated = cli("-c", str(config), "validate", "--json")
    assert validated.returncode == 1
    report = json.loads(validated.stdout)
    assert report["ok"] is False and len(report["plugins"]) == 3

    (config.parent / "hector.yaml").write_text("plugins:\n  plugin_discovery: {paths: [./plugins]}\n")
    assert cli("validate", cwd=config.parent).returncode == 0, "hector.yaml in the working directory is the default"


def test_list_shows_chains_and_in_process_entries(tmp_path: Path, rust_plugin: Path) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text(
        "plugins:\n  llm_providers:\n"
        f"    remote: {{path: {rust_plugin}}}\n"
        "    local: {type: builtin}\n"
        "    resilient: {fallbacks: [remote, local]}\n"
    )
    listed = cli("-c", str(path), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert (rows["remote"]["entry"], rows["local"]["entry"], rows["resilient"]["entry"]) == (
        "plugin",
        "builtin",
        "fallbacks",
    )
    assert rows["resilient"]["members"] == ["remote", "local"] and rows["local"]["ok"]
    table = cli("-c", str(path), "list").stdout
    assert "fallbacks: remote, local" in table and "(in-process, registered in code)" in table
    assert cli("-c", str(path), "validate").returncode == 0


def test_validate_reports_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("plugins:\n  llm_providers:\n    x: {path: ./x, confg: {}}\n")
    out = cli("-c", str(bad), "validate", "--json")
    assert out.returncode == 1
    assert "confg" in json.loads(out.stdout)["config_error"]
    out = cli("validate", cwd=tmp_path)
    assert out.returncode == 1 and "no configuration" in out.stderr


def test_inspect_and_call(config: Path) -> None:
    inspected = cli("-c", str(config), "inspect", "echo-llm-rust", "--json")
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert info["model_info"]["model_name"] == "echo-llm-v1.0" and info["capabilities"]["streaming"] is True

    called = cli("-c", str(config), "call", "echo-llm-go", "generate", "hello", "there")
    assert called.returncode == 0, called.stderr
    assert called.stdout.strip() == "Echo: hello there"
    streamed = cli("-c", str(config), "call", "echo-llm-rust", "stream", "a b")
    assert streamed.stdout.strip() == "Echo: a b"

    missing = cli("-c", str(config), "call", "nobody", "generate", "x")
    assert missing.returncode == 1 and "no plugin named 'nobody' is configured" in missing.stderr.replace('"', "'")
    broken = cli("-c", str(config), "call", "broken", "health")
    assert broken.returncode == 1 and "not found" in broken.stderr


@pytest.mark.parametrize(
    "text,hint",
    [("", None), ("plugin:\n  llm_providers:\n    x: {path: ./x}\n", "did you mean `plugins:`?")],
    ids=["empty file", "plugin: for plugins:"],
)
def test_validate_says_when_nothing_is_configured(tmp_path: Path, text: str, hint: str | None) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text(text)
    out = cli("-c", str(path), "validate")
    assert out.returncode == 0, out.stderr
    assert "warning: no plugin is configured" in out.stderr and "all plugins valid" not in out.stderr, out.stderr
    if hint:
        assert f"warning: {path}: plugin: hector-plugins does not read `plugin:`; {hint}" in out.stderr, out.stderr
    strict = cli("-c", str(path), "validate", "--strict")
    assert strict.returncode == 1 and "(--strict: failed)" in strict.stderr, strict.stderr


def test_validate_of_a_missing_executable_does_not_claim_a_start(tmp_path: Path) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text("plugins:\n  llm_providers:\n    gone: {path: ./gone}\n")
    out = cli("-c", str(path), "validate")
    assert out.returncode == 1 and "1 plugin of 1 invalid" in out.stderr, out.stderr
    assert "not found" in out.stdout and "failed to start" not in out.stdout, out.stdout


def test_call_on_an_embedder_names_its_type_in_good_grammar(tmp_path: Path, py_plugin) -> None:
    path = tmp_path / "hector.yaml"
    path.write_text(f"plugins:\n  embedder_providers:\n    vectors: {{path: {py_plugin(embedder=1)}}}\n")
    out = cli("-c", str(path), "call", "vectors", "health")
    assert out.returncode == 1
    assert "plugin 'vectors' is an embedder_provider; `call` supports llm_provider plugins only" in out.stderr, (
        out.stderr
    )
