"""``hector-plugins new``: writes a plugin skeleton that builds and runs at once.

A skeleton is a directory holding the plugin's source, its manifest ``<name>.plugin.yaml``, a
README with the build command and a pytest test that runs the conformance kit
(``hector_plugins.testing``) on the built plugin and calls its sample once through
``PluginManager``. The executable is ``<dir>/<name>``, next to its manifest (for Python, a
launcher script running ``plugin.py``, written on ``hector_plugins.sdk``).

Everything a skeleton needs ships inside this package, under ``_templates/``:

* ``_templates/<lang>/*.tmpl`` and ``_templates/common/*.tmpl``: the files, with ``@@key@@``
  placeholders;
* ``_templates/shared/``: the ``.proto`` files (from the repository's ``proto/``), the
  generated Go code of ``hector.plugin`` with the Go module's ``go.mod``/``go.sum`` (from
  ``examples/go/``) and the sources of the Rust SDK crates ``hector-plugins-sdk`` and
  ``hector-plugins-protocol`` (from ``crates/``), which Rust skeletons vendor. In the repository these are symbolic links to the one real copy; building
  the wheel or the sdist stores the files they point to, so an installed package has them too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TEMPLATES = Path(__file__).resolve().parent / "_templates"
SHARED = TEMPLATES / "shared"

LANGUAGES = ("python", "go", "rust")
VERSION = "0.1.0"
HECTOR_VERSION = ">=0.1"

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_NAME_MAX = 64
# Names a skeleton uses for its own files and directories.
_RESERVED = frozenset({"proto", "src", "target", "tests", "generated", "hectorpb", "plugin", "service", "vendor"})
# Cargo refuses these as binary names (they clash with its own output directories).
_RESERVED_RUST = frozenset({"build", "deps", "examples", "incremental"})


class ScaffoldError(Exception):
    """A ``new`` request that cannot be carried out. ``exit_code`` is 2 for bad arguments."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


_LANG_TITLES = {
    "python": "Python, hector_plugins.sdk",
    "go": "Go, hashicorp/go-plugin",
    "rust": "Rust, hector-plugins-sdk",
}
_SAMPLES = {
    "llm": "`Generate` answers `Echo: <last user message>` (the prefix is the `prefix` config key).",
    "embedder": "`Embed` returns a normalized 8-dimensional count of the text's bytes by value "
    "modulo 8 (the `dimension` config key changes the size).",
    "database": "an in-memory store of collections, searched by cosine similarity (`top_k` is "
    "capped by the `max_results` config key).",
    "tools": "one tool, `add`, which sums a list of numbers (at most the `max_numbers` config key); "
    "`ExecuteToolStreaming` reports progress, then the result.",
    "reasoning": "the loop stops when the model called no tool, or after the `max_iterations` config "
    "key's iterations; the custom state counts the tool calls.",
}
_PREREQUISITES = {
    "python": "Python 3.9 or newer with the packages of `requirements.txt`: hector-plugins serves the plugin "
    "(`hector_plugins.sdk`) and tests it (`hector_plugins.testing`, with pytest). Nothing is compiled: the "
    "executable is a launcher running `plugin.py` with the Python that created the skeleton (or `$PLUGIN_PYTHON`).",
    "go": "Go 1.26 or newer (the first build downloads the modules listed in `go.mod`).",
    "rust": "A stable Rust toolchain, 1.88 or newer (`cargo`; the first build downloads the crates from crates.io). "
    "The SDK crates come with the skeleton, in `vendor/`; no `protoc` is needed (protox compiles the `.proto` files).",
}


@dataclass(frozen=True)
class PluginType:
    short: str  # llm
    key: str  # llm_provider: the manifest's type
    service: str  # LLMProvider: the hector.plugin service
    title: str  # for prose: "LLM provider"
    section: str  # llm_providers: its section of hector.yaml
    protos: tuple[str, ...]  # the hector/plugin/*.proto it needs besides common, imports first
    capabilities: tuple[tuple[str, str], ...]  # manifest capabilities, as YAML scalars
    optional: tuple[str, ...]  # config_schema.optional
    defaults: tuple[tuple[str, str], ...]  # config_schema.defaults, as YAML scalars
    aliases: tuple[str, ...] = ()  # other names the library accepts for the type


