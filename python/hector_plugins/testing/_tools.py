"""``ToolsConformance``: the ToolProvider contract (docs/protocol.md §7.7)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from .. import PluginManager
from .._core import ToolClient, ToolProgress, ToolResult
from ..errors import PluginCallError, PluginCrashedError, PluginError
from ..literals import PluginTypeName
from ._base import PluginConformance
from ._errors import describe, skip

_NO_TOOL_CALL = "tool_call is None: set tool_call = (tool name, arguments) to check a real call"


class ToolsConformance(PluginConformance):
    """The common rules, and ListTools, ExecuteTool (unknown tools, call ids) and
    ExecuteToolStreaming (its final item, its cancellation)."""

    plugin_type: ClassVar[PluginTypeName] = "tool_provider"
    tool_call: tuple[str, Mapping[str, Any]] | None = None
    """A call that succeeds, e.g. ``("add", {"numbers": [1, 2]})``; without it the rules that
    need a real call check what they can with an unknown tool, or are skipped."""

    def _client(self, pm: PluginManager) -> ToolClient:
        return pm.tools(self.name)

    def _unknown(self) -> str:
        return f"no-such-tool-{uuid.uuid4().hex[:8]}"

    async def _call(self, pm: PluginManager, call_id: str) -> ToolResult:
        assert self.tool_call is not None
        tool, arguments = self.tool_call
        try:
            return await self._client(pm).call(tool, dict(arguments), call_id=call_id, timeout=self.call_timeout)
        except PluginError as error:
            self._fail(f"call({tool!r}, {dict(arguments)!r}) to answer", f"failed: {describe(error)}")

    async def _exercise(self, pm: PluginManager) -> None:
        await self._client(pm).list_tools(timeout=self.call_timeout)
        if self.tool_call is not None:
            await self._call(pm, "exercise")

    async def _one_of_many(self, pm: PluginManager, index: int) -> str | None:
        call_id = f"concurrent-{index}"
        if self.tool_call is None:
            tools = await self._client(pm).list_tools(timeout=self.call_timeout)
            return None if tools else "list_tools() returned no tool"
        result = await self._call(pm, call_id)
        if not result.success:
            return f"the call failed: {result.error!r}"
        return None if result.call_id == call_id else f"echoed call_id {result.call_id!r}, not {call_id!r}"

    def test_list_tools(self) -> None:
        """list_tools() gives at least one tool, with unique non-empty names and JSON-object
        parameter schemas."""
        self._run("list_tools", self._list_tools)

    async def _list_tools(self) -> None:
        expected = "list_tools() to give tools with unique non-empty names and JSON-object parameter schemas"
        async with self._loaded() as (pm, _info):
            try:
                tools = await self._client(pm).list_tools(timeout=self.call_timeout)
            except PluginError as error:
                self._fail(expected, f"failed: {describe(error)}")
        if not tools:
            self._fail(expected, "listed no tool")
        names = [tool.name for tool in tools]
        if "" in names:
            self._fail(expected, f"listed a tool without a name: {names}")
        if len(set(names)) != len(names):
            self._fail(expected, f"listed a name twice: {names}")
        for tool in tools:
            try:
                schema = json.loads(tool.parameters_json)
            except ValueError as error:
                self._fail(expected, f"gave tool {tool.name!r} parameters that are not JSON ({error})")
            if not isinstance(schema, dict) or schema.get("type", "object") != "object":
                self._fail(expected, f"gave tool {tool.name!r} the parameter schema {tool.parameters_json!r}")

    def test_unknown_tool(self) -> None:
        """Calling a tool that is not listed is an in-band failure (success False with an error)
        or a gRPC error, not a crash."""
        self._run("unknown_tool", self._unknown_tool)

    async def _unknown_tool(self) -> None:
        unknown = self._unknown()
        expected = f"call({unknown!r}) to fail (success False with an error, or a gRPC error)"
        async with self._loaded() as (pm, _info):
            try:
                result = await self._client(pm).call(unknown, {}, call_id="unknown-1", timeout=self.call_timeout)
            except PluginCrashedError as error:
                self._fail(expected, f"crashed: {describe(error)}")
            except PluginCallError:
                pass
            else:
                if result.success:
                    self._fail(expected, f"answered success True: {result.content!r}")
                if not result.error:
                    self._fail(expected, "answered success False without an error")
            await self._still_serving(pm, "after a call of an unknown tool")

    def test_call_id_echo(self) -> None:
        """A call's result echoes its call_id."""
        self._run("call_id_echo", self._call_id_echo)

    async def _call_id_echo(self) -> None:
        call_id = f"call-{uuid.uuid4().hex[:8]}"
        async with self._loaded() as (pm, _info):
            if self.tool_call is not None:
                result = await self._call(pm, call_id)
            else:
                try:
                    result = await self._client(pm).call(self._unknown(), {}, call_id=call_id)
                except PluginCallError:
                    skip(f"{_NO_TOOL_CALL} (an unknown tool is a gRPC error here, which carries no call_id)")
        if result.call_id != call_id:
            self._fail(f"the result to echo call_id {call_id!r}", f"echoed {result.call_id!r}")

    def test_tool_call(self) -> None:
        """``tool_call`` succeeds."""
        if self.tool_call is None:
            skip(_NO_TOOL_CALL)
        self._run("tool_call", self._tool_call)

    async def _tool_call(self) -> None:
        async with self._loaded() as (pm, _info):
            result = await self._call(pm, "tool-call")
        if not result.success:
            self._fail(f"call{self.tool_call!r} to succeed", f"answered success False: {result.error!r}")

    def test_stream_ends(self) -> None:
        """call_stream() ends with exactly one item with done=True and a result (for an unknown
        tool without ``tool_call``: that, with success False, or a gRPC error)."""
        self._run("stream_ends", self._stream_ends)

    async def _stream_ends(self) -> None:
        expected = "call_stream() to end with one item with done=True and a result"
        tool, arguments = self.tool_call or (self._unknown(), {})
        call_id = "stream-1"
        items: list[ToolProgress] = []
        async with self._loaded() as (pm, _info):
            try:
                stream = self._client(pm).call_stream(tool, dict(arguments), call_id=call_id, timeout=self.call_timeout)
                async for item in stream:
                    items.append(item)
            except PluginCrashedError as error:
                self._fail(expected, f"crashed after {len(items)} items: {describe(error)}")
            except PluginCallError as error:
                if self.tool_call is None:
                    return  # an unknown tool may be a gRPC error
                self._fail(expected, f"failed after {len(items)} items: {describe(error)}")
        done = [index for index, item in enumerate(items) if item.done]
        if not items or not items[-1].done:
            self._fail(expected, f"ended the stream after {len(items)} items without one with done=True")
        if len(done) != 1:
            self._fail(expected, f"sent {len(done)} items with done=True")
        result = items[-1].result
        if result is None:
            self._fail(expected, "sent the done item without a result")
        if self.tool_call is not None and not result.success:
            self._fail(f"call_stream{self.tool_call!r} to succeed", f"ended with success False: {result.error!r}")
        if self.tool_call is None and result.success:
            self._fail(f"call_stream({tool!r}) of an unknown tool to fail", "ended with success True")
        if self.tool_call is not None and result.call_id != call_id:
            self._fail(f"the final result to echo call_id {call_id!r}", f"echoed {result.call_id!r}")

    def test_stream_cancellation(self) -> None:
        """A tool stream closed after its first item leaves the plugin answering and healthy."""
        if self.tool_call is None:
            skip(_NO_TOOL_CALL)
        self._run("stream_cancellation", self._stream_cancellation)

    async def _stream_cancellation(self) -> None:
        assert self.tool_call is not None
        tool, arguments = self.tool_call
        async with self._loaded() as (pm, _info):
            stream = self._client(pm).call_stream(tool, dict(arguments), call_id="cancel-1", timeout=self.call_timeout)
            try:
                await stream.__anext__()
            except StopAsyncIteration:
                self._fail("call_stream() to yield at least one item", "sent none")
            except PluginError as error:
                self._fail("call_stream() to yield a first item", f"failed: {describe(error)}")
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
            result = await self._call(pm, "after-cancel")
            if not result.success:
                self._fail("call() to succeed after a stream was closed early", f"answered {result.error!r}")
            await self._still_serving(pm, "after a tool stream was closed early")
