"""``HectorEmbeddings``: an embedder plugin (``pm.embedder(name)``) as LangChain embeddings."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from .._core import EmbedderClient
from ._sync import run_sync


class HectorEmbeddings(Embeddings):
    """LangChain embeddings served by an embedder plugin, in-process provider or fallback chain.

    ``HectorEmbeddings(pm.embedder("vectors"), timeout=30.0)``. ``embed_documents`` is one
    ``embed_batch`` call, ``embed_query`` one ``embed``; vectors come back as lists of floats (the
    plugin's float32 values). ``timeout`` bounds each call; None: the plugin's ``call_timeout``.
    The sync methods work where no event loop runs in the thread; from a thread that runs one
    they raise ``PluginUsageError``: await ``aembed_documents``/``aembed_query`` there.
    """

    def __init__(self, client: EmbedderClient, *, timeout: float | None = None) -> None:
        if not isinstance(client, EmbedderClient):
            raise TypeError(
                f"HectorEmbeddings(client) takes a hector_plugins.EmbedderClient (pm.embedder(name)), "
                f"not {type(client).__name__} {client!r}"
            )
        self.client = client
        self.timeout = timeout

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []  # the client refuses an empty batch; LangChain expects no vectors
        block = await self.client.embed_batch(texts, timeout=self.timeout)
        vectors: list[list[float]] = block.tolist()  # numpy array or memoryview: both have tolist()
        return vectors

    async def aembed_query(self, text: str) -> list[float]:
        vector: list[float] = (await self.client.embed(text, timeout=self.timeout)).tolist()
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return run_sync(
            lambda: self.aembed_documents(texts), "HectorEmbeddings.embed_documents()", "aembed_documents()"
        )

    def embed_query(self, text: str) -> list[float]:
        return run_sync(lambda: self.aembed_query(text), "HectorEmbeddings.embed_query()", "aembed_query()")
