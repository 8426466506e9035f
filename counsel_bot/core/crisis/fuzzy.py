"""Typo tolerance: edit distance 1 (with adjacent swaps) against the lexicon's long words.

Looking up every message token against every lexicon word would cost a loop per rule;
instead each word is stored under itself and all its one-letter deletions, so a token
finds its candidates with a handful of dictionary lookups (symmetric deletion).
Stems (``umbring*``) are compared with the token's head of about the same length.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_WORD_LEN = 6
# Longer tokens are no typo of a lexicon word; their deletion sets would cost O(n^2).
MAX_WORD_LEN = 40
_HEAD = 3


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def within_one_edit(a: str, b: str) -> bool:
    """Damerau distance <= 1: one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    limit = min(la, lb)
    while i < limit and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la < lb:
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i:]


def _index(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    index: dict[str, set[str]] = {}
    for word in words:
        for key in [word, *_deletions(word)]:
            index.setdefault(key, set()).add(word)
    return {k: tuple(sorted(v)) for k, v in index.items()}


class FuzzyIndex:
    """Maps a token with a typo to the lexicon word (or stem + rest) it most likely means."""

    def __init__(self, words: Iterable[str], stems: Iterable[str], protected: Iterable[str]):
        self._words = _index(w for w in words if len(w) >= MIN_WORD_LEN and w.isalpha())
        stem_list = sorted({s for s in stems if len(s) >= MIN_WORD_LEN and s.isalpha()})
        self._stems = _index(stem_list)
        self._stem_lengths = tuple(sorted({len(s) for s in stem_list}))
        self._stem_heads = frozenset(s[:_HEAD] for s in stem_list)
        self._protected = frozenset(protected)

    def _lookup(self, index: dict[str, tuple[str, ...]], query: str) -> str | None:
        for key in [query, *_deletions(query)]:
            for target in index.get(key, ()):
                if target != query and within_one_edit(query, target):
                    return target
        return None

    def correct(self, token: str) -> str | None:
        """The corrected token, or None when the token is fine or too far from everything."""
        if not MIN_WORD_LEN - 1 <= len(token) <= MAX_WORD_LEN:
            return None
        if token in self._protected or not token.isalpha():
            return None
        word = self._lookup(self._words, token)
        if word is not None:
            return word
        if token[:_HEAD] not in self._stem_heads:
            return None
        for length in self._stem_lengths:
            for cut in (length, length - 1, length + 1):
                if cut > len(token) or cut < MIN_WORD_LEN - 1:
                    continue
                stem = self._lookup(self._stems, token[:cut])
                if stem is not None:
                    return stem + token[cut:]
        return None
