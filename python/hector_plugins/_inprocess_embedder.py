"""Calls into in-process embedders (``PluginManager.register(name, obj, type="embedder_provider")``).

Reached through ``hector_plugins._builtin``, which re-exports these functions. A provider has
``embed(text)`` (required), and optionally ``embed_batch(texts)`` and ``info()``; each may be
``async def`` or plain ``def``:

* ``embed`` returns one vector: a list of numbers, an ``array('f')``/``array('d')``, a numpy
  array or any buffer of floats.
* ``embed_batch`` returns one vector per text (a list of vectors, or a 2-D numpy array). Without
  it, ``embed`` is called once per text, at most 16 at a time, as for a plugin without
  ``EmbedBatch`` (docs/protocol.md §7.5).
* ``info`` returns an ``EmbedderInfo`` or a dict of its fields; without it the provider reports
  its registered name and dimension 0 (unknown).

Results are converted to what a plugin's answer gets: a float32 numpy array when numpy is
installed, else a ``memoryview`` of format ``'f'``, of shape ``(dimension,)`` or ``(len(texts),
dimension)``. A result that cannot be (not numbers, empty, NaN or infinite values, vectors of
different lengths, a batch of the wrong length) is the provider's failure: ``PluginCallError``
naming the RPC (``Embed``, ``EmbedBatch``, ``GetEmbedderInfo``), like any exception it raises.

This module is only imported by ``_builtin`` (at its end), whose helpers it uses.
"""

from __future__ import annotations

import asyncio
import math
from array import array
from functools import partial
from typing import Any, Callable

from ._builtin import _fields_of, _invoke, _optional
from ._core import EmbedderInfo

# How many `embed` calls the fallback of `embed_batch` keeps running, as for a plugin.
FALLBACK_IN_FLIGHT = 16


def _numpy() -> Any:
    """numpy, or None when it is not installed (the same choice the host's conversions make)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _as_is(value: Any) -> Any:
    return value


def _vector(value: Any, what: str) -> Any:
    """One vector as float32: a 1-D numpy array, else an ``array('f')``."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} is a {type(value).__name__}, not a sequence of floats")
    numpy = _numpy()
    if numpy is not None:
        vector = numpy.asarray(value, dtype=numpy.float32)
        if vector.ndim != 1:
            raise TypeError(f"{what} has shape {vector.shape}; a vector is one-dimensional")
        finite = bool(numpy.isfinite(vector).all())
    else:
        vector = array("f", value)
        finite = all(math.isfinite(x) for x in vector)
    if len(vector) == 0:
        raise ValueError(f"{what} is empty")
    if not finite:
        raise ValueError(f"{what} holds NaN or infinite values")
    return vector


def _vector_result(value: Any) -> Any:
    vector = _vector(value, "the vector")
    return vector if _numpy() is not None else memoryview(vector)


def _matrix_result(rows: int) -> Callable[[Any], Any]:
    """Checks a batch's vectors (one per text, one dimension) and makes them one float32 block."""

    def convert(value: Any) -> Any:
        vectors = [_vector(row, f"the vector of texts[{i}]") for i, row in enumerate(value)]
        if len(vectors) != rows:
            raise ValueError(f"{len(vectors)} vectors for {rows} texts")
        dimension = len(vectors[0])
        for i, vector in enumerate(vectors):
            if len(vector) != dimension:
                raise ValueError(f"the vector of texts[{i}] has {len(vector)} floats, texts[0]'s {dimension}")
        numpy = _numpy()
        if numpy is not None:
            return numpy.stack(vectors)
        block = array("f")
        for vector in vectors:
            block.extend(vector)
        return memoryview(block).cast("B").cast("f", (rows, dimension))

    return convert


async def embed(name: str, provider: Any, text: str, timeout: float | None) -> Any:
    """``EmbedderClient.embed`` served by ``provider.embed``."""
    return await _invoke(name, "Embed", lambda: provider.embed(text), _vector_result, timeout)


async def embed_batch(name: str, provider: Any, texts: list[str], timeout: float | None) -> Any:
    """``EmbedderClient.embed_batch`` served by ``provider.embed_batch``, else by its ``embed``
    once per text. ``timeout`` bounds the whole batch."""
    batch = getattr(provider, "embed_batch", None)
    convert = _matrix_result(len(texts))
    if callable(batch):
        return await _invoke(name, "EmbedBatch", lambda: batch(texts), convert, timeout)
    return await _invoke(name, "EmbedBatch", lambda: _embed_each(name, provider, texts), convert, timeout)


async def _embed_each(name: str, provider: Any, texts: list[str]) -> list[Any]:
    """``embed`` per text, a few at a time, in the texts' order; the first failure (a
    ``PluginCallError`` naming ``Embed``) ends the batch."""
    vectors: list[Any] = [None] * len(texts)
    pending = iter(enumerate(texts))
    failed = False

    async def worker() -> None:
        nonlocal failed
        for index, text in pending:
            if failed:
                return
            try:
                vectors[index] = await _invoke(name, "Embed", partial(provider.embed, text), _as_is, None)
            except BaseException:
                failed = True
                raise

    await asyncio.gather(*(worker() for _ in range(min(FALLBACK_IN_FLIGHT, len(texts)))))
    return vectors


async def embedder_info(name: str, provider: Any, timeout: float | None) -> EmbedderInfo:
    """``EmbedderClient.info`` served by ``provider.info``; its registered name and dimension 0
    (unknown) without ``info``."""
    convert = _fields_of(EmbedderInfo, "info")
    info: EmbedderInfo = await _optional(
        name, provider, "info", "GetEmbedderInfo", convert, EmbedderInfo(name), timeout
    )
    return info
