"""Compiles a lexicon into one token index plus one small regex per entry.

A message is split into tokens once; each token is looked up in a dict of anchor words
and a dict of anchor stems, so only entries whose rarest word occurs are tried with
their regex. Tokens that miss everything get one typo lookup (``fuzzy.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from counsel_bot.core.crisis.errors import LexiconError
from counsel_bot.core.crisis.fuzzy import FuzzyIndex
from counsel_bot.core.crisis.lexicon import Lexicon, NegationWords
from counsel_bot.core.crisis.normalise import Normaliser
from counsel_bot.core.crisis.pattern import CompiledPattern, PatternSyntaxError, parse

RULE, IDIOM, CONTEXT, PAST, CURRENT = "rule", "idiom", "context", "past", "current"


@dataclass(frozen=True)
class Entry:
    kind: str
    ref: int
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Scan:
    """A normalised message after typo repair, and the entries worth trying on it."""

    text: str
    candidates: tuple[int, ...]


def _normalised_set(normaliser: Normaliser, words: Iterable[str]) -> frozenset[str]:
    return frozenset(n for w in words if (n := normaliser.normalise(w)))


class CompiledLexicon:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.normaliser = Normaliser(lexicon.emoji)
        self.entries: list[Entry] = []
        self._exact: dict[str, set[int]] = {}
        self._stems: dict[str, set[int]] = {}
        self._all_stems: set[str] = set()
        self._vocab: set[str] = set()
        sources: list[tuple[str, int, str, Path, tuple[str, ...]]] = []
        sources += [(RULE, i, r.id, r.source, r.patterns) for i, r in enumerate(lexicon.rules)]
        sources += [(IDIOM, i, d.id, d.source, d.patterns) for i, d in enumerate(lexicon.idioms)]
        sources += [(CONTEXT, i, c.id, c.source, c.patterns)
                    for i, c in enumerate(lexicon.contexts)]
        sources += [(PAST, i, "tense.past", p, (s,)) for i, (s, p) in enumerate(lexicon.past)]
        sources += [(CURRENT, i, "tense.current", p, (s,))
                    for i, (s, p) in enumerate(lexicon.current)]
        for kind, ref, ident, path, patterns in sources:
            self._add(kind, ref, ident, path, patterns)
        # Stems are found through their first three letters: one dict lookup per token.
        self._stem_heads = _by_head(self._stems)
        self._all_stem_heads = _by_head({stem: set() for stem in self._all_stems})
        self.negation = self._negation(lexicon.negation)
        # A typo must never turn an ordinary word into a cue ("meiner" -> "keiner").
        cues = (self.negation.before | self.negation.after | self.negation.stops
                | self.negation.contrast)
        self.fuzzy = FuzzyIndex(self._vocab - cues, self._all_stems,
                                _normalised_set(self.normaliser, lexicon.protected) | cues)

    def _add(self, kind: str, ref: int, ident: str, path: Path,
             patterns: tuple[str, ...]) -> None:
        compiled: list[CompiledPattern] = []
        for source in patterns:
            try:
                compiled.append(parse(self.normaliser, source))
            except PatternSyntaxError as exc:
                raise LexiconError(path, ident, f"pattern {source!r}: {exc}") from exc
        # One entry per pattern: only patterns whose own anchor occurs are run.
        for pattern in compiled:
            index = len(self.entries)
            for alt in pattern.anchor().alternatives:
                key = alt.key()
                target = self._stems if key.is_stem else self._exact
                target.setdefault(key.text, set()).add(index)
            for word in pattern.words():
                (self._all_stems if word.is_stem else self._vocab).add(word.text)
            self.entries.append(Entry(kind, ref, re.compile(pattern.regex)))

    def _negation(self, words: NegationWords) -> NegationWords:
        n = self.normaliser
        return NegationWords(_normalised_set(n, words.before), _normalised_set(n, words.after),
                             _normalised_set(n, words.pseudo), _normalised_set(n, words.stops),
                             _normalised_set(n, words.contrast), words.window)

    def _known(self, token: str) -> bool:
        if token in self._vocab:
            return True
        return any(token.startswith(stem) for stem, _ in self._all_stem_heads.get(token[:3], ()))

    def _stem_ids(self, token: str) -> set[int]:
        found: set[int] = set()
        for stem, ids in self._stem_heads.get(token[:3], ()):
            if token.startswith(stem):
                found |= ids
        return found

    def scan(self, text: str) -> Scan:
        tokens = text.split(" ")
        found: set[int] = set()
        exact, heads = self._exact, self._stem_heads
        repaired = False
        for i, token in enumerate(tokens):
            ids = exact.get(token)
            hit = ids is not None
            if ids is not None:
                found |= ids
            if token[:3] in heads:
                stem_ids = self._stem_ids(token)
                if stem_ids:
                    found |= stem_ids
                    hit = True
            if hit or len(token) < 5 or self._known(token):
                continue
            fixed = self.fuzzy.correct(token)
            if fixed is not None:
                tokens[i] = fixed
                repaired = True
                found |= exact.get(fixed, set()) | self._stem_ids(fixed)
        out = " ".join(tokens) if repaired else text
        return Scan(out, tuple(sorted(found)))


def _by_head(stems: dict[str, set[int]]) -> dict[str, tuple[tuple[str, frozenset[int]], ...]]:
    heads: dict[str, list[tuple[str, frozenset[int]]]] = {}
    for stem, ids in stems.items():
        heads.setdefault(stem[:3], []).append((stem, frozenset(ids)))
    return {k: tuple(sorted(v)) for k, v in heads.items()}
