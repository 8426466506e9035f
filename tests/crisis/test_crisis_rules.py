from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core.crisis import NO_FLAG, CrisisDetector


@pytest.mark.parametrize(("text", "category"), [
    ("ich will mich umbringen", "suicide"),
    ("I want to kill myself", "suicide"),
    ("ich will nicht mehr leben", "suicide"),
    ("ich will nicht mehr", "suicide"),
    ("I can't go on", "suicide"),
    ("i don't want to be here anymore", "suicide"),
    ("meine Freundin ritzt sich", "self_harm"),
    ("my friend wants to kill herself", "suicide"),
    ("ich will mich nicht umbringen, aber ich denk jeden tag dran", "suicide"),
    ("mein Vater schlägt mich", "abuse"),
    ("wenn ich zu spät bin würgt er mich", "abuse"),  # the verb before its subject
    ("nach der schule bring ich mich um", "suicide"),
    ("my uncle touches me at night", "sexual_abuse"),
    ("I'm going to bring a knife to school", "violence_to_others"),
    ("my parents leave my baby sister alone for days", "child_danger"),
    ("ich will mich umbr1ngen", "suicide"),
    ("ich will st\u200berben", "suicide"),
    ("ich will mich umbrigen", "suicide"),
    ("ich hab 💊💊💊 gesammelt", "suicide"),
])
def test_flags(detector: CrisisDetector, text: str, category: str) -> None:
    result = detector.assess(text)
    assert result.flag
    assert result.category == category
    assert result.rules


@pytest.mark.parametrize("text", [
    "ich würde mich nie umbringen", "I would never kill myself", "ich lach mich tot",
    "Mathe bringt mich um", "ich könnt ihn umbringen", "Todesangst vor der Klausur",
    "I'm dead 😂", "this homework is killing me", "you're killing it", "dying to see you",
    "I killed him in Fortnite", "let's kill the boss", "ich will nicht mehr zur Schule",
    "ich sitze hier und warte", "we talked about suicide prevention in class",
    "hey, ist hier jemand?", "",
])
def test_does_not_flag(detector: CrisisDetector, text: str) -> None:
    assert detector.assess(text) == NO_FLAG


def test_negation_only_in_gap_not_in_rule_words(detector: CrisisDetector) -> None:
    # "nicht" belongs to the risk phrase; "nie" before the verb is a denial.
    assert detector.assess("ich will einfach nicht mehr leben").flag
    assert not detector.assess("ich habe nie daran gedacht mich umzubringen").flag


def test_german_negation_after_the_verb(detector: CrisisDetector) -> None:
    assert not detector.assess("ich ritze mich nicht").flag
    assert detector.assess("ich ritze mich nicht nur am arm").flag


def test_colloquial_german_negation_denies(detector: CrisisDetector) -> None:
    # "nich" and "ni" are how many youths write "nicht".
    assert not detector.assess("nee ich will mich nich umbringen, bin nur sauer").flag
    assert not detector.assess("mei vadder schlägt mich ni, der is nur streng").flag


@pytest.mark.parametrize("text", [
    # An outside review's messages: a colloquial "nich" that gives a reason or a measure
    # denies nothing, and a contrast far behind a denial still re-opens it.
    "er hat mich geschlagen nich nur einmal",
    "ich bring mich um nich weil ich traurig bin sondern weil ich müde bin",
    "ich will sterben nit weil i traurig bin sondern weil i nimmer kann",
    "ich will mich nicht umbringen, bitte keine polizei oder so, ich wollte nur mal mit "
    "jemandem schreiben. aber ich stand gestern schon auf dem dach",
])
def test_what_only_looks_like_a_denial_still_flags(detector: CrisisDetector, text: str) -> None:
    assert detector.assess(text).severity == "high"


def test_pseudo_negation_keeps_flag(detector: CrisisDetector) -> None:
    assert detector.assess("ich bring mich noch nicht um, aber bald").flag
    assert detector.assess("i don't know why, i want to die").flag


def test_past_lowers_tier_and_again_restores(detector: CrisisDetector) -> None:
    past = detector.assess("früher hab ich mich geritzt")
    assert past.flag
    assert past.severity == "low"
    again = detector.assess("früher hab ich mich geritzt, jetzt wieder")
    assert again.severity == "medium"


@pytest.mark.parametrize("text", [
    # An outside review's messages: a past story and a present danger in one message. A
    # "jetzt"/"now" keeps the rule's tier; the model reads the past cue too and cannot be
    # relied on to catch a lowered flag (it scored these 0.01-0.2).
    "letztes jahr hat er mich geschlagen und jetzt schlägt er meine kleine schwester",
    "früher hab ich mich nur geritzt. jetzt will ich mich umbringen",
    "vor einem jahr hab ich es versucht und heute hab ich mir ein seil gekauft",
    "i used to self harm, now i wanna kill myself",
])
def test_a_past_story_with_a_present_danger_keeps_its_tier(detector: CrisisDetector,
                                                           text: str) -> None:
    assert detector.assess(text).severity == "high"


def test_highest_severity_wins_and_all_rules_listed(detector: CrisisDetector) -> None:
    result = detector.assess("ich ritze mich und will mich heute umbringen")
    assert (result.category, result.severity) == ("suicide", "high")
    assert {"de.suicide.001", "de.self_harm.001"} <= set(result.rules)


def test_typo_never_becomes_a_negation(detector: CrisisDetector) -> None:
    # "meiner" is one letter from the cue "keiner"; it must stay itself.
    assert detector.assess("ich will jemanden in meiner klasse umbringen").flag


def test_json_shape(detector: CrisisDetector) -> None:
    flagged = detector.assess("ich will sterben").to_json_dict()
    assert list(flagged) == ["flag", "category", "severity", "rules"]
    assert flagged["flag"] is True
    assert flagged["severity"] in ("high", "medium", "low")
    assert json.dumps(NO_FLAG.to_json_dict()) == (
        '{"flag": false, "category": null, "severity": null, "rules": []}')


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_assess_never_crashes_and_is_deterministic(detector: CrisisDetector, text: str) -> None:
    first = detector.assess(text)
    assert detector.assess(text) == first
    assert first.flag == bool(first.rules)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["ich", "will", "nicht", "mehr", "leben", "mich", "umbringen",
                                 "i", "kill", "myself", "never", "aber", "but", "💊", "🔪",
                                 "🩸", ".", ",", "not", "dont", "lol"]), max_size=12))
def test_assess_on_word_salad(detector: CrisisDetector, words: list[str]) -> None:
    result = detector.assess(" ".join(words))
    assert result == detector.assess(" ".join(words))
    assert (result.category is None) == (not result.flag)
