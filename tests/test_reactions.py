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


# Letters drawn as symbols (circled, squared, regional indicators, Braille) that an app
# shows side by side: joined by ZWJs they were taken for one emoji, so a word in them was
# never read for a crisis, and in a group's room stayed for every youth to read.
LETTERS_AS_SYMBOLS = [
    "\u24c9\u200d\u24c4\u200d\u24b9",  # Ⓣ‍Ⓞ‍Ⓓ
    "\U0001f143\u200d\U0001f13e\u200d\U0001f133",  # 🅃‍🄾‍🄳
    "\U0001f183\u200d\U0001f17e\u200d\U0001f173",  # 🆃‍🅾‍🅳
    "\U0001f1f9\u200d\U0001f1f4\u200d\U0001f1e9",  # 🇹‍🇴‍🇩 (regional indicators)
    "\u249f\u200d\u24aa\u200d\u24a3",  # ⒟‍⒤‍⒠
    "\u281e\u200d\u2815\u200d\u2819",  # ⠞‍⠕‍⠙ (Braille)
]


@pytest.mark.parametrize("key", LETTERS_AS_SYMBOLS)
def test_letters_drawn_as_symbols_joined_into_one_sequence_are_words(key: str) -> None:
    assert not one_emoji(key)


@pytest.mark.parametrize("key", ["\u24c2\ufe0f", "\U0001f170\ufe0f", "\U0001f17e\ufe0f",
                                 "\U0001f3f3\ufe0f\u200d\u26a7\ufe0f",
                                 "\U0001f43b\u200d\u2744\ufe0f", "\u2764\ufe0f\u200d\U0001f525"])
def test_one_lettered_emoji_and_zwj_emoji_of_symbols_stay_one_emoji(key: str) -> None:
    assert one_emoji(key)
