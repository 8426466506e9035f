from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.core.crisis import NO_FLAG, Assessment, ConversationRisk, CrisisDetector

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


class _Scripted:
    """Says what it is told, per text: a model flag is a pure decision here."""

    def __init__(self, verdicts: dict[str, Assessment]) -> None:
        self._verdicts = verdicts

    def assess(self, text: str) -> Assessment:
        return self._verdicts.get(text, NO_FLAG)

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        return [self.assess(t) for t in texts]


def test_the_reason_that_raised_the_level_comes_first() -> None:
    """A level raised by the model after a rule's low flag is the model's: the youth did not
    name the danger in words the rules know, so the level is not explicit."""
    rule_low = Assessment(True, "self_harm", "low", ("de.self_harm.004",))
    model_high = Assessment(True, "suicide", "high", ("model.suicide",), 0.8)
    risk = ConversationRisk(_Scripted({"früher geritzt, lange her": rule_low,
                                       "hab mein zeug verschenkt, alles geregelt": model_high}))
    risk.observe("früher geritzt, lange her", at(0))
    raised = risk.observe("hab mein zeug verschenkt, alles geregelt", at(100))
    assert raised.rules == ("model.suicide", "de.self_harm.004")
    assert not raised.explicit


def test_a_high_rule_flag_is_explicit_a_model_flag_is_not(detector: CrisisDetector) -> None:
    raised = ConversationRisk(detector).observe("ich will mich umbringen", at(0))
    assert raised.explicit
    assert not Assessment(True, "suicide", "high", ("model.suicide",), 0.9).explicit
    assert Assessment(True, "self_harm", "medium", ("de.self_harm.001",)).explicit
    assert not Assessment(True, "self_harm", "low", ("de.self_harm.004",)).explicit
    assert not NO_FLAG.explicit


def test_at_the_same_severity_the_rules_reading_of_a_burst_wins() -> None:
    """The last line alone looks like risk to the model; the burst, joined, is explicit."""
    model_high = Assessment(True, "suicide", "high", ("model.suicide",), 0.7)
    rule_high = Assessment(True, "suicide", "high", ("de.suicide.001",))
    risk = ConversationRisk(_Scripted({"umbringen": model_high,
                                       "ich will mich umbringen": rule_high}))
    assert risk.observe("ich will mich", at(0)) == NO_FLAG
    raised = risk.observe("umbringen", at(3))
    assert raised.rules == ("de.suicide.001",)
    assert raised.explicit


def test_a_long_message_after_a_short_one_is_not_read_twice_whole(
        detector: CrisisDetector) -> None:
    """The model reads a message whole, up to 64 KB (seconds of a core for the longest, in
    the judge's worker thread): joined with the short one before it, such a paste was read
    twice, 13.6 s on a busy 2-core machine, past the judge's 10 s limit, after which the
    rules alone judge every youth's words until that work ends. The burst is what the
    short words say with the message's start; the message itself is judged whole."""
    risk = ConversationRisk(detector)
    risk.observe("ich will", at(0))
    long = "heute war schule echt anstrengend. " * (64 * 1024 // 35)
    judged = risk.to_judge(long, at(1))
    assert judged[0] == long
    assert judged[1].startswith("ich will heute war schule")
    assert sum(len(text) for text in judged) < len(long) + 4096
