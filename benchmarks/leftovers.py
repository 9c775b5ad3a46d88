"""What a host leaves behind on Linux, read from /proc: its child processes, processes that were
plugins (by pid and start time, so a reused pid is not mistaken for one), its plugin socket
directories (docs/protocol.md §1.3) and its open descriptors. The chaos harness counts these after
`pm.shutdown()`; anything still there is an orphan or a leak."""

from __future__ import annotations

import os
from pathlib import Path


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks after boot): with the pid, names one process even if
    the pid is reused. None once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def describe(pid: int) -> str | None:
    """'<pid> <command> (<state>)', or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return f"{pid} {command} ({fields[0]})"


def children() -> list[int]:
    """Processes whose parent is this one (the keepers, while plugins run; docs/protocol.md §1.4)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1] == me:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def socket_dirs() -> list[Path]:
    """This host's plugin socket directories (docs/protocol.md §1.3)."""
    return sorted(Path(os.environ.get("TMPDIR") or "/tmp").glob(f"hplug-{os.getpid()}-*"))


def descriptors() -> dict[int, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass  # the listing's own descriptor
    return found


class Processes:
    """Every plugin process seen during the run (from events and `pm.plugins`), by pid and start time."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}

    def note(self, pid: int) -> None:
        if pid and pid not in self.seen:
            started = start_time(pid)
            if started is not None:
                self.seen[pid] = started

    def alive(self) -> list[str]:
        """Those still in /proc (zombies included) as the same process."""
        return [text for pid, started in self.seen.items() if start_time(pid) == started and (text := describe(pid))]


def leftovers(plugins: Processes) -> dict[str, list[str]]:
    return {
        "children": [text for pid in children() if (text := describe(pid))],
        "plugins": plugins.alive(),
        "socket_dirs": [f"{d} ({len(list(d.iterdir())) if d.is_dir() else 0} entries)" for d in socket_dirs()],
    }
