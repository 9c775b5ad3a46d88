"""Calls into in-process vector databases (``pm.register(name, obj, type="database_provider")``).

``DatabaseClient`` routes a call here when the name (or a fallback chain's serving member) is
such a provider. Its arguments arrive converted as a plugin's would: vectors as float32 blocks
(numpy arrays, or ``memoryview``\\ s of format ``'f'`` without numpy), metadata and filters as
dicts of str. Failures and the caller's ``timeout`` become the errors a plugin's give, naming the
RPC (``Upsert``, ``Search``, ``Delete``, ``CreateCollection``, ``DeleteCollection``,
``GetManifest``); see ``hector_plugins.providers.DatabaseProvider`` for what the object must do.
"""

from __future__ import annotations

from typing import Any, Callable

from ._builtin import _call_error, _fields_of, _invoke, _optional, _settle
from ._core import PluginManifest, SearchResult
from .errors import PluginError


def _nothing(value: Any) -> None:
    """What the writing methods return is not looked at: an exception is their failure."""
    return None


async def upsert(
    name: str, provider: Any, collection: str, id: str, vector: Any, metadata: dict[str, str], timeout: float | None
) -> None:
    """``DatabaseClient.upsert`` served by ``provider.upsert``."""
    await _invoke(name, "Upsert", lambda: provider.upsert(collection, id, vector, metadata), _nothing, timeout)


async def upsert_many(
    name: str,
    provider: Any,
    collection: str,
    ids: list[str],
    vectors: list[Any],
    metadatas: list[dict[str, str]],
    timeout: float | None,
) -> None:
    """``DatabaseClient.upsert_many``: ``provider.upsert_many`` if it has one, else its
    ``upsert`` once per entry, in order; ``timeout`` bounds the whole batch."""
    many: Callable[..., Any] | None = getattr(provider, "upsert_many", None)
    if callable(many):
        await _invoke(name, "Upsert", lambda: many(collection, ids, vectors, metadatas), _nothing, timeout)
        return

    async def each() -> None:
        for index, (id, vector, metadata) in enumerate(zip(ids, vectors, metadatas)):
            try:
                await _settle(provider.upsert(collection, id, vector, metadata))
            except PluginError:
                raise
            except Exception as error:
                raise _call_error(name, "Upsert", error, f'entry {index} (id "{id}")') from error

    await _invoke(name, "Upsert", each, _nothing, timeout)


async def search(
    name: str, provider: Any, collection: str, vector: Any, top_k: int, filter: dict[str, str], timeout: float | None
) -> list[SearchResult]:
    """``DatabaseClient.search`` served by ``provider.search``; ``filter`` is empty when the
    caller gave none."""
    results: list[SearchResult] = await _invoke(
        name, "Search", lambda: provider.search(collection, vector, top_k, filter), _results, timeout
    )
    return results


def _results(value: Any) -> list[SearchResult]:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"search returned {type(value).__name__}; expected a list of SearchResult or dict")
    return [_result(item) for item in value]


def _result(value: Any) -> SearchResult:
    if isinstance(value, SearchResult):
        return value
    if isinstance(value, dict):
        return SearchResult(**value)
    raise TypeError(f"search returned a {type(value).__name__} among its results; expected SearchResult or dict")


async def delete(name: str, provider: Any, collection: str, id: str, timeout: float | None) -> None:
    """``DatabaseClient.delete`` served by ``provider.delete``."""
    await _invoke(name, "Delete", lambda: provider.delete(collection, id), _nothing, timeout)


async def create_collection(name: str, provider: Any, collection: str, vector_size: int, timeout: float | None) -> None:
    """``DatabaseClient.create_collection`` served by ``provider.create_collection``."""
    call = lambda: provider.create_collection(collection, vector_size)  # noqa: E731
    await _invoke(name, "CreateCollection", call, _nothing, timeout)


async def delete_collection(name: str, provider: Any, collection: str, timeout: float | None) -> None:
    """``DatabaseClient.delete_collection`` served by ``provider.delete_collection``."""
    await _invoke(name, "DeleteCollection", lambda: provider.delete_collection(collection), _nothing, timeout)


async def database_info(name: str, provider: Any, timeout: float | None) -> PluginManifest:
    """``DatabaseClient.info`` served by ``provider.info``; without it, the registered name and
    type."""
    default = PluginManifest(name, type="database_provider")
    convert = _fields_of(PluginManifest, "info")
    manifest: PluginManifest = await _optional(name, provider, "info", "GetManifest", convert, default, timeout)
    return manifest
