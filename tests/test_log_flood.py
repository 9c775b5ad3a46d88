"""A plugin's log budget (docs/protocol.md §5.2): a flood of output is dropped, counted and
reported while the plugin keeps serving and the host's memory stays put; a plugin that logs at a
normal rate loses nothing. The plugin is tests/plugins/sdk/flood.py, a real process whose writer
child shares its stderr."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from pathlib import Path

import pytest
from hector_plugins import ConfigError, Message, PluginManager
from helpers import ROOT, wait_until, write_executable

FLOOD_PLUGIN = ROOT / "tests" / "plugins" / "sdk" / "flood.py"
DROPPED = re.compile(r"^plugin (\S+): dropped (\d+) log lines \((\d+) bytes\) in the last [\d.]+s: its output exceeds")
# Far above what the budget lets through, far below what would load a small CI machine.
FLOOD_BYTES_PER_SECOND = 16_000_000


@pytest.fixture
def flood_plugin(tmp_path: Path) -> Path:
    return write_executable(tmp_path / "flood-llm", f'#!/bin/sh\nexec "{sys.executable}" "{FLOOD_PLUGIN}" "$@"\n')


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def drop_reports(caplog: pytest.LogCaptureFixture, plugin: str) -> list[tuple[int, int]]:
    """(lines, bytes) of each record that reports lines of `plugin` dropped over its budget."""
    reports = []
    for record in caplog.records:
        match = DROPPED.match(record.getMessage())
        if match and match[1] == plugin:
            assert record.levelno == logging.WARNING and record.name == f"hector_plugins.plugin.{plugin}"
            assert getattr(record, "plugin_stream", None) == "host"
            reports.append((int(match[2]), int(match[3])))
    return reports


async def ask(pm: PluginManager, plugin: str, text: str) -> str:
    return (await pm.llm(plugin).generate([Message.user(text)], timeout=30)).text


async def test_a_flood_is_dropped_counted_and_reported_while_the_plugin_serves(
    flood_plugin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Untagged lines are warnings, shown under default logging: every one the budget lets
    # through reaches Python (and caplog keeps it).
    caplog.set_level(logging.WARNING, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        budget = {"lines_per_second": 200, "burst_seconds": 1}
        await pm.load(flood_plugin, name="flood", log_budget=budget)
        rss_before = rss_bytes()
        rss_peak = rss_before
        answered: list[str] = []

        async def call_and_watch_memory() -> None:
            nonlocal rss_peak
            while True:
                answered.append(await ask(pm, "flood", f"call {len(answered)}"))
                rss_peak = max(rss_peak, rss_bytes())
                await asyncio.sleep(0.01)

        await ask(pm, "flood", f"flood {FLOOD_BYTES_PER_SECOND}")
        # Calls are answered throughout, until the first periodic report (every 5 s).
        calls = asyncio.ensure_future(call_and_watch_memory())
        await wait_until(
            lambda: drop_reports(caplog, "flood") or calls.done(), timeout=60, message="no report of dropped lines"
        )
        assert not calls.done(), calls.exception()
        calls.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await calls
        assert answered and answered == [f"Echo: call {i}" for i in range(len(answered))]
        (first_lines, first_bytes), *_ = drop_reports(caplog, "flood")
        # Lines, not a trickle: the flood writes thousands of times what the budget allows.
        assert first_lines > 10_000 and first_bytes >= first_lines
        report = next(r.getMessage() for r in caplog.records if DROPPED.match(r.getMessage()))
        assert "budget of 200 lines/s" in report, report
        kept = [r for r in caplog.records if r.getMessage().startswith("flood line ")]
        # What passed: the burst and the rate over about 5 s, far fewer than were written.
        assert 0 < len(kept) < first_lines / 10
        # The program sees the count too, at least what the first report said.
        [info] = pm.plugins
        assert info.dropped_log_lines >= first_lines
        await ask(pm, "flood", "stop")
    # The output's end reports what was dropped since the last report: the total only grows.
    await wait_until(lambda: len(drop_reports(caplog, "flood")) >= 2, timeout=10, message="no final drop report")
    assert sum(lines for lines, _ in drop_reports(caplog, "flood")) > first_lines
    # A generous bound: without a budget, the records of a flood pile up in Python by the
    # hundred megabytes; with it, a few thousand records.
    assert rss_peak - rss_before < 100 * 2**20, f"host RSS grew {(rss_peak - rss_before) / 2**20:.0f} MiB"


async def test_a_plugin_logging_at_a_normal_rate_loses_nothing(
    flood_plugin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hector_plugins.plugin")
    async with PluginManager() as pm:
        # The default budget, and one whose burst (100 lines) is smaller than what the plugin
        # writes (150 lines) at half its rate: the rate refills it.
        await pm.load(flood_plugin, name="default")
        await pm.load(flood_plugin, name="small", log_budget={"lines_per_second": 100, "burst_seconds": 1})
        assert await ask(pm, "default", "log 3000 2000") == "logging"
        assert await ask(pm, "small", "log 150 50") == "logging"

        def steady_lines(plugin: str) -> list[str]:
            return [
                r.getMessage()
                for r in caplog.records
                if r.name == f"hector_plugins.plugin.{plugin}" and r.getMessage().startswith("steady line ")
            ]

        for plugin, count in (("default", 3000), ("small", 150)):

            def logged(plugin: str = plugin, count: int = count) -> bool:
                return len(steady_lines(plugin)) >= count

            await wait_until(logged, timeout=30, message=f"{plugin}: fewer than {count} steady lines logged")
            assert steady_lines(plugin) == [f"steady line {i}" for i in range(count)]
    assert drop_reports(caplog, "default") == [] and drop_reports(caplog, "small") == []


async def test_log_budget_values_are_checked_with_their_key(flood_plugin: Path) -> None:
    async with PluginManager() as pm:
        with pytest.raises(ConfigError, match=r"^log_budget\.lines_per_second: must be at least 1") as caught:
            await pm.load(flood_plugin, name="x", log_budget={"lines_per_second": 0})
        assert caught.value.key == "log_budget.lines_per_second"
        with pytest.raises(ConfigError, match="must be `unlimited` or a mapping"):
            await pm.load(flood_plugin, name="x", log_budget="none")  # type: ignore[arg-type]
    entry = {"path": str(flood_plugin), "log_budget": {"burst_second": 1}}
    with pytest.raises(ConfigError, match=r"plugins\.llm_providers\.x\.log_budget.*unknown field `burst_second`"):
        PluginManager({"plugins": {"llm_providers": {"x": entry}}})


async def test_an_unlimited_budget_drops_nothing(flood_plugin: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hector_plugins.plugin")
    entry = {"path": str(flood_plugin), "log_budget": "unlimited"}
    async with PluginManager({"plugins": {"llm_providers": {"free": entry}}}) as pm:
        await pm.load_all(strict=True)
        # More than the default budget's burst and a second of its rate, as fast as the plugin can.
        count = 40_000
        assert await ask(pm, "free", f"log {count} 1000000") == "logging"
        last = f"steady line {count - 1}"
        await wait_until(
            lambda: any(r.getMessage() == last for r in caplog.records[-5:]), timeout=60, message=f"no {last!r}"
        )
    steady = [r.getMessage() for r in caplog.records if r.getMessage().startswith("steady line ")]
    assert steady == [f"steady line {i}" for i in range(count)]
    assert drop_reports(caplog, "free") == []
