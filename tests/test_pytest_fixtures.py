"""The package's pytest fixtures (hector_plugins.testing.pytest_plugin, the pytest11 entry point):
`plugin_manager` and `load_plugin` start real plugins and always stop them, a failing test
included; without pytest-asyncio they fail saying what to install. Each case runs a pytest of
its own (pytester, in a subprocess) with plugin autoloading off and the plugins named, so it
does not depend on whether the installed package already carries the entry point."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import ROOT, wait_gone_sync

pytest_plugins = ("pytester",)

FIXTURES = "hector_plugins.testing.pytest_plugin"


@pytest.fixture
def isolated(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose sessions load only the plugins their command line names."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_the_fixtures_load_plugins_and_stop_them_even_when_the_test_fails(
    isolated: pytest.Pytester, go_plugin: Path, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    # The last inner test checks, while the session still runs, that the plugins of the first two
    # (one passing, one failing) are gone: stopped by the fixtures, not by the interpreter's exit.
    isolated.makepyfile(
        test_user=textwrap.dedent(
            f"""
            import os
            import time
            from pathlib import Path

            PLUGIN = {str(go_plugin)!r}
            PIDS = Path({str(pids)!r})

            async def test_a_plugin_answers(plugin_manager, load_plugin):
                info = await load_plugin(PLUGIN, name="echo", config={{"greeting": "hi"}})
                (PIDS / "passing").write_text(str(info.pid))
                reply = await plugin_manager.llm("echo").generate([{{"role": "user", "content": "hi"}}])
                assert reply.text == "Echo: hi"

            async def test_a_failing_body(load_plugin):
                info = await load_plugin(PLUGIN, name="echo")
                (PIDS / "failing").write_text(str(info.pid))
                raise AssertionError("the test body fails on purpose")

            def running(pid):
                try:
                    state = Path(f"/proc/{{pid}}/stat").read_text().rsplit(")", 1)[1].split()[0]
                except FileNotFoundError:
                    return False
                return state != "Z"

            def test_both_plugins_are_gone():
                pids = {{path.name: int(path.read_text()) for path in PIDS.iterdir()}}
                assert set(pids) == {{"passing", "failing"}}, pids
                deadline = time.monotonic() + 5
                while any(running(pid) for pid in pids.values()) and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert not [name for name, pid in pids.items() if running(pid)], pids
            """
        )
    )
    result = isolated.runpytest_subprocess("-p", "pytest_asyncio.plugin", "-p", FIXTURES, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*the test body fails on purpose*"])
    wait_gone_sync({path.name: int(path.read_text()) for path in pids.iterdir()})


def test_without_pytest_asyncio_the_fixtures_say_what_to_install(isolated: pytest.Pytester) -> None:
    # A module that fails to import shadows pytest-asyncio for the inner session.
    isolated.makepyfile(pytest_asyncio="raise ImportError('No module named pytest_asyncio (simulated)')")
    isolated.makepyfile(test_user="def test_needs_a_manager(plugin_manager):\n    pass\n")
    result = isolated.runpytest_subprocess("-p", FIXTURES, "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*'plugin_manager' are async and need pytest-asyncio*hector-plugins[[]testing[]]*"])


def test_the_entry_point_and_the_extra_are_declared() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'[project.entry-points.pytest11]\nhector_plugins = "{FIXTURES}"' in pyproject
    assert 'testing = ["pytest>=8", "pytest-asyncio>=0.24"]' in pyproject
