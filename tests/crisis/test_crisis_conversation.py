from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.core.crisis import NO_FLAG, ConversationRisk, CrisisDetector

T0 = datetime(2025, 1, 1, 20, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_flag_is_sticky(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector)
    raised = risk.observe("ich will mich umbringen", at(0))
    assert raised.flag
    assert raised.severity == "high"
    assert risk.observe("war nur Spaß", at(5)) == NO_FLAG
    assert risk.observe("jk lol", at(3600)) == NO_FLAG
    assert risk.level == raised


def test_only_a_higher_tier_raises_again(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector)
    assert risk.observe("früher hab ich mich geritzt", at(0)).severity == "low"
    assert risk.observe("früher hab ich mich geritzt", at(100)) == NO_FLAG
    raised = risk.observe("ich hab heute tabletten gesammelt und nehm sie alle", at(200))
    assert raised.severity == "high"
    assert "de.self_harm.001" in raised.rules


def test_short_messages_are_judged_together(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector)
    assert risk.observe("ich will", at(0)) == NO_FLAG
    assert risk.observe("nicht mehr", at(4)).flag


def test_window_expires(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector, window=timedelta(seconds=30))
    assert risk.observe("ich will mich", at(0)) == NO_FLAG
    assert risk.observe("umbringen", at(31)) == NO_FLAG


def test_long_message_clears_the_window(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector)
    risk.observe("ich will mich", at(0))
    long = "heute war der Tag in der Schule echt anstrengend und lang, und dann noch Sport"
    assert risk.observe(long, at(1)) == NO_FLAG
    assert risk.observe("umbringen", at(2)) == NO_FLAG


def test_window_holds_at_most_max_messages(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector, max_messages=2)
    for i, word in enumerate(["ich", "will", "heute", "noch"]):
        risk.observe(word, at(i))
    # With room for all five, "ich will heute noch sterben" would flag.
    assert risk.observe("sterben", at(5)) == NO_FLAG
    assert len(risk._recent) == 2


def test_forget_window(detector: CrisisDetector) -> None:
    risk = ConversationRisk(detector)
    risk.observe("ich will", at(0))
    risk.forget_window()
    assert risk.observe("nicht mehr", at(1)) == NO_FLAG


def test_bad_settings_are_refused(detector: CrisisDetector) -> None:
    with pytest.raises(ValueError):
        ConversationRisk(detector, window=timedelta(0))
