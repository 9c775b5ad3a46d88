"""The conformance kit on the deliberately broken plugins of tests/plugins/broken, one per type:
the rule each one breaks fails with a message that points at the fault; the others pass, except
where the fault stops the plugin from loading at all, and then they fail naming that fault too."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Callable

import pytest
from hector_plugins.testing import (
    ConformanceFailure,
    DatabaseConformance,
    EmbedderConformance,
    LLMConformance,
    PluginConformance,
    ReasoningConformance,
    ToolsConformance,
)

Outcomes = Mapping[str, str]
PASSED = "passed"


def run_kit(kit: type[PluginConformance]) -> dict[str, str]:
    """Every rule of `kit`: "passed", "skipped: <why>", or the failure message. Anything but a
    ConformanceFailure (a bug of the kit) propagates."""
    outcomes = {}
    for name in sorted(dir(kit)):
        if not name.startswith("test_"):
            continue
        rule = name[len("test_") :]
        try:
            getattr(kit(), name)()
        except ConformanceFailure as failure:
            assert failure.rule == rule, failure
            outcomes[rule] = str(failure)
        except pytest.skip.Exception as skipped:
            outcomes[rule] = f"skipped: {skipped}"
        else:
            outcomes[rule] = PASSED
    return outcomes


def failed(outcomes: Outcomes) -> dict[str, str]:
    return {rule: outcome for rule, outcome in outcomes.items() if outcome != PASSED}


def assert_points_at(message: str, rule: str, plugin: Path, *phrases: str) -> None:
    assert message.startswith(f"{rule}: expected "), message
    assert f"(plugin: {plugin})" in message, message
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_an_llm_whose_stream_never_ends_fails_stream_ends_only(broken_plugin: Callable[..., Path]) -> None:
    path = broken_plugin("llm")

    class Kit(LLMConformance):
        plugin = path
        bad_config = {"temperature": "hot"}
        require_grpc_health = True

    outcomes = run_kit(Kit)
    assert list(failed(outcomes)) == ["stream_ends"], outcomes
    assert_points_at(
        outcomes["stream_ends"], "stream_ends", path, "end with one 'done' chunk", "without a done chunk", "text x"
    )


def test_an_embedder_of_the_wrong_dimension_fails_embed_only(broken_plugin: Callable[..., Path]) -> None:
    path = broken_plugin("embedder")

    class Kit(EmbedderConformance):
        plugin = path
        bad_config = {"model": ""}
        require_grpc_health = True

    outcomes = run_kit(Kit)
    assert list(failed(outcomes)) == ["embed"], outcomes
    assert_points_at(
        outcomes["embed"], "embed", path, "a vector of 8 floats (the dimension info() reports)", "of 7 floats"
    )


def test_a_database_that_ignores_shutdown_fails_graceful_shutdown_only(broken_plugin: Callable[..., Path]) -> None:
    path = broken_plugin("database")

    class Kit(DatabaseConformance):
        plugin = path
        bad_config = {"metric": "dot"}
        shutdown_grace = 0.5  # every rule's shutdown waits this long before the host kills it
        require_grpc_health = True

    outcomes = run_kit(Kit)
    assert list(failed(outcomes)) == ["graceful_shutdown"], outcomes
    assert_points_at(
        outcomes["graceful_shutdown"],
        "graceful_shutdown",
        path,
        "within shutdown_grace (0.5 s)",
        "ignores Shutdown: still running",
        "so the host killed it",
    )


def test_tools_with_a_handshake_line_without_protocol_fail_handshake_line_only(
    broken_plugin: Callable[..., Path],
) -> None:
    path = broken_plugin("tools")

    class Kit(ToolsConformance):
        plugin = path
        bad_config = {"precision": "high"}
        tool_call = ("add", {"numbers": [1, 2]})
        require_grpc_health = True

    outcomes = run_kit(Kit)
    assert list(failed(outcomes)) == ["handshake_line"], outcomes
    assert_points_at(outcomes["handshake_line"], "handshake_line", path, "printed '1|1|unix|", "4 fields", "netrpc")


def test_tools_with_a_handshake_line_no_host_accepts_fail_every_rule_that_loads_them(
    broken_plugin: Callable[..., Path],
) -> None:
    path = broken_plugin("tools", BROKEN_HANDSHAKE="1|1|tcp|nonsense|grpc")

    class Kit(ToolsConformance):
        plugin = path
        bad_config = {"precision": "high"}
        tool_call = ("add", {"numbers": [1, 2]})

    outcomes = run_kit(Kit)
    assert_points_at(
        outcomes["handshake_line"], "handshake_line", path, "printed '1|1|tcp|nonsense|grpc'", "not host:port"
    )
    assert outcomes["cookie_refusal"] == outcomes["version_negotiation"] == PASSED, outcomes
    loading = set(outcomes) - {"handshake_line", "cookie_refusal", "version_negotiation", "bad_config_refused"}
    # Plain TCP is refused at the handshake under the default mtls: auto (docs/protocol.md §3.5).
    for rule in loading:
        assert_points_at(outcomes[rule], rule, path, "did not load: HandshakeError", "tcp:nonsense")


def test_a_strategy_that_refuses_a_valid_config_fails_initialize_config(broken_plugin: Callable[..., Path]) -> None:
    path = broken_plugin("reasoning")

    class Kit(ReasoningConformance):
        plugin = path
        config = {"max_iterations": "3"}
        bad_config = {"max_iterations": "many"}
        require_grpc_health = True

    outcomes = run_kit(Kit)
    assert_points_at(
        outcomes["initialize_config"],
        "initialize_config",
        path,
        "Initialize to accept the valid config {'max_iterations': '3'}",
        "refused a valid config",
        "unsupported configuration",
    )
    # The rules that never get a loaded plugin pass (refusing everything refuses bad_config too);
    # every other rule needs the plugin loaded with `config`, and says why it is not.
    without_a_load = {"handshake_line", "cookie_refusal", "version_negotiation", "bad_config_refused"}
    assert {rule: outcomes[rule] for rule in without_a_load} == dict.fromkeys(without_a_load, PASSED), outcomes
    for rule in set(outcomes) - without_a_load - {"initialize_config"}:
        assert_points_at(
            outcomes[rule], rule, path, "to load with config {'max_iterations': '3'}", "unsupported configuration"
        )


def test_a_json_log_line_without_a_level_fails_logs_well_formed(py_plugin: Callable[..., Path]) -> None:
    path = py_plugin(stderr='{"@message": "starting", "port": 4}')

    class Kit(LLMConformance):
        plugin = path

    with pytest.raises(ConformanceFailure) as failure:
        Kit().test_logs_well_formed()
    assert_points_at(str(failure.value), "logs_well_formed", path, "wrote 1 that are not", "has no @level")


def test_text_before_the_handshake_line_fails_handshake_line(py_plugin: Callable[..., Path]) -> None:
    path = py_plugin(stdout_first="starting up")

    class Kit(LLMConformance):
        plugin = path

    with pytest.raises(ConformanceFailure) as failure:
        Kit().test_handshake_line()
    assert_points_at(str(failure.value), "handshake_line", path, "printed 'starting up'")
