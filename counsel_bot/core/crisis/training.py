"""Training the semantic head (``counsel crisis train``) and the honest estimates around it.

Training needs scikit-learn (the ``train`` extra, part of the dev install); the bot itself
only needs numpy and the encoder. The threshold is chosen on the dev split for recall first:
the highest threshold at which rules plus model still reach ``target_recall`` on dev, so
precision is as high as that recall allows. The test split is never touched here.

Each example is learnt in two views, as written and as the rules normalise it, so that
leetspeak, spaced letters and invisible characters look alike to the head.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from counsel_bot.core.crisis.combined import CombinedDetector
from counsel_bot.core.crisis.detector import CrisisDetector
from counsel_bot.core.crisis.encoder import MAX_PIECE_CHARS, Encoder, Vectors
from counsel_bot.core.crisis.errors import ModelError
from counsel_bot.core.crisis.evaluation import Counts, Example, evaluate
from counsel_bot.core.crisis.lexicon import CATEGORIES
from counsel_bot.core.crisis.semantic import Head, SemanticModel

DEFAULT_TARGET_RECALL = 0.98
HIGH_PRECISION = 0.97
REGULARISATION = 4.0
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
    """Texts embedded once per run (cross-validation trains many heads on the same texts)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._rows: dict[str, NDArray[np.float32]] = {}

    def embed(self, texts: Sequence[str]) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
        for start in range(0, len(missing), 256):
            batch = missing[start:start + 256]
            for text, row in zip(batch, self.encoder.encode(batch), strict=True):
                self._rows[text] = row
        if not texts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return np.stack([self._rows[t] for t in texts])


def _views(example: Example, normalise: Callable[[str], str]) -> list[str]:
    text = example.text[:MAX_PIECE_CHARS]
    normalised = normalise(example.text)[:MAX_PIECE_CHARS]
    return [text] if not normalised or normalised == text else [text, normalised]


def fit_head(examples: Sequence[Example], cache: EmbeddingCache,
             normalise: Callable[[str], str]) -> Head:
    """The head's weights (thresholds still at 0.5; see ``choose_thresholds``)."""
    logistic = _sklearn()
    texts: list[str] = []
    labels: list[bool] = []
    categories: list[str | None] = []
    for ex in examples:
        for view in _views(ex, normalise):
            texts.append(view)
            labels.append(ex.crisis)
            categories.append(ex.category if ex.crisis else None)
    vectors = cache.embed(texts)
    y = np.array(labels)
    if y.all() or not y.any():
        raise ModelError("training data needs both crisis and ordinary messages")
    binary = logistic(C=REGULARISATION, max_iter=5000, class_weight="balanced")
    binary.fit(vectors, y)
    crisis_rows = [i for i, c in enumerate(categories) if c is not None]
    known = [c for c in CATEGORIES if c in set(categories)]
    cat_y = np.array([known.index(categories[i]) for i in crisis_rows])  # type: ignore[arg-type]
    if len(known) > 1:
        multi = logistic(C=REGULARISATION, max_iter=5000, class_weight="balanced")
        multi.fit(vectors[crisis_rows], cat_y)
        cat_w, cat_b = multi.coef_, multi.intercept_
        if len(known) == 2:  # sklearn keeps one row for two classes
            cat_w = np.vstack([-cat_w[0], cat_w[0]]) / 2
            cat_b = np.array([-cat_b[0], cat_b[0]]) / 2
    else:
        cat_w = np.zeros((1, vectors.shape[1]))
        cat_b = np.zeros(1)
    first_views = [i for i, ex in enumerate(examples) if ex.crisis]
    example_vectors = cache.embed([examples[i].text[:MAX_PIECE_CHARS] for i in first_views])
    return Head(
        encoder=cache.encoder.name,
        weights=binary.coef_[0].astype(np.float32), bias=float(binary.intercept_[0]),
        category_weights=np.asarray(cat_w, dtype=np.float32),
        category_bias=np.asarray(cat_b, dtype=np.float32), categories=tuple(known),
        threshold=0.5, high_threshold=0.9,
        example_vectors=example_vectors.astype(np.float16),
        example_ids=tuple(examples[i].id for i in first_views))


def _with_thresholds(head: Head, threshold: float, high: float) -> Head:
    from dataclasses import replace

    return replace(head, threshold=threshold, high_threshold=high)


def choose_thresholds(head: Head, rules: CrisisDetector, encoder: Encoder,
                      dev: Sequence[Example],
                      target_recall: float = DEFAULT_TARGET_RECALL) -> tuple[Head, Counts]:
    """Recall first: the highest threshold keeping rules+model recall on dev at the target."""
    model = SemanticModel(encoder, head, rules.normalise)
    texts = [ex.text for ex in dev]
    ruled = [a.flag for a in rules.assess_many(texts)]
    scores = [v.score for v in model.judge_many(texts)]
    crisis = [ex.crisis for ex in dev]

    def counts(threshold: float) -> Counts:
        c = Counts()
        for is_crisis, rule_flag, score in zip(crisis, ruled, scores, strict=True):
            c = c.add(is_crisis, rule_flag or score >= threshold)
        return c

    chosen = 0.05
    for step in range(95, 4, -1):
        threshold = step / 100
        recall = counts(threshold).recall
        if recall is not None and recall >= target_recall:
            chosen = threshold
            break
    high = 0.99
    for step in range(int(chosen * 100), 100):
        threshold = step / 100
        c = Counts()
        for is_crisis, score in zip(crisis, scores, strict=True):
            if score >= threshold:
                c = c.add(is_crisis, True)
        if c.precision is not None and c.precision >= HIGH_PRECISION:
            high = threshold
            break
    return _with_thresholds(head, chosen, max(high, chosen)), counts(chosen)


def train(train_set: Sequence[Example], dev: Sequence[Example], rules: CrisisDetector,
          cache: EmbeddingCache,
          target_recall: float = DEFAULT_TARGET_RECALL) -> tuple[Head, TrainingReport]:
    head = fit_head(train_set, cache, rules.normalise)
    head, dev_counts = choose_thresholds(head, rules, cache.encoder, dev, target_recall)
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
                target_recall: float = DEFAULT_TARGET_RECALL) -> dict[str, Counts]:
    """Leave one group out: train (and choose the threshold) without it, score on it."""
    results: dict[str, Counts] = {}
    for group in sorted({key(e) for e in examples}):
        rest = [e for e in examples if key(e) != group]
        held = [e for e in examples if key(e) == group]
        fit, dev = _split_dev(rest)
        head, _ = train(fit, dev, rules, cache, target_recall)
        detector = CombinedDetector(rules, SemanticModel(cache.encoder, head, rules.normalise))
        results[group] = evaluate(detector, held).overall
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
        detector = CombinedDetector(rules, SemanticModel(cache.encoder, head, rules.normalise))
        out.append((len(part), evaluate(detector, evaluate_on).overall))
    return out
