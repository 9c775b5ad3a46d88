"""``EmbedderConformance``: the EmbedderProvider contract (docs/protocol.md §7.5)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from .. import PluginManager
from .._core import EmbedderClient
from ..errors import PluginError
from ..literals import PluginTypeName
from ._base import PluginConformance
from ._errors import describe


def _rows(block: Any) -> list[list[float]]:
    """A (n, dimension) block (numpy array or memoryview) as lists."""
    rows = block.tolist()
    return [list(row) for row in rows]


def _same(one: Sequence[float], other: Sequence[float]) -> bool:
    return len(one) == len(other) and all(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6) for a, b in zip(one, other))


class EmbedderConformance(PluginConformance):
    """The common rules, and GetEmbedderInfo, Embed and EmbedBatch (or its Embed fallback)."""

    plugin_type: ClassVar[PluginTypeName] = "embedder_provider"
    sample_text: str = "The quick brown fox jumps over the lazy dog"
    sample_texts: Sequence[str] = ("alpha", "beta gamma", "delta epsilon zeta")
    """Texts for embed_batch (their vectors must equal embed's)."""

    def _client(self, pm: PluginManager) -> EmbedderClient:
        return pm.embedder(self.name)

    async def _embed(self, pm: PluginManager, text: str) -> list[float]:
        try:
            vector = await self._client(pm).embed(text, timeout=self.call_timeout)
        except PluginError as error:
            self._fail(f"embed({text!r}) to answer", f"failed: {describe(error)}")
        return list(vector.tolist())

    async def _exercise(self, pm: PluginManager) -> None:
        await self._client(pm).info(timeout=self.call_timeout)
        await self._client(pm).embed(self.sample_text, timeout=self.call_timeout)

    async def _one_of_many(self, pm: PluginManager, index: int) -> str | None:
        text = f"{self.sample_text} {index}"
        vector = list((await self._client(pm).embed(text, timeout=self.call_timeout)).tolist())
        alone = list((await self._client(pm).embed(text, timeout=self.call_timeout)).tolist())
        return None if _same(vector, alone) else f"the vector of {text!r} differs between two calls"

    def test_embedder_info(self) -> None:
        """info() reports a dimension above 0."""
        self._run("embedder_info", self._embedder_info)

    async def _embedder_info(self) -> None:
        async with self._loaded() as (pm, _info):
            try:
                info = await self._client(pm).info(timeout=self.call_timeout)
            except PluginError as error:
                self._fail("info() to answer", f"failed: {describe(error)}")
            if info.dimension <= 0:
                self._fail("info() to report a dimension above 0", f"reported dimension {info.dimension}")

    def test_embed(self) -> None:
        """embed() returns ``info().dimension`` finite floats."""
        self._run("embed", self._embed_rule)

    async def _embed_rule(self) -> None:
        async with self._loaded() as (pm, _info):
            dimension = (await self._client(pm).info(timeout=self.call_timeout)).dimension
            vector = await self._embed(pm, self.sample_text)
            if len(vector) != dimension:
                self._fail(
                    f"embed() to return a vector of {dimension} floats (the dimension info() reports)",
                    f"returned a vector of {len(vector)} floats (wrong length for the dimension field)",
                )
            bad = [index for index, value in enumerate(vector) if not math.isfinite(value)]
            if bad:
                self._fail("embed() to return finite floats", f"returned {vector[bad[0]]} at index {bad[0]}")

    def test_embed_batch(self) -> None:
        """embed_batch() returns one vector per text, each equal to embed()'s."""
        self._run("embed_batch", self._embed_batch)

    async def _embed_batch(self) -> None:
        texts = list(self.sample_texts)
        async with self._loaded() as (pm, _info):
            try:
                rows = _rows(await self._client(pm).embed_batch(texts, timeout=self.call_timeout))
            except PluginError as error:
                self._fail(f"embed_batch({texts!r}) to answer", f"failed: {describe(error)}")
            if len(rows) != len(texts):
                self._fail(f"embed_batch() to return {len(texts)} vectors", f"returned {len(rows)}")
            for index, text in enumerate(texts):
                alone = await self._embed(pm, text)
                if not _same(rows[index], alone):
                    self._fail(
                        "embed_batch() to return the vectors embed() returns, in the texts' order",
                        f"returned for texts[{index}] {text!r} a vector that differs from embed()'s",
                    )
