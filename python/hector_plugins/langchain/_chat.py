"""``HectorChatModel``: an LLM plugin (``pm.llm(name)``) as a LangChain chat model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Callable, Optional

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, field_validator

from .._core import LLMClient, ToolDefinition
from ..errors import PluginCallError
from ._messages import (
    to_ai_message,
    to_hector_messages,
    to_openai_tools,
    to_tool_definitions,
    tool_call_message_chunk,
    usage,
)
from ._sync import iterate_sync, run_sync

# The tool choices that leave the decision to the model, which is all the protocol can express.
_MODEL_DECIDES = (None, "auto")


class HectorChatModel(BaseChatModel):
    """A chat model served by an LLM plugin, in-process provider or fallback chain.

    ``HectorChatModel(client=pm.llm("echo"), timeout=30.0)``. ``timeout`` bounds each call (each
    chunk's wait when streaming); None: the plugin's ``call_timeout``.

    The async API (``ainvoke``, ``astream``, ``abatch``, LangGraph) is the native one. The sync
    API (``invoke``, ``stream``, ``batch``) works in a thread that runs no event loop (a script,
    a worker thread): each call runs on a loop of its own. Called from a thread that runs a loop
    (inside ``async def``, a notebook cell) it raises ``PluginUsageError`` rather than block that
    loop: await the async method there.

    Messages carry text only (list contents must be text blocks). Stop sequences and a forced
    ``tool_choice`` are refused: the protocol has neither. Token usage is the plugin's
    ``tokens_used``, reported as ``total_tokens`` and ``output_tokens`` (``input_tokens`` 0).
    """

    client: LLMClient
    """The plugin's client, ``pm.llm(name)``."""
    # Optional[...] rather than `float | None`: pydantic evaluates field annotations, also on 3.9.
    timeout: Optional[float] = None  # noqa: UP045
    """Seconds each call may take; None: the plugin's ``call_timeout``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_validator("client", mode="before")
    @classmethod
    def _check_client(cls, client: object) -> object:
        if not isinstance(client, LLMClient):
            raise TypeError(
                f"HectorChatModel(client=...) takes a hector_plugins.LLMClient (pm.llm(name)), "
                f"not {type(client).__name__} {client!r}"
            )
        return client

    @property
    def _llm_type(self) -> str:
        return "hector-plugins"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"plugin": self.client.name, "timeout": self.timeout}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool | ToolDefinition],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model with ``tools`` offered on every call: LangChain tools, functions, pydantic
        models, dicts (OpenAI-style or a JSON Schema with a title), or ``ToolDefinition``s (e.g.
        ``await pm.tools(name).list_tools()``). ``tool_choice`` can only be None or ``"auto"``."""
        if tool_choice not in _MODEL_DECIDES:
            raise ValueError(
                f"tool_choice={tool_choice!r}: a plugin model always chooses its tools itself "
                "(the protocol has no tool choice); leave it None or 'auto'"
            )
        return self.bind(tools=to_openai_tools(tools), **kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = _call_tools(stop, kwargs)
        response = await self.client.generate(to_hector_messages(messages), tools, timeout=self.timeout)
        return ChatResult(
            generations=[ChatGeneration(message=to_ai_message(response))],
            llm_output={"tokens_used": response.tokens_used},
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        tools = _call_tools(stop, kwargs)
        stream = self.client.generate_stream(to_hector_messages(messages), tools, timeout=self.timeout)
        tool_calls = 0
        async for chunk in stream:
            if chunk.type == "text":
                yield ChatGenerationChunk(message=AIMessageChunk(content=chunk.text))
            elif chunk.type == "tool_call" and chunk.tool_call is not None:
                yield ChatGenerationChunk(message=tool_call_message_chunk(chunk.tool_call, tool_calls))
                tool_calls += 1
            elif chunk.type == "done":
                message = AIMessageChunk(content="", usage_metadata=usage(chunk.tokens_used))
                yield ChatGenerationChunk(message=message, generation_info={"tokens_used": chunk.tokens_used})
            elif chunk.type == "error":
                raise PluginCallError(
                    f'plugin "{self.client.name}": the model\'s stream reported an error: {chunk.error}',
                    plugin=self.client.name,
                    code="UNKNOWN",
                    method="GenerateStreaming",
                )
            # "unknown": a chunk type newer than this library; nothing in it can be read.

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return run_sync(
            lambda: self._agenerate(messages, stop, None, **kwargs),
            "HectorChatModel.invoke()",
            "ainvoke()",
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        return iterate_sync(
            lambda: self._astream(messages, stop, None, **kwargs),
            "HectorChatModel.stream()",
            "astream()",
        )


def _call_tools(stop: list[str] | None, kwargs: dict[str, Any]) -> list[ToolDefinition] | None:
    """The tools of one call (bound with ``bind_tools`` or passed as ``tools=``); anything the
    protocol cannot carry raises."""
    if stop:
        raise ValueError(f"stop={stop!r}: a plugin model has no stop sequences (the protocol has none)")
    tools = kwargs.pop("tools", None)
    if kwargs:
        raise TypeError(f"HectorChatModel got call options it does not know: {sorted(kwargs)}")
    return None if tools is None else to_tool_definitions(tools)
