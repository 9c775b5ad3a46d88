"""The `hector-plugins` console script, run as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
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
    out = cli("-c", str(path), "call", "vectors", "generate", "hi")
    assert out.returncode == 2
    assert (
        "plugin 'vectors' is an embedder_provider, which has no method 'generate'; "
        "its methods: embed, embed_batch, info, health" in out.stderr
    ), out.stderr
    # The test embedder's vector of a text is [len(text), 1, 1, 1].
    embedded = cli("-c", str(path), "call", "vectors", "embed", "hello")
    assert (embedded.returncode, embedded.stdout) == (0, "[5.0, 1.0, 1.0, 1.0]\n"), embedded.stderr
    batch = cli("-c", str(path), "call", "vectors", "embed_batch", "ab", "abc")
    assert batch.stdout.splitlines() == ["[2.0, 1.0, 1.0, 1.0]", "[3.0, 1.0, 1.0, 1.0]"], batch.stderr
    as_json = cli("-c", str(path), "call", "vectors", "embed_batch", "ab", "abc", "--json")
    assert json.loads(as_json.stdout) == [[2, 1, 1, 1], [3, 1, 1, 1]], as_json.stderr
    health = cli("-c", str(path), "call", "vectors", "health", "--json")
    assert health.returncode == 0 and json.loads(health.stdout)["healthy"] is True, health.stderr


# `call` on every plugin type, through the example plugins.


@pytest.fixture
def every_type(
    tmp_path: Path,
    go_plugin: Path,
    rust_embedder: Path,
    go_embedder: Path,
    vectordb_plugin: Path,
    tools_plugin: Path,
    reasoning_plugin: Path,
) -> Path:
    path = tmp_path / "hector.yaml"
    path.write_text(
        "plugins:\n"
        f"  llm_providers:\n    llm: {{path: {go_plugin}}}\n    broken: {{path: ./nope}}\n"
        "  embedder_providers:\n"
        f"    rust-vectors: {{path: {rust_embedder}, config: {{dimension: 16}}}}\n"
        f"    go-vectors: {{path: {go_embedder}, config: {{dimension: 16}}}}\n"
        f"  database_providers:\n    db: {{path: {vectordb_plugin}}}\n"
        f"  tool_providers:\n    tools: {{path: {tools_plugin}}}\n"
        f"  reasoning_strategies:\n    cot: {{path: {reasoning_plugin}, config: {{max_iterations: 3}}}}\n"
    )
    return path


def call(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("-c", str(config), "call", *args)


def test_call_an_llm_as_json(every_type: Path) -> None:
    reply = call(every_type, "llm", "generate", "hi", "--json")
    assert reply.returncode == 0, reply.stderr
    assert json.loads(reply.stdout)["text"] == "Echo: hi"
    chunks = json.loads(call(every_type, "llm", "stream", "a b", "--json").stdout)
    assert "".join(c.get("text", "") for c in chunks) == "Echo: a b" and chunks[-1]["type"] == "done"


def test_call_embedders_with_and_without_embed_batch_agree(every_type: Path) -> None:
    rust = call(every_type, "rust-vectors", "embed_batch", "hello", "world", "--json")
    go = call(every_type, "go-vectors", "embed_batch", "hello", "world", "--json")  # one Embed per text
    assert rust.returncode == 0 and go.returncode == 0, rust.stderr + go.stderr
    vectors = json.loads(rust.stdout)
    assert vectors == json.loads(go.stdout) and len(vectors) == 2 and len(vectors[0]) == 16
    one = call(every_type, "rust-vectors", "embed", "hello")
    assert json.loads(one.stdout) == vectors[0], one.stderr
    info = json.loads(call(every_type, "go-vectors", "info").stdout)
    assert info["dimension"] == 16


def test_call_a_database(every_type: Path) -> None:
    created = call(every_type, "db", "create_collection", "docs", "3")
    assert created.returncode == 0 and "created collection 'docs'" in created.stdout, created.stderr
    # Each call starts the plugin afresh, so this in-memory database has forgotten the collection.
    search = call(every_type, "db", "search", "docs", "[1, 0, 0]", "--top-k", "2", "--filter", '{"lang": "en"}')
    assert search.returncode == 1 and "docs" in search.stderr and "Search failed" in search.stderr, search.stderr
    info = json.loads(call(every_type, "db", "info").stdout)
    assert info["name"] == "vectordb-py" and info["capabilities"] == {"filter": "true"}


def test_call_tools(every_type: Path) -> None:
    listed = call(every_type, "tools", "list_tools", "--json")
    assert listed.returncode == 0, listed.stderr
    tools = {t["name"]: t for t in json.loads(listed.stdout)}
    assert tools["calculator"]["parameters"]["required"] == ["expression"]

    ran = call(every_type, "tools", "call_tool", "calculator", '{"expression": "2 + 3 * 4"}')
    assert (ran.returncode, ran.stdout) == (0, '14\noutput: {"value":14}\n'), ran.stderr
    result = json.loads(call(every_type, "tools", "call_tool", "calculator", '{"expression": "7"}', "--json").stdout)
    assert result["success"] and result["output"] == {"value": 7}

    # The tool's own failure is its answer: printed, exit status 1.
    failed = call(every_type, "tools", "call_tool", "calculator", '{"expression": "1/0"}')
    assert failed.returncode == 1 and "tool 'calculator' failed: division by zero" in failed.stderr, failed.stderr
    failed = call(every_type, "tools", "call_tool", "calculator", '{"expression": "1/0"}', "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["error"] == "division by zero"
    # A call failure (a gRPC status) is an error of the call.
    unknown = call(every_type, "tools", "call_tool", "nope")
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr, unknown.stderr


def test_call_a_reasoning_strategy(every_type: Path) -> None:
    calls = [{"id": "c1", "name": "calculator", "arguments": {"expression": "1+1"}}]
    state = {"iteration": 1, "query": "1+1?", "tool_calls": calls, "tool_results": [{"content": "2", "call_id": "c1"}]}
    go_on = call(every_type, "cot", "should_stop", json.dumps(state))
    assert go_on.returncode == 0, go_on.stderr
    assert json.loads(go_on.stdout)["stop"] is False
    stop = json.loads(call(every_type, "cot", "should_stop", json.dumps({**state, "iteration": 3})).stdout)
    assert stop["stop"] is True and stop["reason"] == "reached max_iterations (3)"

    notes = call(every_type, "cot", "after_iteration", json.dumps(state))
    assert json.loads(notes.stdout) == {"notes": [{"iteration": 1, "tools": ["calculator"], "failed": []}]}
    # What a hook printed is the custom state of the next one.
    later = {"iteration": 2, "custom_state": notes.stdout.strip()}
    injected = call(every_type, "cot", "context_injection", json.dumps(later))
    assert injected.stdout.splitlines() == ["Iteration 2 of at most 3.", "Iteration 1 called: calculator."]
    plan = json.loads(call(every_type, "cot", "prepare_iteration", '{"iteration": 1}').stdout)
    assert [m["role"] for m in plan["inject_messages"]] == ["system"]
    assert json.loads(call(every_type, "cot", "info").stdout)["name"] == "chain_of_thought"
    assert "step by step" in json.loads(call(every_type, "cot", "prompt_slots").stdout)["reasoning_instructions"]
    # The strategy's in-band error.
    refused = call(every_type, "cot", "should_stop", '{"iteration": 0}')
    assert refused.returncode == 1 and "iteration must be 1 or more" in refused.stderr, refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llm", "embed", "x"], "plugin 'llm' is an llm_provider, which has no method 'embed'; its methods: generate"),
        (["broken", "search", "c", "[1]"], "plugin 'broken' is an llm_provider, which has no method 'search'"),
        (["cot", "embed", "x"], "plugin 'cot' is a reasoning_strategy, which has no method 'embed'; its methods: info"),
        (["rust-vectors", "embed", "a", "b"], "embed: unexpected argument 'b' (usage: embed TEXT)"),
        (["rust-vectors", "embed_batch"], "embed_batch: missing TEXT (usage: embed_batch TEXT...)"),
        (
            ["db", "upsert", "c", "id"],
            "upsert: missing VECTOR_JSON (usage: upsert COLL ID VECTOR_JSON [METADATA_JSON])",
        ),
        (["db", "upsert", "c", "id", "[1, 2"], "upsert: VECTOR_JSON is not JSON"),
        (["db", "upsert", "c", "id", '["a"]'], "upsert: VECTOR_JSON must be a non-empty JSON list of numbers"),
        (["db", "upsert", "c", "id", "[1]", '{"n": 1}'], "upsert: METADATA_JSON must map keys to strings; 'n' is 1"),
        (["db", "create_collection", "c", "three"], "create_collection: DIM must be a whole number, not 'three'"),
        (["db", "search", "c", "[1]", "--top-k", "0"], "search: --top-k must be at least 1, not 0"),
        (["db", "delete", "c", "id", "--filter", "{}"], "delete takes no --filter"),
        (["tools", "call_tool", "calculator", "2+3"], "call_tool: ARGS_JSON is not JSON"),
        (["tools", "call_tool", "calculator", "[1]"], "call_tool: ARGS_JSON must be a JSON object"),
        (["cot", "should_stop", '{"iter": 1}'], "should_stop: STATE_JSON has unknown fields iter"),
        (
            ["cot", "should_stop", '{"tool_results": [1]}'],
            "should_stop: STATE_JSON tool_results must be a list of objects",
        ),
        (["cot", "should_stop", '{"iteration": "one"}'], "should_stop: STATE_JSON is not a reasoning state"),
    ],
)
def test_a_call_that_cannot_be_sent_exits_2_before_any_launch(every_type: Path, args: list[str], message: str) -> None:
    out = call(every_type, *args)
    assert out.returncode == 2 and out.stdout == "", out.stderr
    assert out.stderr.startswith("hector-plugins call: ") and message in out.stderr, out.stderr


def test_call_help_lists_every_types_methods() -> None:
    out = cli("call", "--help")
    assert out.returncode == 0
    for line in [
        "embed_batch TEXT...",
        "search COLL VECTOR_JSON [--top-k N] [--filter JSON]",
        "call_tool TOOL [ARGS_JSON]",
    ]:
        assert line in out.stdout, out.stdout
    assert "an in-memory database forgets between calls" in out.stdout
