"""Training the semantic head (``counsel crisis train``) and the honest estimates around it.

Training needs scikit-learn (the ``train`` extra, part of the dev install); the bot itself
only needs numpy and the encoder. The threshold is chosen on the dev split for recall first:
the highest threshold at which rules plus model still reach ``target_recall`` on dev, so
precision is as high as that recall allows. The test split is never touched here.

Hard negatives (idioms, resolved and denied risk) weigh twice in training: they are what
floods counsellors with false alarms.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from counsel_bot.core.crisis.chats import CHAT_KIND
from counsel_bot.core.crisis.combined import CombinedDetector, combine
from counsel_bot.core.crisis.detector import CrisisDetector
from counsel_bot.core.crisis.encoder import MAX_PIECE_CHARS, Encoder, Vectors
from counsel_bot.core.crisis.errors import ModelError
from counsel_bot.core.crisis.evaluation import (
    HARD_NEGATIVE_KINDS,
    Counts,
    Example,
    Report,
    evaluate,
)
from counsel_bot.core.crisis.lexicon import CATEGORIES
from counsel_bot.core.crisis.ngrams import idf_weights, lexical_features, weigh
from counsel_bot.core.crisis.semantic import (
    CRISIS_GROUP,
    GROUPS,
    Head,
    SemanticModel,
    features,
    neighbourhood,
)

# Dev recall the threshold is chosen for. Held out one writer at a time (21 writers), 0.98
# gives 0.978 on the held-out writers and 0.975 gives 0.975 with fewer false flags (0.155
# against 0.168 on hard negatives); recall first, and margin over the goal (0.97).
DEFAULT_TARGET_RECALL = 0.98
HIGH_PRECISION = 0.97
REGULARISATION = 4.0
HARD_NEGATIVE_WEIGHT = 2.0
# Examples from labelled chats (``chats.py``) weigh a quarter. They are thousands of
# ordinary lines, and the regressions balance the two classes: at full weight they took
# weight from the hard negatives, and idioms and resolved stories were flagged more (dev
# precision 0.837 against 0.853 at a quarter; docs/crisis-model.md).
CHAT_WEIGHT = 0.25
FOLDS = 5
SEED = 20261205


@dataclass(frozen=True)
class TrainingReport:
    threshold: float
    high_threshold: float
    dev: Counts
    examples: int


def _sklearn() -> Any:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise ModelError("training needs scikit-learn: install the dev extras "
                         "(`pip install -e '.[dev]'`, which `make test` does)") from exc
    return LogisticRegression


class EmbeddingCache:
    """An encoder that embeds each text once per run (cross-validation trains many heads
    on the same texts)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self._rows: dict[str, NDArray[np.float32]] = {}

    def encode(self, texts: Sequence[str]) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
        for start in range(0, len(missing), 256):
            batch = missing[start:start + 256]
            for text, row in zip(batch, self.encoder.encode(batch), strict=True):
                self._rows[text] = row
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._rows[t] for t in texts])


