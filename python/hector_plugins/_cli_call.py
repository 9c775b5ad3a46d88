"""``hector-plugins call NAME METHOD [ARGS...]``: how a method is described, how its arguments are
checked before anything is launched, and how its answer is printed. The methods of each plugin
type are data, in ``_cli_methods``.

Exit statuses: 2 for a request that cannot be sent (a method the plugin's type lacks, a missing
or extra argument, JSON that does not parse or has the wrong shape); 1 for what the plugin or the
host says (a ``PluginError``, a tool that failed); 0 otherwise.
"""

from __future__ import annotations

import json
import struct
import sys
import textwrap
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

# How many values of the command line an argument takes.
ONE, OPTIONAL, MANY = "one", "optional", "many"


class UsageError(Exception):
    """A ``call`` that cannot be sent as written (exit status 2)."""


@dataclass(frozen=True)
class Arg:
    """One positional argument of a method: ``parse`` turns the text into the value the client
    takes, raising ``ValueError`` (or ``TypeError``) with a message that completes "NAME ..."."""

    name: str
    parse: Callable[[str], Any] = str
    count: str = ONE

    def usage(self) -> str:
        return {ONE: self.name, OPTIONAL: f"[{self.name}]", MANY: f"{self.name}..."}[self.count]


@dataclass(frozen=True)
class Option:
    """A ``--flag VALUE`` option of ``call`` that only some methods take."""

    flag: str  # --top-k
    dest: str  # top_k: the argparse attribute, and the key in Call.values
    metavar: str
    parse: Callable[[str], Any]
    help: str


@dataclass
class Outcome:
    """A method's answer: ``value`` is what ``--json`` prints (one JSON document), ``text`` what
    is printed otherwise (None: ``value`` as one line of JSON; "": nothing, it was printed as it
    came). ``status`` 1 marks an answer that is a failure (a tool that failed)."""

    value: Any
    text: str | None = None
    status: int = 0


@dataclass(frozen=True)
class Call:
    """What a handler gets: the checked arguments by name, and the call's settings."""

    values: Mapping[str, Any]
    timeout: float | None
    json: bool


Handler = Callable[[Any, Call], Awaitable[Outcome]]


@dataclass(frozen=True)
class Method:
    run: Handler
    help: str
    args: tuple[Arg, ...] = ()
    options: tuple[Option, ...] = ()

    def usage(self, name: str) -> str:
        flags = (f"[{o.flag} {o.metavar}]" for o in self.options)
        return " ".join([name, *(a.usage() for a in self.args), *flags])


@dataclass(frozen=True)
class PluginKind:
    """The methods ``call`` offers for one plugin type, and how to get its typed client."""

    client: Callable[[Any, str], Any]  # (PluginManager, name) -> client
    methods: Mapping[str, Method] = field(default_factory=dict)


def with_article(kind: str) -> str:
    """ "an llm_provider", "an embedder_provider", "a database_provider"."""
    return ("an " if kind.startswith(("llm", "a", "e", "i", "o", "u")) else "a ") + kind  # llm: read letter by letter


@dataclass(frozen=True)
class Request:
    """A checked ``call``: the method, its client's type and its arguments."""

    kind: PluginKind
    method: Method
    call: Call

    async def send(self, pm: Any, plugin: str) -> Outcome:
        return await self.method.run(self.kind.client(pm, plugin), self.call)


def request(
    kinds: Mapping[str, PluginKind],
    plugin: str,
    type_name: str,
    method_name: str,
    words: Sequence[str],
    options: Sequence[tuple[Option, str | None]],
    timeout: float | None,
    as_json: bool,
) -> Request:
    """The call of ``method_name`` on the plugin ``plugin`` of type ``type_name``, checked;
    ``UsageError`` for a method the type lacks or arguments that do not fit it."""
    kind = kinds.get(type_name)
    methods = kind.methods if kind else {}
    method = methods.get(method_name)
    if kind is None or method is None:
        offered = f"its methods: {', '.join(methods)}" if methods else "`call` has none for it (use pm.raw)"
        raise UsageError(
            f"plugin {plugin!r} is {with_article(type_name)}, which has no method {method_name!r}; {offered}"
        )
    values = bind(method_name, method, words, options)
    return Request(kind, method, Call(values, timeout, as_json))


