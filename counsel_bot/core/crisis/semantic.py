"""The semantic half of the detector: sentence embeddings, n-grams and a trained head.

Rules find wording a professional wrote down; this part finds meaning the rules never saw
("ihr werdet mich bald nicht mehr nerven", a grooming chat told without the word). Its
decisions:

1. A message is looked at in *views*: itself, or, when it is long, pieces of a few
   sentences, so one risky sentence in a long letter is not averaged away.
2. For each view the head reads four things: the sentence embedding of the text as
   written, the embedding of the rules' normalised form (leetspeak, spaced letters,
   invisible characters undone), the rules' cues (their verdict, and whether an idiom,
   a context, the past tense or a negation is there), and how close the view is to the
   labelled examples of each group (crisis, hard negatives, other ordinary messages): a
   linear boundary alone puts "ich lach mich tot" beside "ich bring mich um", the nearest
   examples do not. A logistic regression turns them into a probability. A second one
   reads character n-grams of the normalised form, which keep the small words embeddings
   blur ("nicht", "früher", "lol"); the view's score is the mean of the two. (Stacking the
   n-gram logit into the first regression instead was tried: dev precision 0.79 against
   0.82 at the same recall.)
3. The message's score is its highest view score; the category comes from that view.
4. It explains itself by the ids of the nearest labelled crisis examples (never their
   text) and the score.

The head's arrays live in one ``.npz`` file (no pickle) with the encoder's name, so a head
trained on another encoder is refused instead of silently scoring noise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from counsel_bot.core.crisis.encoder import MAX_PIECE_CHARS, Encoder, Vectors
from counsel_bot.core.crisis.errors import ModelError
from counsel_bot.core.crisis.ngrams import lexical_features, weigh

# Long messages: pieces of about this many characters, cut at sentence ends.
PIECE_CHARS = 240
# The model reads up to this much of a message, at its beginning and its end (the rules read
# all of it): a diary pasted whole tells what matters at its end, and once read only its
# first 11,500 characters. Reading more costs about a second of one core per 16,000
# characters, and the judge runs while the conductor's step lock is held: Synapse lets one
# youth send ten 64 KB messages at once, which read whole held every other youth's words
# and alerts for half a minute. A letter of about 2,500 words is read whole.
MAX_READ_CHARS = 16 * 1024
NEAREST = 3
# Neighbourhood features: the mean of the K most similar examples of each group, and the
# most similar one. Groups: crisis, hard negatives (idiom, resolved, denied), the rest.
K = 10
GROUPS = 3
CRISIS_GROUP = 0
# Cues are 0/1 among embedding values of about +-0.1: scaled so the head's regularisation
# does not drown them.
CUE_SCALE = 3.0
NEIGHBOUR_SCALE = 10.0
_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+")
# Machine tokens the model must not read: conversation ids (C-1A2B3C4D), Matrix ids, links,
# bot commands (a head trained on 8,105 messages, none with a command, read "!duty on
# !capacity 3 !next" as risk; the rules still read them), and hex codes with letters and
# digits mixed. A sentence encoder puts "C-1A2B3C4D" next to leetspeak ("t0d 1st b3ss3r")
# and flagged "!take C-1A2B3C4D"; leetspeak words always hold letters past "f", so pure hex
# is safe to drop.
_MACHINE_TOKENS = re.compile(
    r"\b[Cc]-[0-9A-Fa-f]{8}\b"
    r"|(?<!\S)![A-Za-z][\w-]*"
    r"|[@!#+$][\w.=-]+:[\w.-]+"
    r"|\bhttps?://\S+"
    r"|\b(?=[0-9a-fA-F-]*\d)(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F][0-9a-fA-F-]{5,}\b")


def without_machine_tokens(text: str) -> str:
    return _MACHINE_TOKENS.sub(" ", text)

FORMAT_VERSION = 5


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
    weights: NDArray[np.float32]  # (2d + cues,)
    bias: float
    ngram_vocabulary: tuple[str, ...]
    ngram_idf: NDArray[np.float32]
    ngram_weights: NDArray[np.float32]
    ngram_bias: float
    category_weights: NDArray[np.float32]  # (k, d)
    category_bias: NDArray[np.float32]  # (k,)
    categories: tuple[str, ...]
    threshold: float
    high_threshold: float
    example_vectors: NDArray[np.float16]  # (n, d): every training example
    example_ids: tuple[str, ...]
    example_groups: NDArray[np.int8]  # (n,): CRISIS_GROUP, hard negative, other

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle, version=np.array(FORMAT_VERSION), encoder=np.array(self.encoder),
                weights=self.weights, bias=np.array(self.bias, dtype=np.float32),
                ngram_vocabulary=np.array(self.ngram_vocabulary), ngram_idf=self.ngram_idf,
                ngram_weights=self.ngram_weights,
                ngram_bias=np.array(self.ngram_bias, dtype=np.float32),
                category_weights=self.category_weights, category_bias=self.category_bias,
                categories=np.array(self.categories),
                thresholds=np.array([self.threshold, self.high_threshold], dtype=np.float32),
                example_vectors=self.example_vectors, example_ids=np.array(self.example_ids),
                example_groups=self.example_groups)

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
                    ngram_vocabulary=tuple(str(g) for g in z["ngram_vocabulary"]),
                    ngram_idf=z["ngram_idf"].astype(np.float32),
                    ngram_weights=z["ngram_weights"].astype(np.float32),
                    ngram_bias=float(z["ngram_bias"]),
                    category_weights=z["category_weights"].astype(np.float32),
                    category_bias=z["category_bias"].astype(np.float32),
                    categories=tuple(str(c) for c in z["categories"]),
                    threshold=float(thresholds[0]), high_threshold=float(thresholds[1]),
                    example_vectors=z["example_vectors"].astype(np.float16),
                    example_ids=tuple(str(i) for i in z["example_ids"]),
                    example_groups=z["example_groups"].astype(np.int8))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"crisis model {path} cannot be read ({exc}); restore it from "
                             "the repository or set [crisis] model = false") from None

    def category_of(self, vector: Vectors) -> str:
        logits = self.category_weights @ vector + self.category_bias
        return self.categories[int(np.argmax(logits))]


def neighbourhood(vectors: Vectors, examples: NDArray[np.float32],
                  groups: NDArray[np.int8]) -> Vectors:
    """Per row: mean similarity of the K nearest examples of each group, and the nearest."""
    out = np.zeros((len(vectors), GROUPS * 2), dtype=np.float32)
    if not len(vectors):
        return out
    similarity = vectors @ examples.T
    for group in range(GROUPS):
        members = similarity[:, groups == group]
        if not members.shape[1]:
            continue
        k = min(K, members.shape[1])
        top = np.partition(members, members.shape[1] - k, axis=1)[:, -k:]
        out[:, group * 2] = top.mean(axis=1)
        out[:, group * 2 + 1] = top.max(axis=1)
    return out * NEIGHBOUR_SCALE


def _sigmoid(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -40, 40))), dtype=np.float32)


class NgramScorer:
    """The n-gram half of a head, with its vocabulary as a dict for fast lookups."""

    def __init__(self, head: Head) -> None:
        self._index = {g: i for i, g in enumerate(head.ngram_vocabulary)}
        self._idf = {g: float(head.ngram_idf[i]) for g, i in self._index.items()}
        self._weights = head.ngram_weights
        self._bias = head.ngram_bias

    def logits(self, normalised: Sequence[str]) -> NDArray[np.float32]:
        out = np.full(len(normalised), self._bias, dtype=np.float32)
        for row, text in enumerate(normalised):
            for gram, value in weigh(lexical_features(text), self._idf).items():
                out[row] += value * self._weights[self._index[gram]]
        return out


def default_model_path() -> Path:
    """The head shipped with the repository (``config/crisis/model/head.npz``)."""
    return Path(__file__).resolve().parents[3] / "config" / "crisis" / "model" / "head.npz"


def pieces(text: str) -> list[str]:
    """A long message cut at sentence ends into pieces of about PIECE_CHARS."""
    if len(text) <= MAX_PIECE_CHARS:
        return [text]
    if len(text) > MAX_READ_CHARS:
        half = MAX_READ_CHARS // 2 - PIECE_CHARS
        return _cut(text[:half]) + _cut(text[-half:])
    return _cut(text)


def _cut(text: str) -> list[str]:
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
    if current:
        out.append(current)
    return [p for p in out if p.strip()] or [text[:PIECE_CHARS]]


@dataclass(frozen=True)
class Features:
    """What the head reads for a batch of views (decision 2), but the neighbourhood."""

    embedded: Vectors  # (n, d): the views as written
    own: Vectors  # (n, 2d + cues): embeddings and the rules' cues
    normalised: list[str]

    def dense(self, neighbours: Vectors) -> Vectors:
        return np.hstack([self.own, neighbours]).astype(np.float32)


def features(views: Sequence[str], encoder: Encoder, normalise: Callable[[str], str],
             cues: Callable[[str], tuple[float, ...]]) -> Features:
    views = [without_machine_tokens(v) for v in views]
    normalised = [normalise(v) for v in views]
    vectors = encoder.encode(list(views) + [n or v for n, v in zip(normalised, views,
                                                                     strict=True)])
    embedded, embedded_normalised = vectors[: len(views)], vectors[len(views):]
    cue_rows = np.array([cues(v) for v in views], dtype=np.float32) * CUE_SCALE
    own = np.hstack([embedded, embedded_normalised, cue_rows]).astype(np.float32)
    return Features(embedded, own, normalised)


class SemanticModel:
    """Encoder + head. Stateless between calls; safe to share between threads."""

    def __init__(self, encoder: Encoder, head: Head, normalise: Callable[[str], str],
                 cues: Callable[[str], tuple[float, ...]]) -> None:
        if head.encoder != encoder.name:
            raise ModelError(f"the crisis model was trained on {head.encoder}, not "
                             f"{encoder.name}; retrain it with `counsel crisis train`")
        self.encoder = encoder
        self._normalise = normalise
        self._cues = cues
        self._ngrams = NgramScorer(head)
        # One float32 matrix of the examples, crisis rows first, so the nearest crisis
        # examples are searched in a view of it. The head's float16 vectors are dropped
        # once converted: with 21,433 examples, the float16 array and a separate copy of
        # the crisis rows cost the bot another 40 MB.
        order = np.argsort(head.example_groups != CRISIS_GROUP, kind="stable")
        crises = int(np.count_nonzero(head.example_groups == CRISIS_GROUP))
        self._examples = head.example_vectors[order].astype(np.float32)
        self._groups = head.example_groups[order]
        self._crisis_vectors = self._examples[:crises]
        self._crisis_ids = tuple(head.example_ids[i] for i in order[:crises])
        self.head = replace(head, example_vectors=np.empty((0, self._examples.shape[1]),
                                                           dtype=np.float16))

    def nearest(self, vector: Vectors) -> tuple[str, ...]:
        """The ids of the labelled crisis examples closest to ``vector``."""
        if not self._crisis_ids:
            return ()
        similarity = self._crisis_vectors @ vector
        count = min(NEAREST, len(similarity))
        top = np.argpartition(-similarity, count - 1)[:count]
        best = top[np.argsort(-similarity[top])]
        return tuple(self._crisis_ids[i] for i in best)

    def scores(self, found: Features) -> NDArray[np.float32]:
        near = neighbourhood(found.embedded, self._examples, self._groups)
        dense = _sigmoid(found.dense(near) @ self.head.weights + self.head.bias)
        lexical = _sigmoid(self._ngrams.logits(found.normalised))
        return np.asarray((dense + lexical) / 2, dtype=np.float32)

    def judge_many(self, texts: Sequence[str]) -> list[SemanticVerdict]:
        """One verdict per text, all views embedded in one batch."""
        all_views: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            found = [v for v in pieces(text) if v.strip()]
            all_views += found
            owner += [i] * len(found)
        empty = SemanticVerdict(0.0, self.head.categories[0], ())
        if not all_views:
            return [empty for _ in texts]
        found_features = features(all_views, self.encoder, self._normalise, self._cues)
        scores = self.scores(found_features)
        best: dict[int, int] = {}
        for row, i in enumerate(owner):
            if i not in best or scores[row] > scores[best[i]]:
                best[i] = row
        verdicts = []
        for i in range(len(texts)):
            if i not in best:
                verdicts.append(empty)
                continue
            vector = found_features.embedded[best[i]]
            score = float(scores[best[i]])
            # Only a flag is explained to a counsellor: the search is skipped below it.
            nearest = self.nearest(vector) if score >= self.head.threshold else ()
            verdicts.append(SemanticVerdict(score, self.head.category_of(vector), nearest))
        return verdicts
