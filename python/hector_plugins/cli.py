"""The ``hector-plugins`` command: list, validate, inspect and call configured plugins, and
start new ones.

    hector-plugins [-c hector.yaml] list [--json]
    hector-plugins [-c hector.yaml] validate [--json] [--strict]
                                     # exit status 1 on any problem; --strict also on warnings
    hector-plugins [-c hector.yaml] inspect NAME [--json]  # launches the plugin
    hector-plugins [-c hector.yaml] call NAME METHOD [ARGS...] [--json]  # e.g. call my-llm generate "hello";
                                     # every plugin type's methods: `hector-plugins call --help`
    hector-plugins new --type llm|embedder|database|tools|reasoning --lang rust|python|go [--name NAME] [--dir DIR]
                                                           # a plugin skeleton with its conformance test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._core import ConfiguredPlugin, PluginManager
from .errors import PluginError


def _manager(config: str | None) -> PluginManager:
    if config is None:
        default = Path("hector.yaml")
        if not default.exists():
            raise PluginError("no configuration: pass -c/--config FILE (hector.yaml is not in this directory)")
        config = str(default)
    return PluginManager(config)


def _row(plugin: ConfiguredPlugin) -> dict[str, Any]:
    return {
        "name": plugin.name,
        "type": plugin.type,
        "path": plugin.path,
        "version": plugin.version,
        "ok": plugin.ok,
        "error": str(plugin.error) if plugin.error else None,
        "entry": plugin.entry,
        "members": plugin.members,
    }


def _where(row: dict[str, Any]) -> str:
    """The path column: the executable, or what a non-process entry stands for."""
    if row["entry"] == "fallbacks":
        return "fallbacks: " + ", ".join(row["members"])
    if row["entry"] == "builtin":
        return "(in-process, registered in code)"
    return str(row["path"])


def _print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    widths = {c: max([len(c)] + [len(str(r[c] if r[c] is not None else "-")) for r in rows]) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c] if row[c] is not None else "-").ljust(widths[c]) for c in columns))


def cmd_list(args: argparse.Namespace) -> int:
    """``list``: every configured and discovered plugin, checked without launching it."""
    rows = [_row(p) for p in _manager(args.config).validate()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            row["state"] = "ok" if row["ok"] else "invalid"
            row["path"] = _where(row)
        _print_table(rows, ["name", "type", "version", "state", "path"])
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate``: configuration and manifests; 1 on any problem (``--strict``: or warning)."""
    try:
        pm = _manager(args.config)
        plugins = pm.validate()
    except PluginError as error:
        if args.json:
            print(json.dumps({"ok": False, "config_error": str(error), "plugins": []}, indent=2))
        else:
            print(f"invalid configuration: {error}", file=sys.stderr)
        return 1
    rows = [_row(p) for p in plugins]
    ok = all(r["ok"] for r in rows)
    warnings = list(pm.config_warnings)
    if not rows:
        # An empty file, or `plugin:` for `plugins:`, is valid YAML that configures nothing.
        warnings.append("no plugin is configured (nothing under `plugins:`, and discovery found none)")
    # --strict: a warning is a failure (CI wants to know that a setting is not enforced).
    passed = ok and not (args.strict and warnings)
    if args.json:
        report = {
            "ok": passed,
            "config_error": None,
            "plugins": rows,
            "warnings": warnings,
            "unenforced_settings": pm.unenforced_settings,
        }
        print(json.dumps(report, indent=2))
    else:
        for row in rows:
            print(f"{'ok ' if row['ok'] else 'BAD'}  {row['name']} ({row['type']}): {row['error'] or _where(row)}")
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        invalid = sum(not r["ok"] for r in rows)
        if not ok:
            summary = f"{_count(invalid, 'plugin')} of {len(rows)} invalid"
        elif warnings:
            summary = f"{_count(len(rows), 'plugin')} valid, with {_count(len(warnings), 'warning')}"
            summary += " (--strict: failed)" if args.strict else ""
        else:
            summary = f"{_count(len(rows), 'plugin')} valid"
        print(summary, file=sys.stderr)
    return 0 if passed else 1


async def _with_plugin(pm: PluginManager, name: str, action: Any) -> Any:
    async with pm:
        [report] = await pm.load_all(only=[name])
        if not report.ok:
            raise report.error or PluginError(f"plugin {name!r} did not load")
        return await action(pm, report)