TYPES = {
    "llm": PluginType(
        "llm",
        "llm_provider",
        "LLMProvider",
        "LLM provider",
        "llm_providers",
        ("llm",),
        capabilities=(("streaming", "true"), ("tools", "false")),
        optional=("prefix",),
        defaults=(("prefix", '"Echo: "'),),
    ),
    "embedder": PluginType(
        "embedder",
        "embedder_provider",
        "EmbedderProvider",
        "embedder",
        "embedder_providers",
        ("embedder",),
        capabilities=(("dimension", "8"),),
        optional=("dimension",),
        defaults=(("dimension", "8"),),
    ),
    "database": PluginType(
        "database",
        "database_provider",
        "DatabaseProvider",
        "vector database",
        "database_providers",
        ("database",),
        capabilities=(("persistent", "false"),),
        optional=("max_results",),
        defaults=(("max_results", "100"),),
    ),
    "tools": PluginType(
        "tools",
        "tool_provider",
        "ToolProvider",
        "tool provider",
        "tool_providers",
        ("llm", "tool"),  # tool.proto uses the LLM's ToolDefinition
        capabilities=(("streaming", "true"),),
        optional=("max_numbers",),
        defaults=(("max_numbers", "100"),),
        aliases=("tool",),
    ),
    "reasoning": PluginType(
        "reasoning",
        "reasoning_strategy",
        "ReasoningStrategy",
        "reasoning strategy",
        "reasoning_strategies",
        ("llm", "tool", "reasoning"),  # the state carries messages, tool calls and tool results
        capabilities=(),
        optional=("max_iterations",),
        defaults=(("max_iterations", "5"),),
    ),
}
# Every spelling `hector-plugins` accepts elsewhere for a type (docs/protocol.md §7.6).
_TYPE_ALIASES = {name: t.short for t in TYPES.values() for name in (t.short, t.key, *t.aliases)}


def plugin_type(value: str) -> PluginType:
    """The type named by ``value`` (``llm`` or ``llm_provider``, ...), or a ScaffoldError."""
    short = _TYPE_ALIASES.get(value.strip().lower())
    if short is None:
        raise ScaffoldError(f"unknown plugin type {value!r}; supported types: {', '.join(TYPES)}", exit_code=2)
    return TYPES[short]


def language(value: str) -> str:
    lang = value.strip().lower()
    if lang not in LANGUAGES:
        raise ScaffoldError(f"unknown language {value!r}; supported languages: {', '.join(LANGUAGES)}", exit_code=2)
    return lang


def check_name(name: str) -> str:
    """A plugin name: lowercase letters, digits and single dashes, starting with a letter."""
    if not name:
        raise ScaffoldError("the plugin name is empty", exit_code=2)
    if len(name) > _NAME_MAX:
        raise ScaffoldError(f"plugin name {name!r} is longer than {_NAME_MAX} characters", exit_code=2)
    if not _NAME.match(name):
        hint = " (use lowercase)" if name.lower() != name and _NAME.match(name.lower()) else ""
        raise ScaffoldError(
            f"invalid plugin name {name!r}{hint}: use lowercase letters, digits and dashes, starting with "
            "a letter, with no leading, trailing or double dash (e.g. my-llm)",
            exit_code=2,
        )
    if name in _RESERVED:
        raise ScaffoldError(
            f"plugin name {name!r} is taken by a file of the skeleton; choose another "
            f"(reserved: {', '.join(sorted(_RESERVED))})",
            exit_code=2,
        )
    return name


@dataclass(frozen=True)
class Skeleton:
    directory: Path
    name: str
    type: PluginType
    lang: str
    build_command: str
    files: tuple[Path, ...]


def build_command(lang: str, name: str) -> str:
    """The shell command, run in the skeleton's directory, that builds ``./<name>`` (for Python,
    whose ``./<name>`` is a launcher of ``plugin.py``: installs what it needs)."""
    if lang == "python":
        return "pip install -r requirements.txt"
    if lang == "go":
        return f"go build -o {name} ."
    return f"cargo build --release && cp target/release/{name} ."


