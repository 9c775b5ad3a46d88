"""``LLMConformance``: the LLMProvider contract (docs/protocol.md §7.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .. import PluginManager
from .._core import GenerateResponse, LLMClient
from ..errors import PluginError
from ..literals import PluginTypeName
from ._base import PluginConformance
from ._errors import describe

_CHUNK_TYPES = ("text", "tool_call", "done", "error")


class LLMConformance(PluginConformance):
    """The common rules, and Generate, GetModelInfo, GenerateStreaming (its end, its cancellation)."""

    plugin_type: ClassVar[PluginTypeName] = "llm_provider"
    sample_messages: Sequence[Mapping[str, Any]] = ({"role": "user", "content": "Say hello"},)
    """The conversation the rules send."""

    def _client(self, pm: PluginManager) -> LLMClient:
        return pm.llm(self.name)

    def _messages(self, suffix: str = "") -> list[dict[str, Any]]:
        messages = [dict(message) for message in self.sample_messages]
        if suffix and messages:
            messages[-1]["content"] = f"{messages[-1].get('content', '')}{suffix}"
        return messages

    def _answer_problem(self, response: object) -> str | None:
        if not isinstance(response, GenerateResponse):
            return f"returned {type(response).__name__}, not a GenerateResponse"
        if not response.text and not response.tool_calls:
            return "returned a GenerateResponse with neither text nor tool calls"
        nameless = [call for call in response.tool_calls if not call.name]
        if nameless:
            return f"returned a tool call without a name (id {nameless[0].id!r})"
        return None

    async def _exercise(self, pm: PluginManager) -> None:
        llm = self._client(pm)
        await llm.generate(self._messages(), timeout=self.call_timeout)
        async for _chunk in llm.generate_stream(self._messages(), timeout=self.call_timeout):
            pass

    async def _one_of_many(self, pm: PluginManager, index: int) -> str | None:
        return self._answer_problem(await self._client(pm).generate(self._messages(f" {index}")))

    def test_generate(self) -> None:
        """generate() returns a GenerateResponse with text or tool calls (each with a name)."""
        self._run("generate", self._generate)

    async def _generate(self) -> None:
        async with self._loaded() as (pm, _info):
            try:
                response = await self._client(pm).generate(self._messages(), timeout=self.call_timeout)
            except PluginError as error:
                self._fail(f"generate({self._messages()!r}) to answer", f"failed: {describe(error)}")
            problem = self._answer_problem(response)
            if problem:
                self._fail("generate() to return a GenerateResponse with text or tool calls", problem)

    def test_model_info(self) -> None:
        """model_info() names the model."""
        self._run("model_info", self._model_info)

    async def _model_info(self) -> None:
        async with self._loaded() as (pm, _info):
            try:
                info = await self._client(pm).model_info(timeout=self.call_timeout)
            except PluginError as error:
                self._fail("model_info() to answer", f"failed: {describe(error)}")
            if not info.model_name:
                self._fail("model_info() to give a model_name", "gave an empty model_name")

    def test_stream_ends(self) -> None:
        """generate_stream() yields chunks of known types and ends with exactly one "done" chunk."""
        self._run("stream_ends", self._stream_ends)

    async def _stream_ends(self) -> None:
        expected = "generate_stream() to yield text/tool_call chunks and end with one 'done' chunk"
        async with self._loaded() as (pm, _info):
            types: list[str] = []
            try:
                async for chunk in self._client(pm).generate_stream(self._messages(), timeout=self.call_timeout):
                    types.append(chunk.type)
                    if chunk.type == "error":
                        self._fail(expected, f"sent an error chunk: {chunk.error!r}")
                    if chunk.type not in _CHUNK_TYPES:
                        self._fail(expected, f"sent a chunk of a type outside the protocol ({chunk.type})")
            except PluginError as error:
                self._fail(expected, f"failed after {len(types)} chunks: {describe(error)}")
            if not types or types[-1] != "done":
                self._fail(expected, f"ended the stream without a done chunk: it sent {_summary(types)}")
            if types.count("done") != 1:
                self._fail(expected, f"sent {types.count('done')} done chunks: {_summary(types)}")

    def test_stream_cancellation(self) -> None:
        """A stream closed after its first chunk leaves the plugin answering and healthy."""
        self._run("stream_cancellation", self._stream_cancellation)

    async def _stream_cancellation(self) -> None:
        async with self._loaded() as (pm, _info):
            llm = self._client(pm)
            stream = llm.generate_stream(self._messages(), timeout=self.call_timeout)
            try:
                await stream.__anext__()
            except StopAsyncIteration:
                self._fail("generate_stream() to yield at least one chunk", "sent none")
            except PluginError as error:
                self._fail("generate_stream() to yield a first chunk", f"failed: {describe(error)}")
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
            after = "after a stream was closed early"
            try:
                response = await llm.generate(self._messages(), timeout=self.call_timeout)
            except PluginError as error:
                self._fail(f"generate() to answer {after}", f"failed: {describe(error)}")
            problem = self._answer_problem(response)
            if problem:
                self._fail(f"generate() to answer {after}", problem)
            await self._still_serving(pm, after)


def _summary(types: list[str]) -> str:
    """``['text', 'text', 'done']`` as "3 chunks: text x2, done"."""
    if not types:
        return "no chunk"
    runs: list[str] = []
    for kind in types:
        if runs and runs[-1].split(" x")[0] == kind:
            name, _, count = runs[-1].partition(" x")
            runs[-1] = f"{name} x{int(count or 1) + 1}"
        else:
            runs.append(kind)
    return f"{len(types)} chunks: {', '.join(runs)}"