def cmd_inspect(args: argparse.Namespace) -> int:
    """``inspect``: launches one plugin and shows its manifest, capabilities and model info."""

    async def inspect(pm: PluginManager, report: Any) -> dict[str, Any]:
        info = report.plugin
        out: dict[str, Any] = {
            "name": info.name,
            "type": info.type,
            "path": info.path,
            "version": info.version,
            "pid": info.pid,
            "protocol": info.protocol,
            "address": info.address,
            "protocol_version": info.protocol_version,
            "capabilities": info.capabilities,
        }
        if info.type == "tool_provider":
            tools = pm.tools(info.name)
            out["tools"] = [tool.name for tool in await tools.list_tools()]
            health = await tools.health()
            out["health"] = {"healthy": health.healthy, "message": health.message}
        if info.type == "llm_provider":
            llm = pm.llm(info.name)
            model = await llm.model_info()
            health = await llm.health()
            out["model_info"] = {
                "model_name": model.model_name,
                "max_tokens": model.max_tokens,
                "temperature": model.temperature,
            }
            out["health"] = {"healthy": health.healthy, "message": health.message}
        return out

    result = asyncio.run(_with_plugin(_manager(args.config), args.name, inspect))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    """``call``: launches one plugin and calls one method of its type's client; exit status 2 when
    the call cannot be sent as written (checked before the launch), 1 when it fails."""
    from . import _cli_call
    from ._cli_methods import KINDS, OPTIONS

    pm = _manager(args.config)
    options = [(option, getattr(args, option.dest)) for option in OPTIONS]

    def prepare(kind: str) -> _cli_call.Request:
        return _cli_call.request(KINDS, args.name, kind, args.method, args.args, options, args.timeout, args.json)

    async def call(pm: PluginManager, report: Any) -> int:
        request = prepared or prepare(report.type)
        return _cli_call.print_outcome(await request.send(pm, args.name), args.json)

    # The type is known without a launch, unless the name is unknown (the load then says so).
    kind = next((p.type for p in pm.validate() if p.name == args.name), None)
    try:
        prepared = prepare(kind) if kind is not None else None
        return int(asyncio.run(_with_plugin(pm, args.name, call)))
    except _cli_call.UsageError as error:
        print(f"hector-plugins call: {error}", file=sys.stderr)
        return 2


def cmd_new(args: argparse.Namespace) -> int:
    """``new``: writes a plugin skeleton; exit status 2 for a bad type, language or name, 1 when it
    cannot be written."""
    from . import _scaffold

    try:
        skeleton = _scaffold.create(args.type, args.lang, args.name, args.dir)
    except _scaffold.ScaffoldError as error:
        print(f"hector-plugins new: {error}", file=sys.stderr)
        return error.exit_code
    directory = skeleton.directory
    print(f"created the {skeleton.lang} {skeleton.type.key} plugin {skeleton.name!r} in {directory}:")
    for entry in sorted({path.relative_to(directory).parts[0] for path in skeleton.files}):
        print(f"  {entry}{'/' if (directory / entry).is_dir() else ''}")
    print("next:")
    print(f"  cd {shlex.quote(str(directory))}")
    print(f"  {skeleton.build_command}")
    print("  python -m pytest tests -q   # the conformance kit on the built plugin, and one call")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line: one sub-command each, ``run`` set to its ``cmd_*`` function."""
    top = argparse.ArgumentParser(prog="hector-plugins", description="Work with hector-plugins plugins.")
    top.add_argument("-c", "--config", help="hector.yaml to use (default: ./hector.yaml)")
    commands = top.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="configured and discovered plugins, with their state")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_list)
    validate = commands.add_parser("validate", help="check configuration and manifests; exit status 1 on any problem")
    validate.add_argument("--json", action="store_true")
    validate.add_argument(
        "--strict",
        action="store_true",
        help="also fail on warnings: settings not enforced yet, likely typos, no plugin configured",
    )
    validate.set_defaults(run=cmd_validate)
    inspect = commands.add_parser("inspect", help="launch one plugin and show its manifest, capabilities and info")
    inspect.add_argument("name")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(run=cmd_inspect)
    from ._cli_call import methods_help
    from ._cli_methods import KINDS, OPTIONS

    call = commands.add_parser(
        "call",
        help="launch one plugin and call one method of it",
        description="Launch the plugin NAME, call METHOD once with ARGS, print the answer and stop the plugin.\n"
        "Each call launches a fresh process: an in-memory database forgets between calls.\n"
        "Exit status 2 when the call cannot be sent as written (checked before the launch), 1 when it fails.",
        epilog="methods, by plugin type:\n" + methods_help(KINDS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument("name")
    call.add_argument("method", help="one of the methods of the plugin's type (below)")
    call.add_argument("args", nargs="*", help="the method's arguments (below); JSON ones as one quoted word")
    call.add_argument("--timeout", type=float, default=None, help="seconds the call may take")
    call.add_argument("--json", action="store_true", help="print the answer as one JSON document")
    for option in OPTIONS:
        call.add_argument(option.flag, dest=option.dest, metavar=option.metavar, help=option.help)
    call.set_defaults(run=cmd_call)
    new = commands.add_parser(
        "new",
        help="write a plugin skeleton: source, manifest, README and a conformance test",
        description="Write a plugin skeleton that builds and runs at once: the service's source, its "
        "<name>.plugin.yaml manifest, a README with the build command and a pytest test running the conformance kit.",
    )
    new.add_argument("--type", required=True, help="the service: llm, embedder, database, tools or reasoning")
    new.add_argument("--lang", required=True, help="rust, python or go")
    new.add_argument(
        "--name", help="lowercase letters, digits and dashes (default: the directory's name, else my-<type>)"
    )
    new.add_argument("--dir", help="where to write it; must not exist or be empty (default: ./<name>)")
    new.set_defaults(run=cmd_new)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; a ``PluginError`` is printed and gives exit status 1."""
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except PluginError as error:
        print(f"hector-plugins: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
