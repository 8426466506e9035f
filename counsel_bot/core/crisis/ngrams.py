"""Character n-grams of the normalised text: the head's second, lexical view.

Sentence embeddings see topic and meaning but blur small words that change everything
("nicht", "früher", "lol"); character n-grams of the rules' normalised form keep them, and
survive spelling variants. Training and the bot use this one function, so the features a
head was trained on are exactly the ones it later gets.

Weighting: sublinear term frequency (1 + ln tf) times a smoothed idf, L2-normalised, as
usual for short texts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

NGRAM_MIN = 2
NGRAM_MAX = 5
MAX_CHARS = 2000  # a pasted essay adds nothing past this, and the cost stays bounded


def char_ngrams(normalised: str) -> Counter[str]:
    """N-grams within words padded by a space, so word starts and ends are features."""
    counts: Counter[str] = Counter()
    for word in normalised[:MAX_CHARS].split():
        padded = f" {word} "
        for n in range(NGRAM_MIN, NGRAM_MAX + 1):
            if len(padded) < n:
                break
            for i in range(len(padded) - n + 1):
                counts[padded[i:i + n]] += 1
    return counts


def idf_weights(documents: Sequence[Counter[str]], min_df: int = 2) -> dict[str, float]:
    """Smoothed idf of every n-gram found in at least ``min_df`` documents."""
    df: Counter[str] = Counter()
    for doc in documents:
        df.update(doc.keys())
    n = len(documents)
    return {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items() if c >= min_df}


def weigh(counts: Counter[str], idf: Mapping[str, float]) -> dict[str, float]:
    """Sublinear tf-idf, L2-normalised; n-grams outside the vocabulary are dropped."""
    raw = {g: (1 + math.log(c)) * idf[g] for g, c in counts.items() if g in idf}
    norm = math.sqrt(sum(v * v for v in raw.values()))
    return {g: v / norm for g, v in raw.items()} if norm else {}