def create(
    type: str,
    lang: str,
    name: str | None = None,
    directory: str | os.PathLike[str] | None = None,
    *,
    python: str | None = None,
) -> Skeleton:
    """Writes a skeleton and returns what was written.

    ``name`` defaults to the directory's name when ``directory`` is given, else ``my-<type>``;
    ``directory`` defaults to ``./<name>``. The directory must not exist or be empty.
    ``python`` is the interpreter a Python plugin's launcher runs (default: this one).
    """
    kind = plugin_type(type)
    lang = language(lang)
    if name is None:
        name = Path(directory).resolve().name if directory is not None else f"my-{kind.short}"
        try:
            check_name(name)
        except ScaffoldError as error:
            raise ScaffoldError(f"{error} (the name comes from the directory: pass --name)", exit_code=2) from None
    check_name(name)
    if lang == "rust" and name in _RESERVED_RUST:
        raise ScaffoldError(
            f"plugin name {name!r} cannot name a Rust binary (Cargo reserves {', '.join(sorted(_RESERVED_RUST))})",
            exit_code=2,
        )
    target = Path(directory) if directory is not None else Path(name)
    _check_target(target)

    values = {
        "name": name,
        "type": kind.short,
        "type_key": kind.key,
        "service": kind.service,
        "title": kind.title,
        "description": f"{kind.title[0].upper()}{kind.title[1:]} plugin {name} ({_LANG_TITLES[lang]})",
        "build_command": build_command(lang, name),
        "python_sh": shlex.quote(python or sys.executable),
        "version_floor": _package_version(),
        "version": VERSION,
        "hector_version": HECTOR_VERSION,
    }
    files: dict[str, bytes] = {}
    executable: set[str] = set()
    _WRITERS[lang](kind, values, files, executable)
    files[f"{name}.plugin.yaml"] = _manifest(kind, values).encode()
    files["README.md"] = _render(
        "common/README.md.tmpl",
        values,
        lang_title=_LANG_TITLES[lang],
        sample=_SAMPLES[kind.short],
        prerequisites=_PREREQUISITES[lang],
        usage=_usage(kind, name),
        layout=_layout(lang, name),
    ).encode()
    cargo = lang == "rust"
    files["tests/test_plugin.py"] = _render(
        f"common/test_{kind.short}.py.tmpl",
        values,
        imports="import os\nimport shutil\n" if cargo else "",
        locate=_render(f"common/locate_{'cargo' if cargo else 'plain'}.py.tmpl", values),
    ).encode()

    created = target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for relative, data in sorted(files.items()):
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if relative in executable:
                path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            written.append(path)
    except OSError as error:
        if not created:
            shutil.rmtree(target, ignore_errors=True)
        raise ScaffoldError(f"cannot write the skeleton into {target}: {error}") from error
    return Skeleton(target, name, kind, lang, values["build_command"], tuple(written))


def _package_version() -> str:
    from ._core import __version__

    return str(__version__)


def _check_target(target: Path) -> None:
    if target.is_symlink() and not target.exists():
        raise ScaffoldError(f"{target} is a broken symbolic link")
    if target.exists():
        if not target.is_dir():
            raise ScaffoldError(f"{target} exists and is not a directory")
        if any(target.iterdir()):
            raise ScaffoldError(f"{target} exists and is not empty: choose a new directory with --dir")


_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")


def _render(template: str, values: dict[str, str], **extra: str) -> str:
    text = (TEMPLATES / template).read_text()
    merged = {**values, **extra}

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in merged:
            raise KeyError(f"template {template} uses @@{key}@@, which has no value")
        return merged[key]

    return _PLACEHOLDER.sub(fill, text)


def _shared(relative: str) -> bytes:
    path = SHARED / relative
    try:
        return path.read_bytes()
    except OSError as error:
        raise ScaffoldError(
            f"this hector-plugins installation lacks {path} ({error}); reinstall the package"
        ) from error


def _write_python(kind: PluginType, values: dict[str, str], files: dict[str, bytes], executable: set[str]) -> None:
    name = values["name"]
    files["plugin.py"] = _render(f"python/plugin_{kind.short}.py.tmpl", values).encode()
    files["requirements.txt"] = _render("python/requirements.txt.tmpl", values).encode()
    files[".gitignore"] = _render("python/gitignore.tmpl", values).encode()
    files[name] = _render("python/launcher.sh.tmpl", values).encode()
    executable.add(name)


