"""What `EmbedderClient` hands back without numpy (a memoryview of the same shape), and in-process
embedders (`pm.register(..., type="embedder_provider")`), which must be indistinguishable from a
plugin: the same float32 blocks, the same errors."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hector_plugins import (
    CallTimeoutError,
    EmbedderInfo,
    EmbedderProvider,
    PluginCallError,
    PluginError,
    PluginManager,
    SupportsEmbedBatch,
    SupportsEmbedderInfo,
)

NO_NUMPY = """
import asyncio, json, sys
sys.modules["numpy"] = None  # `import numpy` now raises ImportError
from hector_plugins import PluginManager

class Local:
    def embed(self, text):
        return [float(len(text)), 0.5]

async def main():
    async with PluginManager() as pm:
        await pm.load(sys.argv[1], name="vectors", type="embedder", config={"dimension": 8})
        pm.register("local", Local(), type="embedder")
        out = {}
        for name in ("vectors", "local"):
            embedder = pm.embedder(name)
            vector = await embedder.embed("Hello, embeddings!")
            block = await embedder.embed_batch(["Hello, embeddings!", "abc", "a third text"])
            out[name] = {
                "types": [type(vector).__name__, type(block).__name__],
                "formats": [vector.format, block.format],
                "shapes": [list(vector.shape), list(block.shape)],
                "vector": vector.tolist(),
                "block": block.tolist(),
            }
        print(json.dumps(out))

asyncio.run(main())
"""


def test_without_numpy_vectors_are_memoryviews_of_the_same_shape(rust_embedder: Path, tmp_path: Path) -> None:
    script = tmp_path / "no_numpy.py"
    script.write_text(NO_NUMPY)
    done = subprocess.run([sys.executable, str(script), str(rust_embedder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    plugin, local = seen["vectors"], seen["local"]
    for side in (plugin, local):
        assert side["types"] == ["memoryview", "memoryview"] and side["formats"] == ["f", "f"]
    assert plugin["shapes"] == [[8], [3, 8]] and local["shapes"] == [[2], [3, 2]]
    # The values: the same embedding as the Rust example's own tests (embedding.rs).
    assert plugin["vector"] == [-0.75, 0.0, 0.0, 0.25, -0.25, 0.0, 0.5, -0.25]
    assert plugin["block"][0] == plugin["vector"]
    assert local["block"] == [[18.0, 0.5], [3.0, 0.5], [12.0, 0.5]]


async def test_the_same_values_with_numpy(rust_embedder: Path) -> None:
    async with PluginManager() as pm:
        await pm.load(rust_embedder, name="vectors", type="embedder", config={"dimension": 8})
        vector = await pm.embedder("vectors").embed("Hello, embeddings!")
        assert vector.tolist() == [-0.75, 0.0, 0.0, 0.25, -0.25, 0.0, 0.5, -0.25]


class Hashing:
    """An in-process embedder with only `embed` (sync), returning a plain list."""

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, text: str) -> list[float]:
        self.calls += 1
        return [float(len(text)), float(text.count("a")), 1.0]


class Batched(Hashing):
    """With an async `embed_batch` returning a float64 numpy array, and `info`."""

    async def embed_batch(self, texts: list[str]) -> Any:
        return np.array([self.embed(t) for t in texts], dtype=np.float64)

    def info(self) -> dict[str, Any]:
        return {"model_name": "batched", "dimension": 3}


async def test_in_process_embedders_answer_like_plugins() -> None:
    plain, batched = Hashing(), Batched()
    assert isinstance(plain, EmbedderProvider) and not isinstance(plain, SupportsEmbedBatch)
    assert isinstance(batched, SupportsEmbedBatch) and isinstance(batched, SupportsEmbedderInfo)
    config = {"plugins": {"embedder_providers": {"plain": {"type": "builtin"}, "chain": {"fallbacks": ["plain"]}}}}
    async with PluginManager(config) as pm:
        pm.register("plain", plain, type="embedder_provider")
        pm.register("batched", batched, type="embedder")
        expected = [[4.0, 1.0, 1.0], [6.0, 3.0, 1.0]]
        for name in ("plain", "batched", "chain"):
            embedder = pm.embedder(name)
            vector = await embedder.embed("abcd")
            assert vector.dtype == np.float32 and vector.tolist() == [4.0, 1.0, 1.0], name
            block = await embedder.embed_batch(["xyza", "banana"])
            assert block.dtype == np.float32 and block.shape == (2, 3) and block.tolist() == expected, name
            assert await embedder.health()
        assert plain.calls == 6, "plain: 1 + 2 (fallback) per client, twice (plain, chain)"
        assert await pm.embedder("plain").info() == EmbedderInfo(model_name="plain", dimension=0)
        assert await pm.embedder("batched").info() == EmbedderInfo(model_name="batched", dimension=3)


class Faulty:
    """Returns what its texts ask for."""

    async def embed(self, text: str) -> Any:
        if text == "nan":
            return [1.0, math.nan]
        if text == "empty":
            return []
        if text == "words":
            return ["one", "two"]
        if text == "short":
            return [1.0]
        if text == "raise":
            raise RuntimeError("model file missing")
        if text.startswith("sleep "):
            await asyncio.sleep(float(text.split()[1]))
        return array("d", [1.0, 2.0])


@pytest.mark.parametrize(
    ("texts", "method", "message"),
    [
        (["nan"], "Embed", "holds NaN or infinite values"),
        (["empty"], "Embed", "is empty"),
        (["words"], "Embed", "could not convert|must be real number"),
        (["raise"], "Embed", "RuntimeError: model file missing"),
        (["ok", "short"], "EmbedBatch", r"texts\[1\] has 1 floats, texts\[0\]'s 2"),
        (["ok", "raise"], "Embed", "model file missing"),
    ],
)
async def test_in_process_failures_are_call_errors(texts: list[str], method: str, message: str) -> None:
    async with PluginManager() as pm:
        pm.register("faulty", Faulty(), type="embedder")
        embedder = pm.embedder("faulty")
        call = embedder.embed(texts[0]) if len(texts) == 1 else embedder.embed_batch(texts)
        with pytest.raises(PluginCallError, match=message) as failed:
            await call
        assert (failed.value.plugin, failed.value.method, failed.value.code) == ("faulty", method, "UNKNOWN")
        assert (await embedder.embed_batch(["ok", "fine"])).tolist() == [[1.0, 2.0], [1.0, 2.0]]


async def test_in_process_timeouts_bound_the_whole_batch() -> None:
    async with PluginManager() as pm:
        pm.register("faulty", Faulty(), type="embedder")
        with pytest.raises(CallTimeoutError) as late:
            await pm.embedder("faulty").embed_batch(["sleep 0.1"] * 64, timeout=0.3)
        assert late.value.method == "EmbedBatch"


def test_registration_needs_embed() -> None:
    pm = PluginManager()
    with pytest.raises(PluginError, match=r"object has no method embed\(\)"):
        pm.register("nothing", object(), type="embedder_provider")
