"""The methods of ``hector-plugins call``, one table per plugin type: each method is a thin use of
that type's typed client (docs/python-api.md), its arguments checked before the plugin is
launched (``_cli_call.bind``)."""

from __future__ import annotations

import json
from typing import Any

from ._cli_call import (
    MANY,
    OPTIONAL,
    Arg,
    Call,
    Method,
    Option,
    Outcome,
    PluginKind,
    floats,
    health,
    json_object,
    message,
    positive_int,
    string_map,
    tool_call,
    vector,
)
from ._core import Message, ReasoningState, ToolResult
from .errors import PluginError

TOP_K = Option("--top-k", "top_k", "N", positive_int, "search: how many matches (default 10)")
FILTER = Option("--filter", "filter", "JSON", string_map, "search: only entries whose metadata has these values")
OPTIONS = (TOP_K, FILTER)


async def _health(client: Any, call: Call) -> Outcome:
    return health(await client.health(timeout=call.timeout))


HEALTH = Method(_health, "the plugin's own health report")

# LLM providers (docs/protocol.md §7.3).


def _user(call: Call) -> list[Message]:
    return [Message.user(" ".join(call.values["TEXT"]))]


async def _generate(llm: Any, call: Call) -> Outcome:
    reply = await llm.generate(_user(call), timeout=call.timeout)
    lines = [reply.text] + [f"tool call {c.name}({c.arguments_json})" for c in reply.tool_calls]
    value = {
        "text": reply.text,
        "tool_calls": [tool_call(c) for c in reply.tool_calls],
        "tokens_used": reply.tokens_used,
    }
    return Outcome(value, "\n".join(lines))


async def _stream(llm: Any, call: Call) -> Outcome:
    chunks = []
    async for chunk in llm.generate_stream(_user(call), timeout=call.timeout):
        if call.json:
            chunks.append(_chunk(chunk))
        elif chunk.type == "text":
            print(chunk.text, end="", flush=True)
        elif chunk.type == "error":
            print()
            raise PluginError(f"plugin streamed an error: {chunk.error}")
        elif chunk.type == "tool_call" and chunk.tool_call is not None:
            print(f"\ntool call {chunk.tool_call.name}({chunk.tool_call.arguments_json})", flush=True)
    if not call.json:
        print()
    failed = any(c["type"] == "error" for c in chunks)
    return Outcome(chunks, "", status=1 if failed else 0)


def _chunk(chunk: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"type": chunk.type}
    if chunk.type == "text":
        fields["text"] = chunk.text
    elif chunk.type == "tool_call" and chunk.tool_call is not None:
        fields["tool_call"] = tool_call(chunk.tool_call)
    elif chunk.type == "error":
        fields["error"] = chunk.error
    elif chunk.type == "done":
        fields["tokens_used"] = chunk.tokens_used
    return fields


async def _model_info(llm: Any, call: Call) -> Outcome:
    model = await llm.model_info(timeout=call.timeout)
    return Outcome({"model_name": model.model_name, "max_tokens": model.max_tokens, "temperature": model.temperature})


LLM = {
    "generate": Method(
        _generate, "one completion of the user message TEXT (words joined by spaces)", (Arg("TEXT", count=MANY),)
    ),
    "stream": Method(
        _stream, "the same, printed as it streams (--json: the list of chunks)", (Arg("TEXT", count=MANY),)
    ),
    "model_info": Method(_model_info, "the model's name, token limit and temperature"),
    "health": HEALTH,
}

# Embedders (docs/protocol.md §7.5).


async def _embed(embedder: Any, call: Call) -> Outcome:
    return Outcome(floats(await embedder.embed(call.values["TEXT"], timeout=call.timeout)))


async def _embed_batch(embedder: Any, call: Call) -> Outcome:
    rows = floats(await embedder.embed_batch(call.values["TEXT"], timeout=call.timeout))
    return Outcome(rows, "\n".join(json.dumps(row) for row in rows))


async def _embedder_info(embedder: Any, call: Call) -> Outcome:
    info = await embedder.info(timeout=call.timeout)
    return Outcome({"model_name": info.model_name, "dimension": info.dimension})


EMBEDDER = {
    "embed": Method(_embed, "the vector of TEXT, as a JSON list", (Arg("TEXT"),)),
    "embed_batch": Method(
        _embed_batch,
        "the vectors of the TEXTs in their order: one JSON list per line (--json: one list of lists)",
        (Arg("TEXT", count=MANY),),
    ),
    "info": Method(_embedder_info, "the model's name and dimension"),
    "health": HEALTH,
}

