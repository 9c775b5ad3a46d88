"""A small note-taking MCP server, written with the official `mcp` Python SDK (mcp >= 2.3,
Python >= 3.10).

hector-plugins runs it as a tool provider: an entry under `tool_providers:` such as

    {type: mcp, command: python, args: [examples/python-mcp/notes_server.py]}

launches it and offers its tools next to those of gRPC plugins. The host's tests and benchmark
launch it too: a server built on the reference SDK rather than on anything of this project.

    python notes_server.py              # MCP over stdio (stdin/stdout carry JSON-RPC)
    python notes_server.py --http PORT  # streamable HTTP on http://127.0.0.1:PORT/mcp

Tools: add (structured result), add_note, search_notes, fail (always a tool error) and slow
(sleeps; for timeouts and cancellation). Notes live in memory for the life of the process.
Logs go to stderr only: on stdio, stdout belongs to the protocol.
"""

import argparse
import logging
import sys

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

log = logging.getLogger("notes_server")
HOST = "127.0.0.1"

server = MCPServer("notes", version="0.1.0", instructions="Keeps short notes in memory and searches them.")
notes: dict[str, str] = {}


@server.tool()
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@server.tool()
def add_note(title: str, text: str) -> str:
    """Store a note under a title (replacing any note with that title)."""
    notes[title] = text
    log.info("stored note %r", title)
    return f"saved {title!r} ({len(notes)} notes)"


@server.tool()
def search_notes(query: str) -> list[str]:
    """Titles of the notes whose title or text contains the query (case-insensitive)."""
    needle = query.casefold()
    return [title for title, text in notes.items() if needle in title.casefold() or needle in text.casefold()]


@server.tool(structured_output=False)  # it never returns, so no output schema
def fail(message: str) -> str:
    """Always fails with the given message (the call returns isError: true)."""
    # ToolError is the SDK's anticipated failure: its message reaches the client; any
    # other exception would be reported only as "Error executing tool fail".
    raise ToolError(message)


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep for the given number of seconds, then say so."""
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        # The client cancelled the request (notifications/cancelled) or went away.
        log.info("slow cancelled")
        raise
    return f"slept {seconds:g}s"


def main() -> None:
    parser = argparse.ArgumentParser(description="A note-taking MCP server (stdio by default).")
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT/mcp instead")
    args = parser.parse_args()
    # force: the SDK set up its own handler when `server` was created; this one states where logs go.
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="notes_server: %(message)s", force=True)
    if args.http is None:
        server.run()
    else:
        serve_http(args.http)


def serve_http(port: int) -> None:
    """Streamable HTTP at /mcp. uvicorn is run here rather than through `server.run` because its
    default logging config sends access lines to stdout: with log_config=None its records go to
    the root logger (stderr), and access lines are off (one per call would flood the log)."""
    app = server.streamable_http_app(host=HOST)
    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