def bind(
    name: str, method: Method, words: Sequence[str], options: Sequence[tuple[Option, str | None]]
) -> dict[str, Any]:
    """The method's arguments checked and converted, by name; ``UsageError`` naming the argument
    otherwise. ``options``: every ``Option`` with its text on the command line (None: not given)."""
    usage = f"(usage: {method.usage(name)})"
    values: dict[str, Any] = {}
    for option, text in options:
        if option not in method.options:
            if text is not None:
                raise UsageError(f"{name} takes no {option.flag} {usage}")
        else:
            values[option.dest] = None if text is None else _parse(name, option.flag, option.parse, text)
    rest = list(words)
    for arg in method.args:
        if arg.count == MANY:
            taken, rest = rest, []
            if not taken:
                raise UsageError(f"{name}: missing {arg.name} {usage}")
            values[arg.name] = [_parse(name, arg.name, arg.parse, word) for word in taken]
        elif rest:
            values[arg.name] = _parse(name, arg.name, arg.parse, rest.pop(0))
        elif arg.count == ONE:
            raise UsageError(f"{name}: missing {arg.name} {usage}")
        else:
            values[arg.name] = None
    if rest:
        raise UsageError(f"{name}: unexpected argument {rest[0]!r} {usage}")
    return values


def _parse(method: str, what: str, parse: Callable[[str], Any], word: str) -> Any:
    try:
        return parse(word)
    except (ValueError, TypeError) as error:
        raise UsageError(f"{method}: {what} {error}") from None


def methods_help(kinds: Mapping[str, PluginKind], width: int = 100) -> str:
    """The methods of every type, for ``call --help`` (made from the same tables ``call`` uses)."""
    lines = []
    for type_name, kind in kinds.items():
        lines.append(f"{type_name}:")
        for name, method in kind.methods.items():
            lines.append(f"  {method.usage(name)}")
            lines.extend(textwrap.wrap(method.help, width, initial_indent=" " * 6, subsequent_indent=" " * 6))
    return "\n".join(lines)


def print_outcome(outcome: Outcome, as_json: bool) -> int:
    if as_json:
        print(json.dumps(outcome.value))
    elif outcome.text is None:
        print(json.dumps(outcome.value))
    elif outcome.text:
        # A failure's message (a tool's own error) goes where errors go.
        print(outcome.text, file=sys.stderr if outcome.status else sys.stdout)
    return outcome.status


# Argument parsers: each raises ValueError with the end of the sentence "NAME ...".


def json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"is not JSON ({error}): {text!r}") from None


def json_object(text: str) -> dict[str, Any]:
    value = json_value(text)
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object, not {text!r}")
    return value


def string_map(text: str) -> dict[str, str]:
    """Metadata and filters: a JSON object of strings, as on the wire (docs/python-api.md)."""
    value = json_object(text)
    for key, item in value.items():
        if not isinstance(item, str):
            raise ValueError(f"must map keys to strings; {key!r} is {json.dumps(item)} (quote it)")
    return value


def vector(text: str) -> list[float]:
    value = json_value(text)
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)
    ):
        raise ValueError(f"must be a non-empty JSON list of numbers, not {text!r}")
    return [float(x) for x in value]


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, not {text!r}") from None
    if number < 1:
        raise ValueError(f"must be at least 1, not {number}")
    return number


# Answers to JSON.


def floats(block: Any) -> Any:
    """A float32 vector or block (numpy array or memoryview) as lists of the shortest decimals
    that give back the same float32 (0.1, not 0.10000000149011612)."""
    rows = block.tolist()
    if rows and isinstance(rows[0], list):
        return [[_shortest(x) for x in row] for row in rows]
    return [_shortest(x) for x in rows]


def _shortest(x: float) -> float:
    exact = struct.pack("<f", x)
    for digits in range(6, 10):
        candidate = float(f"{x:.{digits}g}")
        if struct.pack("<f", candidate) == exact:
            return candidate
    return x


def tool_call(call: Any) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments_json": call.arguments_json}


def message(msg: Any) -> dict[str, Any]:
    return {
        "role": msg.role,
        "content": msg.content,
        "tool_calls": [tool_call(c) for c in msg.tool_calls],
        "tool_call_id": msg.tool_call_id,
    }


def health(status: Any) -> Outcome:
    return Outcome({"healthy": status.healthy, "message": status.message})
