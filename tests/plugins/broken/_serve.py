"""What the deliberately broken plugins share: a correct go-plugin server (cookie, version,
handshake line, plugin.GRPCController/Shutdown, grpc.health.v1, hclog JSON logs) that each
plugin bends in one place. They run with grpcio and the stubs of tests/_generated
(HECTOR_TEST_PROTO_DIR, set by their launchers: tests/conftest.py `broken_plugin`)."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import signal
import sys
from typing import Callable

sys.path.insert(0, os.environ["HECTOR_TEST_PROTO_DIR"])

import grpc  # noqa: E402
from hector.plugin import common_pb2  # noqa: E402

HANDSHAKE = "1|1|unix|{address}|grpc|"


def log(level: str, message: str, **fields: object) -> None:
    """One hclog JSON line on stderr (docs/protocol.md §5.1)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sys.stderr.write(json.dumps({"@level": level, "@message": message, "@timestamp": now, **fields}) + "\n")
    sys.stderr.flush()


class Lifecycle:
    """The lifecycle RPCs every service has (docs/protocol.md §7.2), done right: a plugin names
    itself, says which config it refuses (`refusal`), and overrides an RPC only to break it."""

    name = "broken"
    kind = ""
    capabilities: dict[str, str] = {}

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    def refusal(self, config: dict[str, str]) -> str | None:
        """Why `config` is refused, or None."""
        return None

    async def Initialize(self, request, context):
        error = self.refusal(dict(request.config))
        if error:
            return common_pb2.InitializeResponse(success=False, error=error)
        log("info", "initialized", config_keys=sorted(request.config))
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        asyncio.get_running_loop().call_later(0.05, self.stop.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        return common_pb2.HealthResponse(healthy=True, message="ok")

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(
            name=self.name, version="0.1.0", type=self.kind, protocol="grpc", capabilities=self.capabilities
        )

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")


def _raw_unary(handler: Callable[[bytes, grpc.aio.ServicerContext], object]) -> grpc.RpcMethodHandler:
    # No (de)serializers: bytes in, bytes out; the two messages involved are encoded by hand.
    return grpc.unary_unary_rpc_method_handler(handler)


def serve(
    register: Callable[[grpc.aio.Server, asyncio.Event], None],
    handshake: str = HANDSHAKE,
    ignore_shutdown: bool = False,
) -> None:
    """Checks the cookie and the offered versions, serves what `register` adds on a unix socket,
    prints `handshake` (with {address}) and runs until the stop event is set."""
    if os.environ.get("HECTOR_PLUGIN") != "hector_plugin_v1":
        sys.stderr.write("This binary is a plugin. These are not meant to be executed directly.\n")
        sys.exit(1)
    offered = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "1").split(",")
    if "1" not in offered:
        sys.stderr.write(f"this plugin speaks app protocol version 1; the host offered {offered}\n")
        sys.exit(1)
    if ignore_shutdown:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    asyncio.run(_serve(register, handshake, ignore_shutdown))


async def _serve(
    register: Callable[[grpc.aio.Server, asyncio.Event], None], handshake: str, ignore_shutdown: bool
) -> None:
    stop = asyncio.Event()
    server = grpc.aio.server()
    register(server, stop)

    async def controller_shutdown(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        log("info", "controller shutdown requested")
        if not ignore_shutdown:
            asyncio.get_running_loop().call_later(0.05, stop.set)
        return b""

    async def health_check(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request not in (b"", b"\x0a\x06plugin"):  # HealthCheckRequest{service: "" or "plugin"}
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return b"\x08\x01"  # HealthCheckResponse{status: SERVING}

    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "plugin.GRPCController", {"Shutdown": _raw_unary(controller_shutdown)}
            ),
            grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": _raw_unary(health_check)}),
        )
    )
    address = os.path.join(os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or "/tmp", f"broken-{os.getpid()}.sock")
    server.add_insecure_port("unix:" + address)
    await server.start()
    sys.stdout.write(handshake.format(address=address) + "\n")
    sys.stdout.flush()
    log("debug", "plugin server listening", address=address)
    await stop.wait()
    await server.stop(0.1)
