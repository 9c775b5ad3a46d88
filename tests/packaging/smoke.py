"""Smoke test of an installed wheel: run by .ci/run in a fresh venv outside the clone, with no cargo
or go on PATH. Not a pytest file (pytest does not collect it): the suite tests the editable install.

    python tests/packaging/smoke.py PLUGINS_DIR    # PLUGINS_DIR: the prebuilt examples/plugins/

It copies the prebuilt example plugins and their manifests into a temporary directory, calls both
echo LLMs (unary, stream) and the Go kv plugin raw, and runs `hector-plugins validate` on a small
hector.yaml there. Exit status 0 when all of that works; any failure raises with what went wrong.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PLUGINS = ("echo-llm-rust", "echo-llm-go", "kv-go")


def check_environment() -> None:
    """The point of the smoke test: the wheel alone, no toolchain, not the clone's sources."""
    for tool in ("cargo", "rustc", "go"):
        found = shutil.which(tool)
        if found:
            raise SystemExit(f"smoke test: {tool} is on PATH ({found}); run it with a PATH without toolchains")
    import hector_plugins
    from hector_plugins import _core

    here = Path(__file__).resolve().parents[2]
    for module in (hector_plugins, _core):
        if here in Path(str(module.__file__)).resolve().parents:
            raise SystemExit(f"smoke test: {module.__name__} comes from the clone ({module.__file__}), not the wheel")
    if not str(_core.__file__).endswith(".abi3.so"):
        raise SystemExit(f"smoke test: the extension is not the stable-ABI one: {_core.__file__}")
    print(f"hector_plugins from {hector_plugins.__file__}, extension {Path(str(_core.__file__)).name}")


def copy_plugins(source: Path, into: Path) -> None:
    into.mkdir()
    for name in PLUGINS:
        if not (source / name).is_file():
            raise SystemExit(f"smoke test: {source / name} is missing: run `python examples/build_plugins.py` first")
        shutil.copy2(source / name, into / name)
        manifest = source / f"{name}.plugin.yaml"
        if manifest.is_file():
            shutil.copy2(manifest, into / manifest.name)


def string_value(text: str) -> bytes:
    """google.protobuf.StringValue by hand: the wheel has no dependencies, protobuf is not installed."""
    data = text.encode()
    assert len(data) < 128, "one-byte length prefix only"
    return bytes([0x0A, len(data)]) + data


async def call_plugins(plugins: Path) -> None:
    from hector_plugins import Message, PluginManager

    async with PluginManager() as pm:
        for name in ("echo-llm-rust", "echo-llm-go"):
            await pm.load(plugins / name, name=name)
            llm = pm.llm(name)
            reply = await llm.generate([Message.user("hi")])
            assert reply.text == "Echo: hi", f"{name} answered {reply.text!r}"
            stream = llm.generate_stream([Message.user("a b c")])
            chunks = [chunk.text async for chunk in stream if chunk.type == "text"]
            assert "".join(chunks) == "Echo: a b c", f"{name} streamed {chunks!r}"
            print(f"{name}: generate and generate_stream ok")
        await pm.load(
            plugins / "kv-go",
            name="kv",
            type="grpc",
            magic_cookie_key="KV_PLUGIN",
            magic_cookie_value="kv-example-cookie",
            protocol_versions=[2, 3],
        )
        raw = pm.raw("kv")
        await raw.call("/kv.KV/Put", bytearray(string_value("color=blue")))
        got = await raw.call("/kv.KV/Get", memoryview(string_value("color")))
        assert got == string_value("blue"), got
        print("kv-go: raw calls ok")


def validate(directory: Path) -> None:
    (directory / "hector.yaml").write_text(
        "plugins:\n"
        "  llm_providers:\n"
        "    echo-go: {type: grpc, path: ./plugins/echo-llm-go, config: {greeting: hi}}\n"
        "    echo-rust: {type: grpc, path: ./plugins/echo-llm-rust}\n"
    )
    cli = shutil.which("hector-plugins")
    if cli is None:
        raise SystemExit("smoke test: the hector-plugins command is not on PATH: the wheel's entry point is missing")
    done = subprocess.run(
        [cli, "-c", "hector.yaml", "validate", "--json"], cwd=directory, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise SystemExit(f"smoke test: hector-plugins validate failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    report = json.loads(done.stdout)
    names = sorted(row["name"] for row in report["plugins"] if row["ok"])
    assert report["ok"] and names == ["echo-go", "echo-rust"], report
    print(f"hector-plugins validate: ok ({', '.join(names)})")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    check_environment()
    with tempfile.TemporaryDirectory(prefix="hector-smoke-") as tmp:
        directory = Path(tmp)
        copy_plugins(Path(sys.argv[1]).resolve(), directory / "plugins")
        asyncio.run(call_plugins(directory / "plugins"))
        validate(directory)
    print("smoke test passed")


if __name__ == "__main__":
    main()
