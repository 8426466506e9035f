"""The semantic half of the detector: sentence embeddings and a trained head.

Rules find wording a professional wrote down; this part finds meaning the rules never saw
("ihr werdet mich bald nicht mehr nerven", a grooming chat told without the word). It is a
logistic-regression head over sentence embeddings, trained on ``tests/data/crisis/train``
(``counsel crisis train``), plus a softmax head for the category. Its decisions:

1. A message is looked at in *views*: the text as written and the rules' normalised form
   (leetspeak, spaced letters, invisible characters undone); a long message also in pieces
   of a few sentences, so one risky sentence in a long letter is not averaged away.
2. The score is the highest crisis probability over the views; the category comes from the
   view with that score.
3. It explains itself by the ids of the nearest labelled crisis examples (never their
   text) and the score.

The head's arrays live in one ``.npz`` file (no pickle) with the encoder's name, so a head
trained on another encoder is refused instead of silently scoring noise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from counsel_bot.core.crisis.encoder import Encoder, Vectors
from counsel_bot.core.crisis.errors import ModelError

# Long messages: pieces of about this many characters, cut at sentence ends; at most
# MAX_PIECES of them (a 64 KB paste costs at most that many embeddings).
PIECE_CHARS = 240
MAX_PIECES = 48
NEAREST = 3
_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+")

FORMAT_VERSION = 1


@dataclass(frozen=True)
class SemanticVerdict:
    """The head's view of one message."""

    score: float
    category: str
    nearest: tuple[str, ...]


@dataclass(frozen=True)
class Head:
    """What training produces; plain arrays, nothing executable."""

    encoder: str
    weights: NDArray[np.float32]  # (d,)
    bias: float
    category_weights: NDArray[np.float32]  # (k, d)
    category_bias: NDArray[np.float32]  # (k,)
    categories: tuple[str, ...]
    threshold: float
    high_threshold: float
    example_vectors: NDArray[np.float16]  # (n, d), crisis examples only
    example_ids: tuple[str, ...]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle, version=np.array(FORMAT_VERSION), encoder=np.array(self.encoder),
                weights=self.weights, bias=np.array(self.bias, dtype=np.float32),
                category_weights=self.category_weights, category_bias=self.category_bias,
                categories=np.array(self.categories),
                thresholds=np.array([self.threshold, self.high_threshold], dtype=np.float32),
                example_vectors=self.example_vectors, example_ids=np.array(self.example_ids))

    @classmethod
    def load(cls, path: Path) -> Head:
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) != FORMAT_VERSION:
                    raise ModelError(f"crisis model {path} has format {int(z['version'])}, "
                                     f"this counsel reads {FORMAT_VERSION}; retrain it with "
                                     "`counsel crisis train`")
                thresholds = z["thresholds"]
                return cls(
                    encoder=str(z["encoder"]), weights=z["weights"].astype(np.float32),
                    bias=float(z["bias"]),
                    category_weights=z["category_weights"].astype(np.float32),
                    category_bias=z["category_bias"].astype(np.float32),
                    categories=tuple(str(c) for c in z["categories"]),
                    threshold=float(thresholds[0]), high_threshold=float(thresholds[1]),
                    example_vectors=z["example_vectors"].astype(np.float16),
                    example_ids=tuple(str(i) for i in z["example_ids"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"crisis model {path} cannot be read ({exc}); restore it from "
                             "the repository or set [crisis] model = false") from None

    def probabilities(self, vectors: Vectors) -> NDArray[np.float32]:
        logits = vectors @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)

    def category_of(self, vector: Vectors) -> str:
        logits = self.category_weights @ vector + self.category_bias
        return self.categories[int(np.argmax(logits))]

    def nearest(self, vector: Vectors) -> tuple[str, ...]:
        if not self.example_ids:
            return ()
        similarity = self.example_vectors.astype(np.float32) @ vector
        best = np.argsort(-similarity)[:NEAREST]
        return tuple(self.example_ids[i] for i in best)


def default_model_path() -> Path:
    """The head shipped with the repository (``config/crisis/model/head.npz``)."""
    return Path(__file__).resolve().parents[3] / "config" / "crisis" / "model" / "head.npz"


def pieces(text: str) -> list[str]:
    """A long message cut at sentence ends into pieces of about PIECE_CHARS."""
    if len(text) <= PIECE_CHARS:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > PIECE_CHARS:  # one endless "sentence": cut it anyway
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:PIECE_CHARS])
            sentence = sentence[PIECE_CHARS:]
        if current and len(current) + 1 + len(sentence) > PIECE_CHARS:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
        if len(out) >= MAX_PIECES:
            break
    if current and len(out) < MAX_PIECES:
        out.append(current)
    return [p for p in out if p.strip()][:MAX_PIECES]


def views(text: str, normalise: Callable[[str], str]) -> list[str]:
    """What the head looks at for one message (see decision 1)."""
    found = pieces(text.strip())
    if len(found) > 1:
        found.insert(0, text[:PIECE_CHARS])
    normalised = normalise(text[: PIECE_CHARS * 4])
    if normalised and normalised not in found:
        found.append(normalised)
    return [v for v in found if v.strip()]


class SemanticModel:
    """Encoder + head. Stateless between calls; safe to share between threads."""

    def __init__(self, encoder: Encoder, head: Head, normalise: Callable[[str], str]) -> None:
        if head.encoder != encoder.name:
            raise ModelError(f"the crisis model was trained on {head.encoder}, not "
                             f"{encoder.name}; retrain it with `counsel crisis train`")
        self.encoder = encoder
        self.head = head
        self._normalise = normalise

    def judge_many(self, texts: Sequence[str]) -> list[SemanticVerdict]:
        """One verdict per text, all views embedded in one batch."""
        all_views: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            found = views(text, self._normalise)
            all_views += found
            owner += [i] * len(found)
        if not all_views:
            return [SemanticVerdict(0.0, self.head.categories[0], ()) for _ in texts]
        vectors = self.encoder.encode(all_views)
        scores = self.head.probabilities(vectors)
        best: dict[int, int] = {}
        for row, i in enumerate(owner):
            if i not in best or scores[row] > scores[best[i]]:
                best[i] = row
        verdicts = []
        for i in range(len(texts)):
            if i not in best:
                verdicts.append(SemanticVerdict(0.0, self.head.categories[0], ()))
                continue
            vector = vectors[best[i]]
            verdicts.append(SemanticVerdict(float(scores[best[i]]), self.head.category_of(vector),
                                            self.head.nearest(vector)))
        return verdicts
