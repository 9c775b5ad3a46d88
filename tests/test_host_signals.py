"""A program that asks for it (``pm.shutdown_on_signals()``) stops its plugins gracefully,
dependents first, when it gets SIGTERM, and then ends as the signal says."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from helpers import wait_gone_sync

HOST = textwrap.dedent(
    """
    import asyncio, sys
    from hector_plugins import PluginManager

    async def main():
        config = {"plugins": {"llm_providers": {
            "base": {"path": sys.argv[1]},
            "top": {"path": sys.argv[1], "depends_on": ["base"]},
        }}}
        pm = PluginManager(config)
        pm.shutdown_on_signals()
        await pm.load_all(strict=True)
        print(" ".join(f"{p.name}={p.pid}" for p in pm.plugins), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_sigterm_to_the_host_shuts_its_plugins_down_gracefully_in_order(py_plugin, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    plugin = py_plugin(shutdown_mark=marks)
    host = subprocess.Popen([sys.executable, "-c", HOST, str(plugin)], stdout=subprocess.PIPE, text=True)
    # A host stuck before it prints its plugins must fail the test, not hang it.
    watchdog = threading.Timer(60, host.kill)
    watchdog.start()
    try:
        pids = dict(pair.split("=") for pair in host.stdout.readline().split())
        host.send_signal(signal.SIGTERM)
        assert host.wait(timeout=30) == -signal.SIGTERM
        names = {pid: name for name, pid in pids.items()}
        order = [names[line.split()[1]] for line in marks.read_text().splitlines() if line.startswith("shutdown")]
        assert order == ["top", "base"], marks.read_text()
        wait_gone_sync({name: int(pid) for name, pid in pids.items()})
    finally:
        watchdog.cancel()
        host.kill()
        host.wait()
