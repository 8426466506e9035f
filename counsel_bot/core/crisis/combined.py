"""Rules and model together: what ``counsel crisis check`` and the bot use.

Decision rules:

1. A high-severity rule flag always stands ("ich bring mich heute um" is never argued away
   by statistics); the model adds its score and nearest examples. Letting the model
   overrule it in longer messages was tried and withdrawn: it removed most false alarms on
   denials and resolved pasts, and also silenced disclosures youths play down ("haha ich
   bring mich heute nacht um 😂 aber egal" scored 0.02), which the model cannot tell apart
   (docs/crisis-model.md).
2. Otherwise the model decides: it has read the rules' verdict and cues among its features,
   so a past-tense or denied match the rules flagged at low severity can fall below the
   threshold. At or above the head's threshold it flags; the rules' category, severity and
   ids stand where a rule matched, else the model's category, severity "high" from the
   head's high threshold on, else "medium", and the reason ``model.<category>``.
3. Below the threshold: no flag (the score is still reported, for tuning).
4. Without a model the rules decide alone.

The threshold was chosen on the dev split for recall first (see docs/crisis-model.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from counsel_bot.core.crisis.detector import MODEL_REASON, NO_FLAG, Assessment, CrisisDetector
from counsel_bot.core.crisis.encoder import UniversalSentenceEncoder
from counsel_bot.core.crisis.semantic import Head, SemanticModel, SemanticVerdict


class Assessor(Protocol):
    """Anything that judges messages: the rules alone or rules plus model."""

    def assess(self, text: str) -> Assessment: ...

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]: ...


def combine(ruled: Assessment, verdict: SemanticVerdict, head: Head) -> Assessment:
    above = verdict.score >= head.threshold
    nearest = verdict.nearest if above else ()
    if ruled.flag and (above or ruled.severity == "high"):
        return replace(ruled, score=verdict.score, nearest=nearest)
    if not above:
        return replace(NO_FLAG, score=verdict.score)
    severity = "high" if verdict.score >= head.high_threshold else "medium"
    return Assessment(True, verdict.category, severity, (f"{MODEL_REASON}{verdict.category}",),
                      verdict.score, nearest)


class CombinedDetector:
    """The rules, and the semantic model where one is loaded. Stateless; shareable."""

    def __init__(self, rules: CrisisDetector, model: SemanticModel | None) -> None:
        self.rules = rules
        self.model = model

    @classmethod
    def load(cls, lexicons: Path, model_path: Path | None,
             encoder: UniversalSentenceEncoder | None = None) -> CombinedDetector:
        """``model_path`` None: rules only. A process that judges many messages loads it
        through ``counsel_bot.runtime.crisis_detector`` (one BLAS thread, one encoder)."""
        rules = CrisisDetector.from_directory(lexicons)
        if model_path is None:
            return cls(rules, None)
        encoder = encoder or UniversalSentenceEncoder()
        model = SemanticModel(encoder, Head.load(model_path), rules.normalise, rules.cues)
        encoder.load()
        return cls(rules, model)

    def normalise(self, text: str) -> str:
        return self.rules.normalise(text)

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        return self.with_model(texts, self.rules.assess_many(texts))

    def with_model(self, texts: Sequence[str], ruled: Sequence[Assessment]) -> list[Assessment]:
        """The verdicts on ``texts`` given the rules' own (``ruled``): the model's part
        alone, which a caller can bound in time apart from the rules (linear in the text,
        they never hang)."""
        if self.model is None:
            return list(ruled)
        verdicts = self.model.judge_many(texts)
        return [combine(r, v, self.model.head) for r, v in zip(ruled, verdicts, strict=True)]
