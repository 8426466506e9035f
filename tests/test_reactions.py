"""One emoji, as apps offer it for a reaction, or words (`core/reactions.py`): what the bot
leaves alone, and what it reads like a message (and deletes in a group's room)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.core.reactions import one_emoji

EMOJI = ["👍", "👍🏽", "❤️", "♥", "✅", "😢", "🙏🏻", "🇩🇪", "1️⃣", "#⃣",
         "👨\u200d👩\u200d👧\u200d👦", "👩🏽\u200d❤️\u200d💋\u200d👨🏿",
         "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
         "\U0001fae8"]  # shaking face: newer than Python 3.11's Unicode tables
WORDS = ["", "ok", "+1", "ja", "👍👍", "👍 ok", "😢 ", "🇩🇪🇩🇪", "1", "\u200d👍",
         "ich will nicht mehr leben", "nicht mehr 😢", "x\u0301"]


@pytest.mark.parametrize("key", EMOJI)
def test_one_emoji_is_no_words(key: str) -> None:
    assert one_emoji(key)


@pytest.mark.parametrize("key", WORDS)
def test_words_or_more_than_one_emoji_are_words(key: str) -> None:
    assert not one_emoji(key)


@given(st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), min_size=1),
       st.sampled_from(EMOJI))
def test_a_letter_digit_space_or_stop_beside_an_emoji_makes_words(text: str,
                                                                  emoji: str) -> None:
    assert not one_emoji(text)
    assert not one_emoji(emoji + text)
    assert not one_emoji(text + emoji)
