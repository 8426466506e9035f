"""Severity tiers a counsellor relies on: an explicit wish not to live is as urgent as
"I want to die"; passive wishes are flagged one tier lower."""

from __future__ import annotations

import pytest

from counsel_bot.core.crisis import CrisisDetector


@pytest.mark.parametrize(
    "message",
    [
        "ich will nicht mehr leben",
        "ich möchte echt nicht mehr leben",
        "hab keine lust mehr zu leben",
        "I don't want to live anymore",
        "i dont want to be alive",
        "ich will sterben",
    ],
)
def test_explicit_wish_not_to_live_is_high(detector: CrisisDetector, message: str) -> None:
    assessment = detector.assess(message)
    assert assessment.flag
    assert assessment.category == "suicide"
    assert assessment.severity == "high"


@pytest.mark.parametrize("message", ["es wäre besser ohne mich", "I can't go on"])
def test_passive_wish_is_flagged_lower(detector: CrisisDetector, message: str) -> None:
    assessment = detector.assess(message)
    assert assessment.flag
    assert assessment.severity == "medium"
