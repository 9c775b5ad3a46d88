"""Shared fixtures: real example plugins (built once per session), a Python grpcio test
plugin, and helpers that check no process or socket is left behind."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import build_plugins  # noqa: E402

PY_PLUGIN = Path(__file__).resolve().parent / "plugins" / "py_llm.py"
GENERATED = Path(__file__).resolve().parent / "_generated"
IN_CI = os.environ.get("CI") == "true"

# The Go kv example is a generic go-plugin plugin with its own cookie (examples/go/kv).
KV_COOKIE = {"magic_cookie_key": "KV_PLUGIN", "magic_cookie_value": "kv-example-cookie"}
KV = {"type": "grpc", **KV_COOKIE}


@pytest.fixture(scope="session")
def rust_plugin() -> Path:
    return build_plugins.build_rust(release=True)


@pytest.fixture(scope="session")
def go_plugins() -> list[Path]:
    # In CI Go must be there: a missing toolchain fails the run instead of skipping tests.
    return build_plugins.build_go()


@pytest.fixture(scope="session")
def go_plugin(go_plugins: list[Path]) -> Path:
    return build_plugins.GO_PLUGIN


@pytest.fixture(scope="session")
def kv_plugin(go_plugins: list[Path]) -> Path:
    return build_plugins.GO_KV_PLUGIN


@pytest.fixture(scope="session", params=["go", "rust"])
def echo_plugin(request: pytest.FixtureRequest) -> Path:
    """Each echo LLM example, Go (hashicorp/go-plugin) and Rust (our SDK)."""
    return request.getfixturevalue(f"{request.param}_plugin")


@pytest.fixture(scope="session")
def proto_dir() -> Path:
    """Python stubs of proto/ generated with grpcio-tools (for the Python test plugin)."""
    return build_plugins.generate_python_stubs(GENERATED)


@pytest.fixture
def py_plugin(tmp_path: Path, proto_dir: Path) -> Callable[..., Path]:
    """Makes an executable that runs the Python test plugin with the given HECTOR_TEST_* settings."""

    counter = iter(range(1000))

    def make(**settings: str) -> Path:
        exports = "".join(
            f"export HECTOR_TEST_{key.upper()}={_sh_quote(str(value))}\n" for key, value in settings.items()
        )
        script = tmp_path / f"py-llm-{next(counter)}"
        script.write_text(
            "#!/bin/sh\n"
            f"export HECTOR_TEST_PROTO_DIR={_sh_quote(str(proto_dir))}\n"
            f"{exports}"
            f"exec {_sh_quote(sys.executable)} {_sh_quote(str(PY_PLUGIN))}\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return script

    return make


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def process_gone(pid: int, within: float = 3.0, *, allow_zombie: bool = False) -> bool:
    """True once `pid` no longer exists (not even as a zombie, unless `allow_zombie`: a plugin
    whose host was SIGKILLed is reparented to init, and reaping it is then init's job)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if allow_zombie and state == "Z":
            return True
        time.sleep(0.02)
    return False


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def socket_path(address: str) -> Path | None:
    return Path(address[len("unix:") :]) if address.startswith("unix:") else None
