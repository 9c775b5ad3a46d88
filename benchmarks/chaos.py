"""Chaos: plugins killed, frozen, flooding stderr and hot-reloaded while clients keep calling them.

One PluginManager supervises four plugins with quick settings (docs/supervision.md): the Go and
Rust echo LLMs, the stateful LLM on hector_plugins.sdk (tests/plugins/sdk/stateful.py) and the
grpcio test plugin (tests/plugins/py_llm.py). N client tasks call random plugins (`generate`,
and `generate_stream` where it streams) for T seconds, every call with a timeout; a chaos task
driven by `random.Random(seed)` does one action every 0.5-2 s: SIGKILL a plugin's process,
SIGSTOP it (SIGCONT later, or never: the supervisor must replace it), make the grpcio plugin
flood stderr for a few seconds, or `pm.reload` it. The first four actions are one of each kind;
a reload or flood request runs on while the next action comes.

Reports calls attempted, succeeded and failed by exception class; hung calls (no answer within
their timeout + 5 s) and lost ones (no answer at all by the end); restart latency (from the
`crashed` or `unhealthy` event to `restarted`); the chaos actions done; and after `pm.shutdown()`:
plugin processes left (children of this process, or any pid that ever was a plugin), socket
directories left (`hplug-<pid>-*`, docs/protocol.md §1.3), host descriptors and RSS before and
after. Exits 1 when anything hung, was lost or was left. No time is asserted.

    python benchmarks/chaos.py [--seconds T] [--clients N] [--seed S]   # 60 s, 16 clients, seed 1
    python benchmarks/chaos.py --write        # also updates the "## Chaos" section of RESULTS.md
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import gc
import json
import logging
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
import report  # noqa: E402
from chaos_report import HEADING, goals, section  # noqa: E402
from leftovers import Processes, descriptors, leftovers, start_time  # noqa: E402
from measure import percentile, rss_bytes  # noqa: E402

RESULTS = peers.ROOT / "benchmarks" / "RESULTS.md"
LOAD_AT_START = os.getloadavg()

CALL_TIMEOUT = 2.0  # every client call's timeout, and the plugins' call_timeout
SLACK = 5.0  # a call with no answer within its timeout + SLACK is hung
RELOAD_BOUND = 30.0  # a reload with no outcome within this is hung
DRAIN = 10.0  # after the run, how long calls still in flight may take before they count as lost
SHUTDOWN_BOUND = 60.0
LEFTOVER_GRACE = 3.0  # how long processes and directories may take to go after shutdown returned
SUPERVISION = {
    "health": {"interval": 0.5, "timeout": 0.5, "failure_threshold": 2},
    # The circuit must not open during the run: chaos restarts a plugin far more often than 5 a minute.
    "restart": {"backoff_initial": 0.05, "backoff_max": 1.0, "max_restarts": 100_000, "window": 60},
}
KINDS = ("kill", "stop", "flood", "reload")
FLOODER = "grpcio"  # the one plugin with a stderr flood on request (py_llm's "flood N S")


# --------------------------------------------------------------------------- the plugins


@dataclass
class Target:
    """A plugin under chaos: its name, executable, whether it streams, and its right answers."""

    name: str
    path: Path
    what: str
    streams: bool
    answered: Callable[[str, str], bool]  # (sent text, answer text)


def echoed(sent: str, answer: str) -> bool:
    return answer == "Echo: " + sent


def counted(sent: str, answer: str) -> bool:
    # The stateful plugin answers "<messages seen>: <text>"; its count is not checked here.
    return re.fullmatch(r"\d+: " + re.escape(sent), answer) is not None


def launcher(path: Path, script: Path, env: dict[str, str]) -> Path:
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    path.write_text(f"#!/bin/sh\n{exports}exec {shlex.join([sys.executable, str(script)])}\n")
    path.chmod(0o755)
    return path


def targets() -> list[Target]:
    """The four plugins; the example plugins are built first when missing."""
    build = peers.build_plugins
    if not (build.GO_PLUGIN.exists() and build.RUST_PLUGIN.exists()):
        subprocess.run([sys.executable, str(peers.ROOT / "examples" / "build_plugins.py")], check=True)
    directory = peers.GENERATED / "chaos"
    directory.mkdir(parents=True, exist_ok=True)
    proto = build.generate_python_stubs(peers.GENERATED / "python")
    tests = peers.ROOT / "tests" / "plugins"
    return [
        Target("go", build.GO_PLUGIN, "Go echo LLM on go-plugin", True, echoed),
        Target("rust", build.RUST_PLUGIN, "Rust echo LLM on the Rust SDK", True, echoed),
        Target(
            "sdk",
            launcher(directory / "stateful", tests / "sdk" / "stateful.py", {}),
            "stateful LLM on hector_plugins.sdk",
            True,
            counted,
        ),
        Target(
            FLOODER,
            launcher(directory / "py-llm", tests / "py_llm.py", {"HECTOR_TEST_PROTO_DIR": str(proto)}),
            "test LLM on grpcio",
            True,
            echoed,
        ),
    ]


# --------------------------------------------------------------------------- what happened


@dataclass
class Calls:
    attempted: int = 0
    succeeded: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)
    hung: list[str] = field(default_factory=list)
    per_plugin: dict[str, collections.Counter[str]] = field(default_factory=dict)
    # Successful calls' latencies, compact: a list of ints would be a few MiB of the host's RSS figure.
    latencies_us: array.array[int] = field(default_factory=lambda: array.array("q"))
    in_flight: set[asyncio.Future[Any]] = field(default_factory=set)

    def count(self, plugin: str, outcome: str) -> None:
        self.per_plugin.setdefault(plugin, collections.Counter())[outcome] += 1


class WrongAnswer(Exception):
    """A call answered with something else than the plugin's answer to what was sent."""


