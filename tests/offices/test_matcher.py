"""core/offices.py: topic words, typed numbers and postcodes to an office; never a dead end."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.core.offices import (
    MatchKind,
    OfficeError,
    match_office,
    offered_topics,
    office_from,
    postcode_in,
    topic_menu,
    topics_in,
)

FAMILY_ULM = office_from("family", "Familienberatung Ulm", ["family"], ["89"])
SCHOOL = office_from("school", "Schulberatung", ["school", "family"], ["80000-85999"])
GENERAL = office_from("general", "Jugendberatung", ["general", "addiction"], [])
OFFICES = [FAMILY_ULM, SCHOOL, GENERAL]


def office(text: str, *, asked: bool = False) -> str | None:
    return match_office(text, OFFICES, "general", asked=asked).office


def test_the_issues_example() -> None:
    assert office("Stress mit meinen Eltern, 89073") == "family"


def test_a_postcode_picks_between_offices_with_the_same_topic() -> None:
    assert office("Ärger mit meiner Mutter 81234") == "school"


@pytest.mark.parametrize(("text", "topics"), [
    ("Stress mit meinen Eltern", ("family",)),
    ("my dad shouts at me", ("family",)),
    ("Mobbing in der Schule", ("school",)),
    ("ich kiffe zu viel", ("addiction",)),
    ("bitte hilfe", ()),
    ("hallo", ()),
    ("ich bin bi und weiß nicht wie ich es sagen soll", ("lgbtq",)),
])
def test_topic_words(text: str, topics: tuple[str, ...]) -> None:
    assert topics_in(text, OFFICES) == topics


def test_numbers_pick_the_menu_entry() -> None:
    offered = offered_topics(OFFICES)
    assert offered == ("family", "school", "addiction", "general")
    assert topics_in("2", OFFICES) == ("school",)
    assert topics_in(" 3. ", OFFICES) == ("addiction",)
    assert topics_in("9", OFFICES) == ()
    assert office("4") == "general"
    assert "2. Schule und Ausbildung" in topic_menu(OFFICES, "de")
    assert "2. school and training" in topic_menu(OFFICES, "en")


def test_unclear_first_words_get_one_question_then_the_fallback() -> None:
    assert match_office("hallo", OFFICES, "general", asked=False).kind is MatchKind.ASK
    # Two offices do family: ask rather than guess.
    assert match_office("Stress mit Eltern", OFFICES, "general", asked=False).kind is (
        MatchKind.ASK)
    after = match_office("weiß nicht", OFFICES, "general", asked=True)
    assert after.kind is MatchKind.FALLBACK
    assert after.office == "general"
    assert office("Stress mit Eltern", asked=True) == "family"


def test_a_preselected_office_wins() -> None:
    assert match_office("hallo", OFFICES, "general", asked=False,
                        preselected="school").office == "school"
    assert match_office("hallo", OFFICES, "general", asked=False,
                        preselected="nope").kind is MatchKind.ASK


def test_postcodes_are_five_digits_only() -> None:
    assert postcode_in("meine PLZ ist 89073.") == "89073"
    assert postcode_in("ich bin 15") is None
    assert postcode_in("0176123456789") is None


def test_bad_office_definitions() -> None:
    with pytest.raises(OfficeError, match="unknown topic"):
        office_from("x", "", ["cooking"], [])
    with pytest.raises(OfficeError, match="prefix"):
        office_from("x", "", [], ["8-9"])


@given(st.text(max_size=200))
def test_after_the_one_question_every_answer_has_an_office(text: str) -> None:
    result = match_office(text, OFFICES, "general", asked=True)
    assert result.office in {o.id for o in OFFICES}


@pytest.mark.parametrize("answer", [
    "2\ufe0f\u20e3",  # a phone's keycap "2️⃣"
    "2!", "(2)", "2,", "#2", "Nummer 2", "Nr. 2", "nr 2", "die 2", "2 bitte", "number 2",
    "Die Nummer 2 bitte.",
])
def test_a_menu_number_typed_the_way_youths_type_it_picks_its_topic(answer: str) -> None:
    """Asked to answer with a number, a youth types "2️⃣" from the phone's emoji keyboard,
    "Nr. 2" or "die 2": each went to the fallback office, which may not counsel that topic
    (told "we could not tell, here is the general office")."""
    assert topics_in(answer, OFFICES) == ("school",)
    assert office(answer, asked=True) == "school"


@pytest.mark.parametrize("text", ["ich bin 15", "ich bin 2 mal sitzen geblieben", "1 oder 2"])
def test_a_number_among_other_words_is_no_menu_choice(text: str) -> None:
    assert topics_in(text, OFFICES) == ()


@pytest.mark.parametrize(("answer", "expected"), [
    ("3 89073", "general"),  # addiction, in Ulm: the Ulm office counsels only families
    ("3, 89073", "general"),
    ("Nr. 3, PLZ 89073", "general"),
    ("1 und 81234", "school"),  # family, in Munich
    ("1 89073", "family"),
])
def test_the_number_and_the_postcode_the_question_asks_for_both_count(
        answer: str, expected: str) -> None:
    """The office question asks for the number "and your postcode too": a youth who gave
    both had the number dropped, and was sent by the postcode alone to the office there,
    whether or not it counsels what they picked."""
    assert office(answer, asked=True) == expected


@pytest.mark.parametrize("answer", ["ich nehme 2", "ich wähle die 2", "2 danke", "2, ok",
                                    "I pick 2", "I choose number 2", "2 thanks"])
def test_a_menu_number_in_a_short_answer_picks_its_topic(answer: str) -> None:
    """ "ich nehme 2", "2 danke": the number is the answer, the rest is politeness."""
    assert topics_in(answer, OFFICES) == ("school",)
