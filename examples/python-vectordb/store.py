"""The vector store both Python database examples serve: ``vectordb.py`` with grpcio and
``vectordb_sdk.py`` with ``hector_plugins.sdk``. Plain numpy, no protocol."""

from __future__ import annotations

import numpy as np


class Collection:
    """Vectors of one size: a float32 matrix (rows past ``count`` are spare room), their norms,
    and each row's id and metadata."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = 0
        self.vectors = np.zeros((16, size), dtype=np.float32)
        self.norms = np.zeros(16, dtype=np.float32)
        self.ids: list[str] = []
        self.metadata: list[dict[str, str]] = []
        self.rows: dict[str, int] = {}

    def upsert(self, id: str, vector: np.ndarray, norm: float, metadata: dict[str, str]) -> None:
        row = self.rows.get(id)
        if row is None:
            if self.count == len(self.vectors):
                self.vectors = np.concatenate([self.vectors, np.zeros_like(self.vectors)])
                self.norms = np.concatenate([self.norms, np.zeros_like(self.norms)])
            row = self.count
            self.count += 1
            self.rows[id] = row
            self.ids.append(id)
            self.metadata.append(metadata)
        else:
            self.metadata[row] = metadata
        self.vectors[row] = vector
        self.norms[row] = norm

    def delete(self, id: str) -> bool:
        """Moves the last row into the deleted one's place."""
        row = self.rows.pop(id, None)
        if row is None:
            return False
        last = self.count - 1
        if row != last:
            self.vectors[row] = self.vectors[last]
            self.norms[row] = self.norms[last]
            self.ids[row] = self.ids[last]
            self.metadata[row] = self.metadata[last]
            self.rows[self.ids[row]] = row
        self.ids.pop()
        self.metadata.pop()
        self.count = last
        return True

    def search(self, query: np.ndarray, norm: float, top_k: int, wanted: dict[str, str]) -> list[tuple[int, float]]:
        """The best ``top_k`` rows by cosine similarity among those whose metadata matches."""
        scores = self.vectors[: self.count] @ query / (self.norms[: self.count] * norm)
        if wanted:
            keep = np.fromiter(
                (all(m.get(k) == v for k, v in wanted.items()) for m in self.metadata),
                dtype=bool,
                count=self.count,
            )
            scores = np.where(keep, scores, -np.inf)
        else:
            keep = None
        k = min(top_k, self.count if keep is None else int(keep.sum()))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(row), float(scores[row])) for row in best]