def _write_go(kind: PluginType, values: dict[str, str], files: dict[str, bytes], executable: set[str]) -> None:
    module = f"example.com/{values['name']}"
    files["go.mod"] = _go_mod(module).encode()
    files["go.sum"] = _shared("go/go.sum")
    for source in sorted((SHARED / "go" / "hectorpb").glob("*.go")):
        files[f"hectorpb/{source.name}"] = _shared(f"go/hectorpb/{source.name}")
    go_values = {**values, "module": module}
    files["main.go"] = _render("go/main.go.tmpl", go_values).encode()
    files["service.go"] = _render(f"go/service_{kind.short}.go.tmpl", go_values).encode()
    files[".gitignore"] = _render("go/gitignore.tmpl", values).encode()


def _go_mod(module: str) -> str:
    """examples/go's go.mod (the versions our own Go plugins are built and tested with), renamed."""
    text = _shared("go/go.mod").decode()
    text, count = re.subn(r"(?m)^module\s+\S+", f"module {module}", text, count=1)
    if count != 1:
        raise ScaffoldError("the shipped go.mod has no module line")
    return text


# The struct each type's src/service.rs defines; main.rs serves `<struct>::new()`.
_RUST_TYPES = {"llm": "Llm", "embedder": "Embedder", "database": "Database", "tools": "Tools", "reasoning": "Strategy"}
# The crates a Rust skeleton builds on, which are not on crates.io: crate name -> its sources in
# _templates/shared/ (links to crates/<dir> in the repository).
_VENDORED_CRATES = {"hector-plugins-sdk": "rust/sdk", "hector-plugins-protocol": "rust/protocol"}


def _write_rust(kind: PluginType, values: dict[str, str], files: dict[str, bytes], executable: set[str]) -> None:
    rust_values = {**values, "rust_type": _RUST_TYPES[kind.short], "crate_version": values["version_floor"]}
    files["Cargo.toml"] = _render("rust/Cargo.toml.tmpl", rust_values).encode()
    files["src/main.rs"] = _render("rust/main.rs.tmpl", rust_values).encode()
    files["src/service.rs"] = _render(f"rust/service_{kind.short}.rs.tmpl", rust_values).encode()
    files[".gitignore"] = _render("rust/gitignore.tmpl", rust_values).encode()
    # Without it, the SDK's TLS (aws-lc) adds ~60 ms to every start the host offers mTLS to.
    files[".cargo/config.toml"] = _render("rust/cargo-config.toml.tmpl", rust_values).encode()
    files.update(_vendored_crates(rust_values))


def _vendored_crates(values: dict[str, str]) -> dict[str, bytes]:
    """vendor/<crate>/ for each crate of _VENDORED_CRATES: its sources as this package ships
    them, a standalone Cargo.toml (no workspace inheritance) and, for the protocol crate, the
    .proto files its build.rs compiles (it reads proto/ next to its Cargo.toml)."""
    files: dict[str, bytes] = {}
    for crate, shared in _VENDORED_CRATES.items():
        root = SHARED / shared
        sources = sorted(p for p in root.rglob("*") if p.is_file())
        if not sources:
            raise ScaffoldError(
                f"this hector-plugins installation lacks the sources of {crate} in {root}; reinstall the package"
            )
        for source in sources:
            relative = source.relative_to(root).as_posix()
            files[f"vendor/{crate}/{relative}"] = _shared(f"{shared}/{relative}")
        files[f"vendor/{crate}/Cargo.toml"] = _render(f"rust/{shared.split('/')[-1]}.Cargo.toml.tmpl", values).encode()
    for proto in sorted((SHARED / "proto").rglob("*.proto")):
        relative = proto.relative_to(SHARED).as_posix()
        files[f"vendor/hector-plugins-protocol/{relative}"] = _shared(relative)
    return files


_WRITERS: dict[str, Callable[[PluginType, dict[str, str], dict[str, bytes], set[str]], None]] = {
    "python": _write_python,
    "go": _write_go,
    "rust": _write_rust,
}


