"""`hector-plugins new`: every language x type skeleton is generated, built with its own
toolchain and passes its own tests (run as a user would, `python -m pytest tests`): the
conformance kit of its type and a call of its sample; bad requests fail with a clear message and
a non-zero exit status."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hector_plugins import _scaffold
from helpers import ROOT, cli, skip_unless_ci

TEMPLATES = ROOT / "python" / "hector_plugins" / "_templates"

LANGUAGES = ["python", "go", "rust"]
TYPES = ["llm", "embedder", "database", "tools", "reasoning"]
# The files of a Python skeleton: one plugin.py on hector_plugins.sdk, no generated code.
PYTHON_FILES = {".gitignore", "README.md", "plugin.py", "requirements.txt", "tests/test_plugin.py"}


def need(tool: str, why: str) -> None:
    if shutil.which(tool) is None:
        skip_unless_ci(f"{tool} is not installed: {why}")


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed in {cwd}:\n{done.stdout}\n{done.stderr}"
    return time.monotonic() - started


def build(lang: str, directory: Path, name: str, env: dict[str, str]) -> float:
    """Builds a skeleton the way its README says; returns the seconds it took."""
    if lang == "python":
        # Nothing to compile; its README's `pip install -r requirements.txt` would replace the
        # hector-plugins under test with a published one, and this Python has it already.
        return 0.0
    if lang == "go":
        need("go", "the Go skeletons are built with `go build`")
        return run(["go", "build", "-o", name, "."], directory, env)
    need("cargo", "the Rust skeletons are built with `cargo build`")
    # The repository's lock file and target directory (same versions, same release profile): most
    # crates the repository compiled are reused; the few whose features differ (tokio, hyper, tonic,
    # ...) are compiled once more for the first skeleton and reused by the next ones.
    shutil.copy(ROOT / "Cargo.lock", directory / "Cargo.lock")
    # The skeleton's test copies target/release/<name> next to the manifest itself.
    return run(["cargo", "build", "--release", "--quiet"], directory, env)


# Builds with go and cargo, then the conformance kit on each: minutes on a small machine, so out
# of the quick loop.
@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", TYPES)
def test_skeleton_builds_and_passes_its_tests(tmp_path: Path, kind: str, lang: str) -> None:
    name = f"{kind}-{lang}"
    directory = tmp_path / name
    created = cli("new", "--type", kind, "--lang", lang, "--name", name, "--dir", str(directory))
    assert created.returncode == 0, created.stderr
    assert f"plugin '{name}'" in created.stdout and _scaffold.build_command(lang, name) in created.stdout

    manifest = (directory / f"{name}.plugin.yaml").read_text()
    assert f"name: {name}\n" in manifest and f"type: {_scaffold.plugin_type(kind).key}\n" in manifest
    assert "version: 0.1.0" in manifest and 'hector_version: ">=0.1"' in manifest
    assert _scaffold.build_command(lang, name) in (directory / "README.md").read_text()

    env = {**os.environ, "CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")}
    seconds = build(lang, directory, name, env)
    print(f"{name}: built in {seconds:.1f}s")

    smoke = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert smoke.returncode == 0, f"the skeleton's tests failed:\n{smoke.stdout}\n{smoke.stderr}"
    # The kit's rules (the 10 every type shares, at least 2 of its own) and the sample's call.
    passed = re.search(r"\b(\d+) passed\b", smoke.stdout)
    assert passed and int(passed.group(1)) >= 13, smoke.stdout
    # The database samples declare no metadata filter: the kit skips that one rule, and no other.
    skipped = re.search(r"\b(\d+) skipped\b", smoke.stdout)
    assert int(skipped.group(1) if skipped else 0) == (1 if kind == "database" else 0), smoke.stdout
    assert os.access(directory / name, os.X_OK), "the executable sits next to its manifest"

    # Run by hand (no magic cookie), it refuses: exit status 1, a message on stderr, no handshake.
    no_cookie = {k: v for k, v in env.items() if k != "HECTOR_PLUGIN"}
    by_hand = subprocess.run([str(directory / name)], env=no_cookie, capture_output=True, text=True, timeout=60)
    assert (by_hand.returncode, by_hand.stdout) == (1, "")
    assert "This binary is a plugin" in by_hand.stderr


@pytest.mark.parametrize("kind", TYPES)
def test_a_python_skeleton_is_one_plugin_py_on_the_sdk(tmp_path: Path, kind: str) -> None:
    skeleton = _scaffold.create(kind, "python", "py-plugin", tmp_path / "py-plugin")
    directory = skeleton.directory
    assert {str(path.relative_to(directory)) for path in skeleton.files} == PYTHON_FILES | {
        "py-plugin",
        "py-plugin.plugin.yaml",
    }
    source = (directory / "plugin.py").read_text()
    assert "from hector_plugins.sdk import serve" in source and "import grpc" not in source
    assert f'type="{_scaffold.plugin_type(kind).key}", name=NAME)' in source
    requirements = [line for line in (directory / "requirements.txt").read_text().splitlines() if line[:1] not in "#"]
    assert requirements == [f"hector-plugins[testing]>={_scaffold._package_version()}"]
    launcher = (directory / "py-plugin").read_text()
    assert launcher.startswith("#!/bin/sh\n") and sys.executable in launcher
    assert os.access(directory / "py-plugin", os.X_OK)


def test_defaults_name_and_directory(tmp_path: Path) -> None:
    made = cli("new", "--type", "embedder", "--lang", "go", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "my-embedder" / "my-embedder.plugin.yaml").exists()

    empty = tmp_path / "vectors"
    empty.mkdir()  # an existing empty directory is fine; its name becomes the plugin's
    made = cli("new", "--type", "database_provider", "--lang", "rust", "--dir", str(empty))
    assert made.returncode == 0, made.stderr
    assert 'name = "vectors"' in (empty / "Cargo.toml").read_text()
    assert "type: database_provider" in (empty / "vectors.plugin.yaml").read_text()


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("tools", "tool_provider"),
        ("tool", "tool_provider"),
        ("Tool_Provider", "tool_provider"),
        ("reasoning", "reasoning_strategy"),
        ("reasoning_strategy", "reasoning_strategy"),
    ],
)
def test_every_spelling_of_a_type_the_library_accepts(tmp_path: Path, spelling: str, key: str) -> None:
    made = cli("new", "--type", spelling, "--lang", "python", "--name", "x", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"type: {key}\n" in (tmp_path / "x" / "x.plugin.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "chat", "--lang", "go"],
            "unknown plugin type 'chat'; supported types: llm, embedder, database, tools, reasoning",
        ),
        (["--type", "generic", "--lang", "go"], "unknown plugin type 'generic'"),
        (["--type", "llm", "--lang", "java"], "unknown language 'java'; supported languages: python, go, rust"),
        (["--type", "llm", "--lang", "go", "--name", "My-LLM"], "invalid plugin name 'My-LLM' (use lowercase)"),
        (["--type", "llm", "--lang", "go", "--name", "my_llm"], "invalid plugin name 'my_llm'"),
        (["--type", "llm", "--lang", "go", "--name=-llm"], "invalid plugin name '-llm'"),
        (["--type", "llm", "--lang", "go", "--name", "llm-"], "invalid plugin name 'llm-'"),
        (["--type", "llm", "--lang", "go", "--name", "my--llm"], "invalid plugin name 'my--llm'"),
        (["--type", "llm", "--lang", "go", "--name", "2llm"], "invalid plugin name '2llm'"),
        (["--type", "llm", "--lang", "go", "--name", "x" * 65], "longer than 64 characters"),
        (["--type", "llm", "--lang", "rust", "--name", "deps"], "cannot name a Rust binary"),
        (["--type", "llm", "--lang", "rust", "--name", "src"], "plugin name 'src' is taken"),
        (["--type", "llm", "--lang", "rust", "--name", "vendor"], "plugin name 'vendor' is taken"),
        (["--type", "llm", "--lang", "go", "--dir", "Bad_Dir"], "pass --name"),
    ],
)
def test_bad_requests_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    out = cli("new", *args, cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stderr.startswith("hector-plugins new: ")
    assert list(tmp_path.iterdir()) == [], "nothing is written"


def test_missing_arguments_are_usage_errors(tmp_path: Path) -> None:
    out = cli("new", "--lang", "go", cwd=tmp_path)
    assert out.returncode == 2 and "--type" in out.stderr


def test_an_existing_directory_or_file_is_left_alone(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    out = cli("new", "--type", "llm", "--lang", "python", "--dir", str(taken))
    assert out.returncode == 1
    assert f"{taken} exists and is not empty" in out.stderr
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]

    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    out = cli("new", "--type", "llm", "--lang", "go", "--dir", str(a_file))
    assert out.returncode == 1 and "is not a directory" in out.stderr
    assert a_file.read_text() == "mine"


# The data the skeletons are made of.


def test_shared_files_are_the_repository_copies() -> None:
    """`_templates/shared` holds links to proto/, examples/go and the Rust SDK crates, so there is
    one copy of each; a new .proto, generated Go file or crate source file must get a link too."""
    shared = TEMPLATES / "shared"
    expected = {
        **{shared / "proto" / p.relative_to(ROOT / "proto"): p for p in (ROOT / "proto").rglob("*.proto")},
        **{shared / "go/hectorpb" / p.name: p for p in (ROOT / "examples/go/proto/hectorpb").glob("*.go")},
        shared / "go/go.mod": ROOT / "examples/go/go.mod",
        shared / "go/go.sum": ROOT / "examples/go/go.sum",
        # What a Rust skeleton vendors (the crates' Cargo.toml files are templates: no workspace).
        **{
            shared / "rust/sdk/src" / p.relative_to(ROOT / "crates/sdk/src"): p
            for p in (ROOT / "crates/sdk/src").rglob("*.rs")
        },
        **{
            shared / "rust/protocol/src" / p.relative_to(ROOT / "crates/protocol/src"): p
            for p in (ROOT / "crates/protocol/src").rglob("*.rs")
        },
        shared / "rust/protocol/build.rs": ROOT / "crates/protocol/build.rs",
    }
    present = {p for p in shared.rglob("*") if not p.is_dir()}
    assert present == set(expected), f"missing: {set(expected) - present}, stale: {present - set(expected)}"
    for link, original in expected.items():
        assert link.is_symlink(), f"{link} must be a link to {original}, not a copy"
        assert link.resolve() == original.resolve()


def test_rust_templates_use_the_repository_crate_versions() -> None:
    """The skeleton's Cargo.toml and the vendored crates' (standalone copies of crates/sdk and
    crates/protocol's) name the versions and features the workspace pins."""
    tomllib = pytest.importorskip("tomllib")

    def load(path: Path) -> dict[str, Any]:
        return tomllib.loads(path.read_text().replace("@@", ""))

    ours = load(ROOT / "Cargo.toml")
    pinned = ours["workspace"]["dependencies"]

    def table(spec: object) -> dict[str, Any]:
        """A dependency as a table: `"1"` is `{version = "1"}`."""
        return spec if isinstance(spec, dict) else {"version": spec}

    def version(spec: object) -> object:
        return table(spec).get("version")

    def features(spec: object) -> set[str]:
        return set(table(spec).get("features", []))

    skeleton = load(TEMPLATES / "rust" / "Cargo.toml.tmpl")
    assert skeleton["dependencies"]["hector-plugins-sdk"] == {"path": "vendor/hector-plugins-sdk"}
    for crate, spec in skeleton["dependencies"].items():
        if "path" not in table(spec):
            assert version(spec) == version(pinned[crate]), f"{crate} differs from the root Cargo.toml"
    # The same release profile, so the dependencies the repository compiled are reused.
    assert skeleton["profile"]["release"] == ours["profile"]["release"]

    for template, crate_dir in (("sdk.Cargo.toml.tmpl", "crates/sdk"), ("protocol.Cargo.toml.tmpl", "crates/protocol")):
        vendored = load(TEMPLATES / "rust" / template)
        crate = load(ROOT / crate_dir / "Cargo.toml")
        assert vendored["package"]["name"] == crate["package"]["name"]
        assert (vendored["package"]["edition"], vendored["package"]["rust-version"]) == (
            ours["workspace"]["package"]["edition"],
            ours["workspace"]["package"]["rust-version"],
        )
        assert vendored.get("features") == crate.get("features"), template
        for section in ("dependencies", "dev-dependencies", "build-dependencies"):
            mine, theirs = vendored.get(section, {}), crate.get(section, {})
            assert set(mine) == set(theirs), f"{template} [{section}]"
            for name, spec in theirs.items():
                workspace_spec = pinned[name] if isinstance(spec, dict) and spec.get("workspace") else spec
                # Features: the workspace's plus the crate's own.
                wanted = features(workspace_spec) | features(spec)
                assert features(mine[name]) == wanted, f"{template}: {name}'s features"
                default_features = table(workspace_spec).get("default-features", True)
                assert table(mine[name]).get("default-features", True) == default_features, f"{template}: {name}"
                if "path" in table(workspace_spec):
                    assert table(mine[name]).get("path") == f"../{name}", f"{template}: {name}"  # a sibling in vendor/
                else:
                    assert version(mine[name]) == version(workspace_spec), f"{template}: {name}"


def test_a_rust_skeleton_vendors_the_sdk_crates(tmp_path: Path) -> None:
    skeleton = _scaffold.create("tools", "rust", "vendoring", tmp_path / "vendoring")
    directory = skeleton.directory
    assert not (directory / "build.rs").exists() and not (directory / "proto").exists()
    for crate, source in (("hector-plugins-sdk", "crates/sdk"), ("hector-plugins-protocol", "crates/protocol")):
        vendored = directory / "vendor" / crate
        # The crate as a skeleton builds it: its integration tests stay in the repository.
        originals = [
            p
            for p in (ROOT / source).rglob("*")
            if p.is_file() and p.name != "Cargo.toml" and p.relative_to(ROOT / source).parts[0] != "tests"
        ]
        assert originals
        for original in originals:
            copy = vendored / original.relative_to(ROOT / source)
            assert copy.read_bytes() == original.read_bytes(), copy
        manifest = (vendored / "Cargo.toml").read_text()
        assert "workspace" not in manifest and f'version = "{_scaffold._package_version()}"' in manifest
    # The protocol crate's build.rs reads the .proto files next to its Cargo.toml.
    protos = directory / "vendor" / "hector-plugins-protocol" / "proto"
    assert {p.relative_to(protos) for p in protos.rglob("*.proto")} == {
        p.relative_to(ROOT / "proto") for p in (ROOT / "proto").rglob("*.proto")
    }
    main = (directory / "src" / "main.rs").read_text()
    assert "hector_plugins_sdk::serve_tools(service::Tools::new())" in main


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", TYPES)
def test_every_placeholder_is_filled(tmp_path: Path, kind: str, lang: str) -> None:
    skeleton = _scaffold.create(kind, lang, "fill-check", tmp_path / "fill-check")
    for path in skeleton.files:
        if path.suffix in {".go", ".rs", ".py", ".md", ".toml", ".yaml", ".txt"} or path.name == "fill-check":
            assert "@@" not in path.read_text(), path


def test_a_longest_name_still_fits_a_unix_socket_path(tmp_path: Path) -> None:
    """Socket paths may hold ~107 bytes: the skeleton's path must not grow with its name."""
    name = "p" * 64
    directory = tmp_path / "long"
    assert cli("new", "--type", "llm", "--lang", "python", "--name", name, "--dir", str(directory)).returncode == 0
    build("python", directory, name, dict(os.environ))
    env = {k: v for k, v in os.environ.items() if k != "PLUGIN_UNIX_SOCKET_DIR"}
    env.update({"HECTOR_PLUGIN": "hector_plugin_v1", "PLUGIN_PROTOCOL_VERSIONS": "1"})
    plugin = subprocess.Popen(
        [str(directory / name)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert plugin.stdout is not None
        line = plugin.stdout.readline().strip()
        core, app, network, address, protocol = line.split("|")[:5]
        assert (core, app, network, protocol) == ("1", "1", "unix", "grpc"), line
        assert len(address.encode()) < 100 and Path(address).is_socket(), address
    finally:
        plugin.terminate()
        plugin.wait(timeout=10)


def test_the_sdist_ships_the_shared_files_themselves(tmp_path: Path) -> None:
    """In the repository the shared files are symbolic links; a package must carry their content."""
    import tarfile

    done = subprocess.run(
        [sys.executable, "-m", "maturin", "sdist", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (archive,) = tmp_path.glob("*.tar.gz")
    links = sorted(p.relative_to(_scaffold.SHARED) for p in _scaffold.SHARED.rglob("*") if p.is_symlink())
    assert links, "the repository keeps the shared files as links"
    with tarfile.open(archive) as sdist:
        members = {m.name.split("/", 1)[1]: m for m in sdist.getmembers() if "/" in m.name}
        for link in links:
            member = members.get(f"python/hector_plugins/_templates/shared/{link}")
            assert member is not None and member.isfile(), f"{link} is missing from the sdist or is not a regular file"
            stored = sdist.extractfile(member)
            assert stored is not None and stored.read() == (_scaffold.SHARED / link).read_bytes(), link
