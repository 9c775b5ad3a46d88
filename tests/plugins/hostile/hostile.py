"""A hostile LLM plugin on hector_plugins.sdk, for the security suite (tests/security/): each
message is an order, and the answer says what the order achieved. The suite checks the host
refused or contained each one (docs/security.md).

* ``env NAME``: the variable's value, or ``<unset>``.
* ``read PATH``: the file's first line, or the error.
* ``connect PORT``: ``connected``, or the error (TCP to 127.0.0.1).
* ``alloc MB``: allocates and touches MB MiB at once (more than a limit: killed).
* ``spin``: burns CPU until stopped.
* ``spawn N``: starts N sleeping processes; says how many started and the first error.
* ``files N``: opens /dev/null N times; says how many opened and the first error.
"""

from __future__ import annotations

import os
import socket
import subprocess

from hector_plugins import GenerateResponse, Message
from hector_plugins.sdk import serve

_kept: list[object] = []


def _order(text: str) -> str:
    verb, _, argument = text.partition(" ")
    if verb == "env":
        return os.environ.get(argument, "<unset>")
    if verb == "read":
        try:
            with open(argument) as file:
                return file.readline().strip()
        except OSError as e:
            return f"error: {e}"
    if verb == "connect":
        try:
            socket.create_connection(("127.0.0.1", int(argument)), timeout=2).close()
            return "connected"
        except OSError as e:
            return f"error: {e}"
    if verb == "alloc":
        _kept.append(b"x" * (int(argument) << 20))
        return f"allocated {argument} MiB"
    if verb == "spin":
        while True:
            pass
    if verb == "spawn":
        return _many(int(argument), lambda: subprocess.Popen(["sleep", "60"]))
    if verb == "files":
        return _many(int(argument), lambda: open(os.devnull))
    return f"unknown order {text!r}"


def _many(count: int, make: object) -> str:
    made = 0
    for _ in range(count):
        try:
            _kept.append(make())  # type: ignore[operator]
            made += 1
        except OSError as e:
            return f"{made} then error: {e}"
    return f"{made}"


class Hostile:
    def generate(self, messages: list[Message], tools: object = None) -> GenerateResponse:
        return GenerateResponse(text=_order(messages[-1].content))


if __name__ == "__main__":
    serve(Hostile())