class Restarts:
    """Lifecycle events (`pm.on("*")`): counts, and each restart's latency from the `crashed` or
    `unhealthy` event to the `restarted` event of the same plugin."""

    def __init__(self, plugins: Processes) -> None:
        self.plugins = plugins
        self.events: collections.Counter[str] = collections.Counter()
        self.down_since: dict[str, float] = {}
        self.latencies: list[float] = []
        self.timeline: list[str] = []  # every event, for the JSON report

    def __call__(self, event: Any) -> None:
        self.events[event.event] += 1
        self.timeline.append(f"{event.at:.3f} {event.plugin} {event.event} pid {event.pid}: {event.message}")
        self.plugins.note(event.pid)
        if event.event in ("crashed", "unhealthy"):
            self.down_since.setdefault(event.plugin, event.at)
        elif event.event == "restarted" and event.plugin in self.down_since:
            self.latencies.append(event.at - self.down_since.pop(event.plugin))
        elif event.event == "failed":
            self.down_since.pop(event.plugin, None)


# --------------------------------------------------------------------------- clients


async def bounded(call: Callable[[], Awaitable[Any]], bound: float, calls: Calls) -> tuple[bool, Any]:
    """Runs `call` as its own task: (True, result or exception) once it ends, (False, None) when it
    had no outcome within `bound` (it is then cancelled; if it never ends, it is lost)."""
    task = asyncio.ensure_future(call())
    calls.in_flight.add(task)
    task.add_done_callback(calls.in_flight.discard)
    done, _ = await asyncio.wait({task}, timeout=bound)
    if not done:
        task.cancel()
        return False, None
    return True, task.exception() or task.result()


def request(pm: Any, target: Target, stream: bool, text: str) -> Callable[[], Awaitable[str]]:
    from hector_plugins import Message

    llm = pm.llm(target.name)
    messages = [Message.user(text)]

    async def unary() -> str:
        return (await llm.generate(messages, timeout=CALL_TIMEOUT)).text

    async def streamed() -> str:
        chunks = [chunk async for chunk in llm.generate_stream(messages, timeout=CALL_TIMEOUT)]
        if not chunks or chunks[-1].type != "done":
            raise WrongAnswer(f"the stream did not end with a done chunk: {[c.type for c in chunks]}")
        return "".join(chunk.text for chunk in chunks)

    return streamed if stream else unary


