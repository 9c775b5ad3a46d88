"""Turns measured figures into benchmarks/RESULTS.md and the latency chart. No measuring here."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from measure import percentile

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Goal:
    text: str
    achieved: float | None  # None: could not be measured
    target: float
    higher_is_better: bool
    detail: str
    unit: str = "×"

    @property
    def shown(self) -> str:
        return "–" if self.achieved is None else f"{self.achieved:.2f}{self.unit}"

    @property
    def verdict(self) -> str:
        if self.achieved is None:
            return "not measured"
        met = self.achieved >= self.target if self.higher_is_better else self.achieved <= self.target
        return "MET" if met else "NOT MET"


def fmt(value: float | None, spec: str = ",.0f") -> str:
    return "–" if value is None else format(value, spec)


def ratio(better_when_higher: bool, ours: float | None, theirs: float | None) -> str:
    """How many times better we are (above 1× = better)."""
    if not ours or not theirs:
        return "–"
    return f"{(ours / theirs if better_when_higher else theirs / ours):.2f}×"


def divide(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing (or zero)."""
    return a / b if a and b else None


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    align = "|---|" + "---:|" * (len(header) - 1)
    return [f"| {' | '.join(header)} |", align, *(f"| {' | '.join(row)} |" for row in rows)]


GOALS = "## Goals"


def goal_row(goal: Goal) -> str:
    """The goal's row of the Goals table."""
    return f"| {goal.text} | {goal.shown} | **{goal.verdict}** | {goal.detail} |"


def goals_table(measured: list[Goal]) -> list[str]:
    """RESULTS.md's Goals section."""
    return [
        "",
        GOALS,
        "",
        "| goal | achieved | verdict | figures |",
        "|---|---:|---|---|",
        *(goal_row(goal) for goal in measured),
    ]


# --------------------------------------------------------------------------- one section of RESULTS.md


def insert_before_goals(body: list[str], lines: list[str]) -> None:
    """Puts a workload's section into a full run's report, before its goals."""
    at = body.index(GOALS) if GOALS in body else len(body)
    while at > 0 and body[at - 1] == "":
        at -= 1
    body[at:at] = lines


def replace_section(results: Path, heading: str, lines: list[str]) -> None:
    """Puts `lines` in place of the section `heading` of RESULTS.md (before the goals when new):
    how a workload run on its own updates its part of the last full run's report."""
    text = results.read_text().rstrip("\n").split("\n")
    body = lines[1:]  # without the leading blank line
    if heading in text:
        start = text.index(heading)
        end = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
        text[start:end] = [*body, ""] if end < len(text) else body
    else:
        at = text.index(GOALS) if GOALS in text else len(text)
        text[at:at] = [*body, ""]
    results.write_text("\n".join(text) + "\n")


def add_output_arguments(parser: argparse.ArgumentParser, results: Path) -> None:
    """`--output` and `--no-write`, which every workload run on its own takes."""
    parser.add_argument("--output", type=Path, default=results, help="the RESULTS.md whose section to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")


def update_alone(
    args: argparse.Namespace, heading: str, section: list[str], goals: list[Goal], load: Sequence[float]
) -> None:
    """What a workload run on its own (`python benchmarks/<workload>.py`) writes: its section,
    stamped with the command, the time and the load average at start, and its goals' rows, into
    `args.output` (a new file holds just them); with `args.no_write`, only printed."""
    import sys

    command = " ".join(["python", "benchmarks/" + Path(sys.argv[0]).name, *sys.argv[1:]])
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    average = " ".join(f"{x:.2f}" for x in load)
    lines = [*section, "", f"Measured on its own by `{command}`, {stamp}, load average at start {average}."]
    print("\n".join(lines))
    for goal in goals:
        print(goal_row(goal))
    if args.no_write:
        return
    if not args.output.exists():
        args.output.write_text("\n".join([*lines[1:], *goals_table(goals)]) + "\n")
        return
    replace_section(args.output, heading, lines)
    for goal in goals:
        replace_goal(args.output, goal)