# Vector databases (docs/protocol.md §7.4).


def _done(what: str) -> Outcome:
    return Outcome({"ok": True}, what)


async def _create_collection(db: Any, call: Call) -> Outcome:
    coll, dim = call.values["COLL"], call.values["DIM"]
    await db.create_collection(coll, dim, timeout=call.timeout)
    return _done(f"created collection {coll!r} of {dim}-dimensional vectors")


async def _delete_collection(db: Any, call: Call) -> Outcome:
    await db.delete_collection(call.values["COLL"], timeout=call.timeout)
    return _done(f"deleted collection {call.values['COLL']!r}")


async def _upsert(db: Any, call: Call) -> Outcome:
    v = call.values
    await db.upsert(v["COLL"], v["ID"], v["VECTOR_JSON"], v["METADATA_JSON"], timeout=call.timeout)
    return _done(f"stored {v['ID']!r} in {v['COLL']!r}")


async def _delete(db: Any, call: Call) -> Outcome:
    v = call.values
    await db.delete(v["COLL"], v["ID"], timeout=call.timeout)
    return _done(f"deleted {v['ID']!r} from {v['COLL']!r}")


async def _search(db: Any, call: Call) -> Outcome:
    v = call.values
    top_k = v["top_k"] if v["top_k"] is not None else 10
    found = await db.search(v["COLL"], v["VECTOR_JSON"], top_k, filter=v["filter"], timeout=call.timeout)
    rows = [{"id": r.id, "score": r.score, "content": r.content, "metadata": r.metadata} for r in found]
    text = "\n".join(json.dumps(row) for row in rows) if rows else "no match"
    for row, result in zip(rows, found):
        row["vector"] = floats(result.vector) if result.vector is not None else None
    return Outcome(rows, text)


async def _database_info(db: Any, call: Call) -> Outcome:
    m = await db.info(timeout=call.timeout)
    fields = ("name", "version", "author", "description", "type", "protocol", "hector_version", "capabilities")
    return Outcome({f: getattr(m, f) for f in fields})


COLL, ID, VECTOR = Arg("COLL"), Arg("ID"), Arg("VECTOR_JSON", vector)
DATABASE = {
    "create_collection": Method(
        _create_collection, "a collection of DIM-dimensional vectors", (COLL, Arg("DIM", positive_int))
    ),
    "delete_collection": Method(_delete_collection, "removes a collection and its entries", (COLL,)),
    "upsert": Method(
        _upsert,
        'stores entry ID, e.g. upsert docs a "[0.1, 0.2]" \'{"lang": "en"}\'',
        (COLL, ID, VECTOR, Arg("METADATA_JSON", string_map, OPTIONAL)),
    ),
    "search": Method(
        _search,
        "the best matches, one JSON line each (--json: a list, with their vectors)",
        (COLL, VECTOR),
        (TOP_K, FILTER),
    ),
    "delete": Method(_delete, "removes entry ID", (COLL, ID)),
    "info": Method(_database_info, "the plugin's manifest (GetManifest)"),
    "health": HEALTH,
}

# Tool providers (docs/protocol.md §7.7).


async def _list_tools(tools: Any, call: Call) -> Outcome:
    listed = await tools.list_tools(timeout=call.timeout)
    rows = [
        {"name": t.name, "description": t.description, "parameters": _json_or_text(t.parameters_json)} for t in listed
    ]
    text = "\n".join(f"{t.name}: {t.description}\n    parameters: {t.parameters_json}" for t in listed)
    return Outcome(rows, text or "no tools")


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


async def _call_tool(tools: Any, call: Call) -> Outcome:
    arguments = call.values["ARGS_JSON"]
    result = await tools.call(call.values["TOOL"], arguments or {}, timeout=call.timeout)
    value = _tool_result(result)
    if not result.success:
        return Outcome(value, f"tool {call.values['TOOL']!r} failed: {result.error}", status=1)
    return Outcome(value, result.content + (f"\noutput: {result.output_json}" if result.output_json else ""))


def _tool_result(result: ToolResult) -> dict[str, Any]:
    return {
        "success": result.success,
        "content": result.content,
        "output": _json_or_text(result.output_json),
        "error": result.error,
        "metadata": result.metadata,
        "duration_ms": result.duration_ms,
        "call_id": result.call_id,
    }


