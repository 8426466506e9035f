"""A deterministic stand-in for the sentence encoder: pure-logic tests need no weights."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from counsel_bot.core.crisis.encoder import Vectors


class WordHashEncoder:
    """Each word hashes to a fixed random direction; a text is the normalised sum, so texts
    sharing words are similar, as with a real encoder (crudely)."""

    name = "word-hash-test"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0

    def _word(self, word: str) -> Vectors:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
        return np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i] += self._word(word)
            norm = float(np.linalg.norm(out[i]))
            if norm:
                out[i] /= norm
        return out
