"""What the security suite shares: the hostile plugin (tests/plugins/hostile/hostile.py) behind a
wrapper script, the paths a sandboxed Python plugin must read, and a well-behaved neighbour that
must keep answering while the hostile one is refused or contained."""

from __future__ import annotations

import sys
from pathlib import Path

from hector_plugins import Message, PluginManager
from helpers import ROOT, write_executable

HOSTILE_SCRIPT = ROOT / "tests" / "plugins" / "hostile" / "hostile.py"

# A Python plugin reads its interpreter, its standard library, the installed package and its own
# script: a sandbox must let it (docs/security.md, "Sandbox").
PYTHON_READ_ONLY = sorted(
    {
        sys.prefix,
        sys.base_prefix,
        str(ROOT / "python"),
        str(HOSTILE_SCRIPT.parent),
        str(Path(sys.executable).resolve().parent),
    }
)


def hostile_plugin(directory: Path) -> Path:
    return write_executable(directory / "hostile", f'#!/bin/sh\nexec "{sys.executable}" "{HOSTILE_SCRIPT}"\n')


async def order(pm: PluginManager, name: str, text: str) -> str:
    return (await pm.llm(name).generate([Message.user(text)])).text


async def neighbour_answers(pm: PluginManager, name: str = "neighbour") -> None:
    """The well-behaved plugin still serves (the host kept going)."""
    assert (await pm.llm(name).generate([Message.user("still here?")])).text.endswith("still here?")