TOOLS = {
    "list_tools": Method(_list_tools, "each tool's name, description and JSON-Schema parameters"),
    "call_tool": Method(
        _call_tool,
        'runs TOOL with a JSON object of arguments, e.g. call_tool calculator \'{"expression": "2+3"}\'; '
        "a tool's own failure prints its error and exits 1",
        (Arg("TOOL"), Arg("ARGS_JSON", json_object, OPTIONAL)),
    ),
    "health": HEALTH,
}

# Reasoning strategies (docs/protocol.md §7.8).

_STATE_FIELDS = (
    "iteration",
    "query",
    "conversation",
    "assistant_text",
    "tool_calls",
    "tool_results",
    "custom_state",
    "total_tokens",
)


def reasoning_state(text: str) -> ReasoningState:
    """A JSON object of ``ReasoningState``'s constructor fields; ``tool_results`` items are
    objects of ``ToolResult``'s fields."""
    fields = json_object(text)
    unknown = sorted(set(fields) - set(_STATE_FIELDS))
    if unknown:
        raise ValueError(f"has unknown fields {', '.join(unknown)} (known: {', '.join(_STATE_FIELDS)})")
    results = fields.get("tool_results") or []
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise ValueError("tool_results must be a list of objects (ToolResult's fields)")
    try:
        fields["tool_results"] = [ToolResult(**r) for r in results]
        return ReasoningState(**fields)
    except (TypeError, ValueError) as error:
        raise ValueError(f"is not a reasoning state: {error}") from None


async def _strategy_info(strategy: Any, call: Call) -> Outcome:
    info = await strategy.info(timeout=call.timeout)
    return Outcome({"name": info.name, "description": info.description, "required_tools": info.required_tools})


async def _prompt_slots(strategy: Any, call: Call) -> Outcome:
    slots = await strategy.prompt_slots(timeout=call.timeout)
    names = (
        "system_role",
        "reasoning_instructions",
        "tool_usage",
        "output_format",
        "communication_style",
        "additional",
    )
    return Outcome({n: getattr(slots, n) for n in names})


async def _should_stop(strategy: Any, call: Call) -> Outcome:
    d = await strategy.should_stop(call.values["STATE_JSON"], timeout=call.timeout)
    return Outcome({"stop": d.stop, "reason": d.reason, "custom_state_json": d.custom_state_json})


async def _prepare_iteration(strategy: Any, call: Call) -> Outcome:
    plan = await strategy.prepare_iteration(call.values["STATE_JSON"], timeout=call.timeout)
    inject = [message(m) for m in plan.inject_messages]
    return Outcome({"inject_messages": inject, "custom_state_json": plan.custom_state_json})


async def _after_iteration(strategy: Any, call: Call) -> Outcome:
    state = await strategy.after_iteration(call.values["STATE_JSON"], timeout=call.timeout)
    return Outcome({"custom_state_json": state}, state)


async def _context_injection(strategy: Any, call: Call) -> Outcome:
    text = await strategy.context_injection(call.values["STATE_JSON"], timeout=call.timeout)
    return Outcome({"text": text}, text)


STATE = (Arg("STATE_JSON", reasoning_state),)
REASONING = {
    "info": Method(_strategy_info, "the strategy's name, description and required tools"),
    "prompt_slots": Method(_prompt_slots, "the parts of the system prompt it wants"),
    "should_stop": Method(
        _should_stop,
        'whether the loop ends, e.g. should_stop \'{"iteration": 1, "query": "hi"}\' (STATE_JSON: '
        "ReasoningState's fields; custom_state takes the custom_state_json a hook printed)",
        STATE,
    ),
    "prepare_iteration": Method(_prepare_iteration, "messages to add before the model is called", STATE),
    "after_iteration": Method(_after_iteration, "the new custom state (JSON text)", STATE),
    "context_injection": Method(_context_injection, "text for the model's context", STATE),
    "health": HEALTH,
}

KINDS = {
    "llm_provider": PluginKind(lambda pm, name: pm.llm(name), LLM),
    "embedder_provider": PluginKind(lambda pm, name: pm.embedder(name), EMBEDDER),
    "database_provider": PluginKind(lambda pm, name: pm.database(name), DATABASE),
    "tool_provider": PluginKind(lambda pm, name: pm.tools(name), TOOLS),
    "reasoning_strategy": PluginKind(lambda pm, name: pm.reasoning(name), REASONING),
}