async def client(pm: Any, number: int, seed: int, plugins: list[Target], deadline: float, calls: Calls) -> None:
    rng = random.Random(seed * 1000 + number)
    sent = 0
    while time.monotonic() < deadline:
        target = rng.choice(plugins)
        stream = target.streams and rng.random() < 0.3
        text = f"client {number} call {sent}"
        sent += 1
        calls.attempted += 1
        started = time.perf_counter_ns()
        ended, outcome = await bounded(request(pm, target, stream, text), CALL_TIMEOUT + SLACK, calls)
        if not ended:
            calls.hung.append(f"{target.name} {'stream' if stream else 'generate'} {text!r}")
            calls.count(target.name, "hung")
        elif isinstance(outcome, BaseException) or not target.answered(text, outcome):
            failure = outcome if isinstance(outcome, BaseException) else WrongAnswer(repr(outcome))
            calls.failed[type(failure).__name__] += 1
            calls.count(target.name, "failed")
            await asyncio.sleep(0.02)  # a plugin that fails at once must not be called in a tight loop
        else:
            calls.succeeded += 1
            calls.count(target.name, "succeeded")
            calls.latencies_us.append((time.perf_counter_ns() - started) // 1000)


# --------------------------------------------------------------------------- chaos


class Chaos:
    """The chaos task's doings: actions by kind, and the processes it froze and has not resumed."""

    def __init__(self, plugins: list[Target], seed: int) -> None:
        self.plugins = {target.name: target for target in plugins}
        self.seed = seed
        self.rng = random.Random(seed)
        self.done: collections.Counter[str] = collections.Counter()
        self.skipped: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.hung: list[str] = []
        self.frozen: set[int] = set()
        self.resumed = 0  # stopped processes that got their SIGCONT (the others were left frozen)
        self.resumes: list[asyncio.Future[None]] = []
        self.timeline: list[str] = []  # every action, for the JSON report

    def note(self, what: str) -> None:
        self.timeline.append(f"{time.time():.3f} {what}")

    def ready_pid(self, pm: Any, name: str) -> int | None:
        """The plugin's serving process, unless it is one we froze (its supervisor will replace it)."""
        pid = next((p.pid for p in pm.plugins if p.name == name and p.state == "ready"), None)
        return None if pid in self.frozen else pid

    async def wait_ready(self, pm: Any, name: str, until: float) -> None:
        while time.monotonic() < until:
            if self.ready_pid(pm, name) is not None:
                return
            await asyncio.sleep(0.05)

    async def run(self, pm: Any, deadline: float, calls: Calls) -> None:
        names = sorted(self.plugins)
        first = self.rng.sample(KINDS, len(KINDS))  # one of each kind first, so that a short run has them all
        actions = []
        while True:
            await asyncio.sleep(min(self.rng.uniform(0.5, 2.0), max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
            kind = first.pop(0) if first else self.rng.choice(KINDS)
            ready = [name for name in names if self.ready_pid(pm, name) is not None]
            name = FLOODER if kind == "flood" else self.rng.choice(ready or names)
            # A plugin restarting now (or frozen and not yet replaced) is waited for rather than skipped.
            await self.wait_ready(pm, name, until=deadline)
            # Not awaited: the next action may hit a plugin while it reloads. Each action is bounded.
            actions.append(asyncio.ensure_future(self.act(pm, kind, self.plugins[name], calls)))
        await asyncio.gather(*actions)

    async def act(self, pm: Any, kind: str, target: Target, calls: Calls) -> None:
        pid = self.ready_pid(pm, target.name)
        if pid is None:
            self.skipped[kind] += 1
            self.note(f"{kind} {target.name}: skipped, not ready")
            return
        self.note(f"{kind} {target.name} pid {pid}")
        if kind == "kill":
            os.kill(pid, signal.SIGKILL)
        elif kind == "stop":
            self.stop(pid)
        elif kind == "flood":
            size, seconds = self.rng.choice((2, 4, 8)) << 20, self.rng.uniform(2.0, 4.0)
            text = f"flood {size} {seconds:.1f}"
            if not await self.outcome(kind, target, request(pm, target, False, text), CALL_TIMEOUT + SLACK, calls):
                return
        elif kind == "reload":
            if not await self.outcome(kind, target, lambda: pm.reload(target.name), RELOAD_BOUND, calls):
                return
        self.done[kind] += 1

    def stop(self, pid: int) -> None:
        """SIGSTOP; half the time SIGCONT 0.2-2 s later (before or after the supervisor acts)."""
        started = start_time(pid)
        os.kill(pid, signal.SIGSTOP)
        self.frozen.add(pid)
        if started is not None and self.rng.random() < 0.5:
            self.resumes.append(asyncio.ensure_future(self.resume_later(pid, started, self.rng.uniform(0.2, 2.0))))

    async def resume_later(self, pid: int, started: int, delay: float) -> None:
        await asyncio.sleep(delay)
        self.frozen.discard(pid)
        if start_time(pid) == started:  # the same process, unless the supervisor replaced it already
            os.kill(pid, signal.SIGCONT)
            self.resumed += 1
            self.note(f"SIGCONT {pid}")

    async def outcome(
        self, kind: str, target: Target, action: Callable[[], Awaitable[Any]], bound: float, calls: Calls
    ) -> bool:
        """Runs a flood request or a reload; False (and noted) when it failed or hung."""
        ended, outcome = await bounded(action, bound, calls)
        if not ended:
            self.hung.append(f"{kind} {target.name}")
            self.note(f"{kind} {target.name} hung")
        elif isinstance(outcome, BaseException):
            self.errors[f"{kind}: {type(outcome).__name__}"] += 1
            self.note(f"{kind} {target.name} failed: {outcome!r}")
            return False
        return True


async def watch(pm: Any, plugins: Processes, stop: asyncio.Event, peak_rss: list[int]) -> None:
    """Notes every plugin pid (a process may come and go between two events) and the host's peak RSS."""
    while not stop.is_set():
        for info in pm.plugins:
            plugins.note(info.pid)
        peak_rss[0] = max(peak_rss[0], rss_bytes())
        try:
            await asyncio.wait_for(stop.wait(), 0.05)
        except asyncio.TimeoutError:
            pass


# --------------------------------------------------------------------------- the run


class PluginLogs(logging.Handler):
    """Counts the plugins' log records (the flood's lines among them) instead of printing them."""

    def __init__(self) -> None:
        super().__init__()
        self.records: collections.Counter[str] = collections.Counter()
        self.others: list[str] = []  # the first records that are not flood lines, for the JSON report

    def emit(self, record: logging.LogRecord) -> None:
        self.records[record.levelname] += 1
        message = record.getMessage()
        if not message.startswith("yyy") and len(self.others) < 200:
            self.others.append(f"{record.created:.3f} {record.levelname} {record.name}: {message[:300]}")


async def warm_up(plugin: Path) -> None:
    """One load, call and shutdown first: the runtime's own threads and descriptors, which stay for
    the life of the process, are then in the 'before' figures."""
    from hector_plugins import Message, PluginManager

    async with PluginManager() as pm:
        await pm.load(plugin, name="warm-up")
        await pm.llm("warm-up").generate([Message.user("hi")])


async def load(pm: Any, plugins: list[Target], processes: Processes) -> None:
    for target in plugins:
        info = await pm.load(
            target.path, name=target.name, call_timeout=CALL_TIMEOUT, start_timeout=20, supervision=SUPERVISION
        )
        processes.note(info.pid)


async def call_under_chaos(
    pm: Any, plugins: list[Target], chaos: Chaos, calls: Calls, clients: int, seconds: float
) -> int:
    """The clients and the chaos task until the deadline, then the drain: returns the lost calls."""
    deadline = time.monotonic() + seconds
    seed = chaos.seed
    workers = [asyncio.ensure_future(client(pm, i, seed, plugins, deadline, calls)) for i in range(clients)]
    await asyncio.gather(chaos.run(pm, deadline, calls), *workers)
    # Calls cancelled after their bound that still have not ended are lost.
    if calls.in_flight:
        await asyncio.wait(set(calls.in_flight), timeout=DRAIN)
    lost = len(calls.in_flight)
    for task in [*calls.in_flight, *chaos.resumes]:
        task.cancel()
    return lost


async def shut_down(pm: Any, processes: Processes) -> dict[str, Any]:
    """`pm.shutdown()`, bounded, then what it left: at once, and after a short grace."""
    started = time.monotonic()
    hung = False
    try:
        await asyncio.wait_for(pm.shutdown(), SHUTDOWN_BOUND)
    except asyncio.TimeoutError:
        hung = True
    seconds = time.monotonic() - started
    at_once = left = leftovers(processes)
    grace_until = time.monotonic() + LEFTOVER_GRACE
    while any(left.values()) and time.monotonic() < grace_until:
        await asyncio.sleep(0.1)
        left = leftovers(processes)
    return {
        "shutdown_hung": hung,
        "shutdown_seconds": seconds,
        "left_at_once": at_once,
        "left": left,
        "left_count": sum(len(v) for v in left.values()),
    }


def ms_percentiles(prefix: str, microseconds: Iterable[int]) -> dict[str, float | None]:
    ordered = sorted(microseconds)
    return {f"{prefix}_p{round(q * 100)}_ms": percentile(ordered, q) / 1000 if ordered else None for q in (0.5, 0.99)}


async def measure(seconds: float, clients: int, seed: int) -> dict[str, Any]:
    from hector_plugins import PluginManager

    plugins = targets()
    logs = PluginLogs()
    plugin_logger = logging.getLogger("hector_plugins.plugin")
    plugin_logger.addHandler(logs)
    plugin_logger.propagate = False
    await warm_up(peers.build_plugins.RUST_PLUGIN)
    gc.collect()
    fds_before, rss_before = descriptors(), rss_bytes()

    processes, calls, chaos = Processes(), Calls(), Chaos(plugins, seed)
    restarts = Restarts(processes)
    peak_rss = [rss_before]
    pm = PluginManager()
    pm.on("*", restarts)
    stop_watching = asyncio.Event()
    watcher = asyncio.ensure_future(watch(pm, processes, stop_watching, peak_rss))
    try:
        await load(pm, plugins, processes)
        print(f"chaos: {seconds:g} s, {clients} clients, seed {seed}", file=sys.stderr, flush=True)
        lost = await call_under_chaos(pm, plugins, chaos, calls, clients, seconds)
        per_plugin = {
            p.name: {"calls": p.calls, "failures": p.failures, "restarts": p.restarts, "state": p.state}
            for p in pm.plugins
        }
        not_restarted = sorted(restarts.down_since)
    finally:
        after = await shut_down(pm, processes)
        stop_watching.set()
        await watcher
    del pm
    gc.collect()
    fds_after, rss_after = descriptors(), rss_bytes()

    return {
        "seconds": seconds,
        "clients": clients,
        "seed": seed,
        "call_timeout": CALL_TIMEOUT,
        "slack": SLACK,
        "drain": DRAIN,
        "plugins": {t.name: t.what for t in plugins},
        "attempted": calls.attempted,
        "succeeded": calls.succeeded,
        "failed": dict(calls.failed.most_common()),
        "hung": len(calls.hung),
        "hung_calls": calls.hung[:20],
        "lost": lost,
        **ms_percentiles("call", calls.latencies_us),
        "per_plugin_calls": {name: dict(counter) for name, counter in sorted(calls.per_plugin.items())},
        "per_plugin": per_plugin,
        "restarts": len(restarts.latencies),
        **ms_percentiles("restart", [int(s * 1e6) for s in restarts.latencies]),
        "not_restarted_at_end": not_restarted,
        "events": dict(sorted(restarts.events.items())),
        "chaos_done": {kind: chaos.done[kind] for kind in KINDS},
        "chaos_skipped": dict(chaos.skipped),
        "chaos_errors": dict(chaos.errors),
        "chaos_hung": chaos.hung,
        "stopped_resumed": chaos.resumed,
        "plugin_log_records": dict(logs.records),
        "plugin_log_others": logs.others,
        "plugin_processes_seen": len(processes.seen),
        # By time; what came at the same instant stays in the order it came.
        "timeline": sorted(chaos.timeline + restarts.timeline, key=lambda line: float(line.split()[0])),
        **after,
        "fds_before": len(fds_before),
        "fds_after": len(fds_after),
        "fds_new": sorted({target for fd, target in fds_after.items() if fds_before.get(fd) != target}),
        "rss_before_mib": rss_before / 2**20,
        "rss_peak_mib": peak_rss[0] / 2**20,
        "rss_after_mib": rss_after / 2**20,
    }


def broken(m: dict[str, Any]) -> list[str]:
    """What makes the run fail: anything hung, lost or left."""
    problems = []
    if m["hung"]:
        problems.append(f"{m['hung']} calls hung: {m['hung_calls']}")
    if m["chaos_hung"]:
        problems.append(f"chaos actions hung: {m['chaos_hung']}")
    if m["lost"]:
        problems.append(f"{m['lost']} calls lost")
    if m["shutdown_hung"]:
        problems.append(f"pm.shutdown() did not return within {SHUTDOWN_BOUND:g} s")
    if m["left_count"]:
        problems.append(f"left after shutdown: {m['left']}")
    return problems


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients call (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client tasks (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="the chaos schedule's seed (default 1)")
    parser.add_argument("--write", action="store_true", help="update the Chaos section of RESULTS.md")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the RESULTS.md --write updates")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.seconds <= 0:
        parser.error(f"--seconds must be above 0, not {args.seconds:g}")
    if args.clients < 1:
        parser.error(f"--clients must be at least 1, not {args.clients}")
    return args


def main() -> int:
    args = parse_args()
    m = asyncio.run(measure(args.seconds, args.clients, args.seed))
    if args.json:
        args.json.write_text(json.dumps(m, indent=2))
    args.no_write = not args.write
    report.update_alone(args, HEADING, section(m), goals(m), LOAD_AT_START)
    problems = broken(m)
    for problem in problems:
        print(f"chaos: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
