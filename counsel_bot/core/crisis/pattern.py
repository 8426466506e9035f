"""The lexicon's pattern language, compiled to regexes over normalised text.

A pattern is words separated by spaces:

- ``word``      the word itself (normalised like messages, so ``möchte`` == ``moechte``);
- ``stem*``     any word starting with ``stem`` (``umbring*``: umbringen, umbringe);
- ``(a|b*|c)``  one of the alternatives, each a single word or stem;
- ``~`` / ``~N`` up to 3 / up to N (1-6) other words, never across a clause boundary;
- ``$`` (last item only) the clause ends here: "ich will nicht mehr $" but not
  "ich will nicht mehr zur Schule".

Patterns are plain data so office staff can edit them; regex syntax is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from counsel_bot.core.crisis.normalise import Normaliser

_WORD = "[a-z0-9]+"
_DEFAULT_GAP = 3
_MAX_GAP = 6
_MIN_STEM = 3
_PLAIN_WORD = re.compile(r"[^\s()|~*$]+\*?")
_GAP = re.compile(r"~([1-6])?")
_ITEMS = re.compile(r"\([^()]*\)|[^\s()]+")


class PatternSyntaxError(ValueError):
    """Raised with a short description; the lexicon loader adds file and rule id."""


@dataclass(frozen=True)
class Word:
    text: str
    is_stem: bool

    def regex(self) -> str:
        return re.escape(self.text) + (f"(?:{_WORD})?" if self.is_stem else "")


@dataclass(frozen=True)
class Alternative:
    """One way to fill a slot: one or more words in a row."""

    words: tuple[Word, ...]

    def regex(self) -> str:
        return " ".join(w.regex() for w in self.words)

    def key(self) -> Word:
        """The word that indexes this alternative: its longest."""
        return max(self.words, key=lambda w: len(w.text))


@dataclass(frozen=True)
class Slot:
    """One position: any of its alternatives, after up to ``gap_before`` other words."""

    alternatives: tuple[Alternative, ...]
    gap_before: int

    def min_len(self) -> int:
        return min(len(a.key().text) for a in self.alternatives)


_END = "(?= \\.|$)"


@dataclass(frozen=True)
class CompiledPattern:
    source: str
    slots: tuple[Slot, ...]
    regex: str

    def anchor(self) -> Slot:
        """The slot used to look the pattern up: the one with the longest words."""
        return max(self.slots, key=Slot.min_len)

    def words(self) -> list[Word]:
        return [w for s in self.slots for a in s.alternatives for w in a.words]



def _normalise_word(normaliser: Normaliser, raw: str) -> list[str]:
    tokens = normaliser.normalise(raw).split()
    if not tokens or "." in tokens:
        raise PatternSyntaxError(f"the word {raw!r} is empty after normalisation")
    return tokens


def _words(normaliser: Normaliser, raw: str) -> tuple[Word, ...]:
    """A space-separated word sequence; a trailing ``*`` makes its last word a stem."""
    out: list[Word] = []
    for part in raw.split():
        if not _PLAIN_WORD.fullmatch(part):
            raise PatternSyntaxError(f"cannot read {part!r} (allowed: word, stem*, (a|b), ~N)")
        stem = part.endswith("*")
        tokens = _normalise_word(normaliser, part.rstrip("*"))
        if stem and len(tokens[-1]) < _MIN_STEM:
            raise PatternSyntaxError(f"the stem {part!r} is too short (at least 3 letters)")
        out += [Word(t, stem and i == len(tokens) - 1) for i, t in enumerate(tokens)]
    if not out:
        raise PatternSyntaxError("an alternative is empty")
    return tuple(out)


def _alternative_group(normaliser: Normaliser, item: str) -> list[Alternative]:
    return [Alternative(_words(normaliser, raw)) for raw in item[1:-1].split("|")]


def parse(normaliser: Normaliser, source: str) -> CompiledPattern:
    slots: list[Slot] = []
    gap = 0
    pending_gap = False
    if source.count("(") != source.count(")"):
        raise PatternSyntaxError("unbalanced parentheses")
    items = _ITEMS.findall(source)
    at_end = bool(items) and items[-1] == "$"
    if at_end:
        items.pop()
    for item in items:
        gap_match = _GAP.fullmatch(item)
        if gap_match:
            if not slots or pending_gap:
                raise PatternSyntaxError("a gap (~) needs a word on both sides")
            gap = int(gap_match.group(1) or _DEFAULT_GAP)
            pending_gap = True
            continue
        if item.startswith("(") and item.endswith(")") and len(item) > 2:
            slots.append(Slot(tuple(_alternative_group(normaliser, item)), gap))
        else:
            for i, word in enumerate(_words(normaliser, item)):
                slots.append(Slot((Alternative((word,)),), gap if i == 0 else 0))
        gap = 0
        pending_gap = False
    if not slots:
        raise PatternSyntaxError("the pattern is empty")
    if pending_gap:
        raise PatternSyntaxError("a gap (~) needs a word on both sides")
    return CompiledPattern(source, tuple(slots), _to_regex(slots) + (_END if at_end else ""))


def _to_regex(slots: list[Slot]) -> str:
    parts: list[str] = []
    for i, slot in enumerate(slots):
        if i:
            parts.append(" ")
            if slot.gap_before:
                # Captured so the detector can look for a negation among the gap words only.
                parts.append(f"((?:{_WORD} ){{0,{min(slot.gap_before, _MAX_GAP)}}})")
        alts = [a.regex() for a in slot.alternatives]
        parts.append(alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")")
    return "(?<![^ ])" + "".join(parts) + "(?![^ ])"