def _manifest(kind: PluginType, values: dict[str, str]) -> str:
    capabilities = ", ".join(f"{k}: {v}" for k, v in kind.capabilities)
    optional = ", ".join(kind.optional)
    defaults = ", ".join(f"{k}: {v}" for k, v in kind.defaults)
    return (
        f"# The manifest of {values['name']}: the host reads it before launching ./{values['name']}\n"
        "# (the executable is this file's path without .plugin.yaml).\n"
        "plugin:\n"
        f"  name: {values['name']}\n"
        f"  version: {VERSION}  # keep in step with the version the code reports\n"
        f'  description: "{values["description"]}"\n'
        f"  type: {kind.key}\n"
        "  protocol: grpc\n"
        f'  hector_version: "{HECTOR_VERSION}"  # a semver requirement on the host\'s hector-plugins version\n'
        f"  capabilities: {{{capabilities}}}\n"
        "  config_schema:\n"
        "    required: []  # keys a configuration must set: the load fails naming a missing one\n"
        f"    optional: [{optional}]\n"
        f"    defaults: {{{defaults}}}  # sent with Initialize unless the configuration sets them\n"
    )


# One call of each type's typed client, for the README: (imports, client, call).
_EXAMPLE_CALLS = {
    "llm": ("Message, PluginManager", "llm", 'reply = await {client}.generate([Message.user("hi")])'),
    "embedder": ("PluginManager", "embedder", 'vector = await {client}.embed("hello")'),
    "database": (
        "PluginManager",
        "database",
        'await {client}.create_collection("docs", 3)\n    hits = await {client}.search("docs", [0.1, 0.2, 0.3], top_k=3)',
    ),
    "tools": ("PluginManager", "tools", 'result = await {client}.call("add", {{"numbers": [1, 2]}})'),
    "reasoning": (
        "PluginManager, ReasoningState",
        "reasoning",
        'decision = await {client}.should_stop(ReasoningState(1, "hi"))',
    ),
}


def _usage(kind: PluginType, name: str) -> str:
    load = f'await pm.load("./{name}", type="{kind.key}", config={{...}})'
    imports, client, call = _EXAMPLE_CALLS[kind.short]
    call = call.format(client=f'pm.{client}("{name}")')
    return (
        "From Python:\n\n```python\n"
        f"from hector_plugins import {imports}\n\n"
        "async with PluginManager() as pm:\n"
        f"    {load}\n"
        f"    {call}\n"
        "```\n\n"
        "or from a `hector.yaml` next to the plugin's directory (`await pm.load_all()` starts it):\n\n```yaml\n"
        "plugins:\n"
        f"  {kind.section}:\n"
        f"    {name}: {{type: grpc, path: ./{name}/{name}, config: {{}}}}\n"
        "```\n"
    )


def _layout(lang: str, name: str) -> str:
    rows = {
        "python": [
            ("plugin.py", "the plugin, a class with the methods of its type: your code goes here"),
            (name, "the executable the host starts (runs plugin.py with the Python that created the skeleton)"),
            ("requirements.txt", "hector-plugins, which serves the plugin (hector_plugins.sdk) and tests it"),
        ],
        "go": [
            ("service.go", "the service: your code goes here"),
            ("main.go", "serves it with hashicorp/go-plugin (handshake, health, shutdown)"),
            ("hectorpb/", "the generated Go code of the hector.plugin services"),
        ],
        "rust": [
            ("src/service.rs", "the plugin, the SDK's traits implemented: your code goes here"),
            ("src/main.rs", "serves it with the SDK (cookie check, socket, handshake line, health, shutdown)"),
            ("vendor/hector-plugins-sdk/", "the plugin SDK crate, shipped with hector-plugins (not on crates.io)"),
            ("vendor/hector-plugins-protocol/", "the wire contract it builds on: the .proto files and their Rust code"),
        ],
    }[lang]
    rows.append((f"{name}.plugin.yaml", "the manifest, next to the executable"))
    rows.append(("tests/test_plugin.py", "the conformance kit (hector_plugins.testing) and a sample call"))
    return "\n".join(f"| `{path}` | {what} |" for path, what in rows)
