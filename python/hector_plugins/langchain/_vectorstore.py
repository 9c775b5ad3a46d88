"""``HectorVectorStore``: a vector database plugin and an embedder as a LangChain vector store.

The protocol's ``Upsert`` has no text field (docs/protocol.md §7.4), so a document's text is stored
in its metadata under ``text_key`` (``"content"`` by default: the key the example database,
examples/python-vectordb, answers as ``SearchResult.content``) and taken out of the metadata again
on the way back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from typing_extensions import Self

from .._core import DatabaseClient, EmbedderClient, SearchResult
from ..agents._parts import CONTENT_KEY
from ..errors import PluginCallError
from ._embeddings import HectorEmbeddings
from ._sync import run_sync

TEXT_KEY = CONTENT_KEY
"""The metadata key that holds a document's text in the database, unless ``text_key`` says otherwise."""

# The protocol has no "already exists" code: a plugin can only say so in its in-band error text.
_ALREADY_EXISTS = re.compile(r"already exists|exists already", re.IGNORECASE)


class HectorVectorStore(VectorStore):
    """A LangChain vector store over a vector database plugin's ``collection``, with ``embedding``
    (a LangChain ``Embeddings``, e.g. ``HectorEmbeddings``, or an ``EmbedderClient``) making the
    vectors.

    ``HectorVectorStore(pm.database("db"), pm.embedder("vectors"), "notes")`` uses an existing
    collection; ``await HectorVectorStore.afrom_texts(texts, embedding, database=..., collection=...)``
    creates it with the vectors' dimension first. Entries need ids: ``add_texts`` makes uuid4 ones
    where none are given. The text goes into the metadata under ``text_key``; metadata values must
    be str (int, float and bool are stored as their ``str()``, and come back as str). Scores are
    the plugin's own (cosine similarity for the example, higher is better). ``filter=`` (exact
    match on metadata) needs a plugin that declares ``capabilities: {filter: true}``.
    ``relevance_score_fn`` maps a score to 0..1 for ``similarity_search_with_relevance_scores``.

    The sync methods work where no event loop runs in the thread; from a thread that runs one
    they raise ``PluginUsageError``: await the ``a``-prefixed methods there.
    """

    def __init__(
        self,
        database: DatabaseClient,
        embedding: Embeddings | EmbedderClient,
        collection: str,
        *,
        text_key: str = TEXT_KEY,
        timeout: float | None = None,
        relevance_score_fn: Callable[[float], float] | None = None,
    ) -> None:
        if not isinstance(database, DatabaseClient):
            raise TypeError(
                f"HectorVectorStore(database, ...) takes a hector_plugins.DatabaseClient (pm.database(name)), "
                f"not {type(database).__name__} {database!r}"
            )
        if isinstance(embedding, EmbedderClient):
            embedding = HectorEmbeddings(embedding, timeout=timeout)
        if not isinstance(embedding, Embeddings):
            raise TypeError(
                f"HectorVectorStore(..., embedding, ...) takes LangChain Embeddings or a hector_plugins.EmbedderClient, "
                f"not {type(embedding).__name__} {embedding!r}"
            )
        for name, value in (("collection", collection), ("text_key", text_key)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"HectorVectorStore {name} must be a non-empty str, not {value!r}")
        self.database = database
        self.collection = collection
        self.text_key = text_key
        self.timeout = timeout
        self._embedding = embedding
        self._relevance_score_fn = relevance_score_fn

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    # Adding.

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embeds ``texts`` (one batch) and stores them; returns their ids."""
        _no_options(kwargs, "add_texts")
        texts = list(texts)
        entry_ids, stored = self._entries(texts, metadatas, ids)
        if texts:
            await self._upsert(entry_ids, await self._embed_documents(texts), stored)
        return entry_ids

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        return run_sync(
            lambda: self.aadd_texts(texts, metadatas, ids=ids, **kwargs),
            "HectorVectorStore.add_texts()",
            "aadd_texts()",
        )

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | EmbedderClient,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        database: DatabaseClient | None = None,
        collection: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """A store over ``collection`` of ``database``, created with the dimension of the texts'
        vectors, holding ``texts``. A collection the plugin says already exists is used as it is
        (a vector size that does not fit fails on the first upsert). ``kwargs``: the constructor's
        ``text_key``, ``timeout``, ``relevance_score_fn``."""
        if database is None or collection is None:
            raise TypeError("HectorVectorStore.from_texts() needs database= (pm.database(name)) and collection=")
        store = cls(database, embedding, collection, **kwargs)
        texts = list(texts)
        if not texts:
            raise ValueError(
                "HectorVectorStore.from_texts() needs at least one text: the collection's vector size is their vectors'"
            )
        entry_ids, stored = store._entries(texts, metadatas, ids)
        vectors = await store._embed_documents(texts)
        await store._create_collection(_dimension(vectors))
        await store._upsert(entry_ids, vectors, stored)
        return store

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | EmbedderClient,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> Self:
        return run_sync(
            lambda: cls.afrom_texts(texts, embedding, metadatas, ids=ids, **kwargs),
            "HectorVectorStore.from_texts()",
            "afrom_texts()",
        )

    # Searching.

    async def asimilarity_search_with_score_by_vector(
        self, embedding: Sequence[float] | Any, k: int = 4, filter: Mapping[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        """The ``k`` entries nearest ``embedding`` with the plugin's scores, best first."""
        where = _filter_of(filter)
        results = await self.database.search(self.collection, embedding, k, filter=where, timeout=self.timeout)
        return [(self._document(result), result.score) for result in results]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        _no_options(kwargs, "similarity_search_with_score")
        return await self.asimilarity_search_with_score_by_vector(await self._embed_query(query), k, filter)

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [document for document, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        filter = kwargs.pop("filter", None)
        _no_options(kwargs, "similarity_search_by_vector")
        return [document for document, _ in await self.asimilarity_search_with_score_by_vector(embedding, k, filter)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return run_sync(
            lambda: self.asimilarity_search_with_score(query, k, filter, **kwargs),
            "HectorVectorStore.similarity_search_with_score()",
            "asimilarity_search_with_score()",
        )

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return run_sync(
            lambda: self.asimilarity_search(query, k, **kwargs),
            "HectorVectorStore.similarity_search()",
            "asimilarity_search()",
        )

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        return run_sync(
            lambda: self.asimilarity_search_by_vector(embedding, k, **kwargs),
            "HectorVectorStore.similarity_search_by_vector()",
            "asimilarity_search_by_vector()",
        )

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        if self._relevance_score_fn is None:
            raise NotImplementedError(
                "the plugin's scores have no fixed scale: give HectorVectorStore(relevance_score_fn=...) to map them to 0..1"
            )
        return self._relevance_score_fn

    # Deleting.

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Removes the entries ``ids`` (one ``Delete`` each); the plugin's error for an id it does
        not have is raised (``PluginCallError``)."""
        _no_options(kwargs, "delete")
        if ids is None:
            raise ValueError(
                "HectorVectorStore.delete() needs the ids to delete; to remove every entry, "
                "await database.delete_collection(collection)"
            )
        for entry_id in ids:
            await self.database.delete(self.collection, entry_id, timeout=self.timeout)
        return True

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        return run_sync(lambda: self.adelete(ids, **kwargs), "HectorVectorStore.delete()", "adelete()")

    # The database and the embedder.

    def _entries(
        self, texts: list[str], metadatas: list[dict[str, Any]] | None, ids: Sequence[str | None] | None
    ) -> tuple[list[str], list[dict[str, str]]]:
        """Each text's id (a new uuid4 where none is given) and the metadata stored with it."""
        for name, given in (("metadatas", metadatas), ("ids", ids)):
            if given is not None and len(given) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(given)} {name}: give one per text")
        entry_ids = [entry_id or str(uuid.uuid4()) for entry_id in (ids or [None] * len(texts))]
        stored = [
            self._stored_metadata(text, metadatas[index] if metadatas else None, f"metadatas[{index}]")
            for index, text in enumerate(texts)
        ]
        return entry_ids, stored

    def _stored_metadata(self, text: str, metadata: Mapping[str, Any] | None, where: str) -> dict[str, str]:
        if not isinstance(text, str):
            raise TypeError(f"the text of {where} is a {type(text).__name__}, not a str")
        stored = {}
        for key, value in (metadata or {}).items():
            if key == self.text_key:
                raise ValueError(
                    f"{where} has the key {key!r}, which holds the document's text in the database; "
                    "rename it or give the store another text_key"
                )
            stored[_str_key(key, where)] = _str_value(value, f"{where}[{key!r}]")
        stored[self.text_key] = text
        return stored

    def _document(self, result: SearchResult) -> Document:
        metadata = result.metadata
        text = metadata.pop(self.text_key, None)
        return Document(page_content=result.content if text is None else text, metadata=metadata, id=result.id)

    async def _embed_documents(self, texts: list[str]) -> Any:
        """The texts' vectors: the plugin's float32 block itself for a HectorEmbeddings (no list of
        Python floats on the way to the database), else what the embeddings return."""
        if isinstance(self._embedding, HectorEmbeddings):
            return await self._embedding.client.embed_batch(texts, timeout=self._embedding.timeout)
        return await self._embedding.aembed_documents(texts)

    async def _embed_query(self, query: str) -> Any:
        if isinstance(self._embedding, HectorEmbeddings):
            return await self._embedding.client.embed(query, timeout=self._embedding.timeout)
        return await self._embedding.aembed_query(query)

    async def _upsert(self, ids: list[str], vectors: Any, metadatas: list[dict[str, str]]) -> None:
        await self.database.upsert_many(self.collection, ids, vectors, metadatas, timeout=self.timeout)

    async def _create_collection(self, dimension: int) -> None:
        try:
            await self.database.create_collection(self.collection, dimension, timeout=self.timeout)
        except PluginCallError as error:
            if error.code != "UNKNOWN" or not _ALREADY_EXISTS.search(str(error)):
                raise


def _dimension(vectors: Any) -> int:
    """The length of the vectors: a 2-D block's second axis, else the first vector's length."""
    shape = getattr(vectors, "shape", None)
    return int(shape[1]) if shape is not None else len(vectors[0])


def _filter_of(filter: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not filter:
        return None
    return {_str_key(key, "filter"): _str_value(value, f"filter[{key!r}]") for key, value in filter.items()}


def _str_key(key: object, where: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{where} has the key {key!r}, a {type(key).__name__}: the database keeps str keys only")
    return key


def _str_value(value: object, where: str) -> str:
    """A metadata value as the protocol carries it (a str); numbers and booleans as their ``str()``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    raise TypeError(
        f"{where} is a {type(value).__name__}: the database keeps str values only (numbers and booleans "
        "are converted); convert it before adding, e.g. with json.dumps"
    )


def _no_options(kwargs: Mapping[str, Any], method: str) -> None:
    if kwargs:
        raise TypeError(f"HectorVectorStore.{method}() got options it does not know: {sorted(kwargs)}")
