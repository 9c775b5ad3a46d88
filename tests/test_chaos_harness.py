"""The chaos harness (benchmarks/chaos.py) runs briefly against real plugins: nothing hangs, is lost
or is left behind, calls get through, and every kind of chaos happened. Never a time.

It writes its section into a copy of RESULTS.md (``--output``), never into the real one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
KINDS = ("kill", "stop", "flood", "reload")


def test_a_short_chaos_run_hangs_loses_and_leaves_nothing(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    shutil.copyfile(RESULTS, results)
    untouched = RESULTS.read_bytes()
    figures = tmp_path / "chaos.json"
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "chaos.py"),
        *("--seconds", "10", "--clients", "4", "--seed", "3"),
        *("--write", "--output", str(results), "--json", str(figures)),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert figures.exists(), done.stderr[-4000:]
    m = json.loads(figures.read_text())
    timeline = "\n".join(m["timeline"])
    assert m["hung"] == 0 and not m["chaos_hung"], f"{m['hung_calls']} {m['chaos_hung']}\n{timeline}"
    assert m["lost"] == 0, timeline
    assert not m["shutdown_hung"], timeline
    assert m["left_count"] == 0, f"{m['left']}\n{timeline}"
    assert done.returncode == 0, done.stderr[-4000:]
    assert m["succeeded"] > 0 and m["attempted"] >= m["succeeded"] + sum(m["failed"].values())
    assert all(m["chaos_done"][kind] >= 1 for kind in KINDS), f"{m['chaos_done']}\n{timeline}"
    # Every plugin answered calls, and its supervisor saw the SIGKILL.
    answered = {name: m["per_plugin_calls"].get(name, {}).get("succeeded", 0) for name in m["plugins"]}
    assert all(answered.values()), answered
    assert m["events"].get("crashed", 0) >= 1, timeline

    written = results.read_text()
    assert "## Chaos" in written and "| chaos: no call hung | 0 | **MET** |" in written
    assert "| chaos: nothing left after shutdown | 0 | **MET** |" in written
    assert RESULTS.read_bytes() == untouched
