"""Checks a handshake line the way a go-plugin host reads it (docs/protocol.md §2), strictly: the
host is lenient where go-plugin's own host is not (a 4-field line), and the kit flags that too."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Handshake:
    """The fields of a well-formed line."""

    app_version: int
    network: str
    address: str


def parse(line: str, offered: Sequence[int]) -> Handshake | str:
    """The line's fields, or what is wrong with it (a phrase that follows "the plugin printed ...")."""
    fields = line.strip().split("|")
    if len(fields) < 5 or len(fields) > 7:
        hint = " (no protocol field: go-plugin's own host reads such a line as netrpc)" if len(fields) == 4 else ""
        return f"{len(fields)} fields, not 5 to 7{hint}"
    core, app, network, address, protocol = fields[:5]
    if core != "1":
        return f"core protocol version {core!r}, not '1'"
    if not app.isdigit() or int(app) not in offered:
        return f"app protocol version {app!r}, which the host did not offer (offered: {','.join(map(str, offered))})"
    if network not in ("unix", "tcp"):
        return f"network {network!r}, not 'unix' or 'tcp'"
    if not address:
        return "an empty address"
    if protocol != "grpc":
        return f"protocol {protocol!r}, not 'grpc'"
    if len(fields) > 5 and fields[5]:
        return "a server certificate in field 6 (the kit offers no automatic mTLS: it sets no PLUGIN_CLIENT_CERT)"
    if len(fields) > 6 and fields[6] not in ("", "true", "false"):
        return f"MUX field {fields[6]!r}, not 'true' or 'false'"
    return Handshake(int(app), network, address)


def address_problem(handshake: Handshake) -> str | None:
    """Why nothing serves the announced address (the socket is missing, the port is closed), or None."""
    if handshake.network == "unix":
        try:
            mode = os.stat(handshake.address).st_mode
        except OSError as error:
            return f"no socket at {handshake.address} ({error.strerror})"
        return None if stat.S_ISSOCK(mode) else f"{handshake.address} is not a socket"
    host, _, port = handshake.address.rpartition(":")
    if not host or not port.isdigit():
        return f"tcp address {handshake.address!r}, not host:port"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
            return None
    except OSError as error:
        return f"nothing accepts connections at tcp {handshake.address} ({error})"
