"""A Hector LLM plugin written in Python with grpcio, used by the tests.

It serves the real hector.plugin.LLMProvider service over a real socket. A user message
"big N" gets an answer of N characters; "flood N S" is echoed as usual and also makes a thread
write N bytes of 1 KiB lines to stderr, spread over S seconds (the chaos harness's log flood,
benchmarks/chaos.py). Environment variables
make it misbehave on purpose (all optional):

  HECTOR_TEST_PROTO_DIR     where the generated *_pb2 modules are (set by conftest)
  HECTOR_TEST_PIDFILE       write our pid there first thing
  HECTOR_TEST_STDERR        text written to stderr before anything else
  HECTOR_TEST_STDOUT_FIRST  text printed on stdout before the handshake line
  HECTOR_TEST_EXIT          exit with this status before printing the handshake line
  HECTOR_TEST_SLEEP         sleep this many seconds before the handshake line
  HECTOR_TEST_HANDSHAKE     the line to print, {address} and {network} are filled in
                            (default "1|1|{network}|{address}|grpc|")
  HECTOR_TEST_NETWORK       unix (default) or tcp
  HECTOR_TEST_TCP_HOST      the interface a tcp plugin listens on (default 127.0.0.1)
  HECTOR_TEST_HTTP1         serve plain HTTP/1 (http.server) on the address instead of gRPC
  HECTOR_TEST_LONG_LINE     print a line of this many characters instead of a handshake line
  HECTOR_TEST_HANG          after printing the handshake line, never serve
  HECTOR_TEST_FLOOD         bytes written to stdout AND stderr right after the handshake
  HECTOR_TEST_EMBEDDER      also serve EmbedderProvider (see Embedder: it fails on request)
  HECTOR_TEST_SHOW_ENV      comma list of variable names: logs "env NAME=VALUE" for each
  HECTOR_TEST_SHUTDOWN_MARK a file that gets a line "shutdown <pid>" when the Shutdown RPC arrives,
                            and "exited <pid>" when the plugin then exits on its own
  HECTOR_TEST_SHUTDOWN_DELAY seconds to take between the Shutdown RPC and exiting
  HECTOR_TEST_FDFILE        write "fd -> target" for every open descriptor there, first thing
  HECTOR_TEST_DESCENDANTS   start a child in our process group and a `setsid` daemon outside
                            it (double fork: its parent exits), write "<child> <daemon>" there
  HECTOR_TEST_DIE_AFTER     exit with status 3 this many seconds after the handshake line
  HECTOR_TEST_UNHEALTHY_FILE the Health RPC answers unhealthy while this file exists
  HECTOR_TEST_STARTS        a file that gets a line "<pid>" at each start (counts restarts)
"""

import os
import sys

if os.environ.get("HECTOR_TEST_FDFILE"):
    # Before any import opens a file of its own.
    _fds = []
    for _fd in os.listdir("/proc/self/fd"):
        try:
            _fds.append(f"{_fd} -> {os.readlink(f'/proc/self/fd/{_fd}')}")
        except OSError:
            pass  # the descriptor of the listing itself, already closed
    with open(os.environ["HECTOR_TEST_FDFILE"], "w") as _f:
        _f.write("\n".join(_fds))

import asyncio  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

# Before the slow grpc import: tests wait for these, and a loaded machine takes seconds to import.
if __name__ == "__main__":
    if os.environ.get("HECTOR_TEST_PIDFILE"):
        with open(os.environ["HECTOR_TEST_PIDFILE"], "w") as f:
            f.write(str(os.getpid()))
    if os.environ.get("HECTOR_TEST_STDERR"):
        sys.stderr.write(os.environ["HECTOR_TEST_STDERR"] + "\n")
        sys.stderr.flush()

sys.path.insert(0, os.environ["HECTOR_TEST_PROTO_DIR"])

import grpc  # noqa: E402
from hector.plugin import common_pb2, embedder_pb2, embedder_pb2_grpc, llm_pb2, llm_pb2_grpc  # noqa: E402


def log(message: str) -> None:
    sys.stderr.write(f"[INFO] {message}\n")
    sys.stderr.flush()


