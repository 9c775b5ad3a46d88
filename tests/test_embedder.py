"""`pm.embedder(name)` through real embedder plugins: the Rust example (with EmbedBatch), its Go
twin (without: the host falls back to per-text Embed calls) and the Python test plugin, which
fails on request (tests/plugins/py_llm.py, class Embedder)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from hector_plugins import (
    CallTimeoutError,
    ConfigError,
    EmbedderInfo,
    PluginCallError,
    PluginCrashedError,
    PluginManager,
    PluginNotFoundError,
    PluginTypeError,
)
from helpers import NO_RESTART, wait_for_state

TEXTS = [f"document {i}: a few words about topic {i % 97}" for i in range(10_000)]


@pytest.fixture
async def pm() -> AsyncIterator[PluginManager]:
    async with PluginManager() as manager:
        yield manager


@pytest.fixture
def py_embedder(py_plugin: Callable[..., Path]) -> Path:
    """The Python test plugin serving EmbedderProvider."""
    return py_plugin(embedder=1)


async def calls_seen(pm: PluginManager, name: str) -> str:
    """What the Python test plugin counted, e.g. "Embed 2, EmbedBatch 1"."""
    return (await pm.embedder(name).health()).message


async def test_every_rpc_of_the_rust_embedder(pm: PluginManager, rust_embedder: Path) -> None:
    await pm.load(rust_embedder, name="vectors", type="embedder", config={"dimension": 64})
    embedder = pm.embedder("vectors")
    assert embedder.name == "vectors" and repr(embedder) == 'EmbedderClient(name="vectors")'

    vector = await embedder.embed("Hello, embeddings!")
    assert isinstance(vector, np.ndarray) and vector.dtype == np.float32 and vector.shape == (64,)
    assert np.isclose(np.linalg.norm(vector), 1.0)

    block = await embedder.embed_batch(("Hello, embeddings!", "another text", "a third"))
    assert block.dtype == np.float32 and block.shape == (3, 64) and block.flags.c_contiguous
    assert np.array_equal(block[0], vector)
    assert not np.array_equal(block[1], block[2])
    # Any iterable of str works, a generator too.
    assert np.array_equal(await embedder.embed_batch(t for t in ["another text"]), block[1:2])

    assert await embedder.info() == EmbedderInfo(model_name="ngram-hash-3", dimension=64)
    health = await embedder.health()
    assert health.healthy and health.message == "ok"


async def test_a_batch_of_10000_texts_at_dimension_384_is_one_float32_array(
    pm: PluginManager, rust_embedder: Path
) -> None:
    await pm.load(rust_embedder, name="vectors", type="embedder")  # the default dimension, 384
    embedder = pm.embedder("vectors")
    block = await embedder.embed_batch(TEXTS)
    assert isinstance(block, np.ndarray)
    assert block.shape == (10_000, 384) and block.dtype == np.float32 and block.flags.c_contiguous
    # One block, not 10,000 arrays: every row is a view into the same buffer.
    assert block.base is not None and block[9_999].base is not None
    assert np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-5)
    for i in (0, 1, 4_321, 9_999):
        assert np.array_equal(block[i], await embedder.embed(TEXTS[i])), i
    assert len({row.tobytes() for row in block[:97]}) == 97, "different texts, different vectors"


async def test_the_go_embedder_without_embed_batch_gives_the_same_values(
    pm: PluginManager, rust_embedder: Path, go_embedder: Path
) -> None:
    await pm.load(rust_embedder, name="rust", type="embedder")
    await pm.load(go_embedder, name="go", type="embedder")
    # The Go plugin does not serve EmbedBatch at all ...
    with pytest.raises(PluginCallError) as unimplemented:
        await pm.raw("go").call("/hector.plugin.EmbedderProvider/EmbedBatch")
    assert unimplemented.value.code == "UNIMPLEMENTED"
    # ... so its batch is 10,000 Embed calls, with the same result as the Rust EmbedBatch.
    from_go = await pm.embedder("go").embed_batch(TEXTS)
    from_rust = await pm.embedder("rust").embed_batch(TEXTS)
    assert from_go.shape == (10_000, 384) and from_go.dtype == np.float32
    assert np.array_equal(from_go, from_rust)
    assert await pm.embedder("go").info() == await pm.embedder("rust").info()
    assert np.array_equal(await pm.embedder("go").embed(TEXTS[5]), from_rust[5])


async def test_a_plugin_without_embed_batch_is_asked_once_per_process(pm: PluginManager, py_embedder: Path) -> None:
    await pm.load(py_embedder, name="old", type="embedder", config={"no_batch": "1"})
    embedder = pm.embedder("old")
    first = await embedder.embed_batch(["a", "bb", "ccc"])
    assert first.tolist() == [[1, 1, 1, 1], [2, 1, 1, 1], [3, 1, 1, 1]]
    assert await calls_seen(pm, "old") == "Embed 3, EmbedBatch 1"
    assert np.array_equal(await embedder.embed_batch(["a", "bb", "ccc"]), first)
    assert await calls_seen(pm, "old") == "Embed 6, EmbedBatch 1", "the second batch went straight to Embed"
    # A restarted process may have been upgraded: it is asked again.
    await pm.restart("old")
    await embedder.embed_batch(["a"])
    assert await calls_seen(pm, "old") == "Embed 1, EmbedBatch 1"


async def test_in_band_errors_name_the_rpc_and_the_plugin_keeps_serving(
    pm: PluginManager, rust_embedder: Path, go_embedder: Path
) -> None:
    await pm.load(rust_embedder, name="rust", type="embedder", config={"dimension": 8})
    await pm.load(go_embedder, name="go", type="embedder", config={"dimension": 8})
    with pytest.raises(PluginCallError, match="cannot embed an empty text") as single:
        await pm.embedder("rust").embed("")
    assert (single.value.plugin, single.value.method, single.value.code) == ("rust", "Embed", "UNKNOWN")
    with pytest.raises(PluginCallError, match=r"texts\[1\] is empty") as batch:
        await pm.embedder("rust").embed_batch(["a", "", "c"])
    assert (batch.value.method, batch.value.code) == ("EmbedBatch", "UNKNOWN")
    # Through the fallback, the failing Embed call names its text.
    with pytest.raises(PluginCallError, match=r"texts\[1\]: the text is empty") as fallback:
        await pm.embedder("go").embed_batch(["a", "", "c"])
    assert (fallback.value.plugin, fallback.value.method, fallback.value.code) == ("go", "Embed", "UNKNOWN")
    for name in ("rust", "go"):
        assert (await pm.embedder(name).embed_batch(["a", "c"])).shape == (2, 8)


async def test_a_grpc_status_is_the_same_error(pm: PluginManager, rust_embedder: Path, go_embedder: Path) -> None:
    config = {"dimension": 8, "max_text_bytes": 10}
    await pm.load(rust_embedder, name="rust", type="embedder", config=config)
    await pm.load(go_embedder, name="go", type="embedder", config=config)
    long = "x" * 11
    for name, call, method in (
        ("rust", lambda e: e.embed(long), "Embed"),
        ("rust", lambda e: e.embed_batch(["short", long]), "EmbedBatch"),
        ("go", lambda e: e.embed_batch(["short", long]), "Embed"),
    ):
        with pytest.raises(PluginCallError, match="11 bytes, more than max_text_bytes") as refused:
            await call(pm.embedder(name))
        assert (refused.value.plugin, refused.value.method, refused.value.code) == (name, method, "INVALID_ARGUMENT")
        assert (await pm.embedder(name).embed("fits")).shape == (8,)


@pytest.mark.parametrize("no_batch", ["", "1"], ids=["EmbedBatch", "fallback"])
async def test_a_crash_mid_call_is_a_crash(pm: PluginManager, py_embedder: Path, no_batch: str) -> None:
    await pm.load(py_embedder, name="fragile", type="embedder", config={"no_batch": no_batch}, supervision=NO_RESTART)
    with pytest.raises(PluginCrashedError) as crashed:
        await pm.embedder("fragile").embed_batch(["a", "crash", "c"])
    assert crashed.value.plugin == "fragile" and "exit status 9" in str(crashed.value)
    await wait_for_state(pm, "fragile", "crashed")
    await pm.restart("fragile")
    assert (await pm.embedder("fragile").embed_batch(["a"])).shape == (1, 4)


async def test_timeouts_bound_a_call_and_a_whole_fallback(pm: PluginManager, py_embedder: Path) -> None:
    await pm.load(py_embedder, name="slow", type="embedder")
    await pm.load(py_embedder, name="slow-old", type="embedder", config={"no_batch": "1"})
    with pytest.raises(CallTimeoutError) as single:
        await pm.embedder("slow").embed("sleep 30", timeout=0.2)
    assert (single.value.method, single.value.code) == ("Embed", "DEADLINE_EXCEEDED")
    with pytest.raises(CallTimeoutError) as batch:
        await pm.embedder("slow").embed_batch(["a", "sleep 30"], timeout=0.2)
    assert batch.value.method == "EmbedBatch"
    # 16 texts of 0.1 s each, 16 at a time: no single call is late, the batch of 64 is.
    with pytest.raises(CallTimeoutError, match="not all 64 texts embedded") as fallback:
        await pm.embedder("slow-old").embed_batch(["sleep 0.1"] * 64, timeout=0.3)
    assert fallback.value.method == "EmbedBatch"
    for name in ("slow", "slow-old"):
        assert (await pm.embedder(name).embed_batch(["a", "b"])).shape == (2, 4)


@pytest.mark.parametrize(
    ("no_batch", "method", "message"),
    [
        ("", "EmbedBatch", "malformed answer: 7 floats for 2 texts of dimension 4 (expected 8)"),
        ("1", "Embed", "malformed answer: a vector of 3 floats for texts[1], after 4 for texts[0]"),
    ],
    ids=["EmbedBatch", "fallback"],
)
async def test_an_answer_of_the_wrong_dimension_is_an_error(
    pm: PluginManager, py_embedder: Path, no_batch: str, method: str, message: str
) -> None:
    await pm.load(py_embedder, name="sloppy", type="embedder", config={"no_batch": no_batch})
    with pytest.raises(PluginCallError) as wrong:
        await pm.embedder("sloppy").embed_batch(["a", "short"])
    assert (wrong.value.plugin, wrong.value.method, wrong.value.code) == ("sloppy", method, "INTERNAL")
    assert message in str(wrong.value) and 'plugin "sloppy"' in str(wrong.value)
    assert (await pm.embedder("sloppy").embed_batch(["a", "b"])).shape == (2, 4)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda e: e.embed_batch([]), ConfigError, "texts is empty"),
        (lambda e: e.embed_batch("one text"), PluginTypeError, r"texts must be a list of str, not a str"),
        (lambda e: e.embed_batch(["a", 3]), PluginTypeError, r"texts\[1\] must be a str, not int"),
        (lambda e: e.embed_batch([b"bytes"]), PluginTypeError, r"texts\[0\] must be a str, not bytes"),
        (lambda e: e.embed_batch(None), PluginTypeError, "texts must be a list of str, not NoneType"),
        (lambda e: e.embed(3.5), PluginTypeError, "text must be a str, not float"),
        (lambda e: e.embed("a", timeout=-1), ConfigError, "timeout"),
    ],
    ids=["empty", "str", "int-item", "bytes-item", "None", "float-text", "timeout"],
)
async def test_bad_input_is_refused_before_any_call(
    pm: PluginManager, py_embedder: Path, call: Callable[[Any], Any], error: type[Exception], message: str
) -> None:
    await pm.load(py_embedder, name="strict", type="embedder")
    with pytest.raises(error, match=message):
        call(pm.embedder("strict"))  # refused at the call, before anything is awaited
    assert await calls_seen(pm, "strict") == "Embed 0, EmbedBatch 0"


async def test_names_are_checked(pm: PluginManager, rust_plugin: Path) -> None:
    with pytest.raises(PluginNotFoundError) as missing:
        pm.embedder("nobody")
    assert missing.value.kind == "embedder_provider"
    await pm.load(rust_plugin, name="chat")
    with pytest.raises(PluginNotFoundError, match=re.escape("no embedder_provider plugin named")):
        pm.embedder("chat")
