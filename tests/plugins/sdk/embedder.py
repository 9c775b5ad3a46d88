"""An embedder on hector_plugins.sdk, for tests: 4 floats per text (length, vowels, spaces, 1),
numpy-free; ``embed_batch`` batches; the text "raise" fails."""

from __future__ import annotations

from hector_plugins import EmbedderInfo
from hector_plugins.sdk import serve


class CountingEmbedder:
    def embed(self, text: str) -> list[float]:
        if text == "raise":
            raise ValueError(f"cannot embed {text!r}")
        return [float(len(text)), float(sum(c in "aeiou" for c in text)), float(text.count(" ")), 1.0]

    async def embed_batch(self, texts: list[str]) -> list[list[float]]:
        return [self.embed(text) for text in texts]

    def info(self) -> EmbedderInfo:
        return EmbedderInfo("counting", 4)


if __name__ == "__main__":
    serve(CountingEmbedder())
