"""The LangChain adapters (hector_plugins.langchain) dropped into LangChain and LangGraph programs,
over real plugin processes: the Go echo LLM (scripted by its input, examples/go/echo-llm), the Go
tool provider (calculator), the Rust embedder and the Python vector database."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import IN_CI

# langchain-core and langgraph come with the dev extra on Python >= 3.10 only.
if sys.version_info < (3, 10):
    pytest.skip("the LangChain adapters are tested on Python >= 3.10", allow_module_level=True)
for _module in ("langchain_core", "langgraph.graph"):  # langgraph's other packages install `langgraph` too
    if importlib.util.find_spec(_module) is None:
        _why = f"{_module} is not installed: pip install 'langchain-core>=0.3.36' 'langgraph>=0.3' (or the dev extra)"
        if IN_CI:
            pytest.fail(_why, pytrace=False)
        pytest.skip(_why, allow_module_level=True)

import numpy as np  # noqa: E402
from hector_plugins import (  # noqa: E402
    GenerateResponse,
    Message,
    PluginCallError,
    PluginCrashedError,
    PluginManager,
    PluginUsageError,
    StreamChunk,
    ToolCall,
    ToolDefinition,
)
from hector_plugins.langchain import (  # noqa: E402
    HectorChatModel,
    HectorEmbeddings,
    HectorVectorStore,
    load_tools,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.runnables import RunnableLambda  # noqa: E402
from langchain_core.tools import BaseTool  # noqa: E402
from langgraph.graph import START, MessagesState, StateGraph  # noqa: E402
from langgraph.prebuilt import ToolNode, tools_condition  # noqa: E402

CALL_CALCULATOR = 'call calculator {"expression": "%s"}'
DOCS = ["the cat sat on the mat", "stock prices fell sharply today", "a recipe for lemon cake"]


@pytest.fixture
async def pm(
    go_plugin: Path, tools_plugin: Path, rust_embedder: Path, vectordb_plugin: Path
) -> AsyncIterator[PluginManager]:
    async with PluginManager() as manager:
        await load_plugins(manager, go_plugin, tools_plugin, rust_embedder, vectordb_plugin)
        yield manager


async def load_plugins(
    manager: PluginManager, go_plugin: Path, tools_plugin: Path, rust_embedder: Path, vectordb_plugin: Path
) -> PluginManager:
    """The echo LLM "echo", the tools "tools", the embedder "vectors" (dimension 64) and the database "db"."""
    await asyncio.gather(
        manager.load(go_plugin, name="echo"),
        manager.load(tools_plugin, name="tools", type="tool_provider"),
        manager.load(rust_embedder, name="vectors", type="embedder", config={"dimension": 64}),
        manager.load(vectordb_plugin, name="db", type="database"),
    )
    return manager


def prompt_chain(model: HectorChatModel) -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "Answer briefly."), ("human", "say {what}")])
    return prompt | model | StrOutputParser()


def agent(model: HectorChatModel, tools: list[BaseTool]) -> Any:
    """The tool-calling loop of LangGraph (what its deprecated create_react_agent built): the model,
    then the tools it asked for, until it asks for none. Runs with ainvoke and with invoke."""
    bound = model.bind_tools(tools)

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [bound.invoke(state["messages"])]}

    async def acall_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", RunnableLambda(call_model, afunc=acall_model))
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition)
    graph.add_edge("tools", "model")
    return graph.compile()


# The chat model.


async def test_an_lcel_chain_answers_with_ainvoke_astream_and_abatch(pm: PluginManager) -> None:
    chain = prompt_chain(HectorChatModel(client=pm.llm("echo")))
    assert await chain.ainvoke({"what": "hello"}) == "Echo: say hello"
    pieces = [piece async for piece in chain.astream({"what": "one two three"})]
    assert "".join(pieces) == "Echo: say one two three"
    assert len([p for p in pieces if p]) > 1, pieces  # word by word, as the plugin streams it
    answers = await chain.abatch([{"what": "a"}, {"what": "b"}, {"what": "c"}])
    assert answers == ["Echo: say a", "Echo: say b", "Echo: say c"]


async def test_the_answer_carries_the_plugins_token_count(pm: PluginManager) -> None:
    model = HectorChatModel(client=pm.llm("echo"), timeout=30.0)
    reply = await model.ainvoke([HumanMessage("a b c")])
    assert isinstance(reply, AIMessage) and reply.content == "Echo: a b c"
    assert reply.usage_metadata == {"input_tokens": 0, "output_tokens": 4, "total_tokens": 4}
    chunks = [chunk async for chunk in model.astream([HumanMessage("a b c")])]
    streamed = sum(chunks[1:], chunks[0])
    assert streamed.content == "Echo: a b c" and streamed.usage_metadata is not None
    assert streamed.usage_metadata["total_tokens"] == 4


async def test_a_tool_call_comes_back_parsed_whole_and_streamed(pm: PluginManager) -> None:
    model = HectorChatModel(client=pm.llm("echo")).bind_tools(await load_tools(pm.tools("tools")))
    question = [HumanMessage(CALL_CALCULATOR % "2+3")]
    expected = [{"name": "calculator", "args": {"expression": "2+3"}, "id": "call_1", "type": "tool_call"}]
    reply = await model.ainvoke(question)
    assert reply.content == "" and reply.tool_calls == expected
    chunks = [chunk async for chunk in model.astream(question)]
    streamed = sum(chunks[1:], chunks[0])
    assert isinstance(streamed, AIMessageChunk) and streamed.tool_calls == expected
    [piece] = streamed.tool_call_chunks
    assert (piece["index"], piece["args"]) == (0, '{"expression": "2+3"}')


async def test_tools_of_every_form_bind_and_reach_the_plugin(pm: PluginManager) -> None:
    """A ToolDefinition, an OpenAI-style dict and a plain function are all offered as tools: the
    echo model only answers a tool call when the request carries tools."""

    def calculator(expression: str) -> str:
        """Evaluates arithmetic."""
        return expression

    schema = {"type": "object", "properties": {"expression": {"type": "string"}}}
    for tool in (
        ToolDefinition("calculator", "Evaluates arithmetic.", schema),
        {"type": "function", "function": {"name": "calculator", "description": "d", "parameters": schema}},
        calculator,
    ):
        reply = await HectorChatModel(client=pm.llm("echo")).bind_tools([tool]).ainvoke(CALL_CALCULATOR % "1")
        assert [call["name"] for call in reply.tool_calls] == ["calculator"], tool


async def test_a_conversation_of_every_role_reaches_the_plugin(pm: PluginManager) -> None:
    """System, human, AI (with its tool call) and tool messages: the echo model answers the tool
    result that ends the conversation, as a model would."""
    model = HectorChatModel(client=pm.llm("echo"))
    conversation = [
        SystemMessage("Use the calculator."),
        HumanMessage(CALL_CALCULATOR % "6*7"),
        AIMessage("", tool_calls=[{"name": "calculator", "args": {"expression": "6*7"}, "id": "call_1"}]),
        ToolMessage("42", tool_call_id="call_1"),
    ]
    assert (await model.ainvoke(conversation)).content == "Done: 42"
    blocks = HumanMessage([{"type": "text", "text": "in "}, "blocks"])
    assert (await model.ainvoke([blocks])).content == "Echo: in blocks"


# LangGraph.


async def test_a_langgraph_agent_runs_the_plugins_calculator(pm: PluginManager) -> None:
    tools = await load_tools(pm.tools("tools"))
    assert {"calculator", "read_file", "slow"} <= {tool.name for tool in tools}
    result = await agent(HectorChatModel(client=pm.llm("echo")), tools).ainvoke(
        {"messages": [HumanMessage(CALL_CALCULATOR % "2+3")]}
    )
    human, asked, answered, final = result["messages"]
    assert asked.tool_calls[0]["name"] == "calculator"
    assert isinstance(answered, ToolMessage) and answered.content == "5" and answered.status == "success"
    assert answered.tool_call_id == asked.tool_calls[0]["id"]
    assert isinstance(final, AIMessage) and final.content == "Done: 5" and not final.tool_calls

    # LangGraph's token stream: the model's answer arrives chunk by chunk from the plugin's stream.
    graph = agent(HectorChatModel(client=pm.llm("echo")), tools)
    tokens = [
        chunk.content
        async for chunk, meta in graph.astream(
            {"messages": [HumanMessage(CALL_CALCULATOR % "2+3")]}, stream_mode="messages"
        )
        if meta["langgraph_node"] == "model" and chunk.content
    ]
    assert tokens == ["Done: ", "5"]


async def test_a_tool_failure_reaches_the_model_as_an_error_message(pm: PluginManager) -> None:
    tools = await load_tools(pm.tools("tools"))
    result = await agent(HectorChatModel(client=pm.llm("echo")), tools).ainvoke(
        {"messages": [HumanMessage(CALL_CALCULATOR % "2+")]}
    )
    _, _, answered, final = result["messages"]
    assert isinstance(answered, ToolMessage) and answered.status == "error"
    direct = await pm.tools("tools").call("calculator", {"expression": "2+"})
    assert not direct.success and answered.content == direct.error != ""
    assert final.content == f"Done: {direct.error}"


async def test_a_tool_runs_on_its_own_and_a_failed_call_raises(pm: PluginManager, tools_plugin: Path) -> None:
    [calculator] = [tool for tool in await load_tools(pm.tools("tools"), timeout=30.0) if tool.name == "calculator"]
    assert calculator.args == {"expression": {"type": "string"}}
    assert await calculator.ainvoke({"expression": "2^10"}) == "1024"
    # Not the tool's failure but the call's (the plugin dies under it): that raises.
    await pm.load(tools_plugin, name="crashy", type="tool_provider", config={"crash_tool": "true"})
    [crash] = [tool for tool in await load_tools(pm.tools("crashy")) if tool.name == "crash"]
    with pytest.raises(PluginCrashedError):
        await crash.ainvoke({})


# Embeddings and the vector store.


async def test_embeddings_are_the_plugins_vectors(pm: PluginManager) -> None:
    client = pm.embedder("vectors")
    embeddings = HectorEmbeddings(client)
    vectors = await embeddings.aembed_documents(DOCS)
    assert vectors == np.asarray(await client.embed_batch(DOCS)).tolist()
    assert len(vectors) == 3 and all(len(v) == 64 and isinstance(v[0], float) for v in vectors)
    assert await embeddings.aembed_query(DOCS[1]) == vectors[1]
    assert await embeddings.aembed_documents([]) == []


async def test_a_vector_store_finds_deletes_and_keeps_text_and_metadata(pm: PluginManager) -> None:
    store = await HectorVectorStore.afrom_texts(
        DOCS,
        HectorEmbeddings(pm.embedder("vectors")),
        [{"topic": "pets", "page": 3}, {"topic": "money"}, {"topic": "food"}],
        ids=["cat", "stocks", "cake"],
        database=pm.database("db"),
        collection="notes",
    )
    [best] = await store.asimilarity_search("the cat sat on a mat", k=1)
    assert (best.id, best.page_content, best.metadata) == ("cat", DOCS[0], {"topic": "pets", "page": "3"})
    scored = await store.asimilarity_search_with_score("stock prices", k=3)
    assert [doc.id for doc, _ in scored][0] == "stocks" and scored[0][1] >= scored[1][1] >= scored[2][1]
    by_vector = await store.asimilarity_search_by_vector(await store.embeddings.aembed_query("lemon cake"), k=1)
    assert [doc.id for doc in by_vector] == ["cake"]
    [only_food] = await store.asimilarity_search("the cat sat on a mat", k=3, filter={"topic": "food"})
    assert only_food.id == "cake"
    relevance = HectorVectorStore(store.database, store.embeddings, "notes", relevance_score_fn=lambda s: (s + 1) / 2)
    [(_, relevant)] = await relevance.asimilarity_search_with_relevance_scores("stock prices", k=1)
    assert relevant == pytest.approx((scored[0][1] + 1) / 2)

    [new_id] = await store.aadd_texts(["a lemon tart recipe"])  # an id is made up
    assert len(new_id) == 36 and (await store.asimilarity_search("lemon tart recipe", k=1))[0].id == new_id
    assert await store.adelete(["cat", new_id]) is True
    assert "cat" not in {doc.id for doc in await store.asimilarity_search("the cat sat on a mat", k=5)}

    # The collection exists now: another store over it reuses it (the plugin says so in-band).
    again = await HectorVectorStore.afrom_texts(
        ["cats again"], pm.embedder("vectors"), database=pm.database("db"), collection="notes"
    )
    assert {doc.id for doc in await again.asimilarity_search("cats", k=5)} >= {"stocks", "cake"}


async def test_the_vector_store_refuses_what_the_database_cannot_keep(pm: PluginManager) -> None:
    store = HectorVectorStore(pm.database("db"), pm.embedder("vectors"), "refusals")
    with pytest.raises(TypeError, match=r"metadatas\[0\]\['tags'\] is a list"):
        await store.aadd_texts(["x"], [{"tags": ["a"]}])
    with pytest.raises(ValueError, match=r"metadatas\[0\] has the key 'content'"):
        await store.aadd_texts(["x"], [{"content": "y"}])
    with pytest.raises(ValueError, match="2 texts but 1 ids"):
        await store.aadd_texts(["x", "y"], ids=["only-one"])
    with pytest.raises(ValueError, match="needs the ids"):
        await store.adelete()
    with pytest.raises(PluginCallError, match="no collection 'refusals'"):
        await store.aadd_texts(["x"])  # never created


# The sync API.


def test_sync_calls_work_where_no_event_loop_runs(
    go_plugin: Path, tools_plugin: Path, rust_embedder: Path, vectordb_plugin: Path
) -> None:
    """The manager is made on a loop that is gone by the time the sync calls run theirs."""
    manager = asyncio.run(load_plugins(PluginManager(), go_plugin, tools_plugin, rust_embedder, vectordb_plugin))
    try:
        model = HectorChatModel(client=manager.llm("echo"))
        assert prompt_chain(model).invoke({"what": "sync"}) == "Echo: say sync"
        assert "".join(str(chunk.content) for chunk in model.stream("a b")) == "Echo: a b"
        assert model.batch(["x", "y"])[1].content == "Echo: y"  # worker threads, each without a loop

        tools = asyncio.run(load_tools(manager.tools("tools")))
        result = agent(model, tools).invoke({"messages": [HumanMessage(CALL_CALCULATOR % "7-2")]})
        assert [m.content for m in result["messages"][2:]] == ["5", "Done: 5"]

        embeddings = HectorEmbeddings(manager.embedder("vectors"))
        assert embeddings.embed_query(DOCS[0]) == embeddings.embed_documents(DOCS)[0]
        store = HectorVectorStore.from_texts(DOCS, embeddings, database=manager.database("db"), collection="sync")
        [best] = store.similarity_search("lemon cake", k=1)
        assert best.page_content == DOCS[2]
        assert store.similarity_search_with_score("lemon cake", k=1)[0][0].id == best.id
        assert store.similarity_search_by_vector(embeddings.embed_query("lemon cake"), k=1) == [best]
        assert store.add_texts(["more"], ids=["more"]) == ["more"] and store.delete(["more"]) is True
    finally:
        asyncio.run(manager.shutdown())


async def test_sync_calls_inside_a_running_loop_say_to_await_instead(pm: PluginManager) -> None:
    model = HectorChatModel(client=pm.llm("echo"))
    with pytest.raises(PluginUsageError, match=r"await ainvoke\(\)"):
        model.invoke("hi")
    with pytest.raises(PluginUsageError, match=r"await astream\(\)"):
        list(model.stream("hi"))
    with pytest.raises(PluginUsageError, match=r"await aembed_query\(\)"):
        HectorEmbeddings(pm.embedder("vectors")).embed_query("hi")


def test_a_sync_stream_stopped_early_leaves_the_model_usable(go_plugin: Path) -> None:
    async def start() -> PluginManager:
        manager = PluginManager()
        await manager.load(go_plugin, name="echo", config={"stream_delay_ms": "20"})
        return manager

    manager = asyncio.run(start())
    try:
        model = HectorChatModel(client=manager.llm("echo"))
        stream: Iterator[Any] = iter(model.stream(" ".join(["word"] * 200)))
        assert next(stream).content == "Echo: "
        stream.close()  # type: ignore[attr-defined]  # a generator
        assert model.invoke("after").content == "Echo: after"
    finally:
        asyncio.run(manager.shutdown())


# What the protocol allows and LangChain needs mended, through an in-process provider.


class Scripted:
    """An in-process LLM with the answers a plugin may give: a tool call without an id, one whose
    arguments are not JSON, one with no arguments at all, and a stream that ends in an error chunk."""

    def generate(self, messages: list[Message], tools: list[ToolDefinition]) -> GenerateResponse:
        calls = [
            ToolCall("", "calculator", {"expression": "1"}),
            ToolCall("x", "calculator", arguments_json="{oops"),
            ToolCall("y", "clock", arguments_json=""),
        ]
        return GenerateResponse("", tool_calls=calls)

    async def generate_stream(self, messages: list[Message], tools: list[ToolDefinition]) -> AsyncIterator[StreamChunk]:
        yield StreamChunk("text", text="partial")
        yield StreamChunk("error", error="the model fell over")


async def test_answers_the_protocol_allows_become_valid_langchain_messages() -> None:
    async with PluginManager() as manager:
        manager.register("scripted", Scripted())
        model = HectorChatModel(client=manager.llm("scripted"))
        reply = await model.ainvoke("anything")
        call, no_arguments = reply.tool_calls
        assert call["id"] and call["id"].startswith("call_") and call["args"] == {"expression": "1"}
        assert (no_arguments["id"], no_arguments["args"]) == ("y", {})
        [invalid] = reply.invalid_tool_calls
        assert (invalid["id"], invalid["args"]) == ("x", "{oops") and "not JSON" in (invalid["error"] or "")
        with pytest.raises(PluginCallError, match="the model fell over"):
            [chunk async for chunk in model.astream("anything")]


# Bad input.


async def test_bad_input_gets_a_clear_error(pm: PluginManager) -> None:
    with pytest.raises(TypeError, match=r"takes a hector_plugins.LLMClient \(pm.llm\(name\)\), not EmbedderClient"):
        HectorChatModel(client=pm.embedder("vectors"))
    with pytest.raises(TypeError, match="LLMClient .*, not str 'echo'"):
        HectorChatModel(client="echo")
    with pytest.raises(TypeError, match="takes a hector_plugins.EmbedderClient"):
        HectorEmbeddings(pm.llm("echo"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a hector_plugins.DatabaseClient"):
        HectorVectorStore(pm.embedder("vectors"), pm.embedder("vectors"), "c")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a hector_plugins.ToolClient"):
        await load_tools(pm.llm("echo"))  # type: ignore[arg-type]

    model = HectorChatModel(client=pm.llm("echo"))
    with pytest.raises(ValueError, match="tool_choice='any'"):
        model.bind_tools([], tool_choice="any")
    with pytest.raises(TypeError, match=r"tools\[0\] \(42\) cannot be offered"):
        model.bind_tools([42])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="stop=\\['\\\\n'\\]: a plugin model has no stop sequences"):
        await model.ainvoke("hi", stop=["\n"])
    with pytest.raises(ValueError, match=r"messages\[1\] has a 'image_url' content block"):
        await model.ainvoke([HumanMessage("hi"), HumanMessage([{"type": "image_url", "image_url": {"url": "x"}}])])


def test_importing_without_langchain_core_says_what_to_install() -> None:
    code = "import sys; sys.modules['langchain_core'] = None; import hector_plugins.langchain"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    expected = "hector_plugins.langchain needs langchain-core: pip install 'hector-plugins[langchain]'"
    assert f"ImportError: {expected}" in result.stderr, result.stderr