def _sparse(rows: Sequence[dict[str, float]], index: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    data: list[float] = []
    cols: list[int] = []
    pointers = [0]
    for row in rows:
        for gram, value in row.items():
            data.append(value)
            cols.append(index[gram])
        pointers.append(len(data))
    return csr_matrix((data, cols, pointers), shape=(len(rows), len(index)))


# Invisible and direction characters, as filter dodgers and some keyboards put them in.
_ODD_MARKS = ("\u200b", "\u200c", "\u2060", "\u200d")
_BIDI = (("\u202e", "\u202c"), ("\u2067", "\u2069"), ("\u200f", ""))
_NUMBERED = ("teil {}", "({}/3)", "{} uhr", "seite {}", "nr. {}", "{}x", "part {}", "#{}")


def with_odd_characters(examples: Sequence[Example]) -> list[tuple[int, Example]]:
    """Copies of every example with invisible or direction characters added, a code-like
    token (an order number, a hash, a game code) or a number, both labels alike. The writers
    put such things almost only into obfuscated crisis messages, and a head learns that: an
    ordinary "hallo" with a zero-width space, and "runde 1 nachricht 0 a3f9c2d1", were
    flagged. With the copies they carry no label. Each copy comes with its original's
    index."""
    out: list[tuple[int, Example]] = []
    for n, ex in enumerate(examples):
        if n % 4 == 0:
            mark = _ODD_MARKS[(n // 4) % len(_ODD_MARKS)]
            words = ex.text.split(" ")
            text = " ".join(w[: len(w) // 2] + mark + w[len(w) // 2:] for w in words)
        elif n % 4 == 2:
            start, end = _BIDI[(n // 4) % len(_BIDI)]
            text = f"{start}{ex.text}{end}"
        elif n % 4 == 1:
            token = hashlib.sha256(ex.id.encode()).hexdigest()[: 6 + n % 5]
            text = f"{ex.text} {token}" if n % 8 == 1 else f"{token} {ex.text}"
        else:
            # Numbers and commands: leetspeak made digits look like risk ("teil 3" and
            # "!capacity 3" were flagged).
            text = f"{ex.text} {_NUMBERED[(n // 4) % len(_NUMBERED)].format(n % 24)}"
        out.append((n, replace(ex, id=f"{ex.id}~odd", text=text)))
    return out


def _group(example: Example) -> int:
    if example.crisis:
        return CRISIS_GROUP
    return 1 if example.kind in HARD_NEGATIVE_KINDS else 2


def _neighbours_out_of_fold(vectors: Vectors, groups: NDArray[np.int8],
                            fold: NDArray[np.int64]) -> Vectors:
    """Neighbourhood features of training rows from the other folds: a row must not find
    itself, or the head learns to trust a similarity of 1.0 it never sees in use."""
    out = np.zeros((len(vectors), GROUPS * 2), dtype=np.float32)
    for f in range(FOLDS):
        rows, rest = fold == f, fold != f
        out[rows] = neighbourhood(vectors[rows], vectors[rest], groups[rest])
    return out


def fit_head(examples: Sequence[Example], cache: EmbeddingCache, rules: CrisisDetector) -> Head:
    """The head's weights (thresholds still at 0.5; see ``choose_thresholds``)."""
    logistic = _sklearn()
    originals = len(examples)
    copies = with_odd_characters(examples)
    examples = [*examples, *(copy for _, copy in copies)]
    # A copy sits in its original's fold, so it never finds its twin as a neighbour.
    folds = np.concatenate([np.arange(originals) % FOLDS,
                            np.array([n % FOLDS for n, _ in copies], dtype=np.int64)])
    views = [ex.text[:MAX_PIECE_CHARS] for ex in examples]
    y = np.array([ex.crisis for ex in examples])
    if y.all() or not y.any():
        raise ModelError("training data needs both crisis and ordinary messages")
    # Hard negatives weigh more: a counsellor flooded with idioms stops reading alerts.
    weight = np.array([HARD_NEGATIVE_WEIGHT if ex.kind in HARD_NEGATIVE_KINDS
                       else CHAT_WEIGHT if ex.kind == CHAT_KIND else 1.0 for ex in examples])
    found = features(views, cache, rules.normalise, rules.cues)
    groups = np.array([_group(ex) for ex in examples], dtype=np.int8)
    grams = [lexical_features(n) for n in found.normalised]
    idf = idf_weights(grams[:originals])
    vocabulary = tuple(sorted(idf))
    index = {g: i for i, g in enumerate(vocabulary)}
    rows = _sparse([weigh(g, idf) for g in grams], index)

    lexical = logistic(C=REGULARISATION, max_iter=5000, class_weight="balanced")
    lexical.fit(rows, y, sample_weight=weight)
    dense = logistic(C=REGULARISATION, max_iter=5000, class_weight="balanced")
    dense.fit(found.dense(_neighbours_out_of_fold(found.embedded, groups, folds)), y,
              sample_weight=weight)
    crisis_rows = [i for i, ex in enumerate(examples) if ex.crisis]
    labels = [examples[i].category or "" for i in crisis_rows]
    known = [c for c in CATEGORIES if c in set(labels)]
    if len(known) > 1:
        multi = logistic(C=REGULARISATION, max_iter=5000, class_weight="balanced")
        multi.fit(found.embedded[crisis_rows], np.array([known.index(c) for c in labels]))
        cat_w, cat_b = multi.coef_, multi.intercept_
        if len(known) == 2:  # sklearn keeps one row for two classes
            cat_w = np.vstack([-cat_w[0], cat_w[0]]) / 2
            cat_b = np.array([-cat_b[0], cat_b[0]]) / 2
    else:
        known = known or [CATEGORIES[0]]
        cat_w = np.zeros((1, found.embedded.shape[1]))
        cat_b = np.zeros(1)
    return Head(
        encoder=cache.name,
        weights=dense.coef_[0].astype(np.float32), bias=float(dense.intercept_[0]),
        ngram_vocabulary=vocabulary,
        ngram_idf=np.array([idf[g] for g in vocabulary], dtype=np.float32),
        ngram_weights=lexical.coef_[0].astype(np.float32),
        ngram_bias=float(lexical.intercept_[0]),
        category_weights=np.asarray(cat_w, dtype=np.float32),
        category_bias=np.asarray(cat_b, dtype=np.float32), categories=tuple(known),
        threshold=0.5, high_threshold=0.9,
        example_vectors=found.embedded[:originals].astype(np.float16),
        example_ids=tuple(ex.id for ex in examples[:originals]),
        example_groups=groups[:originals])


def _with_thresholds(head: Head, threshold: float, high: float) -> Head:
    return replace(head, threshold=threshold, high_threshold=high)


def choose_thresholds(head: Head, rules: CrisisDetector, encoder: Encoder,
                      dev: Sequence[Example],
                      target_recall: float = DEFAULT_TARGET_RECALL) -> tuple[Head, Counts]:
    """Recall first: the highest threshold at which rules and model together (as
    ``combine`` decides) still reach the target recall on dev."""
    model = SemanticModel(encoder, head, rules.normalise, rules.cues)
    texts = [ex.text for ex in dev]
    ruled = rules.assess_many(texts)
    verdicts = model.judge_many(texts)
    crisis = [ex.crisis for ex in dev]

    def counts(threshold: float) -> Counts:
        trial = _with_thresholds(head, threshold, 1.0)
        c = Counts()
        for is_crisis, rule, verdict in zip(crisis, ruled, verdicts, strict=True):
            c = c.add(is_crisis, combine(rule, verdict, trial).flag)
        return c

    chosen = 0.01
    for step in range(990, 9, -5):
        threshold = step / 1000
        recall = counts(threshold).recall
        if recall is not None and recall >= target_recall:
            chosen = threshold
            break
    high = 0.99
    for step in range(int(chosen * 100), 100):
        threshold = step / 100
        c = Counts()
        for is_crisis, verdict in zip(crisis, verdicts, strict=True):
            if verdict.score >= threshold:
                c = c.add(is_crisis, True)
        if c.precision is not None and c.precision >= HIGH_PRECISION:
            high = threshold
            break
    return _with_thresholds(head, chosen, max(high, chosen)), counts(chosen)


def train(train_set: Sequence[Example], dev: Sequence[Example], rules: CrisisDetector,
          cache: EmbeddingCache,
          target_recall: float = DEFAULT_TARGET_RECALL) -> tuple[Head, TrainingReport]:
    head = fit_head(train_set, cache, rules)
    head, dev_counts = choose_thresholds(head, rules, cache, dev, target_recall)
    return head, TrainingReport(head.threshold, head.high_threshold, dev_counts,
                                len(train_set))


def _split_dev(examples: Sequence[Example], share: float = 0.2) -> tuple[list[Example],
                                                                          list[Example]]:
    shuffled = list(examples)
    random.Random(SEED).shuffle(shuffled)  # noqa: S311 - a reproducible split, not a secret
    cut = max(1, int(len(shuffled) * share))
    return shuffled[cut:], shuffled[:cut]


def held_out_by(key: Callable[[Example], str], examples: Sequence[Example],
                rules: CrisisDetector, cache: EmbeddingCache,
                target_recall: float = DEFAULT_TARGET_RECALL,
                extra: Sequence[Example] = ()) -> dict[str, Report]:
    """Leave one group out: train (and choose the threshold) without it, score on it.
    ``extra`` examples train every fold and are never scored."""
    results: dict[str, Report] = {}
    for group in sorted({key(e) for e in examples}):
        rest = [e for e in examples if key(e) != group]
        held = [e for e in examples if key(e) == group]
        fit, dev = _split_dev(rest)
        head, _ = train([*fit, *extra], dev, rules, cache, target_recall)
        detector = CombinedDetector(rules, SemanticModel(cache, head, rules.normalise, rules.cues))
        results[group] = evaluate(detector, held)
    return results


def learning_curve(train_set: Sequence[Example], dev: Sequence[Example],
                   evaluate_on: Sequence[Example], rules: CrisisDetector,
                   cache: EmbeddingCache, shares: Sequence[float] = (0.1, 0.25, 0.5, 1.0),
                   target_recall: float = DEFAULT_TARGET_RECALL) -> list[tuple[int, Counts]]:
    """Recall and precision on ``evaluate_on`` as the training data grows."""
    shuffled = list(train_set)
    random.Random(SEED).shuffle(shuffled)  # noqa: S311 - a reproducible split, not a secret
    out = []
    for share in shares:
        part = shuffled[: max(20, int(len(shuffled) * share))]
        head, _ = train(part, dev, rules, cache, target_recall)
        detector = CombinedDetector(rules, SemanticModel(cache, head, rules.normalise, rules.cues))
        out.append((len(part), evaluate(detector, evaluate_on).overall))
    return out
