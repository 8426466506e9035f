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
