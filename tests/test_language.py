"""Which language a youth writes, from their own words (core/language.py)."""

from __future__ import annotations

import pytest

from counsel_bot.core.language import told_language


@pytest.mark.parametrize("greeting", ["hi", "Hi!", "hiii", "hi :)"])
def test_a_bare_hi_tells_no_language(greeting: str) -> None:
    """German youths greet with "hi" as often as English ones. A conversation whose first
    message told no language (a picture, nothing decrypted yet) waits for the first words
    that tell it, and is then held to it: a German youth's "hi" made the rest of the chat,
    the emergency numbers and the safety text English."""
    assert told_language(greeting) is None


@pytest.mark.parametrize(("words", "language"), [
    ("hi, ich brauche hilfe", "de"),
    ("hi i need help", "en"),
    ("hallo", "de"),
    ("hello", "en"),
])
def test_a_hi_with_words_tells_their_language(words: str, language: str) -> None:
    assert told_language(words) == language


@pytest.mark.parametrize("words", ["thanks", "no", "yes", "ok thanks", "no thanks",
                                   "yes please", "just"])
def test_english_words_german_youths_write_too_tell_no_language_alone(words: str) -> None:
    """"thanks", "no", "yes please" are as common in a German youth's chat as in an
    English one's (and "no" is Swabian for "noch"). One such word as the first words that
    tell the language made the rest of the chat English for a German youth, the emergency
    numbers and the safety text too. Alone they tell nothing; with other words, those
    decide."""
    assert told_language(words) is None


@pytest.mark.parametrize(("words", "language"), [
    ("no, ich will nicht", "de"),
    ("thanks, ich versuch es", "de"),
    ("no i don't want to", "en"),
    ("thanks, i can try", "en"),  # not "will": German for "want"
])
def test_a_loanword_with_other_words_lets_those_decide(words: str, language: str) -> None:
    assert told_language(words) == language


@pytest.mark.parametrize(("words", "language"), [
    ("Also am Wochenende ist es schlimm", "de"),
    ("das is so scheiße", "de"),
    ("am schlimmsten ist es abends", "de"),
    ("also keine ahnung", "de"),
])
def test_german_words_spelt_like_english_ones_tell_no_english(words: str,
                                                              language: str) -> None:
    """"also", "am" and the spoken "is" are German words ("also ich weiß nicht", "am
    Wochenende", "das is so"): counted as English, "Also am Wochenende ist es schlimm"
    made the chat English for good, the emergency numbers and the safety text too."""
    assert told_language(words) == language


@pytest.mark.parametrize("words", ["it was so bad", "it was horrible"])
def test_an_english_was_tells_no_german(words: str) -> None:
    """The English "was" was counted German: "it was so bad" held an English youth to
    German for the rest of the chat."""
    assert told_language(words) != "de"


@pytest.mark.parametrize(("words", "language"), [
    ("ＩＣＨ ＢＩＮ ＳＯ ＭＵＥＤＥ", "de"),  # a full-width keyboard
    ("i\u200bch bin raus", "de"),          # a zero-width space pasted inside a word
    ("don’t care anymore", "en"),          # a phone's apostrophe
    ("scheiß tag heute", "de"),            # "ß" is German as "ä" is
])
def test_words_typed_oddly_still_tell_their_language(words: str, language: str) -> None:
    """The words are read as the command parser reads them (NFKC, without invisible
    marks), with a phone's ’ for '; the "ß" bonus was never counted (casefold makes it
    "ss")."""
    assert told_language(words) == language


@pytest.mark.parametrize("words", [
    "i mog nimma",                              # Bavarian
    "mei mamo sagt i soll mi ned so ohstelln",  # Bavarian
    "i schneid mi jeden obnd im bad",
    "i hoit des nimma aus",
    "i bin so fertig",
])
def test_a_dialects_i_tells_no_english(words: str) -> None:
    """Bavarian and Austrian youths write "i" for "ich": one "i" told English, and "i mog
    nimma" made the chat English for good, the safety text and the numbers too (190 of the
    corpus' German messages were told English, most of them so). Beside a dialect's
    words "i" tells nothing; alone it still tells English."""
    assert told_language(words) != "en"


@pytest.mark.parametrize("words", ["s u i z i d heute nacht", "s.u.i.z.i.d. plan steht",
                                   "r i t z e n hilft als einziges"])
def test_a_word_spelt_out_letter_by_letter_tells_no_english(words: str) -> None:
    """Youths spell out what they dare not write ("s u i z i d"): its "i" told English, and
    the crisis made the chat English for good, the safety text and the numbers too."""
    assert told_language(words) != "en"


@pytest.mark.parametrize("words", ["i am going to end it tonight", "i cut myself",
                                   "i am in a gang", "i bought a mini skirt"])
def test_an_english_i_still_tells_english(words: str) -> None:
    assert told_language(words) == "en"


@pytest.mark.parametrize(("words", "language"), [
    ("İCH WİLL NİCHT MEHR LEBEN", "de"),
    ("BİTTE HİLFE", "de"),
])
def test_capitals_of_a_turkish_keyboard_tell_their_language(words: str, language: str) -> None:
    """A Turkish keyboard in caps lock types "İ" for "i": lowered it is "i" and a combining
    dot, the words broke apart at it, and "İCH WİLL NİCHT MEHR LEBEN" was told English (its
    lone "i"): the safety text and the numbers came in English to a German youth."""
    assert told_language(words) == language
