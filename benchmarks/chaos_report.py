"""The chaos harness's section of RESULTS.md and its goals, from the figures `chaos.measure`
returns (benchmarks/chaos.py)."""

from __future__ import annotations

from typing import Any

from report import Goal, table

HEADING = "## Chaos"


def counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in counter.items()) or "none"


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def section(m: dict[str, Any]) -> list[str]:
    plugins = ", ".join(f"`{name}` ({what})" for name, what in m["plugins"].items())
    left_at_once = sum(len(v) for v in m["left_at_once"].values())
    rows = [
        ["calls attempted", f"{m['attempted']:,}"],
        ["succeeded", f"{m['succeeded']:,}"],
        ["failed, by exception", f"{sum(m['failed'].values()):,} ({counts(m['failed'])})"],
        ["hung (no answer within timeout + 5 s)", str(m["hung"] + len(m["chaos_hung"]))],
        ["lost (no answer at all)", str(m["lost"])],
        ["successful call p50 / p99", f"{ms(m['call_p50_ms'])} / {ms(m['call_p99_ms'])}"],
        ["chaos actions done", counts(m["chaos_done"])],
        ["chaos actions skipped (plugin restarting) or failed", counts({**m["chaos_skipped"], **m["chaos_errors"]})],
        ["stopped plugins resumed by SIGCONT (the others left frozen)", str(m["stopped_resumed"])],
        [
            "restart latency p50 / p99 (crashed or unhealthy → restarted)",
            f"{ms(m['restart_p50_ms'])} / {ms(m['restart_p99_ms'])} over {m['restarts']} restarts",
        ],
        ["restarts still under way at the shutdown", ", ".join(m["not_restarted_at_end"]) or "none"],
        ["lifecycle events", counts(m["events"])],
        ["plugin log records received (the floods' lines among them)", counts(m["plugin_log_records"])],
        ["plugin processes during the run", str(m["plugin_processes_seen"])],
        ["`pm.shutdown()`", f"{m['shutdown_seconds']:.1f} s" + (" (HUNG)" if m["shutdown_hung"] else "")],
        ["processes and socket directories left", f"{m['left_count']} ({left_at_once} right when shutdown returned)"],
        ["host descriptors before / after", f"{m['fds_before']} / {m['fds_after']}"],
        [
            "host RSS before / peak / after",
            f"{m['rss_before_mib']:.1f} / {m['rss_peak_mib']:.1f} / {m['rss_after_mib']:.1f} MiB",
        ],
    ]
    per_plugin = []
    for name, info in sorted(m["per_plugin"].items()):
        mine = m["per_plugin_calls"].get(name, {})
        per_plugin.append(
            [
                f"`{name}`",
                *(f"{mine.get(outcome, 0):,}" for outcome in ("succeeded", "failed", "hung")),
                f"{info['calls']:,}",
                f"{info['failures']:,}",
                str(info["restarts"]),
            ]
        )
    return [
        "",
        HEADING,
        "",
        f"{m['clients']} client tasks call random plugins for {m['seconds']:g} s (`generate`, and `generate_stream` "
        f"for 30% of calls), each call with a {m['call_timeout']:g} s timeout, while a chaos task (seed {m['seed']}) "
        "every 0.5–2 s SIGKILLs a plugin, SIGSTOPs it (SIGCONT after 0.2–2 s, or never), makes the grpcio plugin "
        "flood stderr with 2–8 MiB over 2–4 s, or hot-reloads it (`pm.reload`, which may still run when the next "
        "action comes). One PluginManager, plugins "
        f"{plugins}; health every 0.5 s (timeout 0.5 s, 2 failures), restart backoff 0.05–1 s. A restart's latency "
        "includes its backoff, the new process's start and `Initialize`. Descriptors and RSS: after a warm-up load, "
        "and after `pm.shutdown()`.",
        "",
        *table(["figure", "value"], rows),
        "",
        "Per plugin, as the clients saw it and as `pm.plugins` counted it before the shutdown. The host's calls "
        "include the flood requests; its failures leave out streams cut by a crash after their first chunk.",
        "",
        *table(
            ["plugin", "succeeded", "failed", "hung", "host: calls", "host: failures", "host: restarts"], per_plugin
        ),
    ]


class Count(Goal):
    """A goal counted in whole things."""

    @property
    def shown(self) -> str:
        return "–" if self.achieved is None else f"{self.achieved:.0f}"


def goals(m: dict[str, Any]) -> list[Goal]:
    return [
        Count(
            "chaos: no call hung",
            m["hung"] + len(m["chaos_hung"]),
            0,
            False,
            f"of {m['attempted']:,} calls; none without an answer within its timeout + {m['slack']:g} s",
        ),
        Count(
            "chaos: no call lost", m["lost"], 0, False, f"calls with no answer at all after a {m['drain']:g} s drain"
        ),
        Count(
            "chaos: nothing left after shutdown",
            m["left_count"],
            0,
            False,
            f"plugin processes and socket directories, of {m['plugin_processes_seen']} processes",
        ),
    ]
