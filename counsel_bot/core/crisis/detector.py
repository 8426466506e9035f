"""The message-level crisis detector: one message in, one explainable ``Assessment`` out.

Decision rules (documented for counsellors in config/crisis/README.md):

1. A rule flags when one of its patterns matches the normalised message.
2. A match inside an idiom (``ich lach mich tot``, ``killing it``) is dropped.
3. A ``contextual`` rule (bare topic words, gaming kills) is dropped when a context cue
   for its category occurs in the message (school work, media, games).
4. A negation cue shortly before the match, inside it (but not one of the rule's own
   words: "will nicht mehr leben" stays risk) or, for German word order, right after it
   removes the match: no flag. If a contrast word ("aber", "but") follows, the denial is
   ambivalent and the rule flags at its own severity.
5. A past-tense cue without a "now/again" cue lowers the severity one tier.
6. The highest severity wins; on a tie the category listed first in ``CATEGORIES``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from counsel_bot.core.crisis.lexicon import CATEGORIES, SEVERITIES, load_lexicon
from counsel_bot.core.crisis.matcher import (
    CONTEXT,
    CURRENT,
    IDIOM,
    PAST,
    RULE,
    CompiledLexicon,
    Entry,
)

_RANK = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}
_AFTER_WINDOW = 2
_BOUNDARY = "."  # the normaliser's clause-boundary token


# How a flag the model raised alone names its reason: "model.<category>".
MODEL_REASON = "model."


@dataclass(frozen=True)
class Assessment:
    """What the detector says about a message; ``rules`` explain the flag to a counsellor."""

    flag: bool
    category: str | None
    severity: str | None
    rules: tuple[str, ...]
    # The semantic model's crisis probability and the ids of the labelled examples nearest
    # to the message (None and () when no model ran).
    score: float | None = None
    nearest: tuple[str, ...] = ()

    def to_json_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"flag": self.flag, "category": self.category,
                                  "severity": self.severity, "rules": list(self.rules)}
        if self.score is not None:
            out["score"] = round(self.score, 3)
            out["nearest"] = list(self.nearest)
        return out

    @property
    def explicit(self) -> bool:
        """A flag a rule raised at medium or high severity: the message names the danger in
        words the reviewed lexicons know ("ich bring mich um", "ich ritze mich"); a rule's
        low flag is a past or a passing mention. A flag the model raised alone means the
        message resembles crisis messages; it may be one, or a hamster given away."""
        return (self.flag and self.severity in ("medium", "high") and bool(self.rules)
                and self.source == "rule")

    @property
    def source(self) -> str:
        """Who raised the flag: "model" (the model alone) or "rule"."""
        return "model" if self.rules and self.rules[0].startswith(MODEL_REASON) else "rule"

    def outranks(self, other: Assessment) -> bool:
        """True when this assessment is a flag of higher severity than ``other``."""
        return severity_rank(self.severity) > severity_rank(other.severity)


NO_FLAG = Assessment(False, None, None, ())

# What the rules notice about a message, as numbers for the semantic head: the rules' own
# verdict, and the cues that turn a match into a non-flag (idiom, context, past, negation).
CUE_NAMES = ("rule_flag", "severity", "rule_matched", "idiom", "context", "past", "current",
             "negation", "contrast")
NO_CUES = (0.0,) * len(CUE_NAMES)


@dataclass(frozen=True)
class _Cues:
    """What else a message says that changes how a rule match counts."""

    idiom_spans: tuple[tuple[int, int], ...]
    context_categories: frozenset[str]
    past: bool
    current: bool


def severity_rank(severity: str | None) -> int:
    return 0 if severity is None else _RANK[severity]


def default_lexicon_dir() -> Path:
    """The lexicons shipped with the repository (``config/crisis``)."""
    return Path(__file__).resolve().parents[3] / "config" / "crisis"


def _lower(severity: str) -> str:
    return SEVERITIES[min(SEVERITIES.index(severity) + 1, len(SEVERITIES) - 1)]


class CrisisDetector:
    """Pure and deterministic; safe to share between conversations (no mutable state)."""

    def __init__(self, compiled: CompiledLexicon) -> None:
        self._c = compiled

    @classmethod
    def from_directory(cls, path: Path) -> CrisisDetector:
        return cls(CompiledLexicon(load_lexicon(path)))

    def normalise(self, text: str) -> str:
        return self._c.normaliser.normalise(text)

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        return [self.assess(t) for t in texts]

    def assess(self, text: str) -> Assessment:
        return self._assess_normalised(self._c.normaliser.normalise(text))

    def _assess_normalised(self, normalised: str) -> Assessment:
        if not normalised:
            return NO_FLAG
        scan = self._c.scan(normalised)
        entries = [self._c.entries[i] for i in scan.candidates]
        if not any(e.kind == RULE for e in entries):
            return NO_FLAG
        s = scan.text
        matched: dict[int, list[re.Match[str]]] = {}
        for e in entries:
            if e.kind == RULE:
                for m in e.regex.finditer(s):
                    matched.setdefault(e.ref, []).append(m)
        if not matched:
            return NO_FLAG
        cues = self._cues(s, entries)
        hits: list[tuple[int, int, str]] = []
        for ref, matches in matched.items():
            rule = self._c.lexicon.rules[ref]
            if rule.contextual and rule.category in cues.context_categories:
                continue
            for m in sorted(matches, key=lambda m: m.start()):
                start, end = m.span()
                if any(a < end and start < b for a, b in cues.idiom_spans):
                    continue
                gap_words = " ".join(g for g in m.groups() if g).split()
                if rule.negatable and self._negated(s, start, end, gap_words):
                    continue
                past = cues.past and not cues.current
                severity = _lower(rule.severity) if past else rule.severity
                hits.append((_RANK[severity], -CATEGORIES.index(rule.category), rule.id))
                break
        if not hits:
            return NO_FLAG
        hits.sort(reverse=True)
        top_rank, top_cat, _ = hits[0]
        rules = tuple(dict.fromkeys(h[2] for h in hits))
        return Assessment(True, CATEGORIES[-top_cat], SEVERITIES[len(SEVERITIES) - top_rank],
                          rules)

    def cues(self, text: str) -> tuple[float, ...]:
        """The rules' view of a message as numbers (``CUE_NAMES``), for the semantic head."""
        normalised = self._c.normaliser.normalise(text)
        if not normalised:
            return NO_CUES
        scan = self._c.scan(normalised)
        entries = [self._c.entries[i] for i in scan.candidates]
        s = scan.text
        matched = any(e.kind == RULE and e.regex.search(s) for e in entries)
        found = self._cues(s, entries)
        tokens = set(s.split())
        neg = self._c.negation
        verdict = self._assess_normalised(normalised)
        return (float(verdict.flag), severity_rank(verdict.severity) / len(SEVERITIES),
                float(matched), float(bool(found.idiom_spans)),
                float(bool(found.context_categories)), float(found.past), float(found.current),
                float(bool(tokens & (neg.before | neg.after))),
                float(bool(tokens & neg.contrast)))

    def _cues(self, s: str, entries: list[Entry]) -> _Cues:
        spans: list[tuple[int, int]] = []
        categories: set[str] = set()
        past = current = False
        for e in entries:
            if e.kind == IDIOM:
                spans += [m.span() for m in e.regex.finditer(s)]
            elif e.kind == CONTEXT and e.regex.search(s):
                categories |= self._c.lexicon.contexts[e.ref].applies_to
            elif e.kind == PAST and not past:
                past = e.regex.search(s) is not None
            elif e.kind == CURRENT and not current:
                current = e.regex.search(s) is not None
        return _Cues(tuple(spans), frozenset(categories), past, current)

    def _negated(self, s: str, start: int, end: int, gap_words: list[str]) -> bool:
        neg = self._c.negation
        tokens = s.split()
        first = len(s[:start].split())
        last = first + len(s[start:end].split())
        if not self._has_cue(tokens, first, last, gap_words):
            return False
        # A contrast after the denial ("..., aber manchmal denk ich dran") keeps the flag.
        return not any(t in neg.contrast for t in tokens[first:])

    def _has_cue(self, tokens: list[str], first: int, last: int, gap_words: list[str]) -> bool:
        neg = self._c.negation
        for i in range(first - 1, max(first - neg.window, 0) - 1, -1):
            token = tokens[i]
            if token in neg.stops or token == _BOUNDARY:
                break
            if token in neg.before and not self._pseudo(tokens, i):
                return True
        # Inside the match only the words filling a gap count: the rule's own words
        # ("will nicht mehr leben") are the risk, not a denial of it.
        pseudo = neg.pseudo
        for i, token in enumerate(gap_words):
            if token in neg.before:
                pair_after = f"{token} {gap_words[i + 1]}" if i + 1 < len(gap_words) else ""
                pair_before = f"{gap_words[i - 1]} {token}" if i else ""
                if pair_after not in pseudo and pair_before not in pseudo:
                    return True
        for i in range(last, min(last + _AFTER_WINDOW, len(tokens))):
            token = tokens[i]
            if token == _BOUNDARY:
                break
            if token in neg.after and not self._pseudo(tokens, i):
                return True
        return False

    def _pseudo(self, tokens: list[str], i: int) -> bool:
        """Cue words that do not negate here: "weiß nicht", "not sure", "noch nicht"."""
        pseudo = self._c.negation.pseudo
        if i > 0 and f"{tokens[i - 1]} {tokens[i]}" in pseudo:
            return True
        return i + 1 < len(tokens) and f"{tokens[i]} {tokens[i + 1]}" in pseudo
