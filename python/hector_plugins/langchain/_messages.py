"""LangChain's messages and tools as hector_plugins' ``Message`` and ``ToolDefinition``, and the
plugin's answers (``GenerateResponse``, ``StreamChunk``) as LangChain's AI messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages import ToolCall as LangChainToolCall
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.utils.function_calling import convert_to_openai_tool

from .._core import GenerateResponse, Message, ToolCall, ToolDefinition


def to_hector_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """The conversation as the plugin gets it; a message it cannot carry raises, naming its index."""
    return [_to_hector_message(message, f"messages[{index}]") for index, message in enumerate(messages)]


def _to_hector_message(message: BaseMessage, where: str) -> Message:
    content = _text_of(message, where)
    # Chunks (AIMessageChunk, ...) are subclasses of their messages and convert the same way.
    if isinstance(message, SystemMessage):
        return Message.system(content)
    if isinstance(message, HumanMessage):
        return Message.user(content)
    if isinstance(message, AIMessage):
        return Message.assistant(content, tool_calls=_outgoing_tool_calls(message))
    if isinstance(message, ToolMessage):
        return Message.tool(content, message.tool_call_id)
    if isinstance(message, ChatMessage):
        return Message(message.role, content)
    raise TypeError(
        f"{where} is a {type(message).__name__}; HectorChatModel sends system, human, AI, tool and chat messages"
    )


def _text_of(message: BaseMessage, where: str) -> str:
    """The message's text: its content, or the text blocks of a list content joined."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise ValueError(f"{where} has a {kind!r} content block; a plugin message carries text only")
    return "".join(parts)


def _outgoing_tool_calls(message: AIMessage) -> list[ToolCall]:
    calls = [ToolCall(call.get("id") or "", call["name"], call["args"]) for call in message.tool_calls]
    # Calls whose arguments were not JSON go back as the model wrote them: their tool messages follow.
    calls += [
        ToolCall(call.get("id") or "", call.get("name") or "", arguments_json=call.get("args") or "{}")
        for call in message.invalid_tool_calls
    ]
    return calls


def to_openai_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Tools in any form LangChain binds (``BaseTool``, function, pydantic model, OpenAI-style or
    JSON Schema dict) or hector_plugins ``ToolDefinition``s, in the OpenAI form LangChain binds
    and traces; a tool that has no such form raises, naming its index."""
    return [_to_openai_tool(tool, f"tools[{index}]") for index, tool in enumerate(tools)]


def _to_openai_tool(tool: Any, where: str) -> dict[str, Any]:
    if isinstance(tool, ToolDefinition):
        function = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
        return {"type": "function", "function": function}
    try:
        spec = convert_to_openai_tool(tool)
    except Exception as error:  # LangChain raises ValueError, TypeError or pydantic's errors
        raise TypeError(f"{where} ({tool!r}) cannot be offered to the model as a tool: {error}") from error
    if not isinstance(spec.get("function"), dict):
        raise TypeError(f"{where} ({tool!r}) is not a function tool; a plugin model can only call functions")
    return spec


def to_tool_definitions(tools: Sequence[Any]) -> list[ToolDefinition]:
    """The tools (any form ``to_openai_tools`` takes) as the plugin gets them."""
    definitions = []
    for index, tool in enumerate(tools):
        if isinstance(tool, ToolDefinition):
            definitions.append(tool)
            continue
        function = _to_openai_tool(tool, f"tools[{index}]")["function"]
        parameters = function.get("parameters") or None
        definitions.append(ToolDefinition(function["name"], function.get("description") or "", parameters))
    return definitions


def to_ai_message(response: GenerateResponse) -> AIMessage:
    """The plugin's answer, its tool calls parsed (those whose arguments are not a JSON object
    land in ``invalid_tool_calls``)."""
    calls: list[LangChainToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in response.tool_calls:
        call_id = call.id or new_call_id()
        try:  # no arguments at all is the empty object, as the agent loop reads them too
            arguments = call.arguments if call.arguments_json.strip() else {}
        except ValueError as error:
            invalid.append(_invalid(call, call_id, f"the arguments are not JSON: {error}"))
            continue
        if isinstance(arguments, dict):
            calls.append(tool_call(name=call.name, args=arguments, id=call_id))
        else:
            invalid.append(_invalid(call, call_id, "the arguments are not a JSON object"))
    return AIMessage(
        content=response.text,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage(response.tokens_used),
    )


def _invalid(call: ToolCall, call_id: str, error: str) -> InvalidToolCall:
    return invalid_tool_call(name=call.name, args=call.arguments_json, id=call_id, error=error)


def tool_call_message_chunk(call: ToolCall, index: int) -> AIMessageChunk:
    """A streamed tool call: one whole call per chunk, ``index`` telling calls apart when chunks add up."""
    piece = tool_call_chunk(name=call.name, args=call.arguments_json, id=call.id or new_call_id(), index=index)
    return AIMessageChunk(content="", tool_call_chunks=[piece])


def usage(tokens_used: int) -> UsageMetadata:
    """The protocol reports one count, ``tokens_used``: it is the total, and counted as output."""
    return UsageMetadata(input_tokens=0, output_tokens=tokens_used, total_tokens=tokens_used)


def new_call_id() -> str:
    """An id for a tool call the plugin sent without one: LangChain's tool messages must name their call."""
    return f"call_{uuid.uuid4().hex}"
