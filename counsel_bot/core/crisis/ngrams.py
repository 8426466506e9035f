"""Character n-grams and words of the normalised text: the head's second, lexical view.

Sentence embeddings see topic and meaning but blur small words that change everything
("nicht", "früher", "lol"); character n-grams of the rules' normalised form keep them, and
survive spelling variants. Character n-grams stop at word ends, so they cannot tell
"ich will mich nicht umbringen" from "ich will nicht, dass er mich umbringt"; words marked
as negated (the few words after "nicht", "kein", "never" ... up to a comma or "aber") and
word pairs can. Leave-one-writer-out, the word features moved pooled precision from 0.717
to 0.724 and hard-negative false flags from 0.291 to 0.281 (docs/crisis-model.md).
Training and the bot use ``lexical_features``, so the features a head was trained on are
exactly the ones it later gets.

Weighting: sublinear term frequency (1 + ln tf) times a smoothed idf, L2-normalised, as
usual for short texts.
"""

from __future__ import annotations

import itertools
import math
import re
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


# Negation words as the normaliser leaves them (lower case, apostrophes gone, umlauts
# spelled out), German and English, dialect and chat forms included.
NEGATIONS = frozenset({
    "nicht", "nich", "net", "ned", "nit", "kein", "keine", "keinen", "keiner", "keinem",
    "keines", "nie", "niemals", "nimmer", "nix", "nichts", "nein", "nee", "noe", "no", "not",
    "never", "dont", "wont", "cant", "isnt", "aint", "nothing", "nobody", "nope", "didnt",
    "doesnt", "wouldnt", "shouldnt", "havent", "hasnt", "nothin"})
# Where a negation's reach ends: punctuation and the words that turn a sentence around.
SCOPE_ENDS = frozenset({".", ",", "!", "?", ";", ":", "aber", "but", "doch", "sondern",
                        "trotzdem", "though", "still", "und", "and"})
SCOPE_WORDS = 4
_TOKEN = re.compile(r"[^\W\d_]+|[.,!?;:]")


def word_features(normalised: str) -> Counter[str]:
    """Words (``w:``; ``w:~`` inside a negation's reach) and adjacent word pairs (``b:``)."""
    counts: Counter[str] = Counter()
    reach = 0
    words: list[str] = []
    for token in _TOKEN.findall(normalised[:MAX_CHARS]):
        if token in SCOPE_ENDS:
            reach = 0
            words.append("")
            continue
        counts[f"w:~{token}" if reach else f"w:{token}"] += 1
        reach = SCOPE_WORDS if token in NEGATIONS else max(0, reach - 1)
        words.append(token)
    for first, second in itertools.pairwise(words):
        if first and second:
            counts[f"b:{first}_{second}"] += 1
    return counts


def lexical_features(normalised: str) -> Counter[str]:
    """Everything the lexical regression reads."""
    counts = char_ngrams(normalised)
    counts.update(word_features(normalised))
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