def replace_goal(results: Path, goal: Goal) -> None:
    """Puts `goal`'s row in place of its row of the Goals table (at its end when new); a report
    without a Goals table is left as it is."""
    text = results.read_text().rstrip("\n").split("\n")
    if GOALS not in text:
        return
    first = next((i for i in range(text.index(GOALS) + 1, len(text)) if text[i].startswith("|")), None)
    if first is None:
        return
    end = first
    while end < len(text) and text[end].startswith("|"):
        end += 1
    same = [i for i in range(first, end) if text[i].startswith(f"| {goal.text} |")]
    if same:
        text[same[0]] = goal_row(goal)
    else:
        text.insert(end, goal_row(goal))
    results.write_text("\n".join(text) + "\n")


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def elf_section_names(path: Path) -> set[str]:
    """Section names of a little-endian ELF64 file (empty set if it is something else)."""
    data = path.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return set()
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<I20xQQ", data, shoff + i * shentsize) for i in range(shnum)]
    _, strtab, _ = headers[shstrndx]
    return {data[strtab + name : data.index(b"\0", strtab + name)].decode() for name, _, _ in headers}


def extension_is_release() -> bool:
    """Debug builds of hector_plugins._core carry DWARF sections; release builds do not."""
    from hector_plugins import _core

    return ".debug_info" not in elf_section_names(Path(_core.__file__))


def machine(load_at_start: tuple[float, float, float], go_version: str) -> list[tuple[str, str]]:
    import grpc
    import hector_plugins

    build = "release build" if extension_is_release() else "DEBUG build (figures not representative)"
    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", cpu_model()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("hector_plugins", f"{hector_plugins.__version__}, {build}"),
        ("grpcio", grpc.__version__),
        ("Go host", go_version),
        ("tokio workers", os.environ.get("HECTOR_PLUGINS_WORKER_THREADS", "default (2)")),
        ("load average at start (1/5/15 min)", " ".join(f"{x:.2f}" for x in load_at_start)),
    ]


# --------------------------------------------------------------------------- chart


def latency_chart(path: Path, panels: dict[str, dict[str, list[int]]]) -> None:
    """One panel per plugin: the distribution (CDF) of sequential call latencies per client."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for axis, (title, series) in zip(axes[0], panels.items()):
        for label, latencies in series.items():
            if not latencies:
                continue
            values = sorted(latencies)
            # Up to p99.9: the last few outliers would squash the rest of the curve.
            cut = values[: max(1, int(len(values) * 0.999))]
            ys = [(i + 1) / len(values) for i in range(len(cut))]
            axis.plot([v / 1000 for v in cut], ys, label=f"{label} (p50 {percentile(values, 0.5) / 1000:.0f} µs)")
        axis.set_xscale("log")
        axis.set_xlabel("latency of one sequential call (µs, log scale)")
        axis.set_ylabel("fraction of calls")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# Sections only a workload run on its own writes (not run.py), with the prefix of their goal rows:
# a full run keeps them from the report it replaces.
STANDALONE_ONLY = {"## Chaos": "| chaos:"}


def standalone_parts(path: Path) -> list[tuple[str, list[str], list[str]]]:
    """Each standalone-only section of the report at `path`: heading, lines, goal rows."""
    if not path.exists():
        return []
    text = path.read_text().rstrip("\n").split("\n")
    parts = []
    for heading, row_prefix in STANDALONE_ONLY.items():
        if heading not in text:
            continue
        start = text.index(heading)
        end = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
        section = text[start:end]
        while section and section[-1] == "":
            section.pop()
        parts.append((heading, ["", *section], [line for line in text if line.startswith(row_prefix)]))
    return parts


def write(path: Path, lines: list[str], now: datetime.datetime | None = None) -> None:
    kept = standalone_parts(path)
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        "# Benchmark results",
        "",
        "Generated by `python benchmarks/run.py`; do not edit by hand. See benchmarks/README.md for what each",
        "figure means.",
        "",
        f"- date: {stamp}",
    ]
    path.write_text("\n".join(header + lines) + "\n")
    for heading, section, rows in kept:
        replace_section(path, heading, section)
        text = path.read_text().rstrip("\n").split("\n")
        if GOALS in text:
            end = next(i for i in range(text.index(GOALS) + 1, len(text)) if text[i].startswith("|"))
            while end < len(text) and text[end].startswith("|"):
                end += 1
            text[end:end] = rows
            path.write_text("\n".join(text) + "\n")