def append_line(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


async def mark(event: str) -> None:
    """Appends "<event> <pid>" to HECTOR_TEST_SHUTDOWN_MARK, off the event loop that serves the calls."""
    if os.environ.get("HECTOR_TEST_SHUTDOWN_MARK"):
        await asyncio.to_thread(append_line, os.environ["HECTOR_TEST_SHUTDOWN_MARK"], f"{event} {os.getpid()}")


class EchoLLM(llm_pb2_grpc.LLMProviderServicer):
    def __init__(self) -> None:
        self.config: dict = {}

    async def Initialize(self, request, context):
        self.config = dict(request.config)
        log(f"initialized with {sorted(self.config)}")
        if self.config.get("fail_initialize"):
            return common_pb2.InitializeResponse(success=False, error="api_key is missing")
        if self.config.get("crash_initialize"):
            os._exit(3)
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        log("shutdown requested")
        await mark("shutdown")
        delay = float(os.environ.get("HECTOR_TEST_SHUTDOWN_DELAY", "0.05"))
        asyncio.get_running_loop().call_later(delay, stop_event.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        sick = os.environ.get("HECTOR_TEST_UNHEALTHY_FILE")
        if sick and await asyncio.to_thread(os.path.exists, sick):
            return common_pb2.HealthResponse(healthy=False, message="told to be unhealthy")
        return common_pb2.HealthResponse(healthy=True, message="python ok")

    async def GetManifest(self, request, context):
        return common_pb2.ManifestResponse(name="py-llm", version="0.1.0", type="llm_provider", protocol="grpc")

    async def GetStatus(self, request, context):
        return common_pb2.StatusResponse(status="ready")

    def _reply(self, request) -> str:
        users = [m.content for m in request.messages if m.role in ("user", "ROLE_USER")]
        last = users[-1] if users else ""
        if last == "crash":
            os._exit(7)
        if last.startswith("big "):
            return "x" * int(last.split()[1])
        if last.startswith("flood "):
            _, size, seconds = last.split()
            threading.Thread(target=flood_stderr, args=(int(size), float(seconds)), daemon=True).start()
        return "Echo: " + last

    async def Generate(self, request, context):
        text = self._reply(request)
        if "sleep" in text:
            await asyncio.sleep(float(text.split()[-1]))
        return llm_pb2.GenerateResponse(text=text, tokens_used=len(text.split()))

    async def GenerateStreaming(self, request, context):
        text = self._reply(request)
        delay = int(self.config.get("stream_delay_ms", "0")) / 1000
        words = text.split(" ")
        try:
            for i, word in enumerate(words):
                if delay:
                    await asyncio.sleep(delay)
                yield llm_pb2.StreamChunk(
                    type=llm_pb2.StreamChunk.TEXT, text=word + (" " if i < len(words) - 1 else "")
                )
            yield llm_pb2.StreamChunk(type=llm_pb2.StreamChunk.DONE, tokens_used=len(words))
        except asyncio.CancelledError:
            log("stream cancelled by host")
            raise

    async def GetModelInfo(self, request, context):
        return llm_pb2.ModelInfo(model_name="py-echo", max_tokens=128, temperature=0.5)


DAEMON = """
import os, sys
os.setsid()
if os.fork():
    os._exit(0)
os.write(int(sys.argv[1]), str(os.getpid()).encode())
os.execvp("sleep", ["sleep", "3600"])
"""


def start_descendants(path: str) -> None:
    """A child in our group, and a daemon that left both our group and our process tree."""
    in_group = subprocess.Popen(["sleep", "3600"])
    read, write = os.pipe()
    launcher = subprocess.Popen([sys.executable, "-c", DAEMON, str(write)], pass_fds=[write])
    os.close(write)
    launcher.wait()
    daemon = int(os.read(read, 32))
    os.close(read)
    with open(path + ".tmp", "w") as f:
        f.write(f"{in_group.pid} {daemon}")
    os.rename(path + ".tmp", path)


def flood(n: int) -> None:
    line = ("x" * 1023 + "\n").encode()
    for stream in (sys.stdout.buffer, sys.stderr.buffer):
        written = 0
        while written < n:
            stream.write(line)
            written += len(line)
        stream.flush()


def flood_stderr(n: int, seconds: float) -> None:
    """n bytes of 1 KiB lines to stderr, in even steps every 10 ms for `seconds`."""
    line = ("y" * 1023 + "\n").encode()
    steps = max(1, int(seconds / 0.01))
    per_step = max(1, n // len(line) // steps)
    start = time.monotonic()
    written = 0
    for step in range(steps):
        if written >= n:
            break
        sys.stderr.buffer.write(line * per_step)
        sys.stderr.buffer.flush()
        written += per_step * len(line)
        time.sleep(max(0.0, start + (step + 1) * 0.01 - time.monotonic()))


class Embedder(embedder_pb2_grpc.EmbedderProviderServicer):
    """An embedder that misbehaves on request, for the host's error paths. The vector of a text
    is ``[len(text), 1, 1, ...]`` of ``dimension`` floats (config, default 4), except for these
    texts, in Embed and EmbedBatch alike: ``""`` is refused in-band, ``"status"`` with
    INVALID_ARGUMENT, ``"crash"`` exits the process, ``"sleep N"`` answers after N seconds,
    ``"short"`` gets one float too few. Config ``no_batch``: EmbedBatch answers UNIMPLEMENTED,
    as from a plugin written before it. Health reports how many calls of each RPC arrived."""

    def __init__(self) -> None:
        self.config: dict = {}
        self.calls = {"Embed": 0, "EmbedBatch": 0}

    async def Initialize(self, request, context):
        self.config = dict(request.config)
        return common_pb2.InitializeResponse(success=True)

    async def Shutdown(self, request, context):
        asyncio.get_running_loop().call_later(0.05, stop_event.set)
        return common_pb2.ShutdownResponse(success=True)

    async def Health(self, request, context):
        counts = ", ".join(f"{rpc} {count}" for rpc, count in self.calls.items())
        return common_pb2.HealthResponse(healthy=True, message=counts)

    async def _vector(self, text: str, context) -> list:
        """The vector of `text`, or None after refusing it in-band."""
        dimension = int(self.config.get("dimension", "4"))
        if text == "status":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the text 'status' is refused")
        if text == "crash":
            os._exit(9)
        if text.startswith("sleep "):
            await asyncio.sleep(float(text.split()[1]))
        if text == "short":
            dimension -= 1
        return [float(len(text))] + [1.0] * (dimension - 1)

    async def Embed(self, request, context):
        self.calls["Embed"] += 1
        if not request.text:
            return embedder_pb2.EmbedResponse(error="cannot embed an empty text")
        return embedder_pb2.EmbedResponse(vector=await self._vector(request.text, context))

    async def EmbedBatch(self, request, context):
        self.calls["EmbedBatch"] += 1
        if self.config.get("no_batch"):
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        if "" in request.texts:
            return embedder_pb2.EmbedBatchResponse(error=f"texts[{list(request.texts).index('')}] is empty")
        vectors = []
        for text in request.texts:
            vectors.extend(await self._vector(text, context))
        return embedder_pb2.EmbedBatchResponse(vectors=vectors, dimension=int(self.config.get("dimension", "4")))

    async def GetEmbedderInfo(self, request, context):
        return embedder_pb2.EmbedderInfo(model_name="py-embedder", dimension=int(self.config.get("dimension", "4")))


stop_event: asyncio.Event


def serve_http1(path: str) -> None:
    """A real HTTP/1 server on the unix socket: what a wrong address in the handshake reaches."""
    import http.server
    import socketserver

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            log("http1: " + format % args)

        def address_string(self) -> str:
            return "unix"

    server = socketserver.UnixStreamServer(path, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


async def main() -> None:
    global stop_event
    stop_event = asyncio.Event()
    env = os.environ
    if env.get("HECTOR_PLUGIN") != "hector_plugin_v1":
        sys.stderr.write("This binary is a plugin. These are not meant to be executed directly.\n")
        sys.exit(1)
    server = grpc.aio.server()
    llm_pb2_grpc.add_LLMProviderServicer_to_server(EchoLLM(), server)
    if env.get("HECTOR_TEST_EMBEDDER"):
        embedder_pb2_grpc.add_EmbedderProviderServicer_to_server(Embedder(), server)
    network = env.get("HECTOR_TEST_NETWORK", "unix")
    if network == "tcp":
        host = env.get("HECTOR_TEST_TCP_HOST", "127.0.0.1")
        port = server.add_insecure_port(f"{host}:0")
        address = f"{host}:{port}"
    else:
        address = os.path.join(env.get("PLUGIN_UNIX_SOCKET_DIR", "/tmp"), f"py-llm-{os.getpid()}.sock")
        if env.get("HECTOR_TEST_HTTP1"):
            serve_http1(address)
        else:
            server.add_insecure_port("unix:" + address)
    if env.get("HECTOR_TEST_LONG_LINE"):
        sys.stdout.write("x" * int(env["HECTOR_TEST_LONG_LINE"]) + "\n")
        sys.stdout.flush()
    if env.get("HECTOR_TEST_HANG") or env.get("HECTOR_TEST_HTTP1"):
        pass
    else:
        await server.start()
    line = env.get("HECTOR_TEST_HANDSHAKE", "1|1|{network}|{address}|grpc|").format(network=network, address=address)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if env.get("HECTOR_TEST_FLOOD"):
        threading.Thread(target=flood, args=(int(env["HECTOR_TEST_FLOOD"]),), daemon=True).start()
    if env.get("HECTOR_TEST_STARTS"):
        append_line(env["HECTOR_TEST_STARTS"], str(os.getpid()))
    if env.get("HECTOR_TEST_DIE_AFTER"):
        asyncio.get_running_loop().call_later(float(env["HECTOR_TEST_DIE_AFTER"]), os._exit, 3)
    if env.get("HECTOR_TEST_HANG") or env.get("HECTOR_TEST_HTTP1"):
        await asyncio.sleep(3600)
    await stop_event.wait()
    await server.stop(0.1)
    await mark("exited")


if __name__ == "__main__":
    for name in filter(None, os.environ.get("HECTOR_TEST_SHOW_ENV", "").split(",")):
        sys.stderr.write(f"[INFO] env {name}={os.environ.get(name, '<unset>')}\n")
    if os.environ.get("HECTOR_TEST_STDOUT_FIRST"):
        sys.stdout.write(os.environ["HECTOR_TEST_STDOUT_FIRST"] + "\n")
        sys.stdout.flush()
    if os.environ.get("HECTOR_TEST_DESCENDANTS"):
        start_descendants(os.environ["HECTOR_TEST_DESCENDANTS"])
    if os.environ.get("HECTOR_TEST_EXIT"):
        sys.exit(int(os.environ["HECTOR_TEST_EXIT"]))
    if os.environ.get("HECTOR_TEST_SLEEP"):
        time.sleep(float(os.environ["HECTOR_TEST_SLEEP"]))
    asyncio.run(main())
